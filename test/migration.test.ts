/** MigrationJob: one Argo CD Sync hook Job with the proxy as a native sidecar (DESIGN §3). */
import * as fs from 'fs';
import * as path from 'path';
import { envOf, find, render, shippedConfig, ROOT } from './support/environments';

const dev = render(shippedConfig('dev')).byPath.mlflow;
const job = find(dev, 'Job', 'mlflow-migrate');
const spec = job.spec.template.spec;
const server = find(dev, 'Deployment', 'mlflow').spec.template.spec;

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
