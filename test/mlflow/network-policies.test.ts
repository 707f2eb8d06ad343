/** NetworkPolicies in a test chart: default deny, then the exact allows each feature adds (docs/design.md#security-and-availability). */
import {
  CLOUD_SQL_EGRESS,
  GOOGLE_APIS_EGRESS,
  loadBalancerPeers,
  namespacePeer,
  NetworkPolicies,
} from '../../lib/mlflow/network-policies';
import { find, objectsOf, ofKind, testChart } from '../support/constructs';

/** What the features of a chart would add, each as the feature adds it (in the chart's order of construction). */
interface Features {
  port?: number;
  googleApis?: boolean;
  cloudSql?: boolean;
  metricsNamespace?: string;
  smokeTestLabels?: Record<string, string>;
  gcLabels?: Record<string, string>;
  /** An exposure: its load balancers (and proxy-only subnet), and the HTTP-01 solver when it uses cert-manager. */
  exposure?: { proxyOnlySubnetCidr?: string; http01: boolean };
}

function build(f: Features = {}) {
  const chart = testChart();
  const network = new NetworkPolicies(chart, 'Policies', { serverLabels: { component: 'server' }, egressComponents: ['server', 'migration'], port: f.port ?? 5000 });
  if (f.googleApis) network.allowEgress(...GOOGLE_APIS_EGRESS);
  if (f.cloudSql) network.allowEgress(CLOUD_SQL_EGRESS);
  if (f.metricsNamespace) network.admitToServer(namespacePeer(f.metricsNamespace));
  if (f.smokeTestLabels) network.serverClientEgress(chart, 'Smoke', { name: 'mlflow-smoke-egress', podLabels: f.smokeTestLabels, dns: true });
  if (f.gcLabels) {
    network.serverClientEgress(chart, 'Gc', { name: 'mlflow-gc-egress', podLabels: f.gcLabels, dns: false });
    network.addEgressComponent(f.gcLabels);
  }
  if (f.exposure) {
    const lb = loadBalancerPeers(f.exposure.proxyOnlySubnetCidr);
    network.admitToServer(...lb);
    if (f.exposure.http01) network.admitHttp01Solver(lb);
  }
  return objectsOf(chart);
}

const DNS = {
  to: [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    { ipBlock: { cidr: '169.254.20.10/32' } },
    { ipBlock: { cidr: '169.254.169.254/32' } },
  ],
  ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
};
const METADATA = [
  { to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ protocol: 'TCP', port: 80 }] },
  { to: [{ ipBlock: { cidr: '169.254.169.252/32' } }], ports: [{ protocol: 'TCP', port: 988 }] },
];
const GOOGLE_APIS = { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }], ports: [{ protocol: 'TCP', port: 443 }] };
const CLOUD_SQL = { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 3307 }] };

test('default deny of ingress and egress for every pod of the namespace', () => {
  expect(find(build(), 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
});

test('nothing admitted by default: no ingress policy; egress to DNS only, for the listed components', () => {
  const objects = build();
  expect(ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual(['default-deny', 'mlflow-egress']);
  expect(find(objects, 'NetworkPolicy', 'mlflow-egress').spec).toEqual({
    podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['server', 'migration'] }] },
    policyTypes: ['Egress'],
    egress: [DNS],
  });
});

test('further source ranges (a proxy-only subnet) to the serving port, after the Google ranges', () => {
  expect(find(build({ exposure: { proxyOnlySubnetCidr: '10.129.0.0/23', http01: false } }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    {
      from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }, { ipBlock: { cidr: '10.129.0.0/23' } }],
      ports: [{ protocol: 'TCP', port: 5000 }],
    },
  ]);
});

test('Google load balancers and health checkers to the serving port', () => {
  expect(find(build({ exposure: { http01: false } }), 'NetworkPolicy', 'mlflow-server-ingress').spec).toEqual({
    podSelector: { matchLabels: { component: 'server' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }], ports: [{ protocol: 'TCP', port: 5000 }] }],
  });
});

describe("cert-manager's ACME HTTP-01 solver pods", () => {
  test('admit exactly the load balancer sources of the server (Google ranges, then the proxy-only subnet) on 8089, ingress only', () => {
    const objects = build({ exposure: { proxyOnlySubnetCidr: '10.129.0.0/23', http01: true }, metricsNamespace: 'gmp-system' });
    expect(find(objects, 'NetworkPolicy', 'acme-http01-solver-ingress').spec).toEqual({
      podSelector: { matchLabels: { 'acme.cert-manager.io/http01-solver': 'true' } },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }, { ipBlock: { cidr: '10.129.0.0/23' } }],
          ports: [{ protocol: 'TCP', port: 8089 }],
        },
      ],
    });
  });

  test('get no policy unless an exposure asks for one (a Certificate Manager map, or no exposure)', () => {
    const names = (f: Features) => ofKind(build(f), 'NetworkPolicy').map((p) => p.metadata.name);
    expect(names({ exposure: { http01: false } })).not.toContain('acme-http01-solver-ingress');
    expect(names({})).not.toContain('acme-http01-solver-ingress');
  });
});

