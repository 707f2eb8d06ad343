/**
 * MlflowChart with `exposure.mode: gateway` (prod's config exposed through a GKE Gateway): the hosts feed the Host
 * allow-list, CORS, the routes and the certificate exactly as the Ingress's do; Google's load balancers (and the
 * proxy-only subnet of a regional class) are admitted; the defaults; Pod Security unaffected. The objects
 * themselves are specified in gateway.test.ts.
 */
import { envOf, containerNamed, find, ofKind } from '../support/constructs';
import { mlflowManifests, policyProblems } from '../../lib/synth/synth';
import { validateManifest } from '../../tools/schema-validation';
import { GATEWAY_HOSTS, gatewayConfig } from '../support/gateway';
import { configFrom, rawConfig, shippedConfig } from '../../tools/environments';

const render = (mutate?: (d: any) => void) => mlflowManifests(gatewayConfig(mutate));
const serverEnv = (ms: any[]) => envOf(containerNamed(find(ms, 'Deployment', 'mlflow').spec.template.spec, 'mlflow'));
const serverIngressFrom = (ms: any[]) => {
  const rules = find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress;
  expect(rules).toHaveLength(1);
  return rules.find(() => true).from;
};
const GOOGLE = [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }];
const GMP = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } };
const SMOKE = { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-prod', 'app.kubernetes.io/component': 'smoke' } } };

describe('several hosts: each one everywhere the hosts go', () => {
  // Built when the tests run, not while jest collects them (so that mutation testing can attribute each mutant).
  let ms: any[];
  beforeAll(() => {
    ms = render();
  });

  test('the Host allow-list starts with every host, as with an Ingress', () => {
    const hosts = serverEnv(ms).MLFLOW_SERVER_ALLOWED_HOSTS.split(',');
    expect(hosts.slice(0, 3)).toEqual(GATEWAY_HOSTS);
    expect(hosts).toContain('mlflow.mlflow.svc.cluster.local:5000');
  });

  test('CORS admits the https origin of every host', () => {
    expect(serverEnv(ms).MLFLOW_SERVER_CORS_ALLOWED_ORIGINS.split(',')).toEqual([
      'https://mlflow.example.com',
      'https://tracking.example.org',
      'https://ml.example.net',
      'http://localhost:5000',
      'http://127.0.0.1:5000',
    ]);
  });

  test('both routes and the certificate carry every host', () => {
    expect(find(ms, 'HTTPRoute', 'mlflow').spec.hostnames).toEqual(GATEWAY_HOSTS);
    expect(find(ms, 'HTTPRoute', 'mlflow-https-redirect').spec.hostnames).toEqual(GATEWAY_HOSTS);
    expect(find(ms, 'Certificate', 'mlflow').spec.dnsNames).toEqual(GATEWAY_HOSTS);
  });

  test('the same Host and CORS lists as the Ingress of the same hosts', () => {
    const doc = rawConfig('prod');
    doc.exposure.hosts = GATEWAY_HOSTS;
    const ingress = mlflowManifests(configFrom('prod', doc));
    for (const k of ['MLFLOW_SERVER_ALLOWED_HOSTS', 'MLFLOW_SERVER_CORS_ALLOWED_ORIGINS']) expect({ k, v: serverEnv(ms)[k] }).toEqual({ k, v: serverEnv(ingress)[k] });
  });

  test('Google’s load balancer and health-check ranges are admitted to the server, with the collector and the smoke test', () => {
    expect(serverIngressFrom(ms)).toEqual([...GOOGLE, GMP, SMOKE]);
  });

  test('the route, the policies and the Service name the same Service and port', () => {
    const service = find(ms, 'Service', 'mlflow');
    const port = service.spec.ports.find(() => true).port;
    expect(find(ms, 'HTTPRoute', 'mlflow').spec.rules[0].backendRefs).toEqual([{ group: '', kind: 'Service', name: 'mlflow', port }]);
    expect(find(ms, 'HealthCheckPolicy', 'mlflow').spec.targetRef).toEqual({ group: '', kind: 'Service', name: 'mlflow' });
    expect(find(ms, 'HealthCheckPolicy', 'mlflow').spec.default.config.httpHealthCheck.port).toBe(port);
    expect(find(ms, 'GCPBackendPolicy', 'mlflow').spec.targetRef).toEqual({ group: '', kind: 'Service', name: 'mlflow' });
  });

  test('no Ingress-path object and no NEG or BackendConfig annotation on the Service', () => {
    for (const kind of ['Ingress', 'BackendConfig', 'FrontendConfig']) expect(ofKind(ms, kind)).toEqual([]);
    expect(find(ms, 'Service', 'mlflow').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '1' });
  });

  test('schema-valid, and Pod Security restricted with requests and limits on every pod (unaffected by the exposure)', () => {
    expect(ms.flatMap((m) => validateManifest(m).map((e) => `${m.kind}/${m.metadata.name}: ${e}`))).toEqual([]);
    expect(policyProblems(ms)).toEqual([]);
  });

  test('the Argo CD waves place the Gateway, routes and certificate like the Ingress, the policies like the BackendConfig', () => {
    const wave = (kind: string, name: string) => find(ms, kind, name).metadata.annotations['argocd.argoproj.io/sync-wave'];
    expect([wave('Gateway', 'mlflow'), wave('HTTPRoute', 'mlflow'), wave('HTTPRoute', 'mlflow-https-redirect'), wave('Certificate', 'mlflow')]).toEqual(['2', '2', '2', '2']);
    expect([wave('HealthCheckPolicy', 'mlflow'), wave('GCPBackendPolicy', 'mlflow')]).toEqual(['1', '1']);
  });
});

