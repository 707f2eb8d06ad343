/** Metrics: --expose-prometheus and a PodMonitoring or ServiceMonitor per config. */
import { configFrom, find, ofKind, rawConfig, render, shippedConfig } from './support/environments';

test('gmp: PodMonitoring on the named port with basic-auth, and GMP allowed to read only that Secret', () => {
  const dev = render(shippedConfig('dev')).byPath.mlflow;
  const pm = find(dev, 'PodMonitoring', 'mlflow');
  expect(pm.apiVersion).toBe('monitoring.googleapis.com/v1');
  expect(pm.spec.selector.matchLabels['app.kubernetes.io/component']).toBe('server');
  expect(pm.spec.endpoints).toEqual([
    { port: 'http', path: '/metrics', interval: '30s', basicAuth: { username: 'metrics-scraper', password: { secret: { name: 'mlflow-metrics-auth', key: 'password' } } } },
  ]);
  const role = find(dev, 'Role', 'gmp-collector-read-mlflow-metrics-auth');
  expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['mlflow-metrics-auth'], verbs: ['get'] }]);
  expect(find(dev, 'RoleBinding', 'gmp-collector-read-mlflow-metrics-auth').subjects).toEqual([
    { kind: 'ServiceAccount', name: 'collector', namespace: 'gmp-system' },
  ]);
});

test('prometheus-operator: ServiceMonitor with credentials from the Secret; collector namespace admitted', () => {
  const doc = rawConfig('prod');
  doc.metrics = 'prometheus-operator';
  const ms = render(configFrom('prod', doc)).byPath.mlflow;
  const sm = find(ms, 'ServiceMonitor', 'mlflow');
  expect(sm.spec.endpoints[0]).toMatchObject({
    port: 'http',
    path: '/metrics',
    basicAuth: { username: { name: 'mlflow-metrics-auth', key: 'username' }, password: { name: 'mlflow-metrics-auth', key: 'password' } },
  });
  expect(ofKind(ms, 'PodMonitoring')).toEqual([]);
  const from = find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress[0].from;
  expect(from).toContainEqual({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } });
});

test('none: no monitor, no --expose-prometheus, no pod-IP Host patterns', () => {
  const doc = rawConfig('prod');
  doc.metrics = 'none';
  delete doc.auth.metricsUsername;
  delete doc.auth.metricsPasswordSecret;
  const ms = render(configFrom('prod', doc)).byPath.mlflow;
  expect([...ofKind(ms, 'PodMonitoring'), ...ofKind(ms, 'ServiceMonitor'), ...ofKind(ms, 'Role')]).toEqual([]);
  const c = find(ms, 'Deployment', 'mlflow').spec.template.spec.containers[0];
  expect(c.command).not.toContain('--expose-prometheus');
  expect(c.env.find((e: any) => e.name === 'MLFLOW_SERVER_ALLOWED_HOSTS').value).not.toContain('10.*');
});
