/**
 * Environment configuration: the one schema (zod) every `config/<env>.yaml` is validated against, the
 * cross-field guards (connection budget, memory footprint, engine/platform compatibility), and the loader
 * that turns a file into a typed {@link EnvironmentConfig} or a complete list of problems.
 *
 * Validation happens once, here, at the edge. Constructs in `lib/` receive the typed object and never read
 * files, `process.env`, the clock or the network.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { echo, expansionProblem, sizeProblem } from './yaml-document';
import { GC_CONNECTIONS, MEMORY_MIB, connectionBudget, memoryFootprintMiB, parseMemoryMiB, parseCpuMillis } from './sizing';

import { iamDatabaseUserProblem } from './cloud-sql-iam';

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
  return z.strictObject(shape, { error: `expected a mapping: ${what} (${fields})` });
}

const int = (min: number, max: number, what = 'an integer') =>
  z
    .number({ error: `expected ${what} from ${min} to ${max}` })
    .int({ error: `expected ${what} from ${min} to ${max}` })
    .min(min, { error: `expected ${what} from ${min} to ${max}` })
    .max(max, { error: `expected ${what} from ${min} to ${max}` });

const cpu = pattern(CPU_QUANTITY, "a CPU quantity such as '500m' or '2'");
const memory = pattern(MEMORY_QUANTITY, "a memory quantity in binary units such as '512Mi' or '2Gi'");

const resources = section("the server container's resources", {
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

// ---------------------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------------------

const gcpSchema = section('the GCP side, from the Terraform outputs', {
  projectId: pattern(GCP_PROJECT_ID, 'a GCP project id (6-30 chars: lowercase letters, digits, hyphens)'),
  region: pattern(GCP_REGION, "a GCP region such as 'europe-west1'"),
  /** Google service account the MLflow KSA impersonates through Workload Identity. */
  serviceAccountEmail: pattern(GSA_EMAIL, 'a Google service account email NAME@PROJECT.iam.gserviceaccount.com'),
  /**
   * The GKE cluster's mode of operation: where GKE runs its Managed Prometheus collectors (`metrics: gmp`), whose
   * namespace the NetworkPolicy admits and whose ServiceAccount may read the scrape credentials.
   * @default 'standard'
   */
  clusterKind: z.enum(['standard', 'autopilot'], { error: "expected 'standard' or 'autopilot'" }).optional(),
});
/** The GKE mode of operation (`gcp.clusterKind`). */
export type GkeClusterKind = NonNullable<z.infer<typeof gcpSchema>['clusterKind']>;

const imageSchema = section('the MLflow image', {
  repository: pattern(IMAGE_REPOSITORY, "an image repository without tag, e.g. 'ghcr.io/mlflow/mlflow'"),
  tag: z
    .string({ error: "expected an exact version tag such as 'v3.17.0-full'" })
    .refine((t) => t !== 'latest', { error: "'latest' is not allowed: pin an exact version tag such as 'v3.17.0-full'" })
    .refine((t) => t === 'latest' || EXACT_VERSION_TAG.test(t), {
      error: "expected an exact version tag such as 'v3.17.0-full' (floating tags are not allowed)",
    }),
  digest: pattern(SHA256_DIGEST, "a digest 'sha256:' followed by 64 lowercase hex digits").optional(),
});

const autoscalingSchema = section('the HorizontalPodAutoscaler', {
  minReplicas: int(1, 100, 'a replica count'),
  maxReplicas: int(1, 100, 'a replica count'),
  targetCpuUtilizationPercent: int(10, 100, 'a CPU utilization percentage'),
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
  /** uvicorn workers per pod; set it close to the CPU request and let the HPA add pods (memory per worker: README "Sizing", docs/design.md#sizing). */
  workers: int(1, 16, 'a worker count'),
  resources,
  /** Omitted: a single replica and no HPA (required for SQLite or a ReadWriteOnce volume). */
  autoscaling: autoscalingSchema.optional(),
});

const mysqlSchema = z.strictObject({
  engine: z.literal('mysql'),
  /** Cloud SQL instance connection name `project:region:instance` (Terraform output). */
  instanceConnectionName: pattern(INSTANCE_CONNECTION_NAME, "a Cloud SQL instance connection name 'project:region:instance'"),
  /** Connect the Cloud SQL Auth Proxy over the instance's private IP (`--private-ip`). */
  privateIp: z.boolean({ error: 'expected true or false' }),
  name: pattern(DATABASE_NAME, 'a database name (letters, digits, underscores; starts with a letter)'),
  /**
   * How MLflow logs in to the database: `password` (a database user whose name and password come from Secret
   * Manager) or `iam` (the Cloud SQL Auth Proxy's automatic IAM database authentication as the Workload Identity
   * service account: no password anywhere). Omitted: `password` (applied in {@link databaseLogin}).
   */
  login: z.enum(['password', 'iam'], { error: "expected database.login 'password' or 'iam'" }).optional(),
  /** Secret Manager secret id of the database user name: required with password login, refused with `iam` (crossFieldProblems). */
  userSecret: pattern(SECRET_ID, 'a Secret Manager secret id').optional(),
  /** Secret Manager secret id of the database password: required with password login, refused with `iam` (crossFieldProblems). */
  passwordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').optional(),
  pool: section("each store's SQLAlchemy connection pool, per worker", {
    size: int(1, 100, 'a pool size'),
    maxOverflow: int(0, 100, 'a pool overflow'),
    recycleSeconds: int(60, 86400, 'a number of seconds'),
  }),
  /** The instance's `max_connections` (Terraform output), used for the connection budget. */
  maxConnections: int(10, 100000, 'a connection count'),
});