describe('defaults and options', () => {
  test('omitted: the global external class, 30 s connection draining (as the Ingress path’s BackendConfig)', () => {
    const ms = render();
    expect(find(ms, 'Gateway', 'mlflow').spec.gatewayClassName).toBe('gke-l7-global-external-managed');
    expect(find(ms, 'GCPBackendPolicy', 'mlflow').spec.default).toEqual({ timeoutSec: 900, connectionDraining: { drainingTimeoutSec: 30 } });
    expect(find(mlflowManifests(shippedConfig('prod')), 'BackendConfig', 'mlflow').spec.connectionDraining).toEqual({ drainingTimeoutSec: 30 });
  });

  test('set: the class, the draining, the backend timeout', () => {
    const ms = render((d) => ((d.exposure.className = 'gke-l7-gxlb'), (d.exposure.drainingTimeoutSeconds = 120), (d.exposure.backendTimeoutSeconds = 3600)));
    expect(find(ms, 'Gateway', 'mlflow').spec.gatewayClassName).toBe('gke-l7-gxlb');
    expect(find(ms, 'GCPBackendPolicy', 'mlflow').spec.default).toEqual({ timeoutSec: 3600, connectionDraining: { drainingTimeoutSec: 120 } });
  });

  test('a regional internal class: the proxy-only subnet is admitted besides Google’s health-check ranges', () => {
    const ms = render((d) => ((d.exposure.className = 'gke-l7-rilb'), (d.exposure.proxyOnlySubnetCidr = '10.129.0.0/23')));
    expect(find(ms, 'Gateway', 'mlflow').spec.gatewayClassName).toBe('gke-l7-rilb');
    expect(serverIngressFrom(ms)).toEqual([...GOOGLE, { ipBlock: { cidr: '10.129.0.0/23' } }, GMP, SMOKE]);
  });

  test('a Certificate Manager map: the Gateway annotation, no Certificate, no TLS Secret referenced', () => {
    const ms = render((d) => (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-prod' }));
    const gw = find(ms, 'Gateway', 'mlflow');
    expect(gw.metadata.annotations).toEqual({ 'networking.gke.io/certmap': 'mlflow-prod', 'argocd.argoproj.io/sync-wave': '2' });
    expect(gw.spec.listeners.map((l: any) => l.tls)).toEqual([undefined, undefined]);
    expect(ofKind(ms, 'Certificate')).toEqual([]);
  });
});
