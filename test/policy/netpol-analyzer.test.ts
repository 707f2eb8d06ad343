/**
 * The engine behind the flow check, on textbook NetworkPolicy cases whose answers the Kubernetes documentation
 * states (https://kubernetes.io/docs/concepts/services-networking/network-policies/): before its verdicts on our
 * manifests count, it must get these right.
 */
import { PolicyWorld, type Peer } from './netpol-analyzer';

const namespace = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } },
});
const pod = (ns: string, name: string, labels: Record<string, string>, port = 80) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: 'c', image: 'example.com/c:1', ports: [{ containerPort: port }] }] },
});
const policy = (ns: string, name: string, spec: object) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const w = (ns: string, name: string): Peer => ({ workload: `${ns}/${name}[Pod]` });

let world: PolicyWorld;
afterEach(() => world.dispose());

test('default deny, then one allow: only the named client, only on the named port; an unselected direction stays open', () => {
  world = new PolicyWorld([
    namespace('shop'),
    pod('shop', 'web', { app: 'web' }),
    pod('shop', 'db', { app: 'db' }),
    pod('shop', 'batch', { app: 'batch' }),
    policy('shop', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
    policy('shop', 'web-to-db', {
      podSelector: { matchLabels: { app: 'db' } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ protocol: 'TCP', port: 5432 }] }],
    }),
  ]);
  expect(world.allows(w('shop', 'web'), w('shop', 'db'), 'TCP', 5432)).toBe(true);
  expect(world.allows(w('shop', 'web'), w('shop', 'db'), 'TCP', 5433)).toBe(false);
  expect(world.allows(w('shop', 'web'), w('shop', 'db'), 'UDP', 5432)).toBe(false);
  expect(world.allows(w('shop', 'batch'), w('shop', 'db'), 'TCP', 5432)).toBe(false);
  expect(world.allows(w('shop', 'db'), w('shop', 'web'), 'TCP', 80)).toBe(false);
  // Only ingress is denied: egress to the outside stays allowed.
  expect(world.allows(w('shop', 'db'), { ip: '203.0.113.9' }, 'TCP', 443)).toBe(true);
});

test('namespaceSelector and podSelector in one peer mean AND; in two peers they mean OR', () => {
  const allowFrom = (name: string, from: object[]) =>
    policy('api', name, { podSelector: { matchLabels: { app: name } }, policyTypes: ['Ingress'], ingress: [{ from }] });
  world = new PolicyWorld([
    namespace('api'),
    namespace('team-x', { team: 'x' }),
    namespace('team-y', { team: 'y' }),
    pod('api', 'and', { app: 'and' }),
    pod('api', 'or', { app: 'or' }),
    pod('team-x', 'client', { role: 'client' }),
    pod('team-x', 'other', { role: 'other' }),
    pod('team-y', 'client', { role: 'client' }),
    allowFrom('and', [{ namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { role: 'client' } } }]),
    allowFrom('or', [{ namespaceSelector: { matchLabels: { team: 'x' } } }, { podSelector: { matchLabels: { role: 'client' } } }]),
  ]);
  expect(world.allows(w('team-x', 'client'), w('api', 'and'), 'TCP', 80)).toBe(true);
  expect(world.allows(w('team-x', 'other'), w('api', 'and'), 'TCP', 80)).toBe(false);
  expect(world.allows(w('team-y', 'client'), w('api', 'and'), 'TCP', 80)).toBe(false);
  // OR: any pod of team-x, or a client pod of the policy's own namespace (a bare podSelector) – not team-y's.
  expect(world.allows(w('team-x', 'other'), w('api', 'or'), 'TCP', 80)).toBe(true);
  expect(world.allows(w('team-y', 'client'), w('api', 'or'), 'TCP', 80)).toBe(false);
});

test('egress to an ipBlock with an except: the excepted range and other ports are denied', () => {
  world = new PolicyWorld([
    namespace('app'),
    pod('app', 'worker', { app: 'worker' }),
    pod('app', 'free', { app: 'free' }),
    policy('app', 'worker-egress', {
      podSelector: { matchLabels: { app: 'worker' } },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ protocol: 'TCP', port: 443 }] }],
    }),
  ]);
  expect(world.allows(w('app', 'worker'), { ip: '198.51.100.7' }, 'TCP', 443)).toBe(true);
  expect(world.allows(w('app', 'worker'), { ip: '10.1.2.3' }, 'TCP', 443)).toBe(false);
  expect(world.allows(w('app', 'worker'), { ip: '198.51.100.7' }, 'TCP', 80)).toBe(false);
  // In-cluster pods are not in an ipBlock's reach here (no pod matches it): worker → free is denied.
  expect(world.allows(w('app', 'worker'), w('app', 'free'), 'TCP', 80)).toBe(false);
  // A pod no policy selects is open both ways.
  expect(world.allows(w('app', 'free'), { ip: '10.1.2.3' }, 'TCP', 22)).toBe(true);
  expect(world.allows({ ip: '198.51.100.7' }, w('app', 'free'), 'TCP', 80)).toBe(true);
});

test('a denied flow is explained by the policy that selects the pod and the rule it lacks', () => {
  world = new PolicyWorld([namespace('shop'), pod('shop', 'db', { app: 'db' }), policy('shop', 'default-deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })]);
  const text = world.explain({ ip: '203.0.113.9' }, w('shop', 'db'));
  expect(text).toContain("NetworkPolicy 'shop/default-deny-ingress' selects shop/db[Pod]");
  expect(text).toContain('Denied');
});
