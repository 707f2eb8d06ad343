/**
 * An environment that opts in to garbage collection (dev with `gc`, rendered in memory: the shipped environments do
 * not opt in) applied to the real kube-apiserver as Argo CD applies it, in its own namespace labelled exactly like the
 * MLflow namespace (Pod Security restricted): the CronJob, its NetworkPolicy and its ExternalSecret are accepted with
 * no warning (the API server warns for a CronJob's pod template that breaks Pod Security), and a second sync changes
 * nothing stored.
 */
import type { Obj } from '../support/apiserver';
import { connect, type Kube } from '../support/apiserver';
import { keyOf, sync } from '../support/argocd-sync';
import { configFrom, rawConfig } from '../../tools/environments';
import { mlflowManifests } from '../../lib/synth/synth';

const NAMESPACE = 'gc-dev';
let kube: Kube;

beforeAll(() => {
  kube = connect();
});
afterAll(async () => {
  await kube.deleteNamespace(NAMESPACE).catch(() => undefined);
  kube.close();
});

/** dev with gc, every object moved into {@link NAMESPACE} (the Namespace object renamed, its labels kept). */
function gcEnvironment(): Obj[] {
  const doc = rawConfig('dev');
  doc.gc = { schedule: '17 3 * * *', olderThanDays: 30 };
  const objects = mlflowManifests(configFrom('dev', doc)) as Obj[];
  for (const o of objects) {
    if (o.kind === 'Namespace') o.metadata.name = NAMESPACE;
    else o.metadata.namespace = NAMESPACE;
  }
  return objects;
}

test('dev with gc: accepted as Argo CD applies it, no warning, and a second sync changes nothing', async () => {
  const objects = gcEnvironment();
  const first = await sync(kube, objects, { app: 'gc-dev' });
  expect(first.acceptedWarnings.filter((w) => !w.startsWith('Ingress '))).toEqual([]);
  const cronJob = first.live.get(keyOf(objects.find((o) => o.kind === 'CronJob')!))!;
  expect(cronJob.spec).toMatchObject({ schedule: '17 3 * * *', concurrencyPolicy: 'Forbid', startingDeadlineSeconds: 3600 });
  for (const name of ['mlflow-gc-egress', 'mlflow-server-ingress', 'mlflow-egress']) {
    expect(first.live.has(keyOf({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: NAMESPACE } }))).toBe(true);
  }
  expect(first.live.has(keyOf({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'mlflow-gc-auth', namespace: NAMESPACE } }))).toBe(true);

  const second = await sync(kube, objects, { app: 'gc-dev', previous: objects });
  expect(second.pruned).toEqual([]);
  const key = keyOf(cronJob);
  expect(second.live.get(key)!.metadata.resourceVersion).toBe(cronJob.metadata.resourceVersion);
}, 120_000);
