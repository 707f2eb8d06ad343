/**
 * Metrics in a test chart: a GMP PodMonitoring or a prometheus-operator ServiceMonitor, anonymous or with
 * basic-auth credentials (and, for GMP, the Role that lets its collector read them). The `none` mode renders
 * no Metrics construct at all: see mlflow-chart.test.ts.
 */
import * as kplus from 'cdk8s-plus-28';
import type { GkeClusterKind } from '../../lib/config/schema';
import { Metrics, type MetricsMode } from '../../lib/mlflow/metrics';
import { find, objectsOf, ofKind, testChart } from '../support/constructs';

function build(mode: MetricsMode, withCredentials: boolean, clusterKind?: GkeClusterKind) {
  const chart = testChart();
  const user = withCredentials
    ? { credentials: { username: 'scraper', passwordSecret: 'scrape-password' }, secretProject: 'proj-123456', serviceAccount: new kplus.ServiceAccount(chart, 'Sa') }
    : undefined;
  const metrics = new Metrics(chart, 'Metrics', { mode, selectorLabels: { component: 'server' }, portName: 'web', user, clusterKind });
  return { metrics, objects: objectsOf(chart) };
}

describe('gmp', () => {
  test('anonymous: a PodMonitoring on the named port, no Role; the collector namespace is gmp-system', () => {
    const { metrics, objects } = build('gmp', false);
    const pm = find(objects, 'PodMonitoring', 'mlflow');
    expect(pm.apiVersion).toBe('monitoring.googleapis.com/v1');
    expect(pm.spec).toEqual({ selector: { matchLabels: { component: 'server' } }, endpoints: [{ port: 'web', path: '/metrics', interval: '30s' }] });
    expect(objects.map((o) => o.kind)).toEqual(['PodMonitoring']);
    expect(metrics.collectorNamespace).toBe('gmp-system');
  });

  test('with credentials: the user name inline, the password from the Secret', () => {
    const pm = find(build('gmp', true).objects, 'PodMonitoring', 'mlflow');
    expect(pm.spec.endpoints).toEqual([
      { port: 'web', path: '/metrics', interval: '30s', basicAuth: { username: 'scraper', password: { secret: { name: 'mlflow-metrics-auth', key: 'password' } } } },
    ]);
  });

  test('with credentials: GMP’s collector may get exactly that Secret, nothing else', () => {
    const { objects } = build('gmp', true);
    const role = find(objects, 'Role', 'gmp-collector-read-mlflow-metrics-auth');
    expect(role.apiVersion).toBe('rbac.authorization.k8s.io/v1');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['secrets'], resourceNames: ['mlflow-metrics-auth'], verbs: ['get'] }]);
    const binding = find(objects, 'RoleBinding', 'gmp-collector-read-mlflow-metrics-auth');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gmp-collector-read-mlflow-metrics-auth' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'collector', namespace: 'gmp-system' }]);
  });

  test('on Autopilot: the collector namespace and the RoleBinding subject are gke-gmp-system', () => {
    const { metrics, objects } = build('gmp', true, 'autopilot');
    expect(metrics.collectorNamespace).toBe('gke-gmp-system');
    expect(find(objects, 'RoleBinding', 'gmp-collector-read-mlflow-metrics-auth').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'collector', namespace: 'gke-gmp-system' },
    ]);
  });

  test('on Standard, named: as by default', () => {
    const { metrics, objects } = build('gmp', true, 'standard');
    expect(metrics.collectorNamespace).toBe('gmp-system');
    expect(find(objects, 'RoleBinding', 'gmp-collector-read-mlflow-metrics-auth').subjects[0].namespace).toBe('gmp-system');
  });

  test('snapshot: with credentials', () => {
    expect(build('gmp', true).objects.filter((o) => o.kind !== 'ServiceAccount')).toMatchSnapshot();
  });
});

describe('prometheus-operator', () => {
  test('anonymous: a ServiceMonitor on the named port; the collector namespace is monitoring', () => {
    const { metrics, objects } = build('prometheus-operator', false);
    const sm = find(objects, 'ServiceMonitor', 'mlflow');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.spec).toEqual({ selector: { matchLabels: { component: 'server' } }, endpoints: [{ port: 'web', path: '/metrics', interval: '30s' }] });
    expect(objects.map((o) => o.kind)).toEqual(['ServiceMonitor']);
    expect(metrics.collectorNamespace).toBe('monitoring');
  });

  test('with credentials: user name and password both from the Secret, no Role (Prometheus reads its own Secrets)', () => {
    const { objects } = build('prometheus-operator', true);
    expect(find(objects, 'ServiceMonitor', 'mlflow').spec.endpoints).toEqual([
      {
        port: 'web',
        path: '/metrics',
        interval: '30s',
        basicAuth: { username: { name: 'mlflow-metrics-auth', key: 'username' }, password: { name: 'mlflow-metrics-auth', key: 'password' } },
      },
    ]);
    expect(ofKind(objects, 'Role')).toEqual([]);
    expect(ofKind(objects, 'RoleBinding')).toEqual([]);
  });

  test('snapshot: with credentials', () => {
    expect(build('prometheus-operator', true).objects.filter((o) => o.kind !== 'ServiceAccount')).toMatchSnapshot();
  });
});
