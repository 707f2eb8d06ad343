/**
 * The config file's schema (zod): the fields of `config/<env>.yaml`, their formats and their own bounds, and the raw
 * types a parsed file has. Rules across fields are in `guards.ts`, the loader in `config.ts`, and the resolved model
 * every construct receives (defaults applied, variants narrowed, derived values) in `model.ts`.
 */
import { z } from 'zod';
import { cronScheduleProblem } from './cron';
import { parseCpuMillis, parseMemoryMiB } from './sizing';

// ---------------------------------------------------------------------------------------------------------
// Field formats
// ---------------------------------------------------------------------------------------------------------

/** RFC 1123 label: lowercase alphanumerics and '-', 1..63 chars, alphanumeric at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A fully qualified public host name (no wildcard: cert-manager HTTP-01 cannot issue wildcards). */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;
/** OCI image repository without tag or digest, e.g. `ghcr.io/mlflow/mlflow`. */
const IMAGE_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)+$/;
/** An exact release tag: `v3.17.0-full`, `3.17.0`, `2.14.1`. Floating tags (`latest`, `3`, `3.17`) are rejected. */
const EXACT_VERSION_TAG = /^v?\d+\.\d+\.\d+(-[A-Za-z0-9][A-Za-z0-9._-]*)?$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
/** Kubernetes CPU quantity: `500m`, `1`, `1.5`. */
const CPU_QUANTITY = /^(\d+m|\d+(\.\d+)?)$/;
/** Kubernetes memory/storage quantity in binary units: `512Mi`, `1Gi`, `10Gi`. */
const MEMORY_QUANTITY = /^\d+(Ki|Mi|Gi|Ti)$/;
const GCP_PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const GCP_REGION = /^[a-z]+-[a-z]+\d+$/;
/** Cloud SQL instance connection name `project:region:instance`. */
const INSTANCE_CONNECTION_NAME = /^[a-z][-a-z0-9:.]*[a-z0-9]:[a-z]+-[a-z]+\d+:[a-z][-a-z0-9]{0,97}$/;
/** Secret Manager secret id: letters, digits, '-' and '_', up to 255 chars. */
const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
const GSA_EMAIL = /^[a-z][-a-z0-9]{4,28}[a-z0-9]@[a-z][-a-z0-9]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;
/** MySQL database name we accept: conservative, no quoting needed anywhere. */
const DATABASE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/**
 * PostgreSQL database name we accept: the same characters, at most 63 (PostgreSQL's identifier limit, NAMEDATALEN − 1:
 * a longer name is silently truncated, so the server would be asked for a database Terraform did not create).
 */
const POSTGRES_DATABASE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const GCS_BUCKET = /^[a-z0-9][-a-z0-9_.]{1,61}[a-z0-9]$/;
const GCS_PREFIX = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

function pattern(re: RegExp, expected: string) {
  return z.string({ error: `expected a string: ${expected}` }).regex(re, { error: `expected ${expected}` });
}

/**
 * A section of the config (an object). A missing or mistyped one is refused with what it is and the fields it holds,
 * rather than zod's "expected object, received undefined"; the field list is read from the shape, so it cannot drift.
 */
function section<S extends z.core.$ZodLooseShape>(what: string, shape: S) {
  const names = Object.keys(shape);
  const optional = names.filter((k) => (shape[k] as z.ZodType).safeParse(undefined).success);
  const required = names.filter((k) => !optional.includes(k));
  const fields = [required.join(', '), optional.length > 0 ? `optional: ${optional.join(', ')}` : ''].filter((f) => f !== '').join('; ');
  return z.strictObject(shape, { error: `expected a mapping: ${what} (${fields})` }).meta({ description: `${what[0].toUpperCase()}${what.slice(1)}.` });
}

const int = (min: number, max: number, what = 'an integer') =>
  z
    .number({ error: `expected ${what} from ${min} to ${max}` })
    .int({ error: `expected ${what} from ${min} to ${max}` })
    .min(min, { error: `expected ${what} from ${min} to ${max}` })
    .max(max, { error: `expected ${what} from ${min} to ${max}` });

const cpu = pattern(CPU_QUANTITY, "a CPU quantity such as '500m' or '2'").describe("CPU, as a Kubernetes quantity ('500m', '2').");
const memory = pattern(MEMORY_QUANTITY, "a memory quantity in binary units such as '512Mi' or '2Gi'").describe(
  "Memory, as a Kubernetes quantity in binary units ('512Mi', '2Gi').",
);

