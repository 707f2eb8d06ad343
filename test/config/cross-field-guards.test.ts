/**
 * Every guard of lib/config/config.ts beyond single-field formats, with its exact message: the cross-field
 * rules, the in-section refinements (limits ≥ requests, min ≤ max, distinct hosts), and the loader's
 * refusals (unreadable, empty, malformed, not a mapping). Each guard is also shown silent at its boundary.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  configFilesIn,
  formatProblem,
  loadEnvironmentFile,
  loadEnvironments,
  parseEnvironmentText,
  validateEnvironment,
} from '../../lib/config/config';
import { connectionBudget, parseCpuMillis, parseMemoryMiB } from '../../lib/config/sizing';
import { rawConfig } from '../../tools/environments';

function messages(name: string, mutate: (doc: any) => void): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems.map(formatProblem);
}
const GCP = "needs the 'gcp' section (project, region, service account)";

describe('the gcp section', () => {
  test('Cloud SQL, GCS artifacts and auth each need it', () => {
    expect(messages('dev', (d) => delete d.gcp)).toEqual([
      `config/dev.yaml: database.engine: database.engine 'mysql' (Cloud SQL through Secret Manager) ${GCP}`,
      `config/dev.yaml: artifacts.store: artifacts.store 'gcs' (Workload Identity) ${GCP}`,
      `config/dev.yaml: auth.enabled: auth (secrets from Secret Manager) ${GCP}`,
    ]);
  });

  test('GCS artifacts alone need it', () => {
    expect(messages('local', (d) => (d.artifacts = { store: 'gcs', bucket: 'example-bucket', prefix: 'runs' }))).toEqual([
      `config/local.yaml: artifacts.store: artifacts.store 'gcs' (Workload Identity) ${GCP}`,
    ]);
  });

  test('Cloud SQL for PostgreSQL needs it, named by its engine', () => {
    expect(
      messages('dev', (d) => {
        d.database.engine = 'postgres';
        delete d.gcp;
      }),
    ).toEqual([
      `config/dev.yaml: database.engine: database.engine 'postgres' (Cloud SQL through Secret Manager) ${GCP}`,
      `config/dev.yaml: artifacts.store: artifacts.store 'gcs' (Workload Identity) ${GCP}`,
      `config/dev.yaml: auth.enabled: auth (secrets from Secret Manager) ${GCP}`,
    ]);
  });

  test('SQLite, volume artifacts, no auth: not needed', () => {
    expect(messages('local', () => {})).toEqual([]);
  });
});

describe('database.login', () => {
  const iam = (d: any) => {
    d.database.login = 'iam';
    delete d.database.userSecret;
    delete d.database.passwordSecret;
  };
  const REFUSED = "not used with database.login 'iam' (the proxy logs in as the service account, with no password): remove it";
  const REQUIRED = "required with database.login 'password' (the default): a Secret Manager secret id";

  test("iam without the database secrets: valid; 'password' written out: valid", () => {
    expect(messages('dev', iam)).toEqual([]);
    expect(messages('prod', (d) => (d.database.login = 'password'))).toEqual([]);
  });

  test('iam refuses each database secret, on its field', () => {
    expect(messages('dev', (d) => (d.database.login = 'iam'))).toEqual([
      `config/dev.yaml: database.userSecret: ${REFUSED}`,
      `config/dev.yaml: database.passwordSecret: ${REFUSED}`,
    ]);
    expect(messages('dev', (d) => (iam(d), (d.database.passwordSecret = 'mlflow-dev-db-password')))).toEqual([
      `config/dev.yaml: database.passwordSecret: ${REFUSED}`,
    ]);
  });

  test('password login (omitted or explicit) needs each database secret, on its field', () => {
    expect(messages('dev', (d) => delete d.database.userSecret)).toEqual([`config/dev.yaml: database.userSecret: ${REQUIRED}`]);
    expect(messages('dev', (d) => ((d.database.login = 'password'), delete d.database.userSecret, delete d.database.passwordSecret))).toEqual([
      `config/dev.yaml: database.userSecret: ${REQUIRED}`,
      `config/dev.yaml: database.passwordSecret: ${REQUIRED}`,
    ]);
  });

  test('iam needs the gcp section: the service account it logs in as', () => {
    expect(messages('dev', (d) => (iam(d), delete d.gcp))).toEqual([
      `config/dev.yaml: database.engine: database.engine 'mysql' (Cloud SQL through Secret Manager) ${GCP}`,
      "config/dev.yaml: database.login: database.login 'iam' needs the 'gcp' section: the proxy logs in as gcp.serviceAccountEmail (Workload Identity)",
      `config/dev.yaml: artifacts.store: artifacts.store 'gcs' (Workload Identity) ${GCP}`,
      `config/dev.yaml: auth.enabled: auth (secrets from Secret Manager) ${GCP}`,
    ]);
  });

  test('PostgreSQL: a service account whose IAM user name exceeds 63 characters is refused on gcp.serviceAccountEmail', () => {
    const postgresIam = (email: string) => (d: any) => (iam(d), (d.database.engine = 'postgres'), (d.gcp.serviceAccountEmail = email));
    // 28 + 1 + 30 + 4 = 63 characters: valid; one more: refused.
    expect(messages('dev', postgresIam('abcdefghijklmnopqrstuvwxyz01@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com'))).toEqual([]);
    expect(messages('dev', postgresIam('abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com'))).toEqual([
      "config/dev.yaml: gcp.serviceAccountEmail: with database.login 'iam': the IAM database user 'abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam' of " +
        'abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com has 64 characters; postgres accepts at most 63: choose a shorter service account id',
    ]);
  });

  test('iam with the longest service account email MySQL accepts (a 30-character account id): valid', () => {
    expect(messages('dev', (d) => (iam(d), (d.gcp.serviceAccountEmail = 'abcdefghijklmnopqrstuvwxyz0123@example-mlflow-dev.iam.gserviceaccount.com')))).toEqual([]);
  });
});

describe('basic-auth', () => {
  test('needs a shared database (MySQL)', () => {
    expect(
      messages('local', (d) => {
        d.gcp = rawConfig('dev').gcp;
        d.auth = { ...rawConfig('dev').auth };
        delete d.auth.metricsUsername;
        delete d.auth.metricsPasswordSecret;
      }),
    ).toEqual([
      "config/local.yaml: auth.enabled: basic-auth needs a shared database: set database.engine 'mysql' or 'postgres' (a per-pod SQLite auth store breaks with more than one pod)",
    ]);
  });

  test('a PostgreSQL database is shared: basic-auth is accepted on it', () => {
    expect(messages('dev', (d) => (d.database.engine = 'postgres'))).toEqual([]);
    expect(messages('prod', (d) => (d.database.engine = 'postgres'))).toEqual([]);
  });

  test('with metrics scraped: both scrape credentials are required', () => {
    const required = 'required when metrics are scraped under basic-auth (/metrics answers 401 to anonymous requests)';
    expect(messages('dev', (d) => delete d.auth.metricsPasswordSecret)).toEqual([`config/dev.yaml: auth.metricsPasswordSecret: ${required}`]);
    expect(
      messages('prod', (d) => {
        d.metrics = 'prometheus-operator';
        delete d.auth.metricsUsername;
        delete d.auth.metricsPasswordSecret;
      }),
    ).toEqual([`config/prod.yaml: auth.metricsUsername: ${required}`, `config/prod.yaml: auth.metricsPasswordSecret: ${required}`]);
  });

  test('without metrics: no scrape credentials needed', () => {
    expect(
      messages('prod', (d) => {
        d.metrics = 'none';
        delete d.auth.metricsUsername;
        delete d.auth.metricsPasswordSecret;
      }),
    ).toEqual([]);
  });
});

describe('replicas and the data volume', () => {
  test('MySQL needs autoscaling', () => {
    expect(messages('dev', (d) => delete d.server.autoscaling)).toEqual([
      "config/dev.yaml: server.autoscaling: expected autoscaling (min/max replicas, CPU target) with database.engine 'mysql'",
    ]);
  });

  test('PostgreSQL needs autoscaling, named by its engine', () => {
    expect(
      messages('dev', (d) => {
        d.database.engine = 'postgres';
        delete d.server.autoscaling;
      }),
    ).toEqual(["config/dev.yaml: server.autoscaling: expected autoscaling (min/max replicas, CPU target) with database.engine 'postgres'"]);
  });

  test('volume artifacts with MySQL: the volume is required and forbids the autoscaling MySQL requires', () => {
    expect(messages('dev', (d) => (d.artifacts = { store: 'volume' }))).toEqual([
      "config/dev.yaml: volume: expected a 'volume' section (size) because SQLite or volume artifacts store data on it",
      'config/dev.yaml: server.autoscaling: must be omitted with SQLite or volume artifacts: a ReadWriteOnce volume allows a single replica',
    ]);
  });

  test('min = max replicas is allowed; min > max is not', () => {
    expect(messages('dev', (d) => (d.server.autoscaling.minReplicas = 3))).toEqual([]);
    expect(messages('dev', (d) => (d.server.autoscaling.minReplicas = 4))).toEqual([
      'config/dev.yaml: server.autoscaling.minReplicas: expected minReplicas (4) ≤ maxReplicas (3) (got 4)',
    ]);
  });
});

describe('resources', () => {
  test('limits.cpu below requests.cpu (millicores against cores)', () => {
    expect(messages('dev', (d) => (d.server.resources.limits.cpu = '400m'))).toEqual([
      'config/dev.yaml: server.resources.limits.cpu: expected limits.cpu (400m) ≥ requests.cpu (500m) (got "400m")',
    ]);
    expect(messages('dev', (d) => (d.server.resources.limits.cpu = '0.5'))).toEqual([]);
  });

  test('both limits below their requests: both named, memory first', () => {
    expect(messages('dev', (d) => (d.server.resources.requests = { cpu: '3', memory: '2Gi' }))).toEqual([
      'config/dev.yaml: server.resources.limits.memory: expected limits.memory (1536Mi) ≥ requests.memory (2Gi) (got "1536Mi")',
      'config/dev.yaml: server.resources.limits.cpu: expected limits.cpu (2) ≥ requests.cpu (3) (got "2")',
    ]);
  });

  test('a malformed or mistyped quantity is named by its format alone: no comparison is made with it', () => {
    const CPU = "a CPU quantity such as '500m' or '2'";
    const MEMORY = "a memory quantity in binary units such as '512Mi' or '2Gi'";
    // ' 100m' would read as 100 millicores, below the 500m requested: only the format is reported.
    expect(messages('dev', (d) => (d.server.resources.limits.cpu = ' 100m'))).toEqual([
      `config/dev.yaml: server.resources.limits.cpu: expected ${CPU} (got " 100m")`,
    ]);
    expect(messages('dev', (d) => (d.server.resources.limits.cpu = 2))).toEqual([`config/dev.yaml: server.resources.limits.cpu: expected a string: ${CPU} (got 2)`]);
    expect(messages('dev', (d) => (d.server.resources.requests.cpu = 5000))).toEqual([
      `config/dev.yaml: server.resources.requests.cpu: expected a string: ${CPU} (got 5000)`,
    ]);
    expect(messages('dev', (d) => (d.server.resources.limits.memory = '512MB'))).toEqual([
      `config/dev.yaml: server.resources.limits.memory: expected ${MEMORY} (got "512MB")`,
    ]);
    expect(messages('dev', (d) => (d.server.resources.limits.memory = 512))).toEqual([
      `config/dev.yaml: server.resources.limits.memory: expected a string: ${MEMORY} (got 512)`,
    ]);
    expect(messages('dev', (d) => (d.server.resources.requests.memory = 4096))).toEqual([
      `config/dev.yaml: server.resources.requests.memory: expected a string: ${MEMORY} (got 4096)`,
    ]);
  });

  test('requests or limits absent: required, and nothing compared', () => {
    expect(messages('dev', (d) => delete d.server.resources.requests)).toEqual([
      'config/dev.yaml: server.resources.requests: required: expected a mapping: what the container is guaranteed (cpu, memory)',
    ]);
    expect(messages('dev', (d) => delete d.server.resources.limits)).toEqual([
      'config/dev.yaml: server.resources.limits: required: expected a mapping: what the container may use at most (cpu, memory)',
    ]);
  });

  test('limits equal to requests are allowed', () => {
    expect(messages('dev', (d) => (d.server.resources = { requests: { cpu: '500m', memory: '1504Mi' }, limits: { cpu: '500m', memory: '1504Mi' } }))).toEqual([]);
  });

  test('the memory footprint: exactly parent 256 + supervisors 32 + 608 MiB per worker fits, one MiB less does not', () => {
    // dev runs 2 workers: 256 + 32 + 2 × 608 = 1504 MiB.
    expect(messages('dev', (d) => (d.server.resources = { requests: { cpu: '500m', memory: '768Mi' }, limits: { cpu: '2', memory: '1504Mi' } }))).toEqual([]);
    expect(messages('dev', (d) => (d.server.resources = { requests: { cpu: '500m', memory: '768Mi' }, limits: { cpu: '2', memory: '1503Mi' } }))).toEqual([
      'config/dev.yaml: server.resources.limits.memory: memory limit 1503Mi (1503 MiB) is below the measured footprint of 2 workers: ' +
        'parent 256 + supervisors 32 + workers 2 × 608 MiB = 1504 MiB; raise the limit to at least 1504Mi or lower server.workers',
    ]);
    // One worker: 256 + 32 + 608 = 896 MiB.
    expect(messages('dev', (d) => ((d.server.workers = 1), (d.server.resources.limits.memory = '896Mi')))).toEqual([]);
    expect(messages('dev', (d) => ((d.server.workers = 1), (d.server.resources.limits.memory = '895Mi')))).toEqual([
      'config/dev.yaml: server.resources.limits.memory: memory limit 895Mi (895 MiB) is below the measured footprint of 1 workers: ' +
        'parent 256 + supervisors 32 + workers 1 × 608 MiB = 896 MiB; raise the limit to at least 896Mi or lower server.workers',
    ]);
  });
});

describe('exposure', () => {
  test('at least one host, and no host twice', () => {
    expect(messages('dev', (d) => (d.exposure.hosts = []))).toEqual(['config/dev.yaml: exposure.hosts: expected at least one host name (got [])']);
    expect(messages('dev', (d) => (d.exposure.hosts = ['a.example.com', 'a.example.com']))).toEqual([
      'config/dev.yaml: exposure.hosts: expected distinct host names (got ["a.example.com","a.example.com"])',
    ]);
  });

  test('the ACME email is needed only when cert-manager issues for an Ingress', () => {
    expect(
      messages('dev', (d) => {
        delete d.gitops.addons.acmeEmail;
        d.exposure = { mode: 'none' };
      }),
    ).toEqual([]);
  });
});

describe('the loader', () => {
  test('several unknown fields are named together', () => {
    expect(messages('dev', (d) => Object.assign(d, { colour: 1, flavour: 2 }))).toEqual([
      "config/dev.yaml: unknown fields 'colour', 'flavour': remove or fix the spelling",
    ]);
  });

  test('empty (or comments only), malformed, not a mapping', () => {
    const problems = (text: string) => parseEnvironmentText('config/x.yaml', text).problems.map(formatProblem);
    expect(problems('# nothing here\n\n   \n')).toEqual(['config/x.yaml: the file is empty: expected a YAML mapping at the top level']);
    expect(problems('namespace: [mlflow\n')).toEqual([
      'config/x.yaml: malformed YAML at line 2, column 1: deficient indentation',
    ]);
    expect(problems('- a\n- b\n')).toEqual(['config/x.yaml: expected a YAML mapping at the top level (got ["a","b"])']);
    expect(problems('just text\n')).toEqual(['config/x.yaml: expected a YAML mapping at the top level (got "just text")']);
  });

  test('an unreadable file', () => {
    const missing = path.join(os.tmpdir(), 'mlflow-gitops-no-such-dir', 'dev.yaml');
    expect(loadEnvironmentFile(missing).problems.map(formatProblem)).toEqual([
      `${missing}: cannot read the file: ENOENT: no such file or directory, open '${missing}'`,
    ]);
  });

  test('several files: every problem of every file in one ConfigError, no config', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-guards-'));
    try {
      fs.writeFileSync(path.join(dir, 'b.yaml'), '# empty\n');
      fs.writeFileSync(path.join(dir, 'a.yaml'), '- 1\n');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a config\n');
      const files = configFilesIn(dir);
      expect(files).toEqual([path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
      let error: unknown;
      try {
        loadEnvironments(files);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(
        `${path.join(dir, 'a.yaml')}: expected a YAML mapping at the top level (got [1])\n` +
          `${path.join(dir, 'b.yaml')}: the file is empty: expected a YAML mapping at the top level`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sizing', () => {
  test('quantities: binary memory units and CPU in millicores; anything else is refused', () => {
    expect([parseMemoryMiB('512Ki'), parseMemoryMiB('768Mi'), parseMemoryMiB('2Gi'), parseMemoryMiB('1Ti')]).toEqual([0.5, 768, 2048, 1048576]);
    expect(() => parseMemoryMiB('1G')).toThrow(new Error('not a binary memory quantity: 1G'));
    expect([parseCpuMillis('250m'), parseCpuMillis('2'), parseCpuMillis('1.5')]).toEqual([250, 2000, 1500]);
  });

  test('the connection budget fits exactly at max_connections − headroom, and not one connection above', () => {
    // (1 + 1) × (parent 3 + 1 × 2 × (5 + 0)) = 26 connections; headroom max(10, 10 %) = 10.
    expect(connectionBudget({ maxReplicas: 1, workers: 1, authEnabled: false, poolSize: 5, maxOverflow: 0, maxConnections: 36 })).toMatchObject({
      parentConnections: 3,
      perPod: 13,
      peak: 26,
      headroom: 10,
      available: 26,
      fits: true,
    });
    expect(connectionBudget({ maxReplicas: 1, workers: 1, authEnabled: false, poolSize: 5, maxOverflow: 0, maxConnections: 35 })).toMatchObject({
      peak: 26,
      available: 25,
      fits: false,
    });
    // Above 100 connections the headroom is 10 %, rounded up.
    expect(connectionBudget({ maxReplicas: 1, workers: 1, authEnabled: true, poolSize: 1, maxOverflow: 0, maxConnections: 101 }).headroom).toBe(11);
  });

  test("the config's budget counts the parent's 3 connections per pod: fits at 280, refused at 279 with the sum", () => {
    // dev: (maxReplicas 3 + surge 1) × (3 + 2 workers × 3 stores × (5 + 5)) = 252; 280 − 28 = 252, 279 − ceil(27.9) = 251.
    expect(messages('dev', (d) => (d.database.maxConnections = 280))).toEqual([]);
    expect(messages('dev', (d) => (d.database.maxConnections = 279))).toEqual([
      'config/dev.yaml: database.pool: connection budget exceeded: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × stores 3 × ' +
        '(pool.size 5 + pool.maxOverflow 5)) = 252 connections, but max_connections 279 − headroom 28 leaves 251; lower the pool, ' +
        'workers or maxReplicas, or raise database.maxConnections',
    ]);
  });

  test('the same budget on Cloud SQL for PostgreSQL: its max_connections, the same rule, the same boundary', () => {
    const postgres = (maxConnections: number) => (d: any) => {
      d.database.engine = 'postgres';
      d.database.maxConnections = maxConnections;
    };
    expect(messages('dev', postgres(280))).toEqual([]);
    expect(messages('dev', postgres(279))).toEqual([
      'config/dev.yaml: database.pool: connection budget exceeded: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × stores 3 × ' +
        '(pool.size 5 + pool.maxOverflow 5)) = 252 connections, but max_connections 279 − headroom 28 leaves 251; lower the pool, ' +
        'workers or maxReplicas, or raise database.maxConnections',
    ]);
  });
});
