import * as fs from 'fs';
import * as path from 'path';
import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { MLFLOW_TASK_RESOURCES } from './client-env';
import {
  MLFLOW_UID,
  hookJob,
  restrictedContainerSecurityContext,
} from '../conventions';
import type { DatabaseAccess } from './database-access';
import type { AccessPlan } from './access-plan';
import type { BasicAuth } from './basic-auth';
import type { ScrapeCredentials } from './metrics';
import { skipSecretEnvCheck, skipTagPinnedImageChecks } from '../policy/checkov';

/** The migration script, shipped in a ConfigMap (read from the repository at synth time). */
const SCRIPT_FILE = path.join(__dirname, 'scripts', 'migrate.py');
const SCRIPT_DIR = '/opt/mlflow-migrate';

/** The PostSync smoke test's MLflow user, as {@link MigrationScript} reconciles it. */
export interface SmokeUserSecret {
  /** Secret with keys `username` and `password` (the ExternalSecret `mlflow-smoke-auth`, which the smoke Job reads too). */
  readonly secret: kplus.ISecret;
}

/** Props of {@link MigrationScript}. */
export interface MigrationScriptProps {
  /** The MLflow image (same tag and digest as the server: migrations must match the code that runs). */
  readonly image: string;
  readonly database: DatabaseAccess;
  /**
   * Basic-auth: the script also migrates (and on MySQL pre-creates) the auth tables.
   * @default - no auth
   */
  readonly auth?: BasicAuth;
  /**
   * Basic-auth with scraped metrics: the non-admin MLflow user the collector logs in as, which the script creates
   * or updates on every run (its password from `secret`, key `password`: the ExternalSecret `mlflow-metrics-auth`).
   * @default - no metrics user
   */
  readonly metricsUser?: ScrapeCredentials;
  /**
   * Basic-auth with a smoke test: the non-admin MLflow user the smoke test logs in as, which the script creates or
   * updates on every run, without any permission (name and password from `secret`, keys `username`, `password`).
   * @default - no smoke user
   */
  readonly smokeUser?: SmokeUserSecret;
  /**
   * Basic-auth with clients or served models: their users and grants, which the script reconciles on every run
   * (and revokes what an earlier run granted that the plan no longer says).
   * @default - no clients or served models (users and grants an earlier run made for them are revoked)
   */
  readonly access?: AccessPlan;
}

/** Seconds the script retries its first database connection (proxy and metadata server start-up); always passed, the script has no default. */
const CONNECT_TIMEOUT_SECONDS = 120;

/**
 * `lib/mlflow/scripts/migrate.py` in a ConfigMap, and the container that runs it: empty database → initialize through
 * MLflow's store (`mlflow db upgrade` fails there); behind head → `mlflow db upgrade`, on MySQL only after checking
 * `log_bin_trust_function_creators`; at head → nothing. Before its first change it marks the run in the database (an
 * interrupted first install is started over; an interrupted upgrade is refused, exit 9, with the restore point it
 * logged). With auth: first check that the image can run the auth
 * app, pre-create the auth tables MySQL rejects upstream, then reconcile the admin (password from the auth ini)
 * and the plain users (metrics scraper, smoke test), then the clients' and served models' users and grants. Exit codes and reasons: docs/migration.md; why: docs/design.md#migrations. Used by {@link MigrationJob} and, for a
 * database on the server's own volume, as the server pod's init container.
 */
export class MigrationScript extends Construct {
  private readonly props: MigrationScriptProps;
  private readonly scriptVolume: kplus.Volume;

  constructor(scope: Construct, id: string, props: MigrationScriptProps) {
    super(scope, id);
    this.props = props;
    const configMap = new kplus.ConfigMap(this, 'Script', {
      metadata: { name: 'mlflow-migrate-script' },
      data: { 'migrate.py': fs.readFileSync(SCRIPT_FILE, 'utf8') },
    });
    this.scriptVolume = kplus.Volume.fromConfigMap(this, 'ScriptVolume', configMap, { name: 'migrate-script' });
  }

