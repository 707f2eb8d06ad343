import { Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { CloudSqlDatabase } from '../config/model';
import { PROXY_UID, restrictedContainerSecurityContext } from '../conventions';
import { DataVolume } from './data-volume';
import { CLOUD_SQL_EGRESS, type NetworkPolicies } from './network-policies';
import { SecretManagerStore } from './secret-store';

/** Props of {@link DatabaseAccess}. */
export type DatabaseAccessProps =
  | {
      /** Cloud SQL, either engine and either login (`database.engine`, `database.login`). */
      readonly engine: 'cloud-sql';
      readonly database: CloudSqlDatabase;
      /** The KSA the SecretStore reads Secret Manager as (password login: the backend URI's credentials). */
      readonly serviceAccount: kplus.ServiceAccount;
      /**
       * The namespace's network policies: this feature adds the rules it needs to them.
       * @default - no NetworkPolicy rules
       */
      readonly network?: NetworkPolicies;
    }
  | {
      readonly engine: 'sqlite';
      /** The volume holding the database file. */
      readonly volume: DataVolume;
    };

/** The Cloud SQL Auth Proxy image (v2, distroless, runs as {@link PROXY_UID}), pinned by tag and digest. */
const PROXY_IMAGE = 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0@sha256:54e23cad9aeeedbf88ab75f993146631b878035f702b31c51885a932e0c7286c';
/** Where the proxy listens inside every pod that reaches the database: loopback, so only that pod can use it. */
const PROXY_HOST = '127.0.0.1';
/** Where the proxy listens, per engine: the engine's standard port (docs/design.md#database-and-proxy). */
const PROXY_PORTS: Readonly<Record<CloudSqlDatabase['engine'], number>> = { mysql: 3306, postgres: 5432 };
/**
 * SQLAlchemy dialect and driver per engine: the drivers the MLflow image installs with its `db` extra (PyMySQL,
 * psycopg2-binary; docs/migration.md#the-image-and-the-database-drivers).
 */
const URI_SCHEMES: Readonly<Record<CloudSqlDatabase['engine'], string>> = { mysql: 'mysql+pymysql', postgres: 'postgresql+psycopg2' };
/** Port of the Cloud SQL Auth Proxy's health endpoints (`/startup`, `/liveness`, `/readiness`). */
const PROXY_HEALTH_PORT = 9801;
/**
 * The proxy's liveness probe, as its own Kubernetes example sets it: every 60 s, 30 s to answer, restarted after 5
 * misses in a row (five minutes: the proxy refreshes its certificate five minutes before expiry).
 * @see https://github.com/GoogleCloudPlatform/cloud-sql-proxy/tree/main/examples/k8s-health-check
 */
const PROXY_LIVENESS = { period: Duration.seconds(60), timeout: Duration.seconds(30), failureThreshold: 5 } as const;

// The IAM database user name rule lives with the config that validates it (lib/config/cloud-sql-iam.ts); the
// constructs take it from here.
export { iamDatabaseUser, iamDatabaseUserProblem, type CloudSqlEngine } from '../config/cloud-sql-iam';

/** The proxy's flags for the login: `--auto-iam-authn` logs every connection in as the pod's service account. */
export function loginProxyArgs(iamLogin: boolean): string[] {
  return iamLogin ? ['--auto-iam-authn'] : [];
}

/**
 * How MLflow's processes reach the backend store. For Cloud SQL: the backend URI from the ExternalSecret and
 * the Cloud SQL Auth Proxy v2 as a **native sidecar** (an init container with `restartPolicy: Always`), so it
 * is up before MLflow starts and — unlike a plain sidecar — lets a Job complete. For SQLite: a file on the
 * data volume, migrated inside the pod that owns the volume.
 * Why: docs/design.md#database-and-proxy.
 * @see https://cloud.google.com/sql/docs/mysql/connect-kubernetes-engine
 * @see https://cloud.google.com/sql/docs/postgres/connect-kubernetes-engine
 */
export class DatabaseAccess extends Construct {
  /** The port the proxy listens on for `engine`, on loopback: 3306 for MySQL, 5432 for PostgreSQL. */
  public static proxyPort(engine: CloudSqlDatabase['engine']): number {
    return PROXY_PORTS[engine];
  }

  /** The URI scheme (SQLAlchemy dialect+driver) for `engine`: `mysql+pymysql` or `postgresql+psycopg2`. */
  public static uriScheme(engine: CloudSqlDatabase['engine']): string {
    return URI_SCHEMES[engine];
  }

  /**
   * The Cloud SQL backend store URI as an External Secrets template over the keys `.user` and `.password`, each
   * percent-encoded, through the proxy on loopback, with the engine's scheme and port. Go's `urlquery` encodes every
   * byte but letters, digits and `-_.~`, a space as `+` — which SQLAlchemy's URL parser keeps as a literal `+` — and
   * a `+` as `%2B`; so every `+` it writes was a space and becomes `%20`: every printable password survives.
   * `credentialPipe` is appended to each credential's pipeline, for formats that escape further (the basic-auth
   * ini doubles every `%`).
   */
  public static cloudSqlUriTemplate(database: Pick<CloudSqlDatabase, 'engine' | 'name'>, credentialPipe = ''): string {
    const credential = (key: string) => `{{ .${key} | urlquery | replace "+" "%20"${credentialPipe} }}`;
    const hostPort = `${PROXY_HOST}:${DatabaseAccess.proxyPort(database.engine)}`;
    return `${DatabaseAccess.uriScheme(database.engine)}://${credential('user')}:${credential('password')}@${hostPort}/${database.name}`;
  }

  /**
   * The backend store URI with IAM login: the IAM database user (percent-encoded) and no password — the proxy's
   * `--auto-iam-authn` supplies the login token — with the engine's scheme and port, through the proxy on loopback.
   * Nothing secret in it.
   */
  public static cloudSqlIamUri(database: Pick<CloudSqlDatabase, 'engine' | 'name'>, iamUser: string): string {
    const hostPort = `${PROXY_HOST}:${DatabaseAccess.proxyPort(database.engine)}`;
    return `${DatabaseAccess.uriScheme(database.engine)}://${encodeURIComponent(iamUser)}@${hostPort}/${database.name}`;
  }

  /** The value of `MLFLOW_BACKEND_STORE_URI`. */
  public readonly backendStoreUri: kplus.EnvValue;
  /**
   * Whether migrations must run inside the server pod (an init container) rather than in a separate Job: true
   * when the database lives on the pod's ReadWriteOnce volume.
   */
  public readonly migratesInServerPod: boolean;
  /** The Cloud SQL instance connection name (`PROJECT:REGION:INSTANCE`); undefined for SQLite. */
  public readonly instanceConnectionName?: string;

  private readonly props: DatabaseAccessProps;

  constructor(scope: Construct, id: string, props: DatabaseAccessProps) {
    super(scope, id);
    this.props = props;
    if (props.engine === 'cloud-sql') {
      const db = props.database;
      this.backendStoreUri =
        db.login === 'iam'
          ? kplus.EnvValue.fromValue(DatabaseAccess.cloudSqlIamUri(db, db.iamUser))
          : kplus.EnvValue.fromSecretValue({ secret: DatabaseAccess.uriSecret(this, db, props.serviceAccount), key: 'MLFLOW_BACKEND_STORE_URI' });
      this.migratesInServerPod = false;
      this.instanceConnectionName = props.database.instanceConnectionName;
      props.network?.allowEgress(CLOUD_SQL_EGRESS);
    } else {
      this.backendStoreUri = kplus.EnvValue.fromValue(`sqlite:///${DataVolume.MOUNT_PATH}/mlflow.db`);
      this.migratesInServerPod = true;
    }
  }

  /** Password login: the Secret holding the backend URI, templated by ESO from the user and password in Secret Manager. */
  private static uriSecret(scope: Construct, db: Extract<CloudSqlDatabase, { login: 'password' }>, serviceAccount: kplus.ServiceAccount): kplus.ISecret {
    return SecretManagerStore.of(scope, { projectId: db.secretProject, serviceAccount }).secret(scope, 'Secret', {
      name: 'mlflow-database',
      remote: DatabaseAccess.passwordLoginRefs(db),
      template: { MLFLOW_BACKEND_STORE_URI: DatabaseAccess.cloudSqlUriTemplate(db) },
    });
  }

  /** The template keys `.user` and `.password` of password login, from their Secret Manager ids (used by the auth ini too). */
  public static passwordLoginRefs(db: Extract<CloudSqlDatabase, { login: 'password' }>): Record<string, string> {
    return { user: db.userSecret, password: db.passwordSecret };
  }

  /** SQLAlchemy pool sizing for MLflow's stores (none for SQLite). */
  public poolEnv(): Record<string, kplus.EnvValue> {
    if (this.props.engine !== 'cloud-sql') return {};
    const pool = this.props.database.pool;
    return {
      MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: kplus.EnvValue.fromValue(String(pool.size)),
      MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: kplus.EnvValue.fromValue(String(pool.maxOverflow)),
      MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: kplus.EnvValue.fromValue(String(pool.recycleSeconds)),
    };
  }

  /** Gives a pod's MLflow container the database: the proxy native sidecar, or the volume mount. */
  public connect(pod: kplus.AbstractPod, container: kplus.Container): void {
    if (this.props.engine === 'sqlite') {
      this.props.volume.mountInto(container);
      return;
    }
    const db = this.props.database;
    pod.addInitContainer({
      name: 'cloud-sql-proxy',
      image: PROXY_IMAGE,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      restartPolicy: kplus.ContainerRestartPolicy.ALWAYS,
      args: [
        db.instanceConnectionName,
        `--address=${PROXY_HOST}`,
        `--port=${DatabaseAccess.proxyPort(db.engine)}`,
        ...(db.privateIp ? ['--private-ip'] : []),
        ...loginProxyArgs(db.login === 'iam'),
        '--structured-logs',
        '--health-check',
        '--http-address=0.0.0.0',
        `--http-port=${PROXY_HEALTH_PORT}`,
        // Exit 0, not 143, when the kubelet stops it: the container ends Completed, not Error. No
        // --max-sigterm-delay: a native sidecar is stopped only after the app has exited, so there are no open
        // connections left to wait for (docs/design.md#database-and-proxy).
        '--exit-zero-on-sigterm',
      ],
      ports: [{ name: 'proxy-health', number: PROXY_HEALTH_PORT }],
      // The proxy's own startup gate: MLflow starts only once the proxy has its certificates.
      startup: kplus.Probe.fromHttpGet('/startup', { port: PROXY_HEALTH_PORT, periodSeconds: Duration.seconds(2), failureThreshold: 30 }),
      // The proxy's own example's liveness settings: a restart drops every database connection of the pod, so only
      // a proxy silent for minutes is restarted, not one stalled by a CPU burst (docs/design.md#database-and-proxy).
      liveness: kplus.Probe.fromHttpGet('/liveness', {
        port: PROXY_HEALTH_PORT,
        periodSeconds: PROXY_LIVENESS.period,
        timeoutSeconds: PROXY_LIVENESS.timeout,
        failureThreshold: PROXY_LIVENESS.failureThreshold,
      }),
      securityContext: restrictedContainerSecurityContext(PROXY_UID),
      resources: {
        cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(500) },
        memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
      },
    });
  }
}