const resourcesSection = (what: string) => section(what, {
  requests: section('what the container is guaranteed', { cpu, memory }),
  limits: section('what the container may use at most', { cpu, memory }),
}).superRefine((r, ctx) => {
  // zod runs this even when a quantity above failed its pattern (not when one is absent or not a string: those
  // stop it here first): compare only well-formed values.
  const mem = [r.requests.memory, r.limits.memory].every((q) => MEMORY_QUANTITY.test(q));
  const cpus = [r.requests.cpu, r.limits.cpu].every((q) => CPU_QUANTITY.test(q));
  if (mem && parseMemoryMiB(r.limits.memory) < parseMemoryMiB(r.requests.memory)) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'memory'],
      message: `expected limits.memory (${r.limits.memory}) ≥ requests.memory (${r.requests.memory})`,
    });
  }
  if (cpus && parseCpuMillis(r.limits.cpu) < parseCpuMillis(r.requests.cpu)) {
    ctx.addIssue({
      code: 'custom',
      path: ['limits', 'cpu'],
      message: `expected limits.cpu (${r.limits.cpu}) ≥ requests.cpu (${r.requests.cpu})`,
    });
  }
});
const resources = resourcesSection("the server container's resources");

// ---------------------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------------------

const GKE_CLUSTER_KINDS = ['standard', 'autopilot'] as const;
/** The GKE mode of operation when `gcp.clusterKind` is omitted. */
export const DEFAULT_GKE_CLUSTER_KIND: (typeof GKE_CLUSTER_KINDS)[number] = 'standard';

const gcpSchema = section('the GCP side, from the Terraform outputs', {
  projectId: pattern(GCP_PROJECT_ID, 'a GCP project id (6-30 chars: lowercase letters, digits, hyphens)').describe(
    'The GCP project (Terraform output); its Secret Manager holds the secrets this file names.',
  ),
  region: pattern(GCP_REGION, "a GCP region such as 'europe-west1'").describe('The GCP region of the cluster and the Cloud SQL instance.'),
  serviceAccountEmail: pattern(GSA_EMAIL, 'a Google service account email NAME@PROJECT.iam.gserviceaccount.com').describe(
    'Google service account the MLflow KSA impersonates through Workload Identity.',
  ),
  clusterKind: z
    .enum(GKE_CLUSTER_KINDS, { error: "expected 'standard' or 'autopilot'" })
    .meta({
      description:
        "The GKE cluster's mode of operation: where GKE runs its Managed Prometheus collectors (`metrics: gmp`), whose " +
        'namespace the NetworkPolicy admits and whose ServiceAccount may read the scrape credentials.',
      default: DEFAULT_GKE_CLUSTER_KIND,
    })
    .optional(),
});
/** The GKE mode of operation (`gcp.clusterKind`). */
export type GkeClusterKind = NonNullable<z.infer<typeof gcpSchema>['clusterKind']>;


const imageSchema = section('the MLflow image', {
  repository: pattern(IMAGE_REPOSITORY, "an image repository without tag, e.g. 'ghcr.io/mlflow/mlflow'").describe(
    "The MLflow image's repository, without tag or digest ('ghcr.io/mlflow/mlflow').",
  ),
  tag: z
    .string({ error: "expected an exact version tag such as 'v3.17.0-full'" })
    .refine((t) => t !== 'latest', { error: "'latest' is not allowed: pin an exact version tag such as 'v3.17.0-full'" })
    .refine((t) => t === 'latest' || EXACT_VERSION_TAG.test(t), {
      error: "expected an exact version tag such as 'v3.17.0-full' (floating tags are not allowed)",
    })
    .describe("An exact release tag ('v3.17.0-full', '3.17.0'); floating tags such as 'latest' or '3.17' are refused."),
  digest: pattern(SHA256_DIGEST, "a digest 'sha256:' followed by 64 lowercase hex digits")
    .describe('The image digest; when set, the pod pulls `repository:tag@digest`.')
    .optional(),
});

const autoscalingSchema = section('the HorizontalPodAutoscaler', {
  minReplicas: int(1, 100, 'a replica count').describe('Fewest pods; at most maxReplicas.'),
  maxReplicas: int(1, 100, 'a replica count').describe('Most pods.'),
  targetCpuUtilizationPercent: int(10, 100, 'a CPU utilization percentage').describe('Average CPU utilization (of the request) the HPA keeps.'),
}).superRefine((a, ctx) => {
  if (Number.isInteger(a.minReplicas) && Number.isInteger(a.maxReplicas) && a.minReplicas > a.maxReplicas) {
    ctx.addIssue({
      code: 'custom',
      path: ['minReplicas'],
      message: `expected minReplicas (${a.minReplicas}) ≤ maxReplicas (${a.maxReplicas})`,
    });
  }
});

const serverSchema = section("the tracking server's size", {
  workers: int(1, 16, 'a worker count').describe(
    'uvicorn workers per pod; set it close to the CPU request and let the HPA add pods (memory per worker: docs/configuration.md#sizing).',
  ),
  resources,
  autoscaling: autoscalingSchema
    .meta({
      description:
        'The HorizontalPodAutoscaler; its maxReplicas counts in the Cloud SQL connection budget. Omitted: a single replica and no HPA (required for SQLite or a ReadWriteOnce volume).',
    })
    .optional(),
});