/**
 * Cloud SQL for PostgreSQL: the fields of {@link mysqlSchema} (a field added there applies to both engines), with the
 * PostgreSQL rule for the database name. The proxy listens on 5432 and the URI is `postgresql+psycopg2://`
 * (DatabaseAccess); the migration Job has no MySQL precheck or workaround there (docs/migration.md#postgresql).
 */
const postgresSchema = mysqlSchema.extend({
  engine: z.literal('postgres'),
  name: pattern(POSTGRES_DATABASE_NAME, 'a PostgreSQL database name (letters, digits, underscores; starts with a letter; at most 63 characters)'),
});

const sqliteSchema = z.strictObject({
  engine: z.literal('sqlite'),
  /** Refused with its own message (rather than "unknown field"): SQLite is a file, it has no login. */
  login: z
    .never({ error: "only for Cloud SQL: SQLite is a file on the data volume and has no database login (remove database.login, or set database.engine 'mysql' or 'postgres')" })
    .optional(),
});

const databaseSchema = z.discriminatedUnion('engine', [mysqlSchema, postgresSchema, sqliteSchema], {
  error: "expected database.engine 'mysql' or 'postgres' (Cloud SQL) or 'sqlite' (file on the data volume)",
});

const artifactsSchema = z.discriminatedUnion(
  'store',
  [
    z.strictObject({
      store: z.literal('gcs'),
      bucket: pattern(GCS_BUCKET, 'a GCS bucket name'),
      prefix: pattern(GCS_PREFIX, "an object prefix such as 'mlflow' (no leading or trailing '/')"),
    }),
    z.strictObject({ store: z.literal('volume') }),
  ],
  { error: "expected artifacts.store 'gcs' or 'volume'" },
);

const volumeSchema = section('the data volume', {
  size: pattern(MEMORY_QUANTITY, "a storage size such as '10Gi'"),
  /** Omitted: the cluster's default StorageClass. */
  storageClassName: pattern(DNS_LABEL, 'a StorageClass name').optional(),
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
  .refine((h) => new Set(h).size === h.length, { error: 'expected distinct host names' });

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
      /** A cert-manager Certificate for every host, into the Secret the HTTPS listener references. */
      source: z.literal('cert-manager'),
      clusterIssuer: pattern(DNS_LABEL, 'a cert-manager ClusterIssuer name'),
    }),
    z.strictObject({
      /** A Google Certificate Manager certificate map (created outside this repository), by the Gateway's `networking.gke.io/certmap`. */
      source: z.literal('certificate-manager'),
      mapName: pattern(GCP_RESOURCE_NAME, 'a Certificate Manager map name (lowercase letter first, then letters, digits, hyphens; max 63)'),
    }),
  ],
  { error: "expected exposure.certificate.source 'cert-manager' or 'certificate-manager'" },
);

const exposureSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      mode: z.literal('ingress'),
      hosts: hostsSchema,
      clusterIssuer: pattern(DNS_LABEL, 'a cert-manager ClusterIssuer name'),
      /** Ingress class; GKE's external Application Load Balancer is `gce`. */
      className: z.enum(['gce', 'gce-internal'], { error: "expected 'gce' or 'gce-internal'" }),
      /** Load balancer backend timeout: long, for large artifact uploads through the proxied server. */
      backendTimeoutSeconds: int(30, 86400, 'a number of seconds'),
    }),
    z.strictObject({
      /** GKE Gateway API instead of an Ingress (docs/design.md#exposure). */
      mode: z.literal('gateway'),
      hosts: hostsSchema,
      /**
       * GKE Gateway class.
       * @default 'gke-l7-global-external-managed' (DEFAULT_GATEWAY_CLASS, applied in MlflowChart)
       */
      className: z
        .enum(GATEWAY_CLASS_NAMES, { error: `expected one of ${GATEWAY_CLASS_NAMES.map((n) => `'${n}'`).join(', ')}` })
        .optional(),
      certificate: gatewayCertificateSchema,
      /** Load balancer backend timeout: long, for large artifact uploads through the proxied server. */
      backendTimeoutSeconds: int(30, 86400, 'a number of seconds'),
      /**
       * How long the load balancer lets a leaving pod finish its open requests.
       * @default 30 (DRAINING_TIMEOUT of the Ingress path, applied in MlflowChart)
       */
      drainingTimeoutSeconds: int(0, 3600, 'a number of seconds').optional(),
      /**
       * The VPC's proxy-only subnet (regional and internal classes: their Envoy proxies connect from it, and the server's
       * NetworkPolicy admits it). A network address (no host bits), from /8 to /26 (Google's minimum), in a private range
       * (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10) unless `proxyOnlySubnetPrivatelyUsedPublic` says
       * otherwise ({@link proxyOnlySubnetProblem}).
       */
      proxyOnlySubnetCidr: pattern(IPV4_CIDR, "an IPv4 CIDR block such as '10.129.0.0/23'").optional(),
      /**
       * `true` when `proxyOnlySubnetCidr` is a public range the VPC uses privately (Google's "privately used public IP"
       * ranges): only then is a range outside the private ones accepted. Set it only for such a subnet: the range is
       * admitted to the server as the load balancer's source.
       * @default false
       */
      proxyOnlySubnetPrivatelyUsedPublic: z.literal(true, { error: 'expected true (omit the field for a private range)' }).optional(),
    }),
    z.strictObject({ mode: z.literal('none') }),
  ],
  { error: "expected exposure.mode 'ingress', 'gateway' or 'none'" },
);

