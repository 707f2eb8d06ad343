/** MigrationJob: one Argo CD Sync hook Job with the proxy as a native sidecar; the metrics user it reconciles. */
import * as fs from 'fs';
import * as path from 'path';
import { configFrom, envOf, find, rawConfig, render, shippedConfig, ROOT } from '../../tools/environments';

// Rendered in beforeAll, not while jest collects the suite: `npm run mutate` attributes it to each test
// (tools/mutation/mutation-attribution.js).
let dev: any[];
let job: any;
let spec: any;
let server: any;
beforeAll(() => {
  dev = render(shippedConfig('dev')).byPath.mlflow;
  job = find(dev, 'Job', 'mlflow-migrate');
  spec = job.spec.template.spec;
  server = find(dev, 'Deployment', 'mlflow').spec.template.spec;
});

test('is a Sync hook (not PreSync), recreated before each sync, never TTL-deleted', () => {
  expect(job.metadata.annotations).toMatchObject({
    'argocd.argoproj.io/hook': 'Sync',
    'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
  });
  expect(job.spec.ttlSecondsAfterFinished).toBeUndefined();
});

test('runs after the ExternalSecrets and before the server', () => {
  const wave = (m: any) => Number(m.metadata.annotations['argocd.argoproj.io/sync-wave']);
  expect(wave(job)).toBeGreaterThan(wave(find(dev, 'ExternalSecret', 'mlflow-database')));
  expect(wave(job)).toBeLessThan(wave(find(dev, 'Deployment', 'mlflow')));
});

test('bounded: few retries, a generous deadline, pods never restart in place', () => {
  expect(job.spec.backoffLimit).toBe(2);
  expect(job.spec.activeDeadlineSeconds).toBe(3600);
  expect(spec.restartPolicy).toBe('Never');
});

test('same image (tag and digest), same KSA, and the proxy as a native sidecar so the Job can complete', () => {
  const migrate = spec.containers.find((c: any) => c.name === 'migrate');
  expect(migrate.image).toBe(server.containers[0].image);
  expect(spec.serviceAccountName).toBe('mlflow');
  const proxy = spec.initContainers.find((c: any) => c.name === 'cloud-sql-proxy');
  expect(proxy.restartPolicy).toBe('Always');
  expect(proxy).toEqual(server.initContainers.find((c: any) => c.name === 'cloud-sql-proxy'));
});

test('runs the script from the ConfigMap with the backend URI and the auth ini', () => {
  const migrate = spec.containers.find((c: any) => c.name === 'migrate');
  expect(migrate.command).toEqual(['python', '/opt/mlflow-migrate/migrate.py']);
  expect(envOf(migrate).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } });
  expect(envOf(migrate).MLFLOW_AUTH_CONFIG_PATH).toBe('/etc/mlflow/auth/basic_auth.ini');
  const cm = find(dev, 'ConfigMap', 'mlflow-migrate-script');
  expect(cm.data['migrate.py']).toBe(fs.readFileSync(path.join(ROOT, 'lib', 'mlflow', 'scripts', 'migrate.py'), 'utf8'));
});

