/**
 * The resolved config model: what every construct receives. A config file, once valid (`config.ts`), becomes an
 * {@link Environment}: its name and a list of {@link Server}s — one for a single-server file, one per entry of
 * `instances:`. Each server's sections have their defaults applied, are narrowed to the variant in force (a Cloud
 * SQL database carries the secrets of its login, enabled auth carries the users the features log in as), and
 * carry what is derived from them once: the exposed hosts, the connection budget, the Secret Manager project.
 *
 * The rules here read the document as the schema admits it ({@link ConfigDocument}); the guards (`guards.ts`,
 * `instances.ts`) call the same functions, so a rule lives in one place.
 */
import { iamDatabaseUser } from './cloud-sql-iam';
import {
  DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS,
  DEFAULT_DATABASE_LOGIN,
  DEFAULT_DRAINING_TIMEOUT_SECONDS,
  DEFAULT_GATEWAY_CLASS,
  GC_OLDER_THAN_DAYS,
  type CloudSqlDocument,
  type ConfigDocument,
  type EnabledAuth,
  type ExposureConfig,
  type ClientDocument,
  type GkeGatewayClass,
  type MlflowGrant,
  type MysqlDatabase,
  type ServingDocument,
  type PostgresDatabase,
} from './schema';
import { APP_PATHS, servingName } from '../names';
import { GC_CONNECTIONS, connectionBudget, type ConnectionBudget } from './sizing';

// ---------------------------------------------------------------------------------------------------------
// Rules over the document, shared by the guards and the resolution
// ---------------------------------------------------------------------------------------------------------

/** The public host names the load balancer serves (Ingress or Gateway); none without exposure. */
export function hostsOf(exposure: ExposureConfig): readonly string[] {
  return exposure.mode === 'none' ? [] : exposure.hosts;
}

/** The Cloud SQL database of a document, or undefined for SQLite. */
export function cloudSqlOf(c: Pick<ConfigDocument, 'database'>): CloudSqlDocument | undefined {
  return c.database.engine === 'sqlite' ? undefined : c.database;
}

/** The cert-manager ClusterIssuer the exposure's certificate comes from, if it comes from cert-manager. */
export function certManagerIssuerOf(exposure: ExposureConfig): string | undefined {
  if (exposure.mode === 'ingress') return exposure.clusterIssuer;
  if (exposure.mode === 'gateway' && exposure.certificate.source === 'cert-manager') return exposure.certificate.clusterIssuer;
  return undefined;
}

/**
 * The login of a Cloud SQL database: `database.login`, or `password` when omitted, so configs written before the
 * field existed keep their user and password from Secret Manager.
 */
export function loginOf(database: Pick<MysqlDatabase, 'login'>): 'password' | 'iam' {
  return database.login ?? DEFAULT_DATABASE_LOGIN;
}

/** A server's worst case of Cloud SQL connections (lib/config/sizing.ts), or undefined for SQLite or without autoscaling. */
export function connectionBudgetOf(c: ConfigDocument): ConnectionBudget | undefined {
  const db = cloudSqlOf(c);
  const scaling = c.server.autoscaling;
  if (!db || !scaling) return undefined;
  return connectionBudget({
    maxReplicas: scaling.maxReplicas,
    workers: c.server.workers,
    authEnabled: c.auth.enabled,
    poolSize: db.pool.size,
    maxOverflow: db.pool.maxOverflow,
    maxConnections: db.maxConnections,
    gcConnections: c.gc ? GC_CONNECTIONS : 0,
  });
}

// ---------------------------------------------------------------------------------------------------------
// The resolved types
// ---------------------------------------------------------------------------------------------------------

/** A user a feature logs in to MLflow as: its name, and the Secret Manager id of its password. */
export interface Credentials {
  readonly username: string;
  readonly passwordSecret: string;
}

type CloudSqlCommon = Omit<MysqlDatabase, 'engine' | 'login' | 'userSecret' | 'passwordSecret' | 'name'> & {
  readonly engine: MysqlDatabase['engine'] | PostgresDatabase['engine'];
  readonly name: string;
  /** The GCP project whose Secret Manager the server's SecretStore reads (`gcp.projectId`). */
  readonly secretProject: string;
};

/** Password login: the database user and password come from Secret Manager. */
export type PasswordLoginDatabase = CloudSqlCommon & { readonly login: 'password'; readonly userSecret: string; readonly passwordSecret: string };
/** IAM login: the proxy logs in as the Workload Identity service account, as this database user. */
export type IamLoginDatabase = CloudSqlCommon & { readonly login: 'iam'; readonly iamUser: string };
/** A database on Cloud SQL, either engine and either login: reached through the Cloud SQL Auth Proxy. */
export type CloudSqlDatabase = PasswordLoginDatabase | IamLoginDatabase;
/** SQLite: a file on the server's data volume. */
export interface SqliteDatabase {
  readonly engine: 'sqlite';
  /** The data volume holding the file (the server's `volume` section). */
  readonly volume: NonNullable<ConfigDocument['volume']>;
}