/** How MLflow logs in to a Cloud SQL database (`database.login`). */
const DATABASE_LOGINS = ['password', 'iam'] as const;
/** The login when `database.login` is omitted, so configs written before the field existed keep their user and password from Secret Manager. */
export const DEFAULT_DATABASE_LOGIN: (typeof DATABASE_LOGINS)[number] = 'password';

const mysqlSchema = z.strictObject({
  engine: z.literal('mysql').describe('Cloud SQL for MySQL.'),
  instanceConnectionName: pattern(INSTANCE_CONNECTION_NAME, "a Cloud SQL instance connection name 'project:region:instance'").describe(
    'Cloud SQL instance connection name `project:region:instance` (Terraform output).',
  ),
  privateIp: z.boolean({ error: 'expected true or false' }).describe("Connect the Cloud SQL Auth Proxy over the instance's private IP (`--private-ip`)."),
  name: pattern(DATABASE_NAME, 'a database name (letters, digits, underscores; starts with a letter)').describe('The database MLflow uses on the instance.'),
  login: z
    .enum(DATABASE_LOGINS, { error: "expected database.login 'password' or 'iam'" })
    .meta({
      description:
        'How MLflow logs in to the database: `password` (a database user whose name and password come from Secret ' +
        "Manager) or `iam` (the Cloud SQL Auth Proxy's automatic IAM database authentication as the Workload Identity " +
        'service account: no password anywhere).',
      default: DEFAULT_DATABASE_LOGIN,
    })
    .optional(),
  userSecret: pattern(SECRET_ID, 'a Secret Manager secret id')
    .describe("Secret Manager secret id of the database user name: required with `login: password`, refused with `login: iam`.")
    .optional(),
  passwordSecret: pattern(SECRET_ID, 'a Secret Manager secret id')
    .describe("Secret Manager secret id of the database password: required with `login: password`, refused with `login: iam`.")
    .optional(),
  pool: section("each store's SQLAlchemy connection pool, per worker", {
    size: int(1, 100, 'a pool size').describe('Connections each store keeps open per worker (`pool_size`).'),
    maxOverflow: int(0, 100, 'a pool overflow').describe('Connections each store may open beyond the pool under load (`max_overflow`).'),
    recycleSeconds: int(60, 86400, 'a number of seconds').describe('Seconds after which a pooled connection is replaced (`pool_recycle`).'),
  }),
  maxConnections: int(10, 100000, 'a connection count').describe(
    "The instance's `max_connections` (Terraform output): the servers' worst case of connections must fit it, less headroom.",
  ),
});

/**
 * Cloud SQL for PostgreSQL: the fields of {@link mysqlSchema} (a field added there applies to both engines), with the
 * PostgreSQL rule for the database name. The proxy listens on 5432 and the URI is `postgresql+psycopg2://`
 * (DatabaseAccess); the migration Job has no MySQL precheck or workaround there (docs/migration.md#postgresql).
 */
const postgresSchema = mysqlSchema.extend({
  engine: z.literal('postgres').describe('Cloud SQL for PostgreSQL.'),
  name: pattern(POSTGRES_DATABASE_NAME, 'a PostgreSQL database name (letters, digits, underscores; starts with a letter; at most 63 characters)').describe(
    'The database MLflow uses on the instance (at most 63 characters, PostgreSQL\'s identifier limit).',
  ),
});

const sqliteSchema = z.strictObject({
  engine: z.literal('sqlite').describe('A SQLite file on the data volume (`volume`): one replica, no basic-auth.'),
  // Refused with its own message (rather than "unknown field"): SQLite is a file, it has no login.
  login: z
    .never({ error: "only for Cloud SQL: SQLite is a file on the data volume and has no database login (remove database.login, or set database.engine 'mysql' or 'postgres')" })
    .describe('Not allowed: SQLite is a file on the data volume and has no database login.')
    .optional(),
});

const databaseSchema = z
  .discriminatedUnion('engine', [mysqlSchema, postgresSchema, sqliteSchema], {
    error: "expected database.engine 'mysql' or 'postgres' (Cloud SQL) or 'sqlite' (file on the data volume)",
  })
  .describe("The tracking and registry database, by `engine`: 'mysql' or 'postgres' on Cloud SQL, or 'sqlite'.");

