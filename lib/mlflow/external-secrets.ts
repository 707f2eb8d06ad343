import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import {
  ExternalSecret,
  ExternalSecretSpecSecretStoreRefKind,
  ExternalSecretSpecTargetCreationPolicy,
  ExternalSecretSpecTargetDeletionPolicy,
  ExternalSecretSpecTargetTemplateEngineVersion,
} from '../../imports/externalsecret-external-secrets.io';
import { SecretStore } from '../../imports/secretstore-external-secrets.io';
import type { CloudSqlDatabase, EnabledAuth } from '../config/config';
import { BasicAuth } from './basic-auth';
import { DatabaseAccess } from './database-access';

/** Props of {@link ExternalSecrets}. */
export interface ExternalSecretsProps {
  /** GCP project holding the Secret Manager secrets. */
  readonly projectId: string;
  /** The KSA whose Workload Identity reads Secret Manager (its GSA needs `roles/secretmanager.secretAccessor`). */
  readonly serviceAccount: kplus.ServiceAccount;
  /**
   * Cloud SQL database: renders the backend store URI Secret.
   * @default - no database Secret
   */
  readonly database?: CloudSqlDatabase;
  /**
   * IAM database login: the IAM database user ({@link iamDatabaseUser}). No database Secret is rendered (the
   * backend URI holds nothing secret) and the auth ini's `database_uri` names this user, with no password.
   * @default - password login: the database Secret from `database.userSecret` and `database.passwordSecret`
   */
  readonly iamDatabaseUser?: string;
  /**
   * Basic-auth: renders the Flask secret key and the auth ini (needs `database`).
   * @default - no auth Secret
   */
  readonly auth?: EnabledAuth;
  /**
   * Scrape credentials for the metrics collector (under basic-auth `/metrics` needs a logged-in user).
   * @default - no metrics Secret
   */
  readonly metricsCredentials?: { readonly username: string; readonly passwordSecret: string };
  /**
   * The smoke test user's credentials (the PostSync smoke Job logs in with them; the migration Job creates the user).
   * @default - no smoke Secret
   */
  readonly smokeCredentials?: { readonly username: string; readonly passwordSecret: string };
  /**
   * The admin's credentials for the garbage-collection CronJob (with `auth`): `mlflow gc` deletes artifacts through
   * the server's proxy, which under basic-auth lets only the admin (or an experiment's MANAGE holder) delete.
   * @default false
   */
  readonly gcCredentials?: boolean;
}

/**
 * How often ESO re-reads Secret Manager, in Go's normalized duration form (Argo CD would otherwise show
 * perpetual drift against the API server's normalized value).
 */
const REFRESH_INTERVAL = '1h0m0s';


/**
 * Every credential the app uses, read from GCP Secret Manager by External Secrets Operator
 * (`external-secrets.io/v1`) through a namespaced `SecretStore` that authenticates as the app's own KSA.
 * Nothing secret is rendered into git: the Secrets are created in the cluster by ESO from templates.
 *
 * The templates' formats belong to their consumers: the backend URI to {@link DatabaseAccess.cloudSqlUriTemplate},
 * the auth ini to {@link BasicAuth.iniTemplate}; this construct names the remote secrets they read
 * (docs/design.md#database-and-proxy, docs/design.md#auth).
 * @see https://external-secrets.io/latest/provider/google-secrets-manager/
 */
export class ExternalSecrets extends Construct {
  /** Secret with key `MLFLOW_BACKEND_STORE_URI` (password login only). */
  public readonly databaseSecret?: kplus.ISecret;
  /** Secret with keys `MLFLOW_FLASK_SERVER_SECRET_KEY` and `basic_auth.ini`. */
  public readonly authSecret?: kplus.ISecret;
  /** Secret with keys `username` and `password` for the metrics scraper. */
  public readonly metricsSecret?: kplus.ISecret;
  /** Secret with keys `username` and `password` of the smoke test user. */
  public readonly smokeSecret?: kplus.ISecret;
  /** Secret with keys `username` and `password` of the admin, for the gc CronJob. */
  public readonly gcSecret?: kplus.ISecret;

