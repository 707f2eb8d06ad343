/**
 * The kubectl bootstrap of docs/deploying.md against a real API server: the argocd-cm health check is added key by key,
 * every other key survives, and a different value owned by someone else is refused, not overwritten.
 * The commands are taken from docs/deploying.md itself (between the kubectl-bootstrap markers).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { APPLICATION_HEALTH_KEY, APPLICATION_HEALTH_LUA } from '../../lib/gitops/argocd';
import { connect, kubectl, runningApiServer, type Kube, type Obj } from '../support/apiserver';

const ROOT = path.resolve(__dirname, '..', '..');
const CM = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'argocd-cm', namespace: 'argocd' } } as const;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-argocd-cm-'));
let kube: Kube;

/** The kubectl bootstrap block of docs/deploying.md, for one environment. */
function readmeCommands(env: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const m = /<!-- kubectl-bootstrap:begin -->\n```sh\n([\s\S]*?)\n```\n<!-- kubectl-bootstrap:end -->/.exec(readme);
  if (!m) throw new Error('docs/deploying.md has no kubectl-bootstrap block');
  return m[1].replaceAll('argocd/prod', `argocd/${env}`);
}

/** Only the health-check step of that block (the lines before the `-k` apply). */
function healthCheckStep(env: string): string {
  const lines = readmeCommands(env).split('\n');
  return lines.slice(0, lines.findIndex((l) => l.includes(' -k '))).join('\n');
}

/** Runs shell commands as a person would, with the pinned kubectl first on PATH and the test server's kubeconfig. */
function sh(script: string): { status: number; stdout: string; stderr: string } {
  const s = runningApiServer();
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, KUBECONFIG: s.kubeconfig, PATH: `${path.dirname(s.kubectl)}:${process.env.PATH}` },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh argocd-cm written by a client-side `kubectl apply -f` (how Argo CD's install and most users write it). */
function clientSideApplied(data: Record<string, string>): void {
  const file = path.join(scratch, 'argocd-cm.yaml');
  fs.writeFileSync(file, yaml.dump({ ...CM, metadata: { ...CM.metadata, labels: { 'app.kubernetes.io/name': 'argocd-cm', 'app.kubernetes.io/part-of': 'argocd' } }, data }));
  const r = kubectl(['apply', '-f', file]);
  expect(r.stderr).toBe('');
}

const USER_KEYS = { url: 'https://argocd.example.com', 'admin.enabled': 'false', 'timeout.reconciliation': '180s' };

beforeAll(async () => {
  kube = connect();
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } }, { fieldManager: 'argocd-install' });
});
beforeEach(async () => {
  await kube.delete(CM);
});
afterAll(async () => {
  await kube.delete(CM);
  kube.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const live = async () => (await kube.get(CM)) as Obj;

test.each(['dev', 'prod'])('%s: on an argocd-cm from a client-side apply, the bootstrap adds the health check and keeps every other key and label', async (env) => {
  clientSideApplied(USER_KEYS);
  const before = await live();
  const r = sh(healthCheckStep(env));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const after = await live();
  expect(after.data).toEqual({ ...USER_KEYS, [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA });
  expect(after.metadata.labels).toEqual(before.metadata.labels);
  expect(after.metadata.annotations).toEqual(before.metadata.annotations);

  // Run again (a second bootstrap, another environment): nothing changes, not even the resourceVersion.
  const again = sh(healthCheckStep(env));
  expect(again.status).toBe(0);
  expect((await live()).metadata.resourceVersion).toBe(after.metadata.resourceVersion);

  // The user's next client-side apply of their own file still works and still keeps our key.
  clientSideApplied({ ...USER_KEYS, url: 'https://argocd2.example.com' });
  expect((await live()).data).toEqual({ ...USER_KEYS, url: 'https://argocd2.example.com', [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA });
});

test('a different value of the key owned by another manager is refused, naming it, and nothing changes', async () => {
  clientSideApplied(USER_KEYS);
  await kube.mergePatch(CM, { data: { [APPLICATION_HEALTH_KEY]: 'hs = {}\nhs.status = "Healthy"\nreturn hs\n' } }, 'platform-team');
  const before = await live();
  const r = sh(healthCheckStep('prod'));
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain(`error: Apply failed with 1 conflict: conflict with "platform-team" using v1: .data.${APPLICATION_HEALTH_KEY}`);
  const after = await live();
  expect(after.data).toEqual(before.data);
  expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
});

test('the same value already owned by another manager (e.g. set through the Argo CD chart) is accepted as co-ownership', async () => {
  await kube.apply({ ...CM, data: { ...USER_KEYS, [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA } }, { fieldManager: 'helm' });
  const before = await live();
  const r = sh(healthCheckStep('prod'));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect((await live()).data).toEqual(before.data);
});

test('why not a server-side apply of the fragment: on a client-side-applied argocd-cm it deletes the other keys', async () => {
  // The bootstrap command this repository documented before: `kubectl apply --server-side` of an argocd-cm holding
  // only our key. kubectl moves the fields of the earlier client-side apply to its own field manager, and the keys
  // that are not in the fragment go.
  clientSideApplied(USER_KEYS);
  const r = kubectl(['apply', '--server-side', '-f', path.join(ROOT, 'argocd', 'prod', 'argocd-cm-health.patch.yaml')]);
  expect(r.status).toBe(0);
  expect(Object.keys((await live()).data)).toEqual([APPLICATION_HEALTH_KEY]);
});

test('the -k step applies the AppProject and root Application only, never argocd-cm', async () => {
  clientSideApplied(USER_KEYS);
  const before = await live();
  const r = sh(readmeCommands('prod').split('\n').filter((l) => l.includes(' -k ')).join('\n'));
  expect(r.stderr).toBe('');
  expect(r.stdout).not.toContain('configmap');
  expect((await live()).metadata.resourceVersion).toBe(before.metadata.resourceVersion);
});

test('a later, different version of the check is refused naming this procedure’s own field manager (docs/deploying.md: compare, then force)', async () => {
  clientSideApplied(USER_KEYS);
  expect(sh(healthCheckStep('prod')).status).toBe(0);
  const newer = path.join(scratch, 'newer.patch.yaml');
  const fragment = yaml.load(fs.readFileSync(path.join(ROOT, 'argocd', 'prod', 'argocd-cm-health.patch.yaml'), 'utf8')) as Obj;
  fs.writeFileSync(newer, yaml.dump({ ...fragment, data: { [APPLICATION_HEALTH_KEY]: `${APPLICATION_HEALTH_LUA}-- v2\n` } }));
  const step = healthCheckStep('prod').replaceAll('argocd/prod/argocd-cm-health.patch.yaml', newer);
  const refused = sh(step);
  expect(refused.status).not.toBe(0);
  expect(refused.stderr).toContain(`conflict with "mlflow-gitops-health-check" using v1: .data.${APPLICATION_HEALTH_KEY}`);
  const forced = sh(step.replace('--dry-run=server', '--dry-run=server --force-conflicts'));
  expect(forced.stderr).toBe('');
  expect((await live()).data).toEqual({ ...USER_KEYS, [APPLICATION_HEALTH_KEY]: `${APPLICATION_HEALTH_LUA}-- v2\n` });
});
