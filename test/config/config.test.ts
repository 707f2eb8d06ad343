/**
 * The config schema and its guards. Each guard is asserted with its message; the malformed corpus (test/
 * fixtures/bad-configs) is checked through the CLI (test/cli*.test.ts); every cross-field guard's exact message is in cross-field-guards.test.ts.
 */
import { validateEnvironment, formatProblem, type ConfigProblem } from '../../lib/config/config';
import { rawConfig, shippedConfigs } from '../../tools/environments';

function problems(name: string, mutate: (doc: any) => void): ConfigProblem[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems;
}
const messages = (ps: ConfigProblem[]) => ps.map(formatProblem);

describe('shipped environments', () => {
  test('dev, local and prod are valid', () => {
    expect(shippedConfigs().map((c) => c.name)).toEqual(['dev', 'local', 'prod']);
  });
});

describe('field validation', () => {
  test('names file, field path, value and expectation', () => {
    const ps = problems('dev', (d) => (d.server.workers = 0));
    expect(messages(ps)).toEqual(['config/dev.yaml: server.workers: expected a worker count from 1 to 16 (got 0)']);
  });

  test('lists every problem at once', () => {
    const ps = problems('prod', (d) => {
      d.server.workers = 'two';
      d.image.tag = 'latest';
      d.exposure.hosts = ['Not_A_Host'];
      d.database.pool.size = 1000;
      d.metrics = 'datadog';
      d.surprise = true;
    });
    expect(ps.map((p) => p.path).sort()).toEqual(
      ['', 'database.pool.size', 'exposure.hosts.0', 'image.tag', 'metrics', 'server.workers'].sort(),
    );
    expect(messages(ps)).toContain("config/prod.yaml: unknown field 'surprise': remove or fix the spelling");
  });

  test('rejects latest and floating tags, accepts exact tags with a digest', () => {
    expect(messages(problems('dev', (d) => (d.image.tag = 'latest')))).toEqual([
      `config/dev.yaml: image.tag: 'latest' is not allowed: pin an exact version tag such as 'v3.17.0-full' (got "latest")`,
    ]);
    expect(messages(problems('dev', (d) => (d.image.tag = 'v3.17')))[0]).toMatch(/image\.tag: expected an exact version tag/);
    expect(problems('dev', (d) => (d.image.digest = `sha256:${'a'.repeat(64)}`))).toEqual([]);
    expect(messages(problems('dev', (d) => (d.image.digest = 'sha256:xyz')))[0]).toMatch(/image\.digest: expected a digest 'sha256:'/);
    expect(messages(problems('dev', (d) => (d.image.repository = 'ghcr.io/MLflow/mlflow:v1')))[0]).toMatch(/image\.repository: expected an image repository/);
  });

  test('rejects a bad host name', () => {
    expect(messages(problems('dev', (d) => (d.exposure.hosts = ['*.example.com'])))[0]).toBe(
      `config/dev.yaml: exposure.hosts.0: expected a fully qualified lowercase host name such as 'mlflow.example.com' (got "*.example.com")`,
    );
  });

  test('min > max replicas', () => {
    expect(messages(problems('dev', (d) => (d.server.autoscaling.minReplicas = 5)))).toEqual([
      'config/dev.yaml: server.autoscaling.minReplicas: expected minReplicas (5) ≤ maxReplicas (3) (got 5)',
    ]);
  });

  test('limits below requests', () => {
    expect(messages(problems('dev', (d) => (d.server.resources.limits.memory = '512Mi')))).toContain(
      'config/dev.yaml: server.resources.limits.memory: expected limits.memory (512Mi) ≥ requests.memory (768Mi) (got "512Mi")',
    );
  });

  test('a missing field is reported as required; a malformed quantity does not derail the other checks', () => {
    expect(messages(problems('dev', (d) => delete d.namespace))).toEqual([
      'config/dev.yaml: namespace: required: expected a string: a namespace name (RFC 1123 label)',
    ]);
    expect(messages(problems('dev', (d) => (d.server.resources.requests.memory = '768MB')))).toEqual([
      `config/dev.yaml: server.resources.requests.memory: expected a memory quantity in binary units such as '512Mi' or '2Gi' (got "768MB")`,
    ]);
  });

  test('unknown discriminator values say what is allowed', () => {
    expect(messages(problems('dev', (d) => (d.database.engine = 'oracle')))[0]).toMatch(
      /database\.engine: expected database\.engine 'mysql' or 'postgres' \(Cloud SQL\) or 'sqlite'/,
    );
  });
});

describe('cross-field guards', () => {
  // The connection budget and the memory footprint: test/config/sizing.test.ts.

  test('a single-writer volume forbids autoscaling', () => {
    const ps = problems('local', (d) => (d.server.autoscaling = { minReplicas: 1, maxReplicas: 2, targetCpuUtilizationPercent: 70 }));
    expect(messages(ps)).toEqual([
      'config/local.yaml: server.autoscaling: must be omitted with SQLite or volume artifacts: a ReadWriteOnce volume allows a single replica',
    ]);
  });

  test('SQLite needs a volume; an unused volume is flagged', () => {
    expect(messages(problems('local', (d) => delete d.volume))).toEqual([
      "config/local.yaml: volume: expected a 'volume' section (size) because SQLite or volume artifacts store data on it",
    ]);
    expect(messages(problems('dev', (d) => (d.volume = { size: '1Gi' })))).toEqual([
      "config/dev.yaml: volume: unused: remove 'volume' (only SQLite or artifacts.store 'volume' use it)",
    ]);
  });

  test('Cloud SQL, GCS and auth need the gcp section', () => {
    const ps = problems('dev', (d) => delete d.gcp);
    expect(ps.map((p) => p.path)).toEqual(['database.engine', 'artifacts.store', 'auth.enabled']);
  });

  test('auth needs MySQL, and scrape credentials when metrics are on', () => {
    expect(messages(problems('dev', (d) => delete d.auth.metricsUsername))).toEqual([
      'config/dev.yaml: auth.metricsUsername: required when metrics are scraped under basic-auth (/metrics answers 401 to anonymous requests)',
    ]);
  });

  test('cert-manager add-on needs an ACME email', () => {
    expect(messages(problems('dev', (d) => delete d.gitops.addons.acmeEmail))).toEqual([
      'config/dev.yaml: gitops.addons.acmeEmail: expected an ACME account email for the ClusterIssuer installed with certManager',
    ]);
  });

  test('the file name must be an environment name', () => {
    const r = validateEnvironment('config/Prod_EU.yaml', rawConfig('prod'));
    expect(r.problems.map(formatProblem)).toEqual([
      "config/Prod_EU.yaml: the file name must be an environment name: lowercase letter first, then letters, digits or '-' (max 30)",
    ]);
  });
});
