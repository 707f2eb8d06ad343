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
import type { EnabledAuth, MysqlDatabase } from '../config/config';

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
  readonly database?: MysqlDatabase;
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
   * How often ESO re-reads Secret Manager, in Go's normalized duration form (Argo CD would otherwise show
   * perpetual drift against the API server's normalized value).
   * @default '1h0m0s'
   */
  readonly refreshInterval?: string;
}

/** Seconds a worker caches a successful basic-auth login when `auth.credentialCacheTtlSeconds` is omitted. */
export const DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS = 60;

/** Where the Cloud SQL Auth Proxy listens inside every pod that reaches the database. */
export const PROXY_ADDRESS = '127.0.0.1:3306';

/**
 * Every credential the app uses, read from GCP Secret Manager by External Secrets Operator
 * (`external-secrets.io/v1`) through a namespaced `SecretStore` that authenticates as the app's own KSA.
 * Nothing secret is rendered into git: the Secrets are created in the cluster by ESO from templates.
 *
 * User and password are percent-encoded in the URI (`urlquery`; it encodes a space as `+`, hence the
 * Terraform contract's alphanumeric passwords). In the auth ini a `%` must be written `%%` (configparser
 * interpolation; a single `%` makes the server exit at start).
 * @see https://external-secrets.io/latest/provider/google-secrets-manager/
 */
export class ExternalSecrets extends Construct {
  /** Secret with key `MLFLOW_BACKEND_STORE_URI`. */
  public readonly databaseSecret?: kplus.ISecret;
  /** Secret with keys `MLFLOW_FLASK_SERVER_SECRET_KEY` and `basic_auth.ini`. */
  public readonly authSecret?: kplus.ISecret;
  /** Secret with keys `username` and `password` for the metrics scraper. */
  public readonly metricsSecret?: kplus.ISecret;
  /** Secret with keys `username` and `password` of the smoke test user. */
  public readonly smokeSecret?: kplus.ISecret;

  private readonly storeName = 'gcp-secret-manager';
  private readonly refreshInterval: string;

  constructor(scope: Construct, id: string, props: ExternalSecretsProps) {
    super(scope, id);
    this.refreshInterval = props.refreshInterval ?? '1h0m0s';

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
      const uri = `mysql+pymysql://{{ .user | urlquery }}:{{ .password | urlquery }}@${PROXY_ADDRESS}/${db.name}`;
      this.databaseSecret = this.secret('Database', 'mlflow-database', { user: db.userSecret, password: db.passwordSecret }, {
        MLFLOW_BACKEND_STORE_URI: uri,
      });

      if (props.auth) {
        const a = props.auth;
        const ini = [
          '[mlflow]',
          `default_permission = ${a.defaultPermission}`,
          `database_uri = mysql+pymysql://{{ .user | urlquery | replace "%" "%%" }}:{{ .password | urlquery | replace "%" "%%" }}@${PROXY_ADDRESS}/${db.name}`,
          'admin_username = {{ .adminUsername | replace "%" "%%" }}',
          'admin_password = {{ .adminPassword | replace "%" "%%" }}',
          'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
          // A successful login is cached per worker for this long (0: off, MLflow's default), so a request
          // does not pay a PBKDF2 hash each time; the price is that a revoked password works until expiry.
          `auth_cache_ttl_seconds = ${a.credentialCacheTtlSeconds ?? DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS}`,
          '',
        ].join('\n');
        this.authSecret = this.secret(
          'Auth',
          'mlflow-auth',
          {
            user: db.userSecret,
            password: db.passwordSecret,
            flaskSecretKey: a.flaskSecretKeySecret,
            adminUsername: a.adminUsernameSecret,
            adminPassword: a.adminPasswordSecret,
          },
          { MLFLOW_FLASK_SERVER_SECRET_KEY: '{{ .flaskSecretKey }}', 'basic_auth.ini': ini },
        );
      }
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

  /** One ExternalSecret: remote Secret Manager ids → template → a Secret named `name` owned by ESO. */
  private secret(id: string, name: string, remote: Record<string, string>, template: Record<string, string>): kplus.ISecret {
    new ExternalSecret(this, id, {
      metadata: { name },
      spec: {
        refreshInterval: this.refreshInterval,
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