/** Basic-auth, enabled: its defaults applied and the users of the features that log in. */
export type ResolvedAuth = Omit<EnabledAuth, 'metricsUsername' | 'metricsPasswordSecret' | 'smokeUsername' | 'smokePasswordSecret' | 'credentialCacheTtlSeconds'> & {
  readonly credentialCacheTtlSeconds: number;
  /** The GCP project whose Secret Manager holds the auth secrets (`gcp.projectId`). */
  readonly secretProject: string;
  /** The shared database the auth store lives in: the server's own (basic-auth needs Cloud SQL). */
  readonly database: CloudSqlDatabase;
  /** The user the metrics collector scrapes `/metrics` as; present whenever metrics are scraped. */
  readonly metricsUser?: Credentials;
  /** The user the smoke test logs in as; present whenever Argo CD deploys the server (`gitops`). */
  readonly smokeUser?: Credentials;
};

type IngressExposure = Extract<ExposureConfig, { mode: 'ingress' }>;
type GatewayDocument = Extract<ExposureConfig, { mode: 'gateway' }>;
/** A Gateway exposure with its class and draining timeout applied. */
export type GatewayExposure = Omit<GatewayDocument, 'className' | 'drainingTimeoutSeconds'> & {
  readonly className: GkeGatewayClass;
  readonly drainingTimeoutSeconds: number;
};
export type Exposure = IngressExposure | GatewayExposure | Extract<ExposureConfig, { mode: 'none' }>;

/** The `mlflow gc` CronJob, its retention applied. */
export interface GarbageCollectionConfig {
  readonly schedule: string;
  readonly olderThanDays: number;
}

/** A permission granted to an MLflow user on one experiment or registered model, by name. */
export interface Grant {
  readonly name: string;
  readonly permission: MlflowGrant;
}

/** An in-cluster client of the server: its namespace and pods, the MLflow user it logs in as and what it may do. */
export interface Client {
  readonly name: string;
  readonly namespace: string;
  /** Labels of its pods; undefined: every pod of the namespace. */
  readonly podSelector?: Readonly<Record<string, string>>;
  /** Its MLflow user: the client's name, and the Secret Manager id of its password. */
  readonly user: Credentials;
  /** The GSA the SecretStore in the client's namespace reads the password as (Workload Identity). */
  readonly serviceAccountEmail: string;
  /** What it is granted beyond `auth.defaultPermission`, on experiments and on registered models (config order). */
  readonly grants: { readonly experiments: readonly Grant[]; readonly models: readonly Grant[] };
}

/** What a serving resolves in the registry: an alias (and its promotion count), or a pinned version. */
export type ServedTarget =
  | { readonly alias: string; readonly promotion: number; readonly version?: undefined }
  | { readonly version: number; readonly alias?: undefined };

/** A registered model served by `mlflow models serve` beside the server. */
export interface ServedModel {
  /** The serving's name (`serving[].name`); its objects and MLflow user are `servingName(name)`. */
  readonly name: string;
  readonly model: string;
  readonly target: ServedTarget;
  /** Its read-only MLflow user: `serve-<name>`, and the Secret Manager id of its password. */
  readonly user: Credentials;
  /** The clients whose pods may call it. */
  readonly clients: readonly Client[];
  readonly resources: ServingDocument['resources'];
  readonly autoscaling: ServingDocument['autoscaling'];
}

/** One MLflow server, resolved: what {@link MlflowChart} and the GitOps side receive. */
export interface Server extends Omit<ConfigDocument, 'database' | 'auth' | 'exposure' | 'gc' | 'clients' | 'serving'> {
  /**
   * The server's name: the environment's (`config/prod.yaml` → `prod`), or `<env>-<instance>` for one of several
   * instances. It is the value of the `app.kubernetes.io/instance` label (`mlflow-<name>`).
   */
  readonly name: string;
  /** Its folder under `dist/<env>/`, the `source.path` of its Argo CD Application: `mlflow`, or the instance's name. */
  readonly path: string;
  readonly database: CloudSqlDatabase | SqliteDatabase;
  /** Basic-auth, or undefined when disabled. */
  readonly auth?: ResolvedAuth;
  readonly exposure: Exposure;
  readonly gc?: GarbageCollectionConfig;
  /** In-cluster clients (none when the file lists none). */
  readonly clients: readonly Client[];
  /** Models served by registry alias or version (none when the file lists none). */
  readonly serving: readonly ServedModel[];
  /** Derived: the public host names the load balancer serves (none without exposure). */
  readonly hosts: readonly string[];
  /** Derived: the worst case of Cloud SQL connections (Cloud SQL only). */
  readonly connectionBudget?: ConnectionBudget;
}

/** The environment (config file name) a server belongs to: its name, less `-<instance>` for one of several instances. */
export function environmentOf(server: Pick<Server, 'name' | 'path'>): string {
  return server.path === APP_PATHS.mlflow ? server.name : server.name.slice(0, server.name.length - server.path.length - 1);
}

/** One config file, resolved: its environment name and its servers (one, or one per instance). */
export interface Environment {
  readonly name: string;
  readonly servers: readonly Server[];
}