test('pods are labelled as the migration component (selected by the egress policy)', () => {
  expect(job.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('migration');
});

describe('the metrics user: the Job creates exactly the user the collector logs in as', () => {
  let migrate: any;
  beforeAll(() => {
    migrate = spec.containers.find((c: any) => c.name === 'migrate');
  });

  test('name from auth.metricsUsername, password from the metrics Secret that ESO renders', () => {
    expect(envOf(migrate).MLFLOW_METRICS_USERNAME).toBe('metrics-scraper'); // config/dev.yaml auth.metricsUsername
    expect(envOf(migrate).MLFLOW_METRICS_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-metrics-auth', key: 'password' } });
    const es = find(dev, 'ExternalSecret', 'mlflow-metrics-auth');
    expect(es.spec.target.name).toBe('mlflow-metrics-auth');
    expect(Object.keys(es.spec.target.template.data)).toContain('password');
    const wave = (m: any) => Number(m.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave(job)).toBeGreaterThan(wave(es)); // the Secret exists when the Job starts
  });

  test.each(['dev', 'prod'])('%s: wired wherever metrics are scraped under basic-auth', (name) => {
    const c = shippedConfig(name);
    expect(c.auth !== undefined && c.metrics !== 'none').toBe(true);
    const m = find(render(c).byPath.mlflow, 'Job', 'mlflow-migrate').spec.template.spec.containers.find((x: any) => x.name === 'migrate');
    expect(envOf(m).MLFLOW_METRICS_USERNAME).toBe(rawConfig(name).auth.metricsUsername);
    expect(envOf(m).MLFLOW_METRICS_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-metrics-auth', key: 'password' } });
  });

  test("the PodMonitoring's basic-auth credentials are that user and that Secret key", () => {
    const endpoint = find(dev, 'PodMonitoring', 'mlflow').spec.endpoints[0];
    expect(endpoint.basicAuth).toEqual({
      username: envOf(migrate).MLFLOW_METRICS_USERNAME,
      password: { secret: { name: 'mlflow-metrics-auth', key: 'password' } },
    });
  });

  test('no metrics scraped: no metrics user, no reference to a metrics Secret', () => {
    const raw = rawConfig('dev');
    raw.metrics = 'none';
    const noMetrics = render(configFrom('dev', raw)).byPath.mlflow;
    const c = find(noMetrics, 'Job', 'mlflow-migrate').spec.template.spec.containers.find((x: any) => x.name === 'migrate');
    expect(envOf(c).MLFLOW_METRICS_USERNAME).toBeUndefined();
    expect(envOf(c).MLFLOW_METRICS_PASSWORD).toBeUndefined();
    expect(envOf(c).MLFLOW_AUTH_CONFIG_PATH).toBe('/etc/mlflow/auth/basic_auth.ini'); // the admin is still reconciled
  });
});

describe('the smoke user: the Job creates exactly the user the PostSync smoke test logs in as', () => {
  test.each(['dev', 'prod'])('%s: name and password from the smoke Secret that ESO renders, the same keys the smoke Job reads', (name) => {
    const ms = render(shippedConfig(name)).byPath.mlflow;
    const migrate = find(ms, 'Job', 'mlflow-migrate').spec.template.spec.containers.find((x: any) => x.name === 'migrate');
    expect(envOf(migrate).MLFLOW_SMOKE_USERNAME).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'username' } });
    expect(envOf(migrate).MLFLOW_SMOKE_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'password' } });
    const smoke = find(ms, 'Job', 'mlflow-smoke').spec.template.spec.containers.find((x: any) => x.name === 'smoke');
    expect(envOf(smoke).MLFLOW_TRACKING_USERNAME).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'username' } });
    expect(envOf(smoke).MLFLOW_TRACKING_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'password' } });
    expect(find(ms, 'ExternalSecret', 'mlflow-smoke-auth').spec.target.template.data).toEqual({ username: 'smoke-test', password: '{{ .password }}' });
  });

  test('no smoke user configured (auth off): no reference to a smoke Secret', () => {
    const raw = rawConfig('dev');
    raw.auth = { enabled: false };
    delete raw.clients; // clients and served models need basic-auth
    delete raw.serving;
    const noAuth = render(configFrom('dev', raw)).byPath.mlflow;
    const c = find(noAuth, 'Job', 'mlflow-migrate').spec.template.spec.containers.find((x: any) => x.name === 'migrate');
    expect(envOf(c).MLFLOW_SMOKE_USERNAME).toBeUndefined();
    expect(envOf(c).MLFLOW_SMOKE_PASSWORD).toBeUndefined();
  });
});

test('the migrate container: telemetry off, HOME and /tmp on a bounded scratch volume, the script read-only, sized', () => {
  const migrate = spec.containers.find((c: any) => c.name === 'migrate');
  expect(envOf(migrate)).toMatchObject({ MIGRATE_CONNECT_TIMEOUT_SECONDS: '120', MLFLOW_DISABLE_TELEMETRY: 'true', HOME: '/tmp' });
  expect(migrate.imagePullPolicy).toBe('IfNotPresent');
  expect(migrate.resources).toEqual({ requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '1000m', memory: '768Mi' } });
  expect(migrate.volumeMounts).toEqual([
    { mountPath: '/opt/mlflow-migrate', name: 'migrate-script', readOnly: true },
    { mountPath: '/tmp', name: 'migrate-tmp' },
    { mountPath: '/etc/mlflow/auth', name: 'auth-config', readOnly: true },
    // dev has clients and a served model: their access plan and passwords (test/mlflow/access-plan.test.ts)
    { mountPath: '/etc/mlflow/access', name: 'access-plan', readOnly: true },
    { mountPath: '/etc/mlflow/user-passwords', name: 'user-passwords', readOnly: true },
  ]);
  const volume = (name: string) => spec.volumes.find((v: any) => v.name === name);
  expect(volume('migrate-script')).toEqual({ name: 'migrate-script', configMap: { name: 'mlflow-migrate-script' } });
  expect(volume('migrate-tmp')).toEqual({ name: 'migrate-tmp', emptyDir: { sizeLimit: '256Mi' } });
});

test.each(['dev', 'prod'])("%s: the migrate container names the Cloud SQL instance the proxy connects to (the restore point's clone command); local's SQLite has none", (name) => {
  const ms = render(shippedConfig(name)).byPath.mlflow;
  const pod = find(ms, 'Job', 'mlflow-migrate').spec.template.spec;
  const migrate = pod.containers.find((c: any) => c.name === 'migrate');
  const proxy = pod.initContainers.find((c: any) => c.name === 'cloud-sql-proxy');
  expect(envOf(migrate).MIGRATE_CLOUDSQL_INSTANCE).toBe(rawConfig(name).database.instanceConnectionName);
  expect(proxy.args[0]).toBe(envOf(migrate).MIGRATE_CLOUDSQL_INSTANCE);

  const local = render(shippedConfig('local')).byPath.mlflow;
  const init = find(local, 'Deployment', 'mlflow').spec.template.spec.initContainers.find((c: any) => c.name === 'migrate');
  expect(envOf(init).MIGRATE_CLOUDSQL_INSTANCE).toBeUndefined();
});
