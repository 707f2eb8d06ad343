import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { CloudSqlDatabase, ResolvedAuth } from '../config/model';
import { DatabaseAccess } from './database-access';
import { SecretManagerStore } from './secret-store';

/** Props of {@link BasicAuth}. */
export interface BasicAuthProps {
  /** Basic-auth, with the shared database its store lives in (the ini's `database_uri`). */
  readonly auth: ResolvedAuth;
  /** The KSA the SecretStore reads Secret Manager as. */
  readonly serviceAccount: kplus.ServiceAccount;
}

/**
 * MLflow's basic-auth app wired into a container, with the ExternalSecret it reads (`mlflow-auth`): `--app-name basic-auth` (it has no env-var form), the Flask
 * secret key shared by every pod (without it the workers crash in a loop and `/health` never answers), and the
 * auth ini (its template is {@link BasicAuth.iniTemplate}) whose `database_uri` points at the shared Cloud SQL database
 * (the default, a per-pod SQLite file, breaks with more than one replica) and whose `auth_cache_ttl_seconds` turns
 * on the per-worker credential cache (without it every request pays a PBKDF2 password hash).
 * Why: docs/design.md#auth.
 * @see https://mlflow.org/docs/latest/self-hosting/security/basic-http-auth/
 */
export class BasicAuth extends Construct {
  /**
   * The auth app's ini (`basic_auth.ini`) as an External Secrets template over the keys `.user`, `.password`,
   * `.adminUsername` and `.adminPassword`. Every value taken from a secret has each `%` doubled: configparser
   * interpolates `%`, and a single one makes the server exit at start. With IAM login the `database_uri` is
   * {@link DatabaseAccess.cloudSqlIamUri} as text (its `%` doubled too), with no `.user`/`.password`.
   */
  public static iniTemplate(auth: Pick<ResolvedAuth, 'defaultPermission' | 'credentialCacheTtlSeconds'>, database: CloudSqlDatabase): string {
    const databaseUri =
      database.login === 'iam'
        ? DatabaseAccess.cloudSqlIamUri(database, database.iamUser).replaceAll('%', '%%')
        : DatabaseAccess.cloudSqlUriTemplate(database, ' | replace "%" "%%"');
    return [
      '[mlflow]',
      `default_permission = ${auth.defaultPermission}`,
      `database_uri = ${databaseUri}`,
      'admin_username = {{ .adminUsername | replace "%" "%%" }}',
      'admin_password = {{ .adminPassword | replace "%" "%%" }}',
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      // A successful login is cached per worker for this long (0: off, MLflow's default), so a request
      // does not pay a PBKDF2 hash each time; the price is that a revoked password works until expiry.
      `auth_cache_ttl_seconds = ${auth.credentialCacheTtlSeconds}`,
      '',
    ].join('\n');
  }

  /** Directory the ini is mounted in. */
  public static readonly CONFIG_DIR = '/etc/mlflow/auth';
  /** Value of `MLFLOW_AUTH_CONFIG_PATH`. */
  public readonly configPath = `${BasicAuth.CONFIG_DIR}/basic_auth.ini`;
  /** Server arguments that turn the auth app on. */
  public readonly serverArgs: readonly string[] = ['--app-name', 'basic-auth'];

  private readonly secret: kplus.ISecret;
  private readonly volume: kplus.Volume;

  constructor(scope: Construct, id: string, props: BasicAuthProps) {
    super(scope, id);
    const { auth } = props;
    const database = auth.database;
    this.secret = SecretManagerStore.of(this, { projectId: auth.secretProject, serviceAccount: props.serviceAccount }).secret(this, 'Secret', {
      name: 'mlflow-auth',
      remote: {
        ...(database.login === 'password' ? DatabaseAccess.passwordLoginRefs(database) : {}),
        flaskSecretKey: auth.flaskSecretKeySecret,
        adminUsername: auth.adminUsernameSecret,
        adminPassword: auth.adminPasswordSecret,
      },
      template: { MLFLOW_FLASK_SERVER_SECRET_KEY: '{{ .flaskSecretKey }}', 'basic_auth.ini': BasicAuth.iniTemplate(auth, database) },
    });
    this.volume = kplus.Volume.fromSecret(this, 'Volume', this.secret, {
      name: 'auth-config',
      items: { 'basic_auth.ini': { path: 'basic_auth.ini' } },
    });
  }

  /** Mounts the ini read-only and sets the env the auth app reads. */
  public mountInto(container: kplus.Container): void {
    container.mount(BasicAuth.CONFIG_DIR, this.volume, { readOnly: true });
    container.env.addVariable('MLFLOW_AUTH_CONFIG_PATH', kplus.EnvValue.fromValue(this.configPath));
    container.env.addVariable(
      'MLFLOW_FLASK_SERVER_SECRET_KEY',
      kplus.EnvValue.fromSecretValue({ secret: this.secret, key: 'MLFLOW_FLASK_SERVER_SECRET_KEY' }),
    );
  }
}