/** Longest credential cache the config admits: a revoked password must stop working within minutes. */
export const MAX_CREDENTIAL_CACHE_TTL_SECONDS = 600;

const authSchema = z.discriminatedUnion(
  'enabled',
  [
    z.strictObject({
      enabled: z.literal(true),
      flaskSecretKeySecret: pattern(SECRET_ID, 'a Secret Manager secret id'),
      adminUsernameSecret: pattern(SECRET_ID, 'a Secret Manager secret id'),
      adminPasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id'),
      defaultPermission: z.enum(['READ', 'EDIT', 'MANAGE', 'NO_PERMISSIONS'], {
        error: "expected 'READ', 'EDIT', 'MANAGE' or 'NO_PERMISSIONS'",
      }),
      /** MLflow user the metrics collector logs in as (under basic-auth `/metrics` needs a logged-in user). */
      metricsUsername: z
        .string({ error: 'expected an MLflow user name' })
        .regex(/^[A-Za-z0-9_.@-]{1,64}$/, { error: "expected an MLflow user name (letters, digits, '_', '.', '@', '-')" })
        .optional(),
      /** Secret Manager secret id of that user's password. */
      metricsPasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').optional(),
      /**
       * Seconds each server worker caches a successful login (`auth_cache_ttl_seconds` in the auth ini); 0 turns
       * the cache off. Without it every request pays a PBKDF2 password hash (≈ 270 ms of CPU); with it a changed
       * or deleted password keeps working for up to this long on workers that did not handle the change.
       * @default 60 (DEFAULT_CREDENTIAL_CACHE_TTL_SECONDS, applied in BasicAuth.iniTemplate)
       */
      credentialCacheTtlSeconds: z
        .number({ error: `expected a number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .int({ error: `expected a whole number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .min(0, { error: `expected a number of seconds from 0 (cache off) to ${MAX_CREDENTIAL_CACHE_TTL_SECONDS}` })
        .max(MAX_CREDENTIAL_CACHE_TTL_SECONDS, {
          error:
            `expected at most ${MAX_CREDENTIAL_CACHE_TTL_SECONDS} seconds: a revoked or rotated password keeps working ` +
            'for up to this long on every worker that cached it',
        })
        .optional(),
      /** MLflow user the PostSync smoke test logs in as: a plain (non-admin) user, created by the migration Job. */
      smokeUsername: z
        .string({ error: 'expected an MLflow user name' })
        .regex(/^[A-Za-z0-9_.@-]{1,64}$/, { error: "expected an MLflow user name (letters, digits, '_', '.', '@', '-')" })
        .optional(),
      /** Secret Manager secret id of the smoke user's password. */
      smokePasswordSecret: pattern(SECRET_ID, 'a Secret Manager secret id').optional(),
    }),
    z.strictObject({ enabled: z.literal(false) }),
  ],
  { error: 'expected auth.enabled true or false' },
);

// ---------------------------------------------------------------------------------------------------------
// Garbage collection (`mlflow gc` on a schedule)
// ---------------------------------------------------------------------------------------------------------

/** `gc.olderThanDays`: its bounds and the default applied in {@link gcOlderThanDays}. */
export const GC_OLDER_THAN_DAYS = { min: 1, max: 3650, default: 30 } as const;

/** The five fields of a standard cron schedule, as the Kubernetes CronJob controller parses them. */
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'], question: true },
] as const;

/**
 * What is wrong with a cron schedule, or `undefined`: five fields (minute hour day-of-month month day-of-week), each a
 * list of `*`, values, ranges `a-b` and steps `/n` within the field's range (month and weekday names allowed), `?` in
 * the day fields — the standard syntax the CronJob controller accepts. No `@daily`-style macros and no `TZ=` prefix:
 * one spelling, which the README's examples use.
 */
export function cronScheduleProblem(schedule: string): string | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5 || schedule.trim() === '') {
    return "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'";
  }
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i];
    const range = `${f.min}-${f.max}`;
    const value = (v: string): number | undefined => {
      if (/^\d+$/.test(v)) return Number(v);
      const names: readonly string[] = 'names' in f ? f.names : [];
      const n = names.indexOf(v.toUpperCase());
      return n < 0 ? undefined : n + f.min;
    };
    for (const part of fields[i].split(',')) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(part);
      const fail = `the ${f.name} field '${fields[i]}' is not valid: expected *, a value, a range a-b or a step */n within ${range}`;
      if (!m) return fail;
      if (m[2] !== undefined && Number(m[2]) < 1) return `the ${f.name} field '${fields[i]}' has a step of 0: expected a step of at least 1`;
      if (m[1] === '*' || ('question' in f && m[1] === '?' && m[2] === undefined)) continue;
      const bounds = m[1].split('-');
      if (bounds.length > 2) return fail;
      const nums = bounds.map(value);
      if (nums.some((n) => n === undefined)) return fail;
      if (nums.some((n) => (n as number) < f.min || (n as number) > f.max)) {
        return `the ${f.name} field '${fields[i]}' is out of range: expected values within ${range}`;
      }
      if (nums.length === 2 && (nums[0] as number) > (nums[1] as number)) {
        return `the ${f.name} field '${fields[i]}' has a range that runs backwards: expected a-b with a ≤ b`;
      }
    }
  }
  return undefined;
}