  /** Adds the migration container to `pod` (as a regular or init container) and wires its database and auth. */
  public addTo(pod: kplus.AbstractPod, as: 'container' | 'init-container'): kplus.Container {
    const p = this.props;
    const tmp = kplus.Volume.fromEmptyDir(this, `${pod.node.id}Tmp`, 'migrate-tmp', { sizeLimit: Size.mebibytes(256) });
    const spec: kplus.ContainerProps = {
      name: 'migrate',
      image: p.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['python', `${SCRIPT_DIR}/migrate.py`],
      envVariables: {
        MLFLOW_BACKEND_STORE_URI: p.database.backendStoreUri,
        MIGRATE_CONNECT_TIMEOUT_SECONDS: kplus.EnvValue.fromValue(String(CONNECT_TIMEOUT_SECONDS)),
        MLFLOW_DISABLE_TELEMETRY: kplus.EnvValue.fromValue('true'),
        HOME: kplus.EnvValue.fromValue('/tmp'),
      },
      securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
      resources: MLFLOW_TASK_RESOURCES,
      volumeMounts: [
        { path: SCRIPT_DIR, volume: this.scriptVolume, readOnly: true },
        { path: '/tmp', volume: tmp },
      ],
    };
    const container = as === 'container' ? pod.addContainer(spec) : pod.addInitContainer(spec);
    if (p.database.instanceConnectionName !== undefined) {
      // For the restore point the script logs before an upgrade: the point-in-time clone command names the instance.
      container.env.addVariable('MIGRATE_CLOUDSQL_INSTANCE', kplus.EnvValue.fromValue(p.database.instanceConnectionName));
    }
    p.database.connect(pod, container);
    p.auth?.mountInto(container);
    if (p.metricsUser) {
      container.env.addVariable('MLFLOW_METRICS_USERNAME', kplus.EnvValue.fromValue(p.metricsUser.username));
      container.env.addVariable('MLFLOW_METRICS_PASSWORD', kplus.EnvValue.fromSecretValue({ secret: p.metricsUser.secret, key: 'password' }));
    }
    if (p.smokeUser) {
      container.env.addVariable('MLFLOW_SMOKE_USERNAME', kplus.EnvValue.fromSecretValue({ secret: p.smokeUser.secret, key: 'username' }));
      container.env.addVariable('MLFLOW_SMOKE_PASSWORD', kplus.EnvValue.fromSecretValue({ secret: p.smokeUser.secret, key: 'password' }));
    }
    p.access?.mountInto(container);
    return container;
  }
}

/** Props of {@link MigrationJob}. */
export interface MigrationJobProps {
  readonly script: MigrationScript;
  readonly serviceAccount: kplus.ServiceAccount;
  /** Labels of the Job's pod (selectable by the network policies). */
  readonly podLabels: Record<string, string>;
}

/** Retries of a failed pod. Small: a failed migration usually needs a person (the script says what to fix). */
const BACKOFF_LIMIT = 2;
/**
 * Deadline for the whole Job. Generous: MySQL DDL on a large tracking database is slow, and an interrupted migration
 * leaves half-created tables.
 */
const ACTIVE_DEADLINE = Duration.minutes(60);

/**
 * The schema migration as one Argo CD **Sync** hook Job (not PreSync: on a first install the namespace, KSA and
 * ExternalSecret must exist first), re-created on every sync (`BeforeHookCreation`), never a plain Job with a
 * TTL (Argo CD would re-create it forever). Same image, KSA and Cloud SQL proxy native sidecar as the server.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/
 */
export class MigrationJob extends Construct {
  public readonly job: kplus.Job;

  constructor(scope: Construct, id: string, props: MigrationJobProps) {
    super(scope, id);
    this.job = hookJob(this, 'Resource', {
      name: 'mlflow-migrate',
      phase: 'Sync',
      serviceAccount: props.serviceAccount,
      podLabels: props.podLabels,
      backoffLimit: BACKOFF_LIMIT,
      activeDeadline: ACTIVE_DEADLINE,
    });
    const container = props.script.addTo(this.job, 'container');
    skipTagPinnedImageChecks(this.job, container.image);
    skipSecretEnvCheck(this.job, "the script passes them to MLflow, which reads its backend store URI and Flask secret key only from the environment or its command line (never a file); the script reads the users' passwords the same way");
  }
}