  private readonly storeName = 'gcp-secret-manager';

  constructor(scope: Construct, id: string, props: ExternalSecretsProps) {
    super(scope, id);

    new SecretStore(this, 'Store', {
      metadata: { name: this.storeName },
      spec: {
        provider: {
          gcpsm: {
            projectId: props.projectId,
            // Cluster name/location/project are read from the GKE metadata server.
            auth: { workloadIdentity: { serviceAccountRef: { name: props.serviceAccount.name } } },
          },
        },
      },
    });

    if (props.database) {
      const db = props.database;
      const iamUser = props.iamDatabaseUser;
      const credentials = iamUser === undefined ? ExternalSecrets.passwordLoginRefs(db) : {};
      if (iamUser === undefined) {
        this.databaseSecret = this.secret('Database', 'mlflow-database', credentials, {
          MLFLOW_BACKEND_STORE_URI: DatabaseAccess.cloudSqlUriTemplate(db),
        });
      }

      if (props.auth) {
        const a = props.auth;
        const ini = BasicAuth.iniTemplate(a, db, iamUser);
        this.authSecret = this.secret(
          'Auth',
          'mlflow-auth',
          {
            ...credentials,
            flaskSecretKey: a.flaskSecretKeySecret,
            adminUsername: a.adminUsernameSecret,
            adminPassword: a.adminPasswordSecret,
          },
          { MLFLOW_FLASK_SERVER_SECRET_KEY: '{{ .flaskSecretKey }}', 'basic_auth.ini': ini },
        );
      }
    }
    if (props.gcCredentials && props.auth) {
      const a = props.auth;
      this.gcSecret = this.secret('Gc', 'mlflow-gc-auth', { username: a.adminUsernameSecret, password: a.adminPasswordSecret }, {
        username: '{{ .username }}',
        password: '{{ .password }}',
      });
    }
    if (props.metricsCredentials) {
      const m = props.metricsCredentials;
      this.metricsSecret = this.secret('Metrics', 'mlflow-metrics-auth', { password: m.passwordSecret }, {
        username: m.username,
        password: '{{ .password }}',
      });
    }
    if (props.smokeCredentials) {
      const m = props.smokeCredentials;
      this.smokeSecret = this.secret('Smoke', 'mlflow-smoke-auth', { password: m.passwordSecret }, {
        username: m.username,
        password: '{{ .password }}',
      });
    }
  }

  /** The template keys `.user` and `.password` of password login, from their Secret Manager ids. */
  private static passwordLoginRefs(db: CloudSqlDatabase): Record<string, string> {
    const missing = (f: string) => new Error(`internal error: database.${f} should have been guaranteed by config validation (password login)`);
    if (db.userSecret === undefined) throw missing('userSecret');
    if (db.passwordSecret === undefined) throw missing('passwordSecret');
    return { user: db.userSecret, password: db.passwordSecret };
  }

  /** One ExternalSecret: remote Secret Manager ids → template → a Secret named `name` owned by ESO. */
  private secret(id: string, name: string, remote: Record<string, string>, template: Record<string, string>): kplus.ISecret {
    new ExternalSecret(this, id, {
      metadata: { name },
      spec: {
        refreshInterval: REFRESH_INTERVAL,
        secretStoreRef: { kind: ExternalSecretSpecSecretStoreRefKind.SECRET_STORE, name: this.storeName },
        target: {
          name,
          creationPolicy: ExternalSecretSpecTargetCreationPolicy.OWNER,
          deletionPolicy: ExternalSecretSpecTargetDeletionPolicy.RETAIN,
          template: { engineVersion: ExternalSecretSpecTargetTemplateEngineVersion.V2, type: 'Opaque', data: template },
        },
        data: Object.entries(remote).map(([secretKey, key]) => ({ secretKey, remoteRef: { key } })),
      },
    });
    return kplus.Secret.fromSecretName(this, `${id}Ref`, name);
  }
}