const gcSchema = section('the `mlflow gc` CronJob', {
  /** When the CronJob runs (cron syntax, in the kube-controller-manager's time zone: UTC on GKE). */
  schedule: z.string({ error: "expected a cron schedule such as '17 3 * * *'" }).superRefine((s, ctx) => {
    const problem = cronScheduleProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
  /**
   * Runs, experiments and logged models deleted (soft-deleted in the UI or API) more than this many days ago are
   * removed for good, with their artifacts.
   * @default 30 (GC_OLDER_THAN_DAYS.default, applied in gcOlderThanDays)
   */
  olderThanDays: int(GC_OLDER_THAN_DAYS.min, GC_OLDER_THAN_DAYS.max, 'a number of days').optional(),
});

const gitopsSchema = section('where Argo CD reads the manifests and deploys them', {
  /** Git repository Argo CD reads `dist/` from. */
  repoURL: z
    .string({ error: 'expected a git URL' })
    .regex(/^(https:\/\/|ssh:\/\/|git@)[^\s]+$/, { error: "expected an https://, ssh:// or git@ repository URL" }),
  targetRevision: z.string({ error: 'expected a branch, tag or commit' }).regex(/^[A-Za-z0-9._/-]+$/, {
    error: 'expected a branch, tag or commit',
  }),
  /** Destination cluster API server as registered in Argo CD (`https://kubernetes.default.svc` = in-cluster). */
  destinationServer: z.string({ error: 'expected a cluster API URL' }).regex(/^https:\/\/[^\s]+$/, {
    error: "expected a cluster API URL starting with 'https://'",
  }),
  addons: section('the operators Argo CD installs with the environment', {
    externalSecrets: z.boolean({ error: 'expected true or false' }),
    certManager: z.boolean({ error: 'expected true or false' }),
    /** ACME account email for the ClusterIssuer (only with certManager). */
    acmeEmail: z.email({ error: 'expected an email address' }).optional(),
    /** Let's Encrypt directory of the ClusterIssuer: 'staging' while testing (generous rate limits, untrusted). */
    acmeServer: z.enum(['production', 'staging'], { error: "expected 'production' or 'staging'" }).optional(),
  }).optional(),
});

export const environmentSchema = z.strictObject({
  /** Optional GCP side (Terraform outputs); required by Cloud SQL, GCS, auth secrets and Workload Identity. */
  gcp: gcpSchema.optional(),
  namespace: pattern(DNS_LABEL, 'a namespace name (RFC 1123 label)'),
  image: imageSchema,
  server: serverSchema,
  database: databaseSchema,
  artifacts: artifactsSchema,
  /** A ReadWriteOnce data volume for SQLite and/or volume artifacts. */
  volume: volumeSchema.optional(),
  exposure: exposureSchema,
  auth: authSchema,
  metrics: z.enum(['gmp', 'prometheus-operator', 'none'], { error: "expected 'gmp', 'prometheus-operator' or 'none'" }),
  gitops: gitopsSchema.optional(),
  /** Optional: a CronJob running `mlflow gc` (README "Garbage collection"). */
  gc: gcSchema.optional(),
});

type Schema = z.infer<typeof environmentSchema>;

/** The validated configuration of one environment, as every construct receives it. */
export interface EnvironmentConfig extends Schema {
  /**
   * Environment name: the config file's base name (`config/prod.yaml` → `prod`); for one of several instances
   * `<env>-<instance>` (lib/config/instances.ts).
   */
  readonly name: string;
}
export type MysqlDatabase = z.infer<typeof mysqlSchema>;
/** How MLflow logs in to a Cloud SQL database (`database.login`). */
export type DatabaseLogin = NonNullable<MysqlDatabase['login']>;

/**
 * The login of a Cloud SQL database: `database.login`, or `password` when omitted — the one place that default is
 * applied, so existing configs (written before the field existed) keep their user and password from Secret Manager.
 * @default 'password'
 */
export function databaseLogin(database: Pick<MysqlDatabase, 'login'>): DatabaseLogin {
  return database.login ?? 'password';
}
export type PostgresDatabase = z.infer<typeof postgresSchema>;
/** A database on Cloud SQL, either engine: reached through the Cloud SQL Auth Proxy, counted in the connection budget. */
export type CloudSqlDatabase = MysqlDatabase | PostgresDatabase;
export type DatabaseConfig = z.infer<typeof databaseSchema>;

/** The Cloud SQL database of a config, or undefined for SQLite. */
export function cloudSqlDatabase(database: DatabaseConfig): CloudSqlDatabase | undefined {
  return database.engine === 'sqlite' ? undefined : database;
}
export type ExposureConfig = z.infer<typeof exposureSchema>;
export type GatewayExposureConfig = Extract<ExposureConfig, { mode: 'gateway' }>;
export type AuthConfig = z.infer<typeof authSchema>;
export type EnabledAuth = Extract<AuthConfig, { enabled: true }>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type GcConfig = z.infer<typeof gcSchema>;

/** `gc.olderThanDays`, or its default. */
export function gcOlderThanDays(gc: GcConfig): number {
  return gc.olderThanDays ?? GC_OLDER_THAN_DAYS.default;
}

/** The public host names the load balancer serves (Ingress or Gateway); none without exposure. */
export function exposedHosts(exposure: ExposureConfig): readonly string[] {
  return exposure.mode === 'none' ? [] : exposure.hosts;
}

/** The cert-manager ClusterIssuer the exposure's certificate comes from, if it comes from cert-manager. */
export function certManagerIssuerOf(exposure: ExposureConfig): string | undefined {
  if (exposure.mode === 'ingress') return exposure.clusterIssuer;
  if (exposure.mode === 'gateway' && exposure.certificate.source === 'cert-manager') return exposure.certificate.clusterIssuer;
  return undefined;
}

function usesCertManager(exposure: ExposureConfig): boolean {
  return certManagerIssuerOf(exposure) !== undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Cross-field guards: run once every field they read is valid.
// ---------------------------------------------------------------------------------------------------------

/** A problem found in a config file: where, what was given, what is expected. */
export interface ConfigProblem {
  readonly file: string;
  /** Dotted field path (`database.pool.size`), or '' for the whole document. */
  readonly path: string;
  readonly message: string;
  /** The value found at `path`, when there is one. */
  readonly value?: unknown;
}

type Guard = { path: string; message: string };

/** Rules that relate fields of different sections. Each returns the problems it found. */
export function crossFieldProblems(c: Schema): Guard[] {
  const out: Guard[] = [];
  const needsGcp = (what: string, p: string) => {
    if (!c.gcp) out.push({ path: p, message: `${what} needs the 'gcp' section (project, region, service account)` });
  };
  const cloudSql = cloudSqlDatabase(c.database);
  if (cloudSql) needsGcp(`database.engine '${cloudSql.engine}' (Cloud SQL through Secret Manager)`, 'database.engine');
  if (cloudSql) out.push(...loginProblems(cloudSql, c.gcp?.serviceAccountEmail));
  if (c.artifacts.store === 'gcs') needsGcp("artifacts.store 'gcs' (Workload Identity)", 'artifacts.store');
  if (c.auth.enabled) needsGcp('auth (secrets from Secret Manager)', 'auth.enabled');
  if (c.auth.enabled && c.metrics !== 'none') {
    for (const f of ['metricsUsername', 'metricsPasswordSecret'] as const) {
      if (c.auth[f] === undefined) {
        out.push({ path: `auth.${f}`, message: `required when metrics are scraped under basic-auth (/metrics answers 401 to anonymous requests)` });
      }
    }
  }
  if (c.auth.enabled && c.gitops) {
    for (const f of ['smokeUsername', 'smokePasswordSecret'] as const) {
      if (c.auth[f] === undefined) {
        out.push({ path: `auth.${f}`, message: 'required under basic-auth when Argo CD deploys the environment (gitops): the PostSync smoke test logs in as this user' });
      }
    }
  }
  if (c.auth.enabled && c.auth.smokeUsername !== undefined && c.auth.smokeUsername === c.auth.metricsUsername) {
    out.push({
      path: 'auth.smokeUsername',
      message: 'must differ from auth.metricsUsername: the smoke user creates and deletes experiments and models, the scraper only reads /metrics',
    });
  }
  if (c.auth.enabled && !c.gitops && (c.auth.smokeUsername === undefined) !== (c.auth.smokePasswordSecret === undefined)) {
    const missing = c.auth.smokeUsername === undefined ? 'smokeUsername' : 'smokePasswordSecret';
    out.push({ path: `auth.${missing}`, message: 'required with the other smoke user field: set both auth.smokeUsername and auth.smokePasswordSecret, or neither' });
  }
  if (c.auth.enabled && !cloudSql) {
    out.push({
      path: 'auth.enabled',
      message: "basic-auth needs a shared database: set database.engine 'mysql' or 'postgres' (a per-pod SQLite auth store breaks with more than one pod)",
    });
  }

  const usesVolume = c.database.engine === 'sqlite' || c.artifacts.store === 'volume';
  if (usesVolume && !c.volume) {
    out.push({ path: 'volume', message: "expected a 'volume' section (size) because SQLite or volume artifacts store data on it" });
  }
  if (!usesVolume && c.volume) {
    out.push({ path: 'volume', message: "unused: remove 'volume' (only SQLite or artifacts.store 'volume' use it)" });
  }
  if (usesVolume && c.server.autoscaling) {
    out.push({
      path: 'server.autoscaling',
      message: 'must be omitted with SQLite or volume artifacts: a ReadWriteOnce volume allows a single replica',
    });
  }
  if (cloudSql && !c.server.autoscaling) {
    out.push({ path: 'server.autoscaling', message: `expected autoscaling (min/max replicas, CPU target) with database.engine '${cloudSql.engine}'` });
  }

  const memLimit = parseMemoryMiB(c.server.resources.limits.memory);
  const footprint = memoryFootprintMiB(c.server.workers);
  if (memLimit < footprint) {
    out.push({
      path: 'server.resources.limits.memory',
      message:
        `memory limit ${c.server.resources.limits.memory} (${memLimit} MiB) is below the measured footprint of ` +
        `${c.server.workers} workers: parent ${MEMORY_MIB.parent} + supervisors ${MEMORY_MIB.supervisors} + ` +
        `workers ${c.server.workers} × ${MEMORY_MIB.worker} MiB = ${footprint} MiB; raise the limit to at least ` +
        `${footprint}Mi or lower server.workers`,
    });
  }

  if (cloudSql && c.server.autoscaling) {
    const b = connectionBudget({
      maxReplicas: c.server.autoscaling.maxReplicas,
      workers: c.server.workers,
      authEnabled: c.auth.enabled,
      poolSize: cloudSql.pool.size,
      maxOverflow: cloudSql.pool.maxOverflow,
      maxConnections: cloudSql.maxConnections,
      gcConnections: c.gc ? GC_CONNECTIONS : 0,
    });
    if (!b.fits) {
      out.push({
        path: 'database.pool',
        message:
          `connection budget exceeded: (maxReplicas ${b.maxReplicas} + surge ${b.surge}) × (parent ${b.parentConnections} + ` +
          `workers ${b.workers} × stores ${b.stores} × (pool.size ${b.poolSize} + pool.maxOverflow ${b.maxOverflow}))` +
          `${b.gcConnections > 0 ? ` + gc ${b.gcConnections}` : ''} = ` +
          `${b.peak} connections, ` +
          `but max_connections ${b.maxConnections} − headroom ${b.headroom} leaves ${b.available}; lower the pool, ` +
          `workers or maxReplicas, or raise database.maxConnections`,
      });
    }
  }

  if (c.exposure.mode === 'gateway') {
    const className = c.exposure.className ?? DEFAULT_GATEWAY_CLASS;
    const global = GKE_GATEWAY_CLASSES[className].global;
    if (!global && c.exposure.proxyOnlySubnetCidr === undefined) {
      out.push({
        path: 'exposure.proxyOnlySubnetCidr',
        message: `required with exposure.className '${className}': its load balancer's proxies connect to the pods from the VPC's proxy-only subnet, which the server's NetworkPolicy must admit`,
      });
    }
    if (!global && c.exposure.proxyOnlySubnetCidr !== undefined) {
      const problem = proxyOnlySubnetProblem(c.exposure.proxyOnlySubnetCidr, c.exposure.proxyOnlySubnetPrivatelyUsedPublic === true);
      if (problem !== undefined) out.push(problem);
    }
    if (c.exposure.proxyOnlySubnetPrivatelyUsedPublic !== undefined && c.exposure.proxyOnlySubnetCidr === undefined) {
      out.push({ path: 'exposure.proxyOnlySubnetPrivatelyUsedPublic', message: 'unused without exposure.proxyOnlySubnetCidr: remove it' });
    }
    if (global && c.exposure.proxyOnlySubnetCidr !== undefined) {
      out.push({
        path: 'exposure.proxyOnlySubnetCidr',
        message: `unused: remove it (exposure.className '${className}' is served by Google Front Ends, not from a proxy-only subnet)`,
      });
    }
    if (!global && c.exposure.certificate.source === 'certificate-manager') {
      out.push({
        path: 'exposure.certificate.source',
        message: `a Certificate Manager map attaches only to a global load balancer, not to exposure.className '${className}': use 'gke-l7-global-external-managed' or 'gke-l7-gxlb', or source 'cert-manager'`,
      });
    }
  }

  if (c.gc && c.database.engine === 'sqlite') {
    out.push({
      path: 'gc',
      message:
        "needs a database server (database.engine 'mysql' or 'postgres'): the SQLite file is on the server's ReadWriteOnce volume, " +
        'which a CronJob pod cannot mount beside the server (it may be scheduled on another node); remove gc and run ' +
        '`mlflow gc` in the server pod instead (`kubectl exec deploy/mlflow -c mlflow -- mlflow gc --backend-store-uri sqlite:////mlflow/data/mlflow.db`)',
    });
  }

  if (c.gitops?.addons?.certManager && usesCertManager(c.exposure) && !c.gitops.addons.acmeEmail) {
    out.push({ path: 'gitops.addons.acmeEmail', message: 'expected an ACME account email for the ClusterIssuer installed with certManager' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The proxy-only subnet: the one range besides Google's that the server's NetworkPolicy admits from outside
// ---------------------------------------------------------------------------------------------------------

/** The address ranges of private networks: RFC 1918, and the shared address space of RFC 6598. */
export const PRIVATE_IPV4_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;
/** Ranges that are no one's unicast addresses (this network, loopback, link-local, multicast, reserved and broadcast). */
const NON_UNICAST_IPV4_RANGES = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'] as const;
/**
 * The smallest proxy-only subnet Google Cloud accepts: 64 addresses (a /26); it recommends a /23.
 * @see https://cloud.google.com/load-balancing/docs/proxy-only-subnets ("Plan the size of your proxy-only subnet")
 */
export const PROXY_ONLY_SUBNET_LONGEST_PREFIX = 26;
/** The widest proxy-only subnet accepted: a /8, the widest private range; a proxy pool never needs more. */
export const PROXY_ONLY_SUBNET_SHORTEST_PREFIX = 8;

/** `a.b.c.d/n` → the first address as a 32-bit number and the prefix length (the format is checked by the schema). */
function parseCidr(cidr: string): { address: number; prefix: number } {
  const [ip, prefix] = cidr.split('/');
  return { address: ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0), prefix: Number(prefix) };
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The first and last address of a CIDR block, ignoring host bits. */
function blockOf(cidr: string): { first: number; last: number } {
  const { address, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

const within = (inner: { first: number; last: number }, outer: { first: number; last: number }) => inner.first >= outer.first && inner.last <= outer.last;
const overlaps = (a: { first: number; last: number }, b: { first: number; last: number }) => a.first <= b.last && b.first <= a.last;

/**
 * What is wrong with `exposure.proxyOnlySubnetCidr`, or `undefined`. The server admits this range as its load
 * balancer's source, so a wrong one opens it: `0.0.0.0/0` (or `0.0.0.0/1`) to the internet, a range with host bits
 * to whatever the API server rounds it to. The rule: a network address, no smaller than Google's minimum and no wider
 * than a /8, inside a private range; a public range only with `privatelyUsedPublic` (then never a non-unicast one).
 */
export function proxyOnlySubnetProblem(cidr: string, privatelyUsedPublic: boolean): Guard | undefined {
  const path = 'exposure.proxyOnlySubnetCidr';
  const { address, prefix } = parseCidr(cidr);
  const block = blockOf(cidr);
  const got = ` (got "${cidr}")`;
  if (address !== block.first) {
    return { path, message: `has host bits set: expected the network address '${ipv4(block.first)}/${prefix}'${got}` };
  }
  if (prefix > PROXY_ONLY_SUBNET_LONGEST_PREFIX) {
    return {
      path,
      message: `a /${prefix} is smaller than Google Cloud's minimum proxy-only subnet (/${PROXY_ONLY_SUBNET_LONGEST_PREFIX}, 64 addresses; /23 recommended)${got}`,
    };
  }
  if (prefix < PROXY_ONLY_SUBNET_SHORTEST_PREFIX) {
    return {
      path,
      message: `a /${prefix} is wider than any proxy-only subnet (at most /${PROXY_ONLY_SUBNET_SHORTEST_PREFIX}): the server would admit it as its load balancer's source${got}`,
    };
  }
  const isPrivate = PRIVATE_IPV4_RANGES.some((r) => within(block, blockOf(r)));
  if (isPrivate && privatelyUsedPublic) {
    return { path: 'exposure.proxyOnlySubnetPrivatelyUsedPublic', message: `unused: ${cidr} is in a private range (remove the field)` };
  }
  if (isPrivate) return undefined;
  if (!privatelyUsedPublic) {
    return {
      path,
      message:
        `expected a range inside a private one (${PRIVATE_IPV4_RANGES.join(', ')}): the server admits this range as its load balancer's source; ` +
        `for a public range the VPC uses privately, also set exposure.proxyOnlySubnetPrivatelyUsedPublic: true${got}`,
    };
  }
  const special = NON_UNICAST_IPV4_RANGES.find((r) => overlaps(block, blockOf(r)));
  if (special !== undefined) return { path, message: `overlaps ${special}, which is not a unicast range any subnet can use${got}` };
  return undefined;
}

/**
 * The login's own rules: password login needs both secrets; IAM login needs the service account it logs in as
 * (gcp) and refuses the secrets, which nothing would read — a config that names them looks as if it still used them.
 */
function loginProblems(database: CloudSqlDatabase, serviceAccountEmail: string | undefined): Guard[] {
  const out: Guard[] = [];
  const secrets = ['userSecret', 'passwordSecret'] as const;
  if (databaseLogin(database) === 'password') {
    for (const f of secrets) {
      if (database[f] === undefined) {
        out.push({ path: `database.${f}`, message: "required with database.login 'password' (the default): a Secret Manager secret id" });
      }
    }
    return out;
  }
  if (serviceAccountEmail === undefined) {
    out.push({
      path: 'database.login',
      message: "database.login 'iam' needs the 'gcp' section: the proxy logs in as gcp.serviceAccountEmail (Workload Identity)",
    });
  } else {
    const problem = iamDatabaseUserProblem(serviceAccountEmail, database.engine);
    if (problem !== undefined) out.push({ path: 'gcp.serviceAccountEmail', message: `with database.login 'iam': ${problem}: choose a shorter service account id` });
  }
  for (const f of secrets) {
    if (database[f] !== undefined) {
      out.push({
        path: `database.${f}`,
        message: "not used with database.login 'iam' (the proxy logs in as the service account, with no password): remove it",
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Loader
// ---------------------------------------------------------------------------------------------------------

/** Thrown when one or more config files are invalid; `problems` lists every one of them. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? p.file : `${p.file}: ${p.path}`;
  const got = p.value === undefined ? '' : ` (got ${echo(p.value)})`;
  return `${where}: ${p.message}${got}`;
}

const ENV_NAME = /^[a-z][a-z0-9-]{0,29}$/;

function valueAt(doc: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}: remove or fix the spelling`;
  }
  if (value === undefined) return `required: ${issue.message}`;
  return issue.message;
}

/**
 * The problems of a failed schema parse of `doc`: field path, message, and the value found there; each once (a value
 * can fail two checks that say the same, e.g. 1e20 is neither a safe integer nor within the maximum).
 */
export function schemaProblems(file: string, doc: unknown, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const seen = new Set<string>();
  return issues.flatMap((issue) => {
    const value = issue.code === 'unrecognized_keys' ? undefined : valueAt(doc, issue.path);
    const problem = {
      file,
      path: issue.path.map(String).join('.'),
      message: issue.code === 'unrecognized_keys' ? describeIssue(issue, null) : describeIssue(issue, value),
      value,
    };
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [problem];
  });
}

/** The environment name of a config file (`config/prod.yaml` → `prod`), and whether it is a valid one. */
export function environmentNameOf(file: string): { name: string; problem?: ConfigProblem } {
  const name = path.basename(file).replace(/\.ya?ml$/, '');
  if (ENV_NAME.test(name)) return { name };
  return { name, problem: { file, path: '', message: `the file name must be an environment name: lowercase letter first, then letters, digits or '-' (max 30)` } };
}

/** Validates an already-parsed document. `file` is used in messages only. */
export function validateEnvironment(file: string, doc: unknown): { config?: EnvironmentConfig; problems: ConfigProblem[] } {
  const name = path.basename(file).replace(/\.ya?ml$/, '');
  const problems: ConfigProblem[] = [];
  if (!ENV_NAME.test(name)) {
    problems.push({ file, path: '', message: `the file name must be an environment name: lowercase letter first, then letters, digits or '-' (max 30)` });
  }
  const parsed = environmentSchema.safeParse(doc);
  if (!parsed.success) {
    problems.push(...schemaProblems(file, doc, parsed.error.issues));
    return { problems };
  }
  for (const g of crossFieldProblems(parsed.data)) {
    problems.push({ file, path: g.path, message: g.message });
  }
  if (problems.length > 0) return { problems };
  return { config: { name, ...parsed.data }, problems };
}

/** Reads and validates one config file. */
export function loadEnvironmentFile(file: string): { config?: EnvironmentConfig; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [{ file, path: '', message: `cannot read the file: ${(e as Error).message}` }] };
  }
  return parseEnvironmentText(file, text);
}

/** Parses and validates the text of a config file (as read from `file`, named in every problem). */
export function parseEnvironmentText(file: string, text: string): { config?: EnvironmentConfig; problems: ConfigProblem[] } {
  const r = parseConfigDocument(file, text);
  return r.doc === undefined ? { problems: r.problems } : validateEnvironment(file, r.doc);
}

/** The YAML mapping of a config file's text, or the one problem that prevents reading it (empty, malformed, not a mapping). */
export function parseConfigDocument(file: string, text: string): { doc?: Record<string, unknown>; problems: ConfigProblem[] } {
  const tooLarge = sizeProblem(text);
  if (tooLarge !== undefined) return { problems: [{ file, path: '', message: tooLarge }] };
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) {
    return { problems: [{ file, path: '', message: 'the file is empty: expected a YAML mapping at the top level' }] };
  }
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (e) {
    const err = e as yaml.YAMLException;
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return { problems: [{ file, path: '', message: `malformed YAML${at}: ${err.reason ?? err.message}` }] };
  }
  const expanded = expansionProblem(doc);
  if (expanded !== undefined) return { problems: [{ file, path: '', message: expanded }] };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { problems: [{ file, path: '', message: 'expected a YAML mapping at the top level', value: doc ?? undefined }] };
  }
  return { doc: doc as Record<string, unknown>, problems: [] };
}

/** Loads every `*.yaml` in a directory (sorted by name), collecting the problems of all files. */
export function loadEnvironments(files: readonly string[]): EnvironmentConfig[] {
  const configs: EnvironmentConfig[] = [];
  const problems: ConfigProblem[] = [];
  for (const f of files) {
    const r = loadEnvironmentFile(f);
    problems.push(...r.problems);
    if (r.config) configs.push(r.config);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return configs;
}

/** The config files of a directory: `*.yaml`, sorted, so output order never depends on the file system. */
export function configFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}
