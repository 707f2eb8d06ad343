/**
 * `exposure.mode: gateway` on a real kube-apiserver with the pinned Gateway API, GKE and cert-manager CRDs: the
 * MLflow app of a gateway-mode config (no shipped environment uses one) applied as Argo CD applies it — wave order,
 * server-side apply under `argocd-controller`, strict field validation and the CRDs' CEL rules, no warning — and a
 * second sync changing nothing; the Certificate Manager variant; the ClusterIssuer that solves through the Gateway.
 * Each case has its own namespace (labelled as rendered: Pod Security restricted), deleted afterwards.
 */
import type { Manifest } from '../../lib/synth/synth';
import { connect, type Kube, type Obj } from '../support/apiserver';
import { hookOf, keyOf, sync, SyncError } from '../support/argocd-sync';
import { render } from '../../tools/environments';
import { gatewayConfig } from '../support/gateway';

let kube: Kube;
const namespaces: string[] = [];
const clusterObjects: Obj[] = [];

beforeAll(() => {
  kube = connect();
});
afterAll(async () => {
  for (const ns of namespaces) await kube.deleteNamespace(ns).catch(() => undefined);
  for (const o of clusterObjects) await kube.delete(o).catch(() => undefined);
  kube.close();
});

/** The rendered gateway-mode environment in namespace `ns`, its cert-manager issuer renamed `issuer`. */
function environment(ns: string, mutate: (d: any) => void = () => undefined) {
  namespaces.push(ns);
  return render(
    gatewayConfig((d) => {
      d.namespace = ns;
      d.exposure.certificate = { source: 'cert-manager', clusterIssuer: `${ns}-issuer` };
      d.gitops.addons = { externalSecrets: true, certManager: true, acmeEmail: 'ops@example.com' };
      mutate(d);
    }),
  ).byPath;
}
const asObjs = (ms: readonly Manifest[]) => ms as unknown as Obj[];
const KINDS = ['Gateway', 'HTTPRoute', 'HealthCheckPolicy', 'GCPBackendPolicy'];

/** Stored objects without what changes on every write; hooks left out (re-created on every sync by design). */
function stored(live: ReadonlyMap<string, Obj>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of live) {
    if (hookOf(o) !== undefined) continue;
    const { resourceVersion: _rv, managedFields, ...metadata } = o.metadata;
    out[k] = { ...o, metadata: { ...metadata, managedFields: (managedFields ?? []).map(({ time: _t, ...m }: { time?: string }) => m) } };
  }
  return out;
}

test('the MLflow app with a Gateway and a cert-manager certificate is accepted without a warning, and a second sync changes nothing', async () => {
  const byPath = environment('gw-cert-manager');
  const objects = asObjs(byPath.mlflow);
  for (const kind of [...KINDS, 'Certificate']) expect(objects.map((o) => o.kind)).toContain(kind);
  const first = await sync(kube, objects, { app: 'gw-cert-manager' });
  expect(first.acceptedWarnings).toEqual([]);
  expect(first.live.size).toBe(objects.length);
  const second = await sync(kube, objects, { app: 'gw-cert-manager' });
  expect(stored(second.live)).toEqual(stored(first.live));
  // What the API server stored is what was rendered (no field dropped on the way, the defaults it adds aside).
  const gw = objects.find((o) => o.kind === 'Gateway')!;
  const liveGw = first.live.get(keyOf(gw))!;
  expect(liveGw.spec.listeners.map((l: any) => ({ name: l.name, port: l.port, protocol: l.protocol, tls: l.tls }))).toEqual(
    gw.spec.listeners.map((l: any) => ({ name: l.name, port: l.port, protocol: l.protocol, tls: l.tls })),
  );
  const route = objects.find((o) => o.kind === 'HTTPRoute' && o.metadata.name === 'mlflow-https-redirect')!;
  expect(first.live.get(keyOf(route))!.spec.rules[0].filters).toEqual(route.spec.rules[0].filters);
});

test('its ClusterIssuer, solving HTTP-01 through the Gateway’s HTTP listener, is accepted', async () => {
  const issuer = asObjs(environment('gw-issuer')['cluster-issuer']);
  expect(issuer.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterIssuer/gw-issuer-issuer']);
  clusterObjects.push(...issuer);
  const r = await sync(kube, issuer, { app: 'gw-issuer' });
  expect(r.live.get(keyOf(issuer[0]))!.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs).toEqual([
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlflow', namespace: 'gw-issuer', sectionName: 'http' },
  ]);
});

test('a Certificate Manager map on the default (global) class: the Gateway without TLS certificateRefs is accepted too', async () => {
  const objects = asObjs(environment('gw-certmap', (d) => (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map' })).mlflow);
  expect(objects.map((o) => o.kind)).not.toContain('Certificate');
  const r = await sync(kube, objects, { app: 'gw-certmap' });
  const gw = objects.find((o) => o.kind === 'Gateway')!;
  expect(r.live.get(keyOf(gw))!.metadata.annotations['networking.gke.io/certmap']).toBe('mlflow-map');
});

test('the CRDs’ CEL rules are enforced here: a TLS block on the HTTP listener is refused, naming the Gateway and the rule', async () => {
  const byPath = environment('gw-broken');
  const objects = asObjs(byPath.mlflow).filter((o) => o.kind === 'Namespace' || o.kind === 'Gateway');
  const gw = objects.find((o) => o.kind === 'Gateway')!;
  const http = gw.spec.listeners.find((l: any) => l.name === 'http');
  http.tls = { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'mlflow-tls' }] };
  const e = await sync(kube, objects, { app: 'gw-broken' }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SyncError);
  const message = (e as SyncError).message;
  console.log(message);
  expect(message).toContain('apply Gateway gw-broken/mlflow (field manager argocd-controller): HTTP 422 Invalid');
  expect(message).toContain("tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']");
});