const artifactsSchema = z.discriminatedUnion(
  'store',
  [
    z.strictObject({
      store: z.literal('gcs').describe('A Google Cloud Storage bucket, proxied by the server.'),
      bucket: pattern(GCS_BUCKET, 'a GCS bucket name').describe('The bucket (Terraform output).'),
      prefix: pattern(GCS_PREFIX, "an object prefix such as 'mlflow' (no leading or trailing '/')").describe(
        "The object prefix inside the bucket ('mlflow'; no leading or trailing '/').",
      ),
    }),
    z.strictObject({ store: z.literal('volume').describe('The data volume (`volume`): one replica.') }),
  ],
  { error: "expected artifacts.store 'gcs' or 'volume'" },
).describe('Where run artifacts and model files are stored, by `store`.');

const volumeSchema = section('the data volume', {
  size: pattern(MEMORY_QUANTITY, "a storage size such as '10Gi'").describe("The volume's size ('10Gi')."),
  storageClassName: pattern(DNS_LABEL, 'a StorageClass name').describe("The StorageClass. Omitted: the cluster's default StorageClass.").optional(),
});

/** A dotted-quad IPv4 address: it matches {@link HOSTNAME} too, but an Ingress or HTTPRoute host must be a DNS name. */
const IPV4_ADDRESS = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Public host names of an exposure: at least one, distinct, fully qualified (the same rule for every mode). */
const hostsSchema = z
  .array(
    pattern(HOSTNAME, "a fully qualified lowercase host name such as 'mlflow.example.com'").refine((h) => !IPV4_ADDRESS.test(h), {
      error: 'expected a DNS name, not an IP address: the API server refuses an IP as an Ingress or Gateway host (serve a name that resolves to it)',
    }),
    { error: 'expected a list of host names' },
  )
  .min(1, { error: 'expected at least one host name' })
  .refine((h) => new Set(h).size === h.length, { error: 'expected distinct host names' })
  .describe('Public host names the load balancer serves: at least one, distinct, fully qualified DNS names (no IP address, no wildcard).');

/**
 * GKE's single-cluster Gateway classes. The global ones are served by Google Front Ends; the regional and internal
 * ones by Envoy proxies in the VPC's proxy-only subnet, which must then be admitted (`proxyOnlySubnetCidr`).
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities
 */
export const GKE_GATEWAY_CLASSES = {
  /** Global external Application Load Balancer (the default). */
  'gke-l7-global-external-managed': { global: true },
  /** Classic Application Load Balancer. */
  'gke-l7-gxlb': { global: true },
  /** Regional external Application Load Balancer. */
  'gke-l7-regional-external-managed': { global: false },
  /** Regional internal Application Load Balancer. */
  'gke-l7-rilb': { global: false },
} as const;
export type GkeGatewayClass = keyof typeof GKE_GATEWAY_CLASSES;
/** The Gateway class when `exposure.className` is omitted in gateway mode. */
export const DEFAULT_GATEWAY_CLASS: GkeGatewayClass = 'gke-l7-global-external-managed';
const GATEWAY_CLASS_NAMES = Object.keys(GKE_GATEWAY_CLASSES) as [GkeGatewayClass, ...GkeGatewayClass[]];

/** A Google Cloud resource name (Certificate Manager map): lowercase letter first, then letters, digits, '-'; 1..63. */
const GCP_RESOURCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** An IPv4 CIDR block such as `10.129.0.0/23`. */
const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;

const gatewayCertificateSchema = z.discriminatedUnion(
  'source',
  [
    z.strictObject({
      source: z.literal('cert-manager').describe('A cert-manager Certificate for every host, into the Secret the HTTPS listener references.'),
      clusterIssuer: pattern(DNS_LABEL, 'a cert-manager ClusterIssuer name').describe('The cert-manager ClusterIssuer that issues it.'),
    }),
    z.strictObject({
      source: z
        .literal('certificate-manager')
        .describe("A Google Certificate Manager certificate map (created outside this repository), by the Gateway's `networking.gke.io/certmap`."),
      mapName: pattern(GCP_RESOURCE_NAME, 'a Certificate Manager map name (lowercase letter first, then letters, digits, hyphens; max 63)').describe(
        'The certificate map; global Gateway classes only.',
      ),
    }),
  ],
  { error: "expected exposure.certificate.source 'cert-manager' or 'certificate-manager'" },
).describe("Where the Gateway's TLS certificate comes from, by `source`.");

/** Seconds a worker caches a successful basic-auth login when `auth.credentialCacheTtlSeconds` is omitted. */
export const DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS = 60;

/** How long the load balancer lets a leaving pod finish its requests (the Ingress's, and a Gateway's without `drainingTimeoutSeconds`). */
export const DEFAULT_DRAINING_TIMEOUT_SECONDS = 30;

/** Longest credential cache the config admits: a revoked password must stop working within minutes. */
export const MAX_CREDENTIAL_CACHE_TTL_SECONDS = 600;

