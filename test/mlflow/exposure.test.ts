/**
 * Exposure in a test chart: GKE Ingress with a cert-manager certificate for every host, BackendConfig health
 * check and timeouts, HTTP→HTTPS redirect, the Service on NEGs (docs/design.md#exposure).
 */
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Exposure } from '../../lib/mlflow/exposure';
import { NetworkPolicies } from '../../lib/mlflow/network-policies';
import { find, objectsOf, testChart } from '../support/constructs';

function build(hosts: readonly string[], className: 'gce' | 'gce-internal' = 'gce', network = false) {
  const chart = testChart();
  const service = new kplus.Service(chart, 'Service', { metadata: { name: 'web' }, ports: [{ name: 'http', port: 8080 }] });
  new Exposure(chart, 'Exposure', {
    service,
    port: 8080,
    hosts,
    clusterIssuer: 'issuer-a',
    className,
    backendTimeout: Duration.seconds(1200),
    network: network ? new NetworkPolicies(chart, 'Network', { serverLabels: { component: 'server' }, egressComponents: ['server'], port: 8080 }) : undefined,
  });
  return objectsOf(chart);
}

test("its network rules: Google's load balancers reach the server and cert-manager's HTTP-01 solver", () => {
  const objects = build(['a.example.com'], 'gce', true);
  const lb = [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }];
  expect(find(objects, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress[0].from).toEqual(lb);
  expect(find(objects, 'NetworkPolicy', 'acme-http01-solver-ingress').spec.ingress[0].from).toEqual(lb);
});

const HOSTS = ['a.example.com', 'b.example.org', 'c.example.net'];
const backend = { service: { name: 'web', port: { number: 8080 } } };

test('one rule per host, all to the Service port', () => {
  expect(find(build(HOSTS), 'Ingress', 'mlflow').spec.rules).toEqual([
    { host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } },
    { host: 'b.example.org', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } },
    { host: 'c.example.net', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } },
  ]);
});

test('one certificate covering every host', () => {
  expect(find(build(HOSTS), 'Ingress', 'mlflow').spec.tls).toEqual([{ hosts: ['a.example.com', 'b.example.org', 'c.example.net'], secretName: 'mlflow-tls' }]);
});

test('GKE controller by annotation (not ingressClassName), cert-manager issuing in place with a temporary certificate', () => {
  const ingress = find(build(HOSTS, 'gce-internal'), 'Ingress', 'mlflow');
  expect(ingress.metadata.annotations).toEqual({
    'kubernetes.io/ingress.class': 'gce-internal',
    'networking.gke.io/v1beta1.FrontendConfig': 'mlflow',
    'cert-manager.io/cluster-issuer': 'issuer-a',
    'acme.cert-manager.io/http01-edit-in-place': 'true',
    'cert-manager.io/issue-temporary-certificate': 'true',
  });
  expect(ingress.spec.ingressClassName).toBeUndefined();
});

test('BackendConfig: /health on the serving port, the backend timeout, 30 s draining', () => {
  const b = find(build(HOSTS), 'BackendConfig', 'mlflow');
  expect(b.apiVersion).toBe('cloud.google.com/v1');
  expect(b.spec).toEqual({
    timeoutSec: 1200,
    connectionDraining: { drainingTimeoutSec: 30 },
    healthCheck: { type: 'HTTP', requestPath: '/health', port: 8080, checkIntervalSec: 10, timeoutSec: 5 },
  });
});

test('FrontendConfig redirects HTTP to HTTPS permanently', () => {
  const f = find(build(HOSTS), 'FrontendConfig', 'mlflow');
  expect(f.apiVersion).toBe('networking.gke.io/v1beta1');
  expect(f.spec).toEqual({ redirectToHttps: { enabled: true, responseCodeName: 'PERMANENT_REDIRECT' } });
});

test('the Service gets NEGs and the BackendConfig', () => {
  expect(find(build(HOSTS), 'Service', 'web').metadata.annotations).toEqual({
    'cloud.google.com/neg': '{"ingress":true}',
    'cloud.google.com/backend-config': '{"default":"mlflow"}',
  });
});

test('snapshot: two hosts', () => {
  expect(build(['a.example.com', 'b.example.org'])).toMatchSnapshot();
});
