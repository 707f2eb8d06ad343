/** NetworkPolicies in a test chart: default deny, then exact allows per input (docs/design.md#security-and-availability). */
import { NetworkPolicies, type NetworkPoliciesProps } from '../../lib/mlflow/network-policies';
import { find, objectsOf, ofKind, testChart } from '../support/constructs';

function build(props: Partial<NetworkPoliciesProps> = {}) {
  const chart = testChart();
  new NetworkPolicies(chart, 'Policies', { serverLabels: { component: 'server' }, egressComponents: ['server', 'migration'], port: 5000, ...props });
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
  expect(find(build({ fromGoogleLoadBalancers: true, fromCidrs: ['10.129.0.0/23'] }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    {
      from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }, { ipBlock: { cidr: '10.129.0.0/23' } }],
      ports: [{ protocol: 'TCP', port: 5000 }],
    },
  ]);
});

test('Google load balancers and health checkers to the serving port', () => {
  expect(find(build({ fromGoogleLoadBalancers: true }), 'NetworkPolicy', 'mlflow-server-ingress').spec).toEqual({
    podSelector: { matchLabels: { component: 'server' } },
    policyTypes: ['Ingress'],
    ingress: [{ from: [{ ipBlock: { cidr: '35.191.0.0/16' } }, { ipBlock: { cidr: '130.211.0.0/22' } }], ports: [{ protocol: 'TCP', port: 5000 }] }],
  });
});

describe("cert-manager's ACME HTTP-01 solver pods", () => {
  test('admit exactly the load balancer sources of the server (Google ranges, then the proxy-only subnet) on 8089, ingress only', () => {
    const objects = build({ fromGoogleLoadBalancers: true, fromCidrs: ['10.129.0.0/23'], http01Solver: true, metricsNamespace: 'gmp-system' });
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

  test('get no policy without HTTP-01 (a Certificate Manager map, or no exposure)', () => {
    const names = (props: Partial<NetworkPoliciesProps>) => ofKind(build(props), 'NetworkPolicy').map((p) => p.metadata.name);
    expect(names({ fromGoogleLoadBalancers: true })).not.toContain('acme-http01-solver-ingress');
    expect(names({ http01Solver: true })).not.toContain('acme-http01-solver-ingress');
  });
});

test('the metrics collector’s namespace to the serving port', () => {
  expect(find(build({ metricsNamespace: 'monitoring', port: 8080 }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
  ]);
});

test('both sources in one rule', () => {
  expect(find(build({ fromGoogleLoadBalancers: true, metricsNamespace: 'gmp-system' }), 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).toEqual([
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
  expect(find(build({ toGoogleApis: true }), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS, ...METADATA, GOOGLE_APIS]);
});

test('Cloud SQL: port 3307', () => {
  expect(find(build({ toCloudSql: true }), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS, CLOUD_SQL]);
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
    expect(find(build({ smokeTestLabels: SMOKE, toGoogleApis: true, toCloudSql: true }), 'NetworkPolicy', 'mlflow-smoke-egress').spec.egress).toEqual([DNS, toServer(5000)]);
  });

  test("leave the MLflow pods' egress as it was", () => {
    expect(find(objects(), 'NetworkPolicy', 'mlflow-egress').spec.egress).toEqual([DNS]);
  });
});

describe('the garbage-collection pods', () => {
  const objects = () => build({ gcLabels: GC, egressComponents: ['server', 'migration', 'gc'], port: 8080 });

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

test('smoke test and gc together: both admitted after the other sources, each with its own egress policy', () => {
  const objects = build({ fromGoogleLoadBalancers: true, metricsNamespace: 'gmp-system', smokeTestLabels: SMOKE, gcLabels: GC });
  expect(ofKind(objects, 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual([
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
  expect(build({ fromGoogleLoadBalancers: true, metricsNamespace: 'gmp-system', toGoogleApis: true, toCloudSql: true })).toMatchSnapshot();
});
