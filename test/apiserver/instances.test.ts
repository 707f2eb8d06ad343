/**
 * An environment with several MLflow servers (test/fixtures/instances/teams.yaml), synthesized into a scratch
 * repository and applied to the real kube-apiserver as Argo CD applies it: the bootstrap, the root app's child
 * Applications, then each Application's folder by wave — both instances' namespaces with PodSecurity admission
 * `restricted`, no warning, and a second sync that changes nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../main';
import { connect, type Kube } from '../support/apiserver';
import { hookOf, readEnvironment, syncEnvironment, wipe } from '../support/argocd-sync';

const ROOT = path.resolve(__dirname, '..', '..');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-instances-'));
let kube: Kube;

beforeAll(() => {
  kube = connect();
  fs.mkdirSync(path.join(scratch, 'config'));
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml'), path.join(scratch, 'config', 'teams.yaml'));
  let stderr = '';
  const code = run([], { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } }, scratch);
  if (code !== 0) throw new Error(`synth failed: ${stderr}`);
});
afterAll(async () => {
  await wipe(kube, [readEnvironment(scratch, 'teams')]);
  kube.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('both instances are accepted in wave order, without a warning, in their restricted namespaces; a second sync changes nothing', async () => {
  const tree = readEnvironment(scratch, 'teams');
  expect(tree.units.map((u) => `${u.app} (${u.objects.length > 0 ? 'objects' : 'empty'})`)).toEqual([
    'mlflow-teams-root (objects)',
    'mlflow-teams-cluster-issuer (objects)',
    'mlflow-teams-team-a (objects)',
    'mlflow-teams-team-b (objects)',
  ]);
  expect(tree.chartApps.sort()).toEqual(['mlflow-teams-cert-manager', 'mlflow-teams-external-secrets']);
  const first = await syncEnvironment(kube, tree);
  const second = await syncEnvironment(kube, tree);
  for (const ns of ['mlflow-team-a', 'mlflow-team-b']) {
    const live = await kube.get({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    expect(live?.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  }
  const applied = [...first.values()].reduce((n, r) => n + r.live.size, 0);
  expect(applied).toBe(tree.units.reduce((n, u) => n + u.objects.length, 0));
  // Stored content without what every write changes (resourceVersion, managed-fields times); hooks are re-created by design.
  const stored = (reports: typeof first) =>
    Object.fromEntries(
      [...reports.values()].flatMap((r) =>
        [...r.live]
          .filter(([, o]) => hookOf(o) === undefined)
          .map(([k, o]) => {
            const { resourceVersion: _rv, managedFields, ...metadata } = o.metadata;
            return [k, { ...o, metadata: { ...metadata, managedFields: (managedFields ?? []).map(({ time: _t, ...m }: { time?: string }) => m) } }];
          }),
      ),
    );
  expect(Object.keys(stored(first)).length).toBeGreaterThan(50);
  expect(stored(second)).toEqual(stored(first));
});
