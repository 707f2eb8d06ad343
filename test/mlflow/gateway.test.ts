/**
 * GkeGateway in a test chart: a Gateway on a GKE class with an HTTPS listener (cert-manager Secret or Certificate
 * Manager map) and an HTTP listener that only redirects, an HTTPRoute of every host to the Service, the
 * health check and backend policy on the Service (docs/design.md#exposure).
 */
import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { GkeGateway, type GatewayCertificate } from '../../lib/mlflow/gateway';
import { NetworkPolicies } from '../../lib/mlflow/network-policies';
import type { GkeGatewayClass } from '../../lib/config/schema';
import { validateManifest } from '../../tools/schema-validation';
import { find, objectsOf, ofKind, testChart } from '../support/constructs';

const HOSTS = ['a.example.com', 'b.example.org', 'c.example.net'];
const CERT_MANAGER: GatewayCertificate = { source: 'cert-manager', clusterIssuer: 'issuer-a' };
const MAP: GatewayCertificate = { source: 'certificate-manager', mapName: 'mlflow-map' };

function build(opts: { hosts?: readonly string[]; certificate?: GatewayCertificate; className?: GkeGatewayClass; proxyOnlySubnetCidr?: string; network?: boolean } = {}) {
  const chart = testChart();
  const service = new kplus.Service(chart, 'Service', { metadata: { name: 'web' }, ports: [{ name: 'http', port: 8080 }] });
  new GkeGateway(chart, 'Gateway', {
    service,
    port: 8080,
    hosts: opts.hosts ?? HOSTS,
    className: opts.className ?? 'gke-l7-global-external-managed',
    certificate: opts.certificate ?? CERT_MANAGER,
    backendTimeout: Duration.seconds(1200),
    drainingTimeout: Duration.seconds(45),
    proxyOnlySubnetCidr: opts.proxyOnlySubnetCidr,
    network: opts.network ? new NetworkPolicies(chart, 'Network', { serverLabels: { component: 'server' }, egressComponents: ['server'], port: 8080 }) : undefined,
  });
  return objectsOf(chart);
}

describe('its network rules', () => {
  const fromOf = (objects: any[], name: string) => find(objects, 'NetworkPolicy', name).spec.ingress[0].from;

  test("a regional class: the load balancer's sources (Google's ranges, then the proxy-only subnet) reach the server and cert-manager's solver", () => {
    const objects = build({ className: 'gke-l7-regional-external-managed', proxyOnlySubnetCidr: '10.129.0.0/23', network: true });
    const sources = [...[{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }], { ipBlock: { cidr: '10.129.0.0/23' } }];
    expect(fromOf(objects, 'mlflow-server-ingress')).toEqual(sources);
    expect(fromOf(objects, 'acme-http01-solver-ingress')).toEqual(sources);
  });

  test('a Certificate Manager map: the load balancers reach the server; no solver, so no policy for one', () => {
    const objects = build({ certificate: MAP, network: true });
    expect(fromOf(objects, 'mlflow-server-ingress')).toEqual([{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }]);
    expect(ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('acme-http01-solver-ingress');
  });
});
const listener = (gw: any, name: string) => {
  const hits = gw.spec.listeners.filter((l: any) => l.name === name);
  expect(hits).toHaveLength(1);
  return hits[0];
};

describe('with a cert-manager certificate', () => {
  // Built in beforeAll, not while jest collects them: `npm run mutate` attributes it to each test
  // (tools/mutation/mutation-attribution.js).
  let ms: any[];
  beforeAll(() => {
    ms = build();
  });

  test('the Gateway: the configured class, HTTPS on 443 terminating with the cert-manager Secret, HTTP on 80, routes of its namespace only', () => {
    const gw = find(ms, 'Gateway', 'mlflow');
    expect(gw.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(gw.metadata.annotations).toBeUndefined();
    expect(gw.spec.gatewayClassName).toBe('gke-l7-global-external-managed');
    expect(listener(gw, 'https')).toEqual({
      name: 'https',
      protocol: 'HTTPS',
      port: 443,
      tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'mlflow-tls' }] },
      allowedRoutes: { namespaces: { from: 'Same' } },
    });
    expect(listener(gw, 'http')).toEqual({ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } });
    expect(gw.spec.listeners).toHaveLength(2);
  });

  test('one Certificate for every host, into the Secret the listener references, from the ClusterIssuer, temporary certificate first', () => {
    const c = find(ms, 'Certificate', 'mlflow');
    expect(c.apiVersion).toBe('cert-manager.io/v1');
    expect(c.metadata.annotations).toEqual({ 'cert-manager.io/issue-temporary-certificate': 'true' });
    expect(c.spec).toEqual({
      secretName: 'mlflow-tls',
      dnsNames: ['a.example.com', 'b.example.org', 'c.example.net'],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'issuer-a' },
    });
  });

  test('the HTTPRoute sends every path of every host, on the HTTPS listener, to the Service port', () => {
    const r = find(ms, 'HTTPRoute', 'mlflow');
    expect(r.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlflow', sectionName: 'https' }],
      hostnames: ['a.example.com', 'b.example.org', 'c.example.net'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 8080 }] }],
    });
  });

  test('the HTTP listener’s only route redirects every host to HTTPS (301) and has no backend', () => {
    const r = find(ms, 'HTTPRoute', 'mlflow-https-redirect');
    expect(r.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlflow', sectionName: 'http' }],
      hostnames: ['a.example.com', 'b.example.org', 'c.example.net'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/' } }],
          filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }],
        },
      ],
    });
    // Only these two routes: nothing else attaches to the HTTP listener.
    expect(ofKind(ms, 'HTTPRoute').map((x) => x.metadata.name).sort()).toEqual(['mlflow', 'mlflow-https-redirect']);
  });

  test('HealthCheckPolicy on the Service: HTTP /health on the serving port', () => {
    const h = find(ms, 'HealthCheckPolicy', 'mlflow');
    expect(h.apiVersion).toBe('networking.gke.io/v1');
    expect(h.spec).toEqual({
      default: {
        checkIntervalSec: 10,
        timeoutSec: 5,
        config: { type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_FIXED_PORT', port: 8080, requestPath: '/health' } },
      },
      targetRef: { group: '', kind: 'Service', name: 'web' },
    });
  });

  test('GCPBackendPolicy on the Service: the backend timeout and the connection draining', () => {
    const b = find(ms, 'GCPBackendPolicy', 'mlflow');
    expect(b.apiVersion).toBe('networking.gke.io/v1');
    expect(b.spec).toEqual({ default: { timeoutSec: 1200, connectionDraining: { drainingTimeoutSec: 45 } }, targetRef: { group: '', kind: 'Service', name: 'web' } });
  });

  test('the Service is left as it is (the Gateway controller makes the NEGs itself), and no Ingress-path object is rendered', () => {
    expect(find(ms, 'Service', 'web').metadata.annotations).toBeUndefined();
    for (const kind of ['Ingress', 'BackendConfig', 'FrontendConfig']) expect(ofKind(ms, kind)).toEqual([]);
  });

  test('every object is valid against its schema (Kubernetes or the pinned CRD)', () => {
    expect(ms.flatMap((m) => validateManifest(m).map((e) => `${m.kind}/${m.metadata.name}: ${e}`))).toEqual([]);
  });
});