const BACKEND_TIMEOUT = int(30, 86400, 'a number of seconds').describe(
  'Load balancer backend timeout: long, for large artifact uploads through the proxied server.',
);

const exposureSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      mode: z.literal('ingress').describe('A Kubernetes Ingress (GKE Ingress) with a cert-manager certificate.'),
      hosts: hostsSchema,
      clusterIssuer: pattern(DNS_LABEL, 'a cert-manager ClusterIssuer name').describe('The cert-manager ClusterIssuer of the TLS certificate.'),
      className: z
        .enum(['gce', 'gce-internal'], { error: "expected 'gce' or 'gce-internal'" })
        .describe("Ingress class; GKE's external Application Load Balancer is `gce`, the internal one `gce-internal`."),
      backendTimeoutSeconds: BACKEND_TIMEOUT,
    }),
    z.strictObject({
      mode: z.literal('gateway').describe('GKE Gateway API instead of an Ingress (docs/design.md#exposure).'),
      hosts: hostsSchema,
      className: z
        .enum(GATEWAY_CLASS_NAMES, { error: `expected one of ${GATEWAY_CLASS_NAMES.map((n) => `'${n}'`).join(', ')}` })
        .meta({
          description: 'GKE Gateway class: the global ones are served by Google Front Ends, the regional and internal ones from the proxy-only subnet.',
          default: DEFAULT_GATEWAY_CLASS,
        })
        .optional(),
      certificate: gatewayCertificateSchema,
      backendTimeoutSeconds: BACKEND_TIMEOUT,
      drainingTimeoutSeconds: int(0, 3600, 'a number of seconds')
        .meta({ description: 'How long the load balancer lets a leaving pod finish its open requests.', default: DEFAULT_DRAINING_TIMEOUT_SECONDS })
        .optional(),
      proxyOnlySubnetCidr: pattern(IPV4_CIDR, "an IPv4 CIDR block such as '10.129.0.0/23'")
        .describe(
          "The VPC's proxy-only subnet (regional and internal classes: their Envoy proxies connect from it, and the server's " +
            "NetworkPolicy admits it). A network address (no host bits), from /8 to /26 (Google's minimum), in a private range " +
            '(10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10) unless `proxyOnlySubnetPrivatelyUsedPublic` says otherwise.',
        )
        .optional(),
      proxyOnlySubnetPrivatelyUsedPublic: z
        .literal(true, { error: 'expected true (omit the field for a private range)' })
        .describe(
          '`true` when `proxyOnlySubnetCidr` is a public range the VPC uses privately (Google\'s "privately used public IP" ' +
            'ranges): only then is a range outside the private ones accepted. Omit it for a private range.',
        )
        .optional(),
    }),
    z.strictObject({ mode: z.literal('none').describe('Not exposed outside the cluster (reach it with `kubectl port-forward`).') }),
  ],
  { error: "expected exposure.mode 'ingress', 'gateway' or 'none'" },
).describe('How the server is reached from outside the cluster, by `mode`.');