test('the metrics collector’s namespace to the serving port', () => {
  expect(find(build({ metricsNamespace: 'monitoring', port: 8080 }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
  ]);
});

test('both sources in one rule: the load balancers first, whichever feature added its peers first', () => {
  expect(find(build({ metricsNamespace: 'gmp-system', exposure: { http01: false } }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    {
      from: [
        { ipBlock: { cidr: '35.191.0.0/16' } },
        { ipBlock: { cidr: '130.211.0.0/22' } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
      ],
      ports: [{ protocol: 'TCP', port: 5000 }],
    },
  ]);
});

test('Google APIs: the metadata server (80, and 988 on Dataplane V2) and public 443, not private ranges', () => {
  expect(find(build({ googleApis: true }), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS, ...METADATA, GOOGLE_APIS]);
});

test('Cloud SQL: port 3307', () => {
  expect(find(build({ cloudSql: true }), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS, CLOUD_SQL]);
});

const SMOKE = { 'app.kubernetes.io/component': 'smoke' };
const GC = { 'app.kubernetes.io/component': 'gc' };
const toServer = (port: number) => ({ to: [{ podSelector: { matchLabels: { component: 'server' } } }], ports: [{ protocol: 'TCP', port }] });

// Built inside each test, not in the describe body: Stryker counts what runs while jest collects as static.
describe('the smoke test pods', () => {
  const objects = () => build({ smokeTestLabels: SMOKE, port: 8080 });

  test('add the server ingress and their own egress policy, nothing else', () => {
    expect(ofKind(objects(), 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual(['default-deny', 'mlflow-egress', 'mlflow-server-ingress', 'mlflow-smoke-egress']);
  });

  test('are admitted to the serving port', () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-server-ingress').spec).toEqual({
      podSelector: { matchLabels: { component: 'server' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: SMOKE } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
  });

  test('may reach DNS and the server pods on the serving port, nothing else (no metadata server, no Google APIs)', () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-smoke-egress').spec).toEqual({
      podSelector: { matchLabels: SMOKE },
      policyTypes: ['Egress'],
      egress: [DNS, toServer(8080)],
    });
    // Not opened to Google APIs even when the server's pods are.
    expect(find(build({ smokeTestLabels: SMOKE, googleApis: true, cloudSql: true }), 'NetworkPolicy', 'mlflow-smoke-egress').spec.egress).toEqual([DNS, toServer(5000)]);
  });

  test("leave the MLflow pods' egress as it was", () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS]);
  });
});

describe('the garbage-collection pods', () => {
  const objects = () => build({ gcLabels: GC, port: 8080 });

  test('add the server ingress and their own egress policy, nothing else', () => {
    expect(ofKind(objects(), 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual(['default-deny', 'mlflow-egress', 'mlflow-gc-egress', 'mlflow-server-ingress']);
  });

  test('are admitted to the serving port', () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: GC } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
  });

  test('may reach the server pods on the serving port; DNS, the database and Google APIs come from their component in mlflow-egress', () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-gc-egress').spec).toEqual({
      podSelector: { matchLabels: GC },
      policyTypes: ['Egress'],
      egress: [toServer(8080)],
    });
    expect(find(objects(), 'NetworkPolicy', 'mlflow-egress').spec).toEqual({
      podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: ['server', 'migration', 'gc'] }] },
      policyTypes: ['Egress'],
      egress: [DNS],
    });
  });
});

test('smoke test and gc together: both admitted after the load balancers and the collector (added before them), each with its own egress policy', () => {
  const objects = build({ metricsNamespace: 'gmp-system', smokeTestLabels: SMOKE, gcLabels: GC, exposure: { http01: true } });
  expect(ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual([
    'acme-http01-solver-ingress',
    'default-deny',
    'mlflow-egress',
    'mlflow-gc-egress',
    'mlflow-server-ingress',
    'mlflow-smoke-egress',
  ]);
  expect(find(objects, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    {
      from: [
        { ipBlock: { cidr: '35.191.0.0/16' } },
        { ipBlock: { cidr: '130.211.0.0/22' } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
        { podSelector: { matchLabels: SMOKE } },
        { podSelector: { matchLabels: GC } },
      ],
      ports: [{ protocol: 'TCP', port: 5000 }],
    },
  ]);
  expect(find(objects, 'NetworkPolicy', 'mlflow-smoke-egress').spec.egress).toEqual([DNS, toServer(5000)]);
  expect(find(objects, 'NetworkPolicy', 'mlflow-gc-egress').spec.egress).toEqual([toServer(5000)]);
});

test('snapshot: everything on', () => {
  expect(build({ googleApis: true, cloudSql: true, metricsNamespace: 'gmp-system', exposure: { http01: false } })).toMatchSnapshot();
});