// ---------------------------------------------------------------------------------------------------------
// Resolution: only of a document the guards accepted (config.ts calls it after them)
// ---------------------------------------------------------------------------------------------------------

function resolveDatabase(c: ConfigDocument): CloudSqlDatabase | SqliteDatabase {
  const d = c.database;
  if (d.engine === 'sqlite') {
    if (c.volume === undefined) throw new Error('sqlite without a volume');
    return { engine: 'sqlite', volume: c.volume };
  }
  const { login: _login, userSecret, passwordSecret, ...rest } = d;
  if (c.gcp === undefined) throw new Error('Cloud SQL without gcp');
  const common = { ...rest, secretProject: c.gcp.projectId };
  if (loginOf(d) === 'iam') return { ...common, login: 'iam', iamUser: iamDatabaseUser(c.gcp.serviceAccountEmail, d.engine) };
  if (userSecret === undefined || passwordSecret === undefined) throw new Error('password login without its secrets');
  return { ...common, login: 'password', userSecret, passwordSecret };
}

function credentials(username: string | undefined, passwordSecret: string | undefined): Credentials | undefined {
  return username !== undefined && passwordSecret !== undefined ? { username, passwordSecret } : undefined;
}

function resolveAuth(c: ConfigDocument, database: CloudSqlDatabase | SqliteDatabase): ResolvedAuth | undefined {
  if (!c.auth.enabled) return undefined;
  if (database.engine === 'sqlite') throw new Error('auth on SQLite');
  const { metricsUsername, metricsPasswordSecret, smokeUsername, smokePasswordSecret, credentialCacheTtlSeconds, ...rest } = c.auth;
  const metricsUser = c.metrics === 'none' ? undefined : credentials(metricsUsername, metricsPasswordSecret);
  const smokeUser = credentials(smokeUsername, smokePasswordSecret);
  if (c.gcp === undefined) throw new Error('auth without gcp');
  return {
    ...rest,
    secretProject: c.gcp.projectId,
    database,
    credentialCacheTtlSeconds: credentialCacheTtlSeconds ?? DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS,
    ...(metricsUser ? { metricsUser } : {}),
    ...(smokeUser ? { smokeUser } : {}),
  };
}

function grantsOf(record: Readonly<Record<string, MlflowGrant>> | undefined): Grant[] {
  return Object.entries(record ?? {}).map(([name, permission]) => ({ name, permission }));
}

function resolveClient(c: ClientDocument): Client {
  return {
    name: c.name,
    namespace: c.namespace,
    ...(c.podSelector ? { podSelector: c.podSelector } : {}),
    user: { username: c.name, passwordSecret: c.passwordSecret },
    serviceAccountEmail: c.serviceAccountEmail,
    grants: { experiments: grantsOf(c.permissions?.experiments), models: grantsOf(c.permissions?.models) },
  };
}

function resolveServing(s: ServingDocument, clients: readonly Client[]): ServedModel {
  let target: ServedTarget;
  if (s.alias !== undefined) target = { alias: s.alias, promotion: s.promotion ?? 0 };
  else if (s.version !== undefined) target = { version: s.version };
  else throw new Error('serving without alias or version');
  return {
    name: s.name,
    model: s.model,
    target,
    user: { username: servingName(s.name), passwordSecret: s.passwordSecret },
    clients: (s.clients ?? []).map((name) => {
      const client = clients.find((cl) => cl.name === name);
      if (client === undefined) throw new Error(`serving names an unknown client ${name}`);
      return client;
    }),
    resources: s.resources,
    autoscaling: s.autoscaling,
  };
}

function resolveExposure(e: ExposureConfig): Exposure {
  if (e.mode !== 'gateway') return e;
  return { ...e, className: e.className ?? DEFAULT_GATEWAY_CLASS, drainingTimeoutSeconds: e.drainingTimeoutSeconds ?? DEFAULT_DRAINING_TIMEOUT_SECONDS };
}

/**
 * The resolved server of a document that passed the schema and the guards. The guards refuse every state the
 * resolution cannot represent (password login without its secrets, Cloud SQL or auth without `gcp`, SQLite without
 * a volume, auth on SQLite); the checks here only let the types follow, and reaching one is a bug in the guards, not a user error.
 */
export function resolveServer(name: string, path: string, c: ConfigDocument): Server {
  const { database: _d, auth: _a, exposure, gc, clients: _c, serving: _s, ...rest } = c;
  const clients = (c.clients ?? []).map(resolveClient);
  const database = resolveDatabase(c);
  const auth = resolveAuth(c, database);
  const budget = connectionBudgetOf(c);
  return {
    ...rest,
    name,
    path,
    database,
    ...(auth ? { auth } : {}),
    exposure: resolveExposure(exposure),
    ...(gc ? { gc: { schedule: gc.schedule, olderThanDays: gc.olderThanDays ?? GC_OLDER_THAN_DAYS.default } } : {}),
    clients,
    serving: (c.serving ?? []).map((s) => resolveServing(s, clients)),
    hosts: hostsOf(exposure),
    ...(budget ? { connectionBudget: budget } : {}),
  };
}
