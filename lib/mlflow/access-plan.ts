import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { Client, Credentials, ServedModel } from '../config/model';
import { SecretManagerStore } from './secret-store';

/** Props of {@link AccessPlan}. */
export interface AccessPlanProps {
  /** The server's clients: each its own user, with its grants on experiments and registered models. */
  readonly clients: readonly Client[];
  /** The served models: each its own read-only user, READ on its model and on the experiment of the served version. */
  readonly serving: readonly ServedModel[];
  /** GCP project holding the users' passwords in Secret Manager. */
  readonly secretProject: string;
  /** The KSA the SecretStore reads Secret Manager as. */
  readonly serviceAccount: kplus.ServiceAccount;
}

/** The access plan as the migration script reads it (`MIGRATE_ACCESS_FILE`): users and grants, no secret. */
export interface AccessPlanDocument {
  readonly clients: ReadonlyArray<{
    readonly username: string;
    readonly experiments: ReadonlyArray<{ readonly name: string; readonly permission: string }>;
    readonly models: ReadonlyArray<{ readonly name: string; readonly permission: string }>;
  }>;
  /**
   * Each serving's user and target. `promotion` (with an alias) is its `serving[].promotion` count: the script does not
   * need it, but raising it changes this plan, so the server's Application is out of sync too and its sync runs the
   * migration Job, which grants what the alias points at now (the served models sync in their own Application).
   */
  readonly serving: ReadonlyArray<{ readonly username: string; readonly model: string; readonly alias?: string; readonly promotion?: number; readonly version?: number }>;
}

/** The ESO template key of a user's password: a Go template field name (a DNS label's `-` is not allowed there). */
function templateKey(username: string): string {
  return `password_${username.replaceAll('-', '_')}`;
}

/**
 * What the migration script needs to reconcile the clients' and served models' MLflow users and their grants:
 * the ConfigMap `mlflow-access-plan` (`access.json`: who gets which permission on which experiment or registered
 * model, and which model version each serving user must be able to read), and the ExternalSecret
 * `mlflow-user-passwords` whose Secret holds one file per user, named after it, with its password from the user's
 * own Secret Manager secret (the same secret the client's namespace and the serving pods read). Rendered only for a
 * server with clients or served models. What the script does with it: docs/migration.md#users-and-grants.
 */
export class AccessPlan extends Construct {
  /** Directory of the plan file in the migration container. */
  public static readonly PLAN_DIR = '/etc/mlflow/access';
  /** Directory of the password files (one per username) in the migration container. */
  public static readonly PASSWORDS_DIR = '/etc/mlflow/user-passwords';

  /** The plan (`access.json`), as rendered. */
  public static document(clients: readonly Client[], serving: readonly ServedModel[]): AccessPlanDocument {
    return {
      clients: clients.map((c) => ({
        username: c.user.username,
        experiments: c.grants.experiments.map((g) => ({ name: g.name, permission: g.permission })),
        models: c.grants.models.map((g) => ({ name: g.name, permission: g.permission })),
      })),
      serving: serving.map((s) => ({
        username: s.user.username,
        model: s.model,
        ...(s.target.alias !== undefined ? { alias: s.target.alias, promotion: s.target.promotion } : { version: s.target.version }),
      })),
    };
  }

  private readonly planVolume: kplus.Volume;
  private readonly passwordVolume: kplus.Volume;

  constructor(scope: Construct, id: string, props: AccessPlanProps) {
    super(scope, id);
    const users: Credentials[] = [...props.clients.map((c) => c.user), ...props.serving.map((s) => s.user)];
    const configMap = new kplus.ConfigMap(this, 'Plan', {
      metadata: { name: 'mlflow-access-plan' },
      data: { 'access.json': `${JSON.stringify(AccessPlan.document(props.clients, props.serving), undefined, 2)}\n` },
    });
    this.planVolume = kplus.Volume.fromConfigMap(this, 'PlanVolume', configMap, { name: 'access-plan' });
    const passwords = SecretManagerStore.of(this, { projectId: props.secretProject, serviceAccount: props.serviceAccount }).secret(this, 'Passwords', {
      name: 'mlflow-user-passwords',
      remote: Object.fromEntries(users.map((u) => [templateKey(u.username), u.passwordSecret])),
      template: Object.fromEntries(users.map((u) => [u.username, `{{ .${templateKey(u.username)} }}`])),
    });
    this.passwordVolume = kplus.Volume.fromSecret(this, 'PasswordVolume', passwords, { name: 'user-passwords' });
  }

  /** Mounts the plan and the passwords read-only and tells the script where they are. */
  public mountInto(container: kplus.Container): void {
    container.mount(AccessPlan.PLAN_DIR, this.planVolume, { readOnly: true });
    container.mount(AccessPlan.PASSWORDS_DIR, this.passwordVolume, { readOnly: true });
    container.env.addVariable('MIGRATE_ACCESS_FILE', kplus.EnvValue.fromValue(`${AccessPlan.PLAN_DIR}/access.json`));
    container.env.addVariable('MIGRATE_PASSWORDS_DIR', kplus.EnvValue.fromValue(AccessPlan.PASSWORDS_DIR));
  }
}