const authSchema = z.discriminatedUnion(
  'enabled',
  [
    z.strictObject({
      enabled: z.literal(true).describe("MLflow's basic-auth app: every request logs in (needs Cloud SQL and `gcp`)."),
      flaskSecretKeySecret: pattern(SECRET_ID, 'a Secret Manager secret id').describe('Secret Manager secret id of the Flask session key.'),
      adminUsernameSecret: pattern(SECRET_ID, 'a Secret Manager secret id').describe("Secret Manager secret id of the admin user's name."),
      adminPasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').describe("Secret Manager secret id of the admin user's password."),
      defaultPermission: z
        .enum(['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'], {
          error: "expected 'READ', 'EDIT', 'MANAGE' or 'NO_PERMISSIONS'",
        })
        .describe('Permission every user has on an experiment or model nobody granted them anything on.'),
      metricsUsername: z
        .string({ error: 'expected an MLflow user name' })
        .regex(/^[A-Za-z0-9_.@-]{1,64}$/, { error: "expected an MLflow user name (letters, digits, '_', '.', '@', '-')" })
        .describe('MLflow user the metrics collector logs in as (under basic-auth `/metrics` needs a logged-in user); required when metrics are scraped.')
        .optional(),
      metricsPasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id')
        .describe("Secret Manager secret id of the metrics user's password; required when metrics are scraped.")
        .optional(),
      credentialCacheTtlSeconds: z
        .number({ error: `expected a number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .int({ error: `expected a whole number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .min(0, { error: `expected a number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .max(MAX_CREDENTIAL_CACHE_TTL_SECONDS, {
          error:
            `expected at most ${MAX_CREDENTIAL_CACHE_TTL_SECONDS} seconds: a revoked or rotated password keeps working ` +
            'for up to this long on every worker that cached it',
        })
        .meta({
          description:
            'Seconds each server worker caches a successful login (`auth_cache_ttl_seconds` in the auth ini); 0 turns ' +
            'the cache off. Without it every request pays a PBKDF2 password hash (≈ 270 ms of CPU); with it a changed ' +
            'or deleted password keeps working for up to this long on workers that did not handle the change.',
          default: DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS,
        })
        .optional(),
      smokeUsername: z
        .string({ error: 'expected an MLflow user name' })
        .regex(/^[A-Za-z0-9_.@-]{1,64}$/, { error: "expected an MLflow user name (letters, digits, '_', '.', '@', '-')" })
        .describe(
          'MLflow user the PostSync smoke test logs in as: a plain (non-admin) user, created by the migration Job; required with `gitops`.',
        )
        .optional(),
      smokePasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id')
        .describe("Secret Manager secret id of the smoke user's password; set with smokeUsername.")
        .optional(),
    }),
    z.strictObject({ enabled: z.literal(false).describe('No login: anyone who reaches the server uses it.') }),
  ],
  { error: 'expected auth.enabled true or false' },
).describe('Basic-auth, by `enabled`.');

// ---------------------------------------------------------------------------------------------------------
// Garbage collection (`mlflow gc` on a schedule)
// ---------------------------------------------------------------------------------------------------------

/** `gc.olderThanDays`: its bounds and the default applied in model.ts. */
export const GC_OLDER_THAN_DAYS = { min: 1, max: 3650, default: 30 } as const;

const gcSchema = section('the `mlflow gc` CronJob', {
  schedule: z
    .string({ error: "expected a cron schedule such as '17 3 * * *'" })
    .superRefine((s, ctx) => {
      const problem = cronScheduleProblem(s);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe("When the CronJob runs (cron syntax such as '17 3 * * *', in the kube-controller-manager's time zone: UTC on GKE)."),
  olderThanDays: int(GC_OLDER_THAN_DAYS.min, GC_OLDER_THAN_DAYS.max, 'a number of days')
    .meta({
      description:
        'Runs, experiments and logged models deleted (soft-deleted in the UI or API) more than this many days ago are ' +
        'removed for good, with their artifacts.',
      default: GC_OLDER_THAN_DAYS.default,
    })
    .optional(),
});

const gitopsSchema = section('where Argo CD reads the manifests and deploys them', {
  repoURL: z
    .string({ error: 'expected a git URL' })
    .regex(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, { error: "expected an https://, ssh:// or git@ repository URL" })
    .describe('Git repository Argo CD reads `dist/` from.'),
  targetRevision: z
    .string({ error: 'expected a branch, tag or commit' })
    .regex(/^[A-Za-z0-9._/-]+$/, {
      error: 'expected a branch, tag or commit',
    })
    .describe('The branch, tag or commit of repoURL Argo CD deploys.'),
  destinationServer: z
    .string({ error: 'expected a cluster API URL' })
    .regex(/^https:\/\/[^\s]+$/, {
      error: "expected a cluster API URL starting with 'https://'",
    })
    .describe('Destination cluster API server as registered in Argo CD (`https://kubernetes.default.svc` = in-cluster).'),
  addons: section('the operators Argo CD installs with the environment', {
    externalSecrets: z.boolean({ error: 'expected true or false' }).describe('Install External Secrets Operator (reads the Secret Manager secrets).'),
    certManager: z.boolean({ error: 'expected true or false' }).describe('Install cert-manager and an ACME ClusterIssuer.'),
    acmeEmail: z.email({ error: 'expected an email address' }).describe('ACME account email for the ClusterIssuer (required with certManager).').optional(),
    acmeServer: z
      .enum(['production', 'staging'], { error: "expected 'production' or 'staging'" })
      .describe("Let's Encrypt directory of the ClusterIssuer: 'staging' while testing (generous rate limits, untrusted).")
      .optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Clients of the server, and models served by registry alias
// ---------------------------------------------------------------------------------------------------------

/**
 * The permissions MLflow grants on one experiment or registered model (`RESOURCE_GRANTABLE_PERMISSIONS` in
 * `mlflow/server/auth/permissions.py`, 3.17): `NO_PERMISSIONS` is not a grant there (no grant plus
 * `auth.defaultPermission` already says it).
 */
export const MLFLOW_GRANTS = ['READ', 'USE', 'EDIT', 'MANAGE'] as const;
export type MlflowGrant = (typeof MLFLOW_GRANTS)[number];

/** MLflow's longest experiment name (`MAX_EXPERIMENT_NAME_LENGTH`, `mlflow/utils/validation.py`). */
export const MAX_EXPERIMENT_NAME_LENGTH = 500;
/** MLflow's longest alias (`MAX_REGISTERED_MODEL_ALIAS_LENGTH`). */
export const MAX_MODEL_ALIAS_LENGTH = 255;

/**
 * Why MLflow would refuse `name` as a registered model name, or undefined: `_validate_model_name` (3.17) refuses a
 * blank name, '/' and ':', and a name that normalizes as a path to something else (without '/': '.', or '..' first).
 */
export function modelNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'expected a registered model name (MLflow refuses an empty one)';
  if (/[/:]/.test(name)) return "MLflow refuses a registered model name with '/' or ':'";
  if (name === '.' || name.startsWith('..')) return "MLflow refuses a registered model name that reads as a relative path ('.', or starting with '..')";
  return undefined;
}

/** Why MLflow would refuse `alias` as a registered model alias, or undefined (`_validate_model_alias_name` and `_reserved`). */
export function modelAliasProblem(alias: string): string | undefined {
  if (!/^[\w-]+$/.test(alias)) return "expected an alias of letters, digits, '_' and '-' (MLflow's rule)";
  if (alias.length > MAX_MODEL_ALIAS_LENGTH) return `expected an alias of at most ${MAX_MODEL_ALIAS_LENGTH} characters`;
  if (alias.toLowerCase() === 'latest') return "'latest' is reserved by MLflow: name the alias your promotion moves (e.g. 'champion')";
  if (/^[vV]\d+$/.test(alias)) return `'${alias}' is reserved by MLflow for version ${alias.slice(1)}: use \`version: ${alias.slice(1)}\` to pin it`;
  return undefined;
}

const grant = z.enum(MLFLOW_GRANTS, { error: `expected one of ${MLFLOW_GRANTS.map((g) => `'${g}'`).join(', ')} (MLflow's grants on one experiment or model)` });

function experimentNameProblem(name: string): string | undefined {
  if (name === '') return 'expected an experiment name (MLflow refuses an empty one)';
  if (name.length > MAX_EXPERIMENT_NAME_LENGTH) return `expected an experiment name of at most ${MAX_EXPERIMENT_NAME_LENGTH} characters (MLflow's limit)`;
  return undefined;
}

const modelName = z.string({ error: 'expected a registered model name' }).superRefine((n, ctx) => {
  const problem = modelNameProblem(n);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** Marks an issue about a mapping's key: the loader then shows no value (the message quotes the key). */
export const NAMES_A_KEY = 'namesAKey';

/**
 * Name → permission, each name checked by MLflow's rule for it (a problem names the key and is reported at the
 * mapping's path, with no value: the value under a bad key, e.g. `READ`, is not what is wrong).
 */
function grantsByName(what: string, problemOf: (name: string) => string | undefined) {
  return z
    .record(z.string(), grant, { error: (iss) => (iss.code === 'invalid_type' ? `expected a mapping of ${what} → permission` : undefined) })
    .superRefine((m, ctx) => {
      for (const name of Object.keys(m)) {
        const problem = problemOf(name);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(name)}: ${problem}`, params: { [NAMES_A_KEY]: true } });
      }
    });
}

/** A Kubernetes label key (optional DNS prefix '/' name) and value, as a pod selector's `matchLabels` takes them. */
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const podSelector = z
  .record(z.string(), pattern(LABEL_VALUE, 'a label value (at most 63 letters, digits, -, _, .)'), {
    error: (iss) => (iss.code === 'invalid_type' ? 'expected a mapping of pod labels (matchLabels)' : undefined),
  })
  .superRefine((m, ctx) => {
    for (const key of Object.keys(m)) {
      if (!LABEL_KEY.test(key) || key.length > 253 + 1 + 63) {
        ctx.addIssue({ code: 'custom', params: { [NAMES_A_KEY]: true }, message: `${JSON.stringify(key)}: expected a label key such as 'app.kubernetes.io/name' (an optional DNS prefix and '/', then a name of at most 63 characters)` });
      }
    }
  })
  .refine((m) => Object.keys(m).length > 0, { error: 'expected at least one label (omit podSelector to admit every pod of the namespace)' });

const clientSchema = section('a client of the server', {
  name: pattern(DNS_LABEL, 'a client name (RFC 1123 label: lowercase letters, digits, -)').describe(
    'The client: its MLflow user name, and the name of what is rendered for it (unique in the file).',
  ),
  namespace: pattern(DNS_LABEL, 'a namespace name (RFC 1123 label)').describe(
    "The namespace the client's pods run in; not the server's. The server's NetworkPolicy admits it on the server port.",
  ),
  podSelector: podSelector
    .describe("Labels of the client's pods (matchLabels). Omitted: every pod of the namespace is admitted.")
    .optional(),
  passwordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').describe("Secret Manager secret id of the client's MLflow password (Terraform output)."),
  serviceAccountEmail: pattern(GSA_EMAIL, 'a Google service account email NAME@PROJECT.iam.gserviceaccount.com').describe(
    "Google service account the SecretStore in the client's namespace reads that one secret as, through Workload Identity (Terraform output).",
  ),
  permissions: section("the client's MLflow permissions", {
    experiments: grantsByName('experiment name', experimentNameProblem)
      .describe('Experiment name → permission (READ, USE, EDIT, MANAGE).')
      .optional(),
    models: grantsByName('registered model name', modelNameProblem)
      .describe('Registered model name → permission (READ, USE, EDIT, MANAGE).')
      .optional(),
  })
    .meta({ description: 'What the client may do beyond `auth.defaultPermission`, on named experiments and registered models. Omitted: `auth.defaultPermission` everywhere.' })
    .optional(),
});

const servingSchema = section('a model served by registry alias', {
  name: pattern(DNS_LABEL, 'a serving name (RFC 1123 label: lowercase letters, digits, -)').describe(
    'The serving: its Deployment, Service and MLflow user are `serve-<name>` (unique in the file; at most 57 characters).',
  ),
  model: modelName.describe('The registered model served.'),
  alias: z
    .string({ error: 'expected a registered model alias' })
    .superRefine((a, ctx) => {
      const problem = modelAliasProblem(a);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe("The alias served (`models:/<model>@<alias>`); set it or `version`.")
    .optional(),
  version: int(1, 2147483647, 'a model version').describe('A version served instead of an alias (`models:/<model>/<version>`).').optional(),
  promotion: int(0, 2147483647, 'a promotion count')
    .meta({
      description:
        'Raise it (`npm run promote`) to roll out the version the alias points at now: the reviewed change after which the sync grants the ' +
        "serving user READ on that version's experiment, then restarts the pods. Only with `alias`.",
      default: 0,
    })
    .optional(),
  passwordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').describe("Secret Manager secret id of the serving user's MLflow password (Terraform output)."),
  clients: z
    .array(pattern(DNS_LABEL, 'a client name'), { error: 'expected a list of client names' })
    .describe('Names of `clients` whose pods may call the scoring server. Omitted or empty: no one.')
    .optional(),
  resources: resourcesSection("the scoring server container's resources"),
  autoscaling: autoscalingSchema.meta({ description: "The scoring server's HorizontalPodAutoscaler." }),
});

export const environmentSchema = z.strictObject({
  gcp: gcpSchema
    .meta({ description: 'The GCP side (Terraform outputs); required by Cloud SQL, GCS, auth secrets and Workload Identity.' })
    .optional(),
  namespace: pattern(DNS_LABEL, 'a namespace name (RFC 1123 label)').describe('The Kubernetes namespace the server runs in (RFC 1123 label).'),
  image: imageSchema,
  server: serverSchema,
  database: databaseSchema,
  artifacts: artifactsSchema,
  volume: volumeSchema.meta({ description: 'A ReadWriteOnce data volume for SQLite and/or volume artifacts.' }).optional(),
  exposure: exposureSchema,
  auth: authSchema,
  metrics: z
    .enum(['gmp', 'prometheus-operator', 'none'], { error: "expected 'gmp', 'prometheus-operator' or 'none'" })
    .describe("Who scrapes the server's `/metrics`: GKE Managed Prometheus, a prometheus-operator, or nobody."),
  gitops: gitopsSchema
    .meta({ description: 'Where Argo CD reads the manifests and deploys them. Omitted: no Argo CD Applications for this environment.' })
    .optional(),
  clients: z
    .array(clientSchema, { error: 'expected a list of clients' })
    .describe('In-cluster clients of the server, each in its own namespace, logging in as its own MLflow user (docs/clients.md).')
    .optional(),
  serving: z
    .array(servingSchema, { error: 'expected a list of served models' })
    .describe('Registered models served by alias with `mlflow models serve`, each with its own read-only MLflow user (docs/clients.md#serving).')
    .optional(),
  gc: gcSchema.meta({ description: 'A CronJob running `mlflow gc`, which removes deleted runs, experiments and models for good (docs/configuration.md#garbage-collection).' }).optional(),
});

/** A config file's document as the schema admits it: no default applied yet (see `model.ts` for the resolved one). */
export type ConfigDocument = z.infer<typeof environmentSchema>;
export type MysqlDatabase = z.infer<typeof mysqlSchema>;

export type PostgresDatabase = z.infer<typeof postgresSchema>;
/** A Cloud SQL database section as written, either engine. */
export type CloudSqlDocument = MysqlDatabase | PostgresDatabase;

export type ExposureConfig = z.infer<typeof exposureSchema>;
export type EnabledAuth = Extract<z.infer<typeof authSchema>, { enabled: true }>;
export type ClientDocument = z.infer<typeof clientSchema>;
export type ServingDocument = z.infer<typeof servingSchema>;