describe('with a Certificate Manager map', () => {
  let ms: any[];
  beforeAll(() => {
    ms = build({ certificate: MAP, className: 'gke-l7-gxlb' });
  });

  test('the Gateway names the map by annotation and its HTTPS listener lists no certificate', () => {
    const gw = find(ms, 'Gateway', 'mlflow');
    expect(gw.metadata.annotations).toEqual({ 'networking.gke.io/certmap': 'mlflow-map' });
    expect(gw.spec.gatewayClassName).toBe('gke-l7-gxlb');
    expect(listener(gw, 'https')).toEqual({ name: 'https', protocol: 'HTTPS', port: 443, allowedRoutes: { namespaces: { from: 'Same' } } });
  });

  test('no cert-manager Certificate, the routes unchanged', () => {
    expect(ofKind(ms, 'Certificate')).toEqual([]);
    expect(find(ms, 'HTTPRoute', 'mlflow').spec.hostnames).toEqual(HOSTS);
    expect(find(ms, 'HTTPRoute', 'mlflow-https-redirect').spec.hostnames).toEqual(HOSTS);
  });

  test('every object is valid against its schema', () => {
    expect(ms.flatMap((m) => validateManifest(m).map((e) => `${m.kind}/${m.metadata.name}: ${e}`))).toEqual([]);
  });
});

test('the schema check does look at the new kinds: a misspelt field is refused on each', () => {
  const ms = build();
  const broken = (kind: string, name: string, patch: (o: any) => void) => {
    const o = structuredClone(find(ms, kind, name));
    patch(o);
    return validateManifest(o);
  };
  expect(broken('Gateway', 'mlflow', (o) => (o.spec.listeners[0].prot = 1))).toEqual(['/spec/listeners/0: unknown field "prot"']);
  expect(broken('HTTPRoute', 'mlflow', (o) => (o.spec.hostname = 'x'))).toEqual(['/spec: unknown field "hostname"']);
  expect(broken('HealthCheckPolicy', 'mlflow', (o) => (o.spec.default.config.httpHealthCheck.path = '/'))).toEqual([
    '/spec/default/config/httpHealthCheck: unknown field "path"',
  ]);
  expect(broken('GCPBackendPolicy', 'mlflow', (o) => (o.spec.default.timeout = 1))).toEqual(['/spec/default: unknown field "timeout"']);
  expect(broken('Certificate', 'mlflow', (o) => (o.spec.dnsName = 'x'))).toEqual(['/spec: unknown field "dnsName"']);
});

test('snapshot: two hosts, cert-manager', () => {
  expect(build({ hosts: ['a.example.com', 'b.example.org'] })).toMatchSnapshot();
});
