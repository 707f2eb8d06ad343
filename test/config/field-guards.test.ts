/**
 * Every field format of the config schema, each with its exact message: file, field path, what is expected,
 * and the value given. (The cross-field guards: cross-field-guards.test.ts.)
 */
import { formatProblem, validateEnvironment } from '../../lib/config/config';
import { rawConfig } from '../../tools/environments';

const cases: [string, 'dev' | 'local', (d: any) => unknown, string][] = [
  ["gcp.projectId", 'dev', (d) => (d.gcp.projectId = 'Bad'), "config/dev.yaml: gcp.projectId: expected a GCP project id (6-30 chars: lowercase letters, digits, hyphens) (got \"Bad\")"],
  ["gcp.region", 'dev', (d) => (d.gcp.region = 'europe'), "config/dev.yaml: gcp.region: expected a GCP region such as 'europe-west1' (got \"europe\")"],
  ["gcp.serviceAccountEmail", 'dev', (d) => (d.gcp.serviceAccountEmail = 'me@example.com'), "config/dev.yaml: gcp.serviceAccountEmail: expected a Google service account email NAME@PROJECT.iam.gserviceaccount.com (got \"me@example.com\")"],
  ["gcp.clusterKind", 'dev', (d) => (d.gcp.clusterKind = 'enterprise'), "config/dev.yaml: gcp.clusterKind: expected 'standard' or 'autopilot' (got \"enterprise\")"],
  ["namespace", 'dev', (d) => (d.namespace = 'ML'), "config/dev.yaml: namespace: expected a namespace name (RFC 1123 label) (got \"ML\")"],
  ["image.repository", 'dev', (d) => (d.image.repository = 'ghcr.io/MLflow/mlflow:v1'), "config/dev.yaml: image.repository: expected an image repository without tag, e.g. 'ghcr.io/mlflow/mlflow' (got \"ghcr.io/MLflow/mlflow:v1\")"],
  ["image.tag floating", 'dev', (d) => (d.image.tag = 'v3.17'), "config/dev.yaml: image.tag: expected an exact version tag such as 'v3.17.0-full' (floating tags are not allowed) (got \"v3.17\")"],
  ["image.tag number", 'dev', (d) => (d.image.tag = 3), "config/dev.yaml: image.tag: expected an exact version tag such as 'v3.17.0-full' (got 3)"],
  ["image.digest", 'dev', (d) => (d.image.digest = 'sha256:xyz'), "config/dev.yaml: image.digest: expected a digest 'sha256:' followed by 64 lowercase hex digits (got \"sha256:xyz\")"],
  ["server.workers type", 'dev', (d) => (d.server.workers = 'two'), "config/dev.yaml: server.workers: expected a worker count from 1 to 16 (got \"two\")"],
  ["server.workers fraction", 'dev', (d) => (d.server.workers = 1.5), "config/dev.yaml: server.workers: expected a worker count from 1 to 16 (got 1.5)"],
  ["server.workers high", 'dev', (d) => (d.server.workers = 17), "config/dev.yaml: server.workers: expected a worker count from 1 to 16 (got 17)"],
  ["requests.cpu", 'dev', (d) => (d.server.resources.requests.cpu = '500 m'), "config/dev.yaml: server.resources.requests.cpu: expected a CPU quantity such as '500m' or '2' (got \"500 m\")"],
  ["autoscaling.target", 'dev', (d) => (d.server.autoscaling.targetCpuUtilizationPercent = 5), "config/dev.yaml: server.autoscaling.targetCpuUtilizationPercent: expected a CPU utilization percentage from 10 to 100 (got 5)"],
  ["autoscaling.max", 'dev', (d) => (d.server.autoscaling.maxReplicas = 101), "config/dev.yaml: server.autoscaling.maxReplicas: expected a replica count from 1 to 100 (got 101)"],
  ["database.engine", 'dev', (d) => (d.database.engine = 'postgresql'), "config/dev.yaml: database.engine: expected database.engine 'mysql' or 'postgres' (Cloud SQL) or 'sqlite' (file on the data volume) (got \"postgresql\")"],
  ["instanceConnectionName", 'dev', (d) => (d.database.instanceConnectionName = 'mlflow-dev'), "config/dev.yaml: database.instanceConnectionName: expected a Cloud SQL instance connection name 'project:region:instance' (got \"mlflow-dev\")"],
  ["privateIp", 'dev', (d) => (d.database.privateIp = 'yes'), "config/dev.yaml: database.privateIp: expected true or false (got \"yes\")"],
  ["database.name", 'dev', (d) => (d.database.name = '1db'), "config/dev.yaml: database.name: expected a database name (letters, digits, underscores; starts with a letter) (got \"1db\")"],
  // Cloud SQL for PostgreSQL: the MySQL fields, each with the same message; the database name by PostgreSQL's rule.
  ["postgres database.name", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.name = 'mlflow-db')), "config/dev.yaml: database.name: expected a PostgreSQL database name (letters, digits, underscores; starts with a letter; at most 63 characters) (got \"mlflow-db\")"],
  ["postgres database.name 64", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.name = `m${'x'.repeat(63)}`)), `config/dev.yaml: database.name: expected a PostgreSQL database name (letters, digits, underscores; starts with a letter; at most 63 characters) (got "m${'x'.repeat(63)}")`],
  ["postgres instanceConnectionName", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.instanceConnectionName = 'mlflow-dev')), "config/dev.yaml: database.instanceConnectionName: expected a Cloud SQL instance connection name 'project:region:instance' (got \"mlflow-dev\")"],
  ["postgres pool.size", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.pool.size = 0)), "config/dev.yaml: database.pool.size: expected a pool size from 1 to 100 (got 0)"],
  ["postgres maxConnections", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.maxConnections = 5)), "config/dev.yaml: database.maxConnections: expected a connection count from 10 to 100000 (got 5)"],
  ["postgres unknown field", 'dev', (d) => ((d.database.engine = 'postgres'), (d.database.sslmode = 'require')), "config/dev.yaml: database: unknown field 'sslmode': remove or fix the spelling"],
  ["postgres passwordSecret", 'dev', (d) => ((d.database.engine = 'postgres'), delete d.database.passwordSecret), "config/dev.yaml: database.passwordSecret: required with database.login 'password' (the default): a Secret Manager secret id"],
  ["userSecret", 'dev', (d) => (d.database.userSecret = 'a/b'), "config/dev.yaml: database.userSecret: expected a Secret Manager secret id (got \"a/b\")"],
  ["database.login", 'dev', (d) => (d.database.login = 'token'), "config/dev.yaml: database.login: expected database.login 'password' or 'iam' (got \"token\")"],
  ["database.login on SQLite", 'local', (d) => (d.database.login = 'iam'), "config/local.yaml: database.login: only for Cloud SQL: SQLite is a file on the data volume and has no database login (remove database.login, or set database.engine 'mysql' or 'postgres') (got \"iam\")"],
  ["database.login password on SQLite", 'local', (d) => (d.database.login = 'password'), "config/local.yaml: database.login: only for Cloud SQL: SQLite is a file on the data volume and has no database login (remove database.login, or set database.engine 'mysql' or 'postgres') (got \"password\")"],
  ["pool.size", 'dev', (d) => (d.database.pool.size = 0), "config/dev.yaml: database.pool.size: expected a pool size from 1 to 100 (got 0)"],
  ["pool.maxOverflow", 'dev', (d) => (d.database.pool.maxOverflow = -1), "config/dev.yaml: database.pool.maxOverflow: expected a pool overflow from 0 to 100 (got -1)"],
  ["pool.recycleSeconds", 'dev', (d) => (d.database.pool.recycleSeconds = 30), "config/dev.yaml: database.pool.recycleSeconds: expected a number of seconds from 60 to 86400 (got 30)"],
  ["maxConnections", 'dev', (d) => (d.database.maxConnections = 5), "config/dev.yaml: database.maxConnections: expected a connection count from 10 to 100000 (got 5)"],
  // Neither a safe integer nor at most 100000: two checks fail, with one thing to say.
  ["maxConnections overflow", 'dev', (d) => (d.database.maxConnections = 1e20), "config/dev.yaml: database.maxConnections: expected a connection count from 10 to 100000 (got 100000000000000000000)"],
  ["artifacts.store", 'dev', (d) => (d.artifacts.store = 's3'), "config/dev.yaml: artifacts.store: expected artifacts.store 'gcs' or 'volume' (got \"s3\")"],
  ["artifacts.bucket", 'dev', (d) => (d.artifacts.bucket = 'A'), "config/dev.yaml: artifacts.bucket: expected a GCS bucket name (got \"A\")"],
  ["artifacts.prefix", 'dev', (d) => (d.artifacts.prefix = '/mlflow/'), "config/dev.yaml: artifacts.prefix: expected an object prefix such as 'mlflow' (no leading or trailing '/') (got \"/mlflow/\")"],
  ["volume.size", 'local', (d) => (d.volume.size = '10GB'), "config/local.yaml: volume.size: expected a storage size such as '10Gi' (got \"10GB\")"],
  ["volume.storageClassName", 'local', (d) => (d.volume.storageClassName = 'Fast_SSD'), "config/local.yaml: volume.storageClassName: expected a StorageClass name (got \"Fast_SSD\")"],
  ["exposure.mode", 'dev', (d) => (d.exposure.mode = 'loadbalancer'), "config/dev.yaml: exposure.mode: expected exposure.mode 'ingress', 'gateway' or 'none' (got \"loadbalancer\")"],
  ["exposure.hosts type", 'dev', (d) => (d.exposure.hosts = 'mlflow.example.com'), "config/dev.yaml: exposure.hosts: expected a list of host names (got \"mlflow.example.com\")"],
  ["exposure.hosts IP address", 'dev', (d) => (d.exposure.hosts = ['10.0.0.1']), "config/dev.yaml: exposure.hosts.0: expected a DNS name, not an IP address: the API server refuses an IP as an Ingress or Gateway host (serve a name that resolves to it) (got \"10.0.0.1\")"],
  ["exposure.clusterIssuer", 'dev', (d) => (d.exposure.clusterIssuer = 'Lets_Encrypt'), "config/dev.yaml: exposure.clusterIssuer: expected a cert-manager ClusterIssuer name (got \"Lets_Encrypt\")"],
  ["exposure.className", 'dev', (d) => (d.exposure.className = 'nginx'), "config/dev.yaml: exposure.className: expected 'gce' or 'gce-internal' (got \"nginx\")"],
  ["exposure.backendTimeoutSeconds", 'dev', (d) => (d.exposure.backendTimeoutSeconds = 10), "config/dev.yaml: exposure.backendTimeoutSeconds: expected a number of seconds from 30 to 86400 (got 10)"],
  ["auth.enabled", 'dev', (d) => (d.auth.enabled = 'yes'), "config/dev.yaml: auth.enabled: expected auth.enabled true or false (got \"yes\")"],
  ["auth.defaultPermission", 'dev', (d) => (d.auth.defaultPermission = 'ALL'), "config/dev.yaml: auth.defaultPermission: expected 'READ', 'EDIT', 'MANAGE' or 'NO_PERMISSIONS' (got \"ALL\")"],
  ["auth.metricsUsername", 'dev', (d) => (d.auth.metricsUsername = 'metrics scraper'), "config/dev.yaml: auth.metricsUsername: expected an MLflow user name (letters, digits, '_', '.', '@', '-') (got \"metrics scraper\")"],
  ["metrics", 'dev', (d) => (d.metrics = 'datadog'), "config/dev.yaml: metrics: expected 'gmp', 'prometheus-operator' or 'none' (got \"datadog\")"],
  ["gitops.repoURL", 'dev', (d) => (d.gitops.repoURL = 'ftp://x'), "config/dev.yaml: gitops.repoURL: expected an https://, ssh:// or git@ repository URL (got \"ftp://x\")"],
  ["gitops.targetRevision", 'dev', (d) => (d.gitops.targetRevision = 'main branch'), "config/dev.yaml: gitops.targetRevision: expected a branch, tag or commit (got \"main branch\")"],
  ["gitops.destinationServer", 'dev', (d) => (d.gitops.destinationServer = 'http://k'), "config/dev.yaml: gitops.destinationServer: expected a cluster API URL starting with 'https://' (got \"http://k\")"],
  ["addons.externalSecrets", 'dev', (d) => (d.gitops.addons.externalSecrets = 1), "config/dev.yaml: gitops.addons.externalSecrets: expected true or false (got 1)"],
  ["addons.acmeEmail", 'dev', (d) => (d.gitops.addons.acmeEmail = 'not-an-email'), "config/dev.yaml: gitops.addons.acmeEmail: expected an email address (got \"not-an-email\")"],
  ["addons.acmeServer", 'dev', (d) => (d.gitops.addons.acmeServer = 'test'), "config/dev.yaml: gitops.addons.acmeServer: expected 'production' or 'staging' (got \"test\")"],
];

