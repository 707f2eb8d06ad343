/** NetworkPolicies: default deny, then exact allows (DESIGN §6–7). */
import { find, ofKind, render, shippedConfig } from './support/environments';

const dev = render(shippedConfig('dev')).byPath.mlflow;
const local = render(shippedConfig('local')).byPath.mlflow;

test('default deny of ingress and egress for every pod of the namespace', () => {
  expect(find(dev, 'NetworkPolicy', 'default-deny').spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
});

test('ingress to the serving port only, from Google load balancers, the GMP collectors and the smoke test', () => {
  const p = find(dev, 'NetworkPolicy', 'mlflow-server-ingress');
  expect(p.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('server');
  expect(p.spec.ingress).toEqual([
    {
      from: [
        { ipBlock: { cidr: '35.191.0.0/16' } },
        { ipBlock: { cidr: '130.211.0.0/22' } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
        { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-dev', 'app.kubernetes.io/component': 'smoke' } } },
      ],
      ports: [{ protocol: 'TCP', port: 5000 }],
    },
  ]);
});

test('egress: DNS, metadata server, Google APIs on 443 (not private ranges), Cloud SQL on 3307 — nothing else', () => {
  const p = find(dev, 'NetworkPolicy', 'mlflow-egress');
  expect(p.spec.podSelector.matchExpressions).toEqual([{ key: 'app.kubernetes.io/component', operator: 'In', values: ['server', 'migration'] }]);
  const rules = p.spec.egress.map((r: any) => ({ to: r.to.map((t: any) => t.ipBlock?.cidr ?? 'kube-dns'), ports: r.ports.map((x: any) => `${x.protocol}/${x.port}`) }));
  expect(rules).toEqual([
    { to: ['kube-dns', '169.254.20.10/32', '169.254.169.254/32'], ports: ['UDP/53', 'TCP/53'] },
    { to: ['169.254.169.254/32'], ports: ['TCP/80'] },
    { to: ['169.254.169.252/32'], ports: ['TCP/988'] },
    { to: ['0.0.0.0/0'], ports: ['TCP/443'] },
    { to: ['0.0.0.0/0'], ports: ['TCP/3307'] },
  ]);
  expect(p.spec.egress[3].to[0].ipBlock.except).toEqual(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']);
});

test('local: no cloud egress, no load-balancer ingress (port-forward only)', () => {
  expect(ofKind(local, 'NetworkPolicy').map((p) => p.metadata.name).sort()).toEqual(['default-deny', 'mlflow-egress']);
  const egress = find(local, 'NetworkPolicy', 'mlflow-egress').spec.egress;
  expect(egress).toHaveLength(1);
  expect(egress[0].ports.map((p: any) => p.port)).toEqual([53, 53]);
});
