/**
 * AccessPlan: what the migration Job reads to reconcile the clients' and served models' MLflow users and grants —
 * the plan (a ConfigMap, no secret), and each user's password (an ExternalSecret over the user's own Secret Manager
 * secret), mounted into the migrate container; only for a server with clients or served models.
 */
import * as fs from 'fs';
import * as path from 'path';
import { MLFLOW_GRANTS } from '../../lib/config/schema';
import { configFrom, envOf, find, rawConfig, render, shippedConfig } from '../../tools/environments';
import { renderSecrets } from '../../tools/pod-harness/secrets';
import { containerNamed, volumeNamed } from '../support/constructs';

const wave = (m: any) => Number(m.metadata.annotations['argocd.argoproj.io/sync-wave']);

let dev: any[];
let pod: any;
let migrate: any;
beforeAll(() => {
  dev = render(shippedConfig('dev')).byPath.mlflow;
  pod = find(dev, 'Job', 'mlflow-migrate').spec.template.spec;
  migrate = containerNamed(pod, 'migrate');
});

test("dev: the plan lists each client's grants and each serving's model and alias, as config/dev.yaml says", () => {
  const plan = JSON.parse(find(dev, 'ConfigMap', 'mlflow-access-plan').data['access.json']);
  expect(plan).toEqual({
    clients: [
      { username: 'iris-trainer', experiments: [{ name: 'iris', permission: 'EDIT' }], models: [{ name: 'iris', permission: 'EDIT' }] },
      {
        username: 'iris-predictor',
        experiments: [
          { name: 'iris', permission: 'READ' },
          { name: 'iris-predictions', permission: 'EDIT' },
        ],
        models: [{ name: 'iris', permission: 'READ' }],
      },
    ],
    serving: [{ username: 'serve-iris', model: 'iris', alias: 'champion', promotion: 0 }],
  });
});

test("dev: one password file per user, named after it, from the user's own Secret Manager secret; nothing secret in git", () => {
  const es = find(dev, 'ExternalSecret', 'mlflow-user-passwords');
  expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'gcp-secret-manager' });
  const rendered = renderSecrets([es], {
    'mlflow-dev-client-iris-trainer-password': 'trainer-pw-0123456789',
    'mlflow-dev-client-iris-predictor-password': 'predictor-pw-0123456789',
    'mlflow-dev-serving-iris-password': 'serving-pw-0123456789',
  });
  expect(rendered.get('mlflow-user-passwords')).toEqual({
    'iris-trainer': 'trainer-pw-0123456789',
    'iris-predictor': 'predictor-pw-0123456789',
    'serve-iris': 'serving-pw-0123456789',
  });
  expect(dev.filter((m) => m.kind === 'Secret')).toEqual([]);
});

test('dev: the migrate container reads the plan and the passwords as read-only files, where its env says', () => {
  expect(envOf(migrate).MIGRATE_ACCESS_FILE).toBe('/etc/mlflow/access/access.json');
  expect(envOf(migrate).MIGRATE_PASSWORDS_DIR).toBe('/etc/mlflow/user-passwords');
  expect(migrate.volumeMounts).toEqual(
    expect.arrayContaining([
      { mountPath: '/etc/mlflow/access', name: 'access-plan', readOnly: true },
      { mountPath: '/etc/mlflow/user-passwords', name: 'user-passwords', readOnly: true },
    ]),
  );
  expect(volumeNamed(pod, 'access-plan')).toEqual({ name: 'access-plan', configMap: { name: 'mlflow-access-plan' } });
  expect(volumeNamed(pod, 'user-passwords')).toEqual({ name: 'user-passwords', secret: { secretName: 'mlflow-user-passwords' } });
  // The passwords never pass through the environment.
  expect(JSON.stringify(migrate.env)).not.toContain('mlflow-user-passwords');
});

test('both exist before the Job starts (lower sync waves)', () => {
  const job = find(dev, 'Job', 'mlflow-migrate');
  expect(wave(find(dev, 'ExternalSecret', 'mlflow-user-passwords'))).toBeLessThan(wave(job));
  expect(wave(find(dev, 'ConfigMap', 'mlflow-access-plan'))).toBeLessThan(wave(job));
});

test('a serving pinned to a version, and a client without permissions: the plan says the version and empty grants', () => {
  const raw = rawConfig('dev');
  raw.clients[1].permissions = undefined;
  raw.serving[0].clients = [];
  delete raw.serving[0].alias;
  raw.serving[0].version = 3;
  const plan = JSON.parse(find(render(configFrom('dev', raw)).byPath.mlflow, 'ConfigMap', 'mlflow-access-plan').data['access.json']);
  expect(plan.clients[1]).toEqual({ username: 'iris-predictor', experiments: [], models: [] });
  expect(plan.serving).toEqual([{ username: 'serve-iris', model: 'iris', version: 3 }]);
});

test("a raised promotion changes the server's plan by that count alone: the server's sync, and so its migration Job, follows it", () => {
  const planWith = (promotion: number) => {
    const raw = rawConfig('dev');
    raw.serving[0].promotion = promotion;
    return JSON.parse(find(render(configFrom('dev', raw)).byPath.mlflow, 'ConfigMap', 'mlflow-access-plan').data['access.json']);
  };
  const [before, after] = [planWith(3), planWith(4)];
  expect([before.serving[0].promotion, after.serving[0].promotion]).toEqual([3, 4]);
  expect({ ...after, serving: [{ ...after.serving[0], promotion: 3 }] }).toEqual(before);
});

test('only a serving, no client: its user alone', () => {
  const raw = rawConfig('dev');
  delete raw.clients;
  raw.serving[0].clients = [];
  const ms = render(configFrom('dev', raw)).byPath.mlflow;
  expect(JSON.parse(find(ms, 'ConfigMap', 'mlflow-access-plan').data['access.json']).clients).toEqual([]);
  expect(Object.keys(find(ms, 'ExternalSecret', 'mlflow-user-passwords').spec.target.template.data)).toEqual(['serve-iris']);
});

test.each(['prod', 'local'])('%s (no clients, no serving): no plan, no password Secret, nothing in the Job', (name) => {
  const c = shippedConfig(name);
  expect([c.clients.length, c.serving.length]).toEqual([0, 0]);
  const ms = render(c).byPath.mlflow;
  expect(ms.filter((m) => m.metadata.name === 'mlflow-access-plan' || m.metadata.name === 'mlflow-user-passwords')).toEqual([]);
  const workload = ms.find((m) => m.kind === 'Job' && m.metadata.name === 'mlflow-migrate') ?? find(ms, 'Deployment', 'mlflow');
  const container = containerNamed((workload as any).spec.template.spec, 'migrate');
  expect(envOf(container).MIGRATE_ACCESS_FILE).toBeUndefined();
  expect(envOf(container).MIGRATE_PASSWORDS_DIR).toBeUndefined();
});

test("the script grants exactly the permissions the config accepts (migrate.py's GRANTS is the schema's MLFLOW_GRANTS)", () => {
  const script = fs.readFileSync(path.join(__dirname, '..', '..', 'lib', 'mlflow', 'scripts', 'migrate.py'), 'utf8');
  const tuple = /^GRANTS = \(([^)]*)\)$/m.exec(script);
  expect(tuple).not.toBeNull();
  expect([...tuple![1].matchAll(/"([A-Z_]+)"/g)].map((m) => m[1])).toEqual([...MLFLOW_GRANTS]);
  expect([...MLFLOW_GRANTS]).toEqual(['READ', 'USE', 'EDIT', 'MANAGE']);
});