test.each(cases)('%s', (_name, env, mutate, message) => {
  const doc = rawConfig(env);
  mutate(doc);
  expect(validateEnvironment(`config/${env}.yaml`, doc).problems.map(formatProblem)).toEqual([message]);
});

describe('a missing or mistyped section says what it is and the fields it holds', () => {
  test.each<[string, 'dev' | 'local', (d: any) => unknown, string]>([
    ['image', 'dev', (d) => delete d.image, 'config/dev.yaml: image: required: expected a mapping: the MLflow image (repository, tag; optional: digest)'],
    ['server', 'dev', (d) => delete d.server, "config/dev.yaml: server: required: expected a mapping: the tracking server's size (workers, resources; optional: autoscaling)"],
    ['server.resources', 'dev', (d) => delete d.server.resources, "config/dev.yaml: server.resources: required: expected a mapping: the server container's resources (requests, limits)"],
    ['server.resources.requests', 'dev', (d) => delete d.server.resources.requests, 'config/dev.yaml: server.resources.requests: required: expected a mapping: what the container is guaranteed (cpu, memory)'],
    ['server.resources.limits', 'dev', (d) => delete d.server.resources.limits, 'config/dev.yaml: server.resources.limits: required: expected a mapping: what the container may use at most (cpu, memory)'],
    ['server.autoscaling as a number', 'dev', (d) => (d.server.autoscaling = 3), 'config/dev.yaml: server.autoscaling: expected a mapping: the HorizontalPodAutoscaler (minReplicas, maxReplicas, targetCpuUtilizationPercent) (got 3)'],
    ['database.pool', 'dev', (d) => delete d.database.pool, "config/dev.yaml: database.pool: required: expected a mapping: each store's SQLAlchemy connection pool, per worker (size, maxOverflow, recycleSeconds)"],
    ['gcp as a list', 'dev', (d) => (d.gcp = []), 'config/dev.yaml: gcp: expected a mapping: the GCP side, from the Terraform outputs (projectId, region, serviceAccountEmail; optional: clusterKind) (got [])'],
    ['volume as a string', 'local', (d) => (d.volume = '10Gi'), 'config/local.yaml: volume: expected a mapping: the data volume (size; optional: storageClassName) (got "10Gi")'],
    ['gitops left empty', 'dev', (d) => (d.gitops = null), 'config/dev.yaml: gitops: expected a mapping: where Argo CD reads the manifests and deploys them (repoURL, targetRevision, destinationServer; optional: addons) (got null)'],
    ['gitops.addons left empty', 'dev', (d) => (d.gitops.addons = null), 'config/dev.yaml: gitops.addons: expected a mapping: the operators Argo CD installs with the environment (externalSecrets, certManager; optional: acmeEmail, acmeServer) (got null)'],
    ['gc as true', 'dev', (d) => (d.gc = true), "config/dev.yaml: gc: expected a mapping: the `mlflow gc` CronJob (schedule; optional: olderThanDays) (got true)"],
  ])('%s', (_name, env, mutate, message) => {
    const doc = rawConfig(env);
    mutate(doc);
    expect(validateEnvironment(`config/${env}.yaml`, doc).problems.map(formatProblem)).toEqual([message]);
  });

  test('no message of any missing section or field is zod\'s own wording', () => {
    const paths = (o: unknown, at: string[] = []): string[][] =>
      o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.entries(o).flatMap(([k, v]) => [[...at, k], ...paths(v, [...at, k])]) : [];
    for (const env of ['dev', 'local', 'prod'] as const) {
      for (const p of paths(rawConfig(env))) {
        const doc = rawConfig(env);
        const parent = p.slice(0, -1).reduce((o: any, k) => o[k], doc);
        delete parent[p[p.length - 1]];
        for (const m of validateEnvironment(`config/${env}.yaml`, doc).problems.map(formatProblem)) expect(m).not.toMatch(/Invalid input|received/);
      }
    }
  });
});

test('range ends are accepted', () => {
  for (const [env, mutate] of [
    ['dev', (d: any) => (d.server.workers = 1)],
    ['local', (d: any) => (d.volume.storageClassName = 'standard-rwo')],
    ['dev', (d: any) => (d.database.pool.maxOverflow = 0)],
    ['dev', (d: any) => (d.database.pool.recycleSeconds = 60)],
    ['dev', (d: any) => (d.exposure.backendTimeoutSeconds = 86400)],
    ['dev', (d: any) => (d.server.autoscaling.targetCpuUtilizationPercent = 100)],
    ['dev', (d: any) => (d.gitops.repoURL = 'git@github.com:example-org/mlflow-gitops.git')],
    // Database names: 64 characters on MySQL, 63 on PostgreSQL (its identifier limit).
    ['dev', (d: any) => (d.database.name = `m${'x'.repeat(63)}`)],
    ['dev', (d: any) => ((d.database.engine = 'postgres'), (d.database.name = `m${'x'.repeat(62)}`))],
  ] as const) {
    const doc = rawConfig(env);
    mutate(doc);
    expect(validateEnvironment(`config/${env}.yaml`, doc).problems).toEqual([]);
  }
});

