/**
 * The replay's checks catch what only an API server sees: each case breaks one real object of `dist/dev` the way a
 * careless change would, and the sync must fail with a message naming the object and the field. Each case runs in
 * its own namespace, labelled exactly like the MLflow namespace (Pod Security restricted).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { connect, type Kube, type Obj } from '../support/apiserver';
import { sync, SyncError } from '../support/argocd-sync';

const ROOT = path.resolve(__dirname, '..', '..');
const dev = (file: string): Obj => yaml.load(fs.readFileSync(path.join(ROOT, 'dist', 'dev', 'mlflow', file), 'utf8')) as Obj;
let kube: Kube;
const namespaces: string[] = [];

beforeAll(() => {
  kube = connect();
});
afterAll(async () => {
  for (const ns of namespaces) await kube.deleteNamespace(ns).catch(() => undefined);
  kube.close();
});

/** The dev Namespace object renamed to `name`, and the given dev objects moved into it. */
function inNamespace(name: string, ...objects: Obj[]): Obj[] {
  namespaces.push(name);
  const ns = dev('namespace-mlflow.yaml');
  ns.metadata.name = name;
  for (const o of objects) o.metadata.namespace = name;
  return [ns, ...objects];
}

/** The sync's error message (and it prints it, for the record of what a user would read). */
async function failure(objects: Obj[], app: string, opts: { previous?: Obj[] } = {}): Promise<string> {
  const e = await sync(kube, objects, { app, ...opts }).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof SyncError)) throw new Error(`expected the sync of ${app} to fail, it ${e === undefined ? 'succeeded' : `threw ${String(e)}`}`);
  console.log(e.message);
  return e.message;
}

const container = (d: Obj, name: string) => (d.spec.template.spec.containers as Array<Record<string, any>>).find((c) => c.name === name)!;

test('a changed Deployment selector (immutable) fails, naming the Deployment and spec.selector', async () => {
  const before = inNamespace('broken-selector', dev('deployment-mlflow.yaml'));
  await sync(kube, before, { app: 'broken-selector' });
  const after = structuredClone(before);
  const d = after.find((o) => o.kind === 'Deployment')!;
  d.spec.selector.matchLabels['app.kubernetes.io/component'] = 'tracking';
  d.spec.template.metadata.labels['app.kubernetes.io/component'] = 'tracking';
  const message = await failure(after, 'broken-selector', { previous: before });
  expect(message).toMatch(
    /^sync of broken-selector failed:\n {2}apply Deployment broken-selector\/mlflow \(field manager argocd-controller\): HTTP 422 Invalid: Deployment\.apps "mlflow" is invalid: spec\.selector: Invalid value: .*: field is immutable/,
  );
});

test('a privileged container fails on the namespace’s Pod Security warning, naming the Deployment and container', async () => {
  const objects = inNamespace('broken-privileged', dev('deployment-mlflow.yaml'));
  const c = container(objects.find((o) => o.kind === 'Deployment')!, 'mlflow');
  c.securityContext = { ...c.securityContext, privileged: true };
  delete c.securityContext.allowPrivilegeEscalation; // privileged with allowPrivilegeEscalation=false is refused outright
  const message = await failure(objects, 'broken-privileged');
  expect(message).toContain(
    'Deployment broken-privileged/mlflow: warning: would violate PodSecurity "restricted:v1.28": privileged (container "mlflow" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "mlflow" must set securityContext.allowPrivilegeEscalation=false)',
  );
});

test('an unknown field in a custom resource fails strict validation, naming the object and the field', async () => {
  const es = dev('externalsecret-mlflow-database.yaml');
  es.spec.refreshIntervall = '1h';
  const message = await failure(inNamespace('broken-unknown-field', es), 'broken-unknown-field');
  expect(message).toContain('apply ExternalSecret broken-unknown-field/mlflow-database (field manager argocd-controller): HTTP 500 : failed to create typed patch object');
  expect(message).toContain('.spec.refreshIntervall: field not declared in schema');
});

test('a CRD validation rule (CEL) violated fails with the rule’s message: PodMonitoring scrape timeout above its interval', async () => {
  const pm = dev('podmonitoring-mlflow.yaml');
  pm.spec.endpoints[0].timeout = '60s';
  const message = await failure(inNamespace('broken-cel', pm), 'broken-cel');
  expect(message).toContain('apply PodMonitoring broken-cel/mlflow (field manager argocd-controller): HTTP 422 Invalid');
  expect(message).toContain('spec.endpoints[0]: Invalid value: "object": scrape timeout (60s) must not be greater than scrape interval (30s)');
});

test('a field another manager owns with a different value is a conflict, naming the manager and the field', async () => {
  const objects = inNamespace('broken-conflict', dev('deployment-mlflow.yaml'));
  await sync(kube, objects, { app: 'broken-conflict' });
  const d = objects.find((o) => o.kind === 'Deployment')!;
  await kube.mergePatch(d, { metadata: { labels: { 'app.kubernetes.io/version': 'hotfix' } } }, 'kubectl-edit');
  const message = await failure(objects, 'broken-conflict');
  expect(message).toContain('apply Deployment broken-conflict/mlflow (field manager argocd-controller): HTTP 409 Conflict: Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .metadata.labels.app.kubernetes.io/version');
});

test('replay mechanics: a hook Job with a new pod template is re-created (patching it is refused), a dropped object is pruned', async () => {
  const v1 = inNamespace('replay-hooks', dev('job-mlflow-migrate.yaml'), dev('configmap-mlflow-migrate-script.yaml'));
  await sync(kube, v1, { app: 'replay-hooks' });
  const v2 = structuredClone(v1).filter((o) => o.kind !== 'ConfigMap');
  const job = v2.find((o) => o.kind === 'Job')!;
  container(job, 'migrate').image = 'ghcr.io/mlflow/mlflow:v3.18.0-full';

  // What BeforeHookCreation avoids: the API server refuses a changed template on the existing Job.
  await expect(kube.apply(job, { fieldManager: 'argocd-controller' })).rejects.toThrow(
    /^apply Job replay-hooks\/mlflow-migrate \(field manager argocd-controller\): HTTP 422 Invalid: Job\.batch "mlflow-migrate" is invalid: spec\.template: Invalid value: .*: field is immutable/,
  );
  const report = await sync(kube, v2, { app: 'replay-hooks', previous: v1 });
  expect(report.hooksRecreated).toEqual(['batch/Job:replay-hooks/mlflow-migrate']);
  expect(report.pruned).toEqual(['/ConfigMap:replay-hooks/mlflow-migrate-script']);
  expect(await kube.get(v1.find((o) => o.kind === 'ConfigMap')!)).toBeUndefined();
  expect(container((await kube.get(job))!, 'migrate').image).toBe('ghcr.io/mlflow/mlflow:v3.18.0-full');
});
