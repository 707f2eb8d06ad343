/**
 * Every environment's committed output applied to a real kube-apiserver the way Argo CD applies it, then an
 * upgrade from the base revision and a rollback replayed. What this proves and what it cannot:
 * docs/testing.md#what-each-layer-proves.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { clientsProjectName } from '../../lib/names';
import { connect, kubectl, type Kube } from '../support/apiserver';
import { extractRevision, hookOf, keyOf, readEnvironment, syncEnvironment, wipe, type EnvironmentTree, type SyncReport } from '../support/argocd-sync';

const ROOT = path.resolve(__dirname, '..', '..');
const ENVS = fs
  .readdirSync(path.join(ROOT, 'config'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

/**
 * The revision to upgrade from: MLFLOW_GITOPS_BASE_REF, else the merge base with `main` when this commit is not on
 * main itself, else the previous commit.
 */
function baseRevision(): { rev: string; how: string } | undefined {
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  const tryGit = (...args: string[]) => {
    try {
      return git(...args);
    } catch {
      return undefined;
    }
  };
  const fromEnv = process.env.MLFLOW_GITOPS_BASE_REF;
  if (fromEnv) return { rev: git('rev-parse', '--verify', `${fromEnv}^{commit}`), how: `MLFLOW_GITOPS_BASE_REF=${fromEnv}` };
  const head = tryGit('rev-parse', 'HEAD');
  const mergeBase = tryGit('merge-base', 'HEAD', 'main');
  if (mergeBase && mergeBase !== head) return { rev: mergeBase, how: 'the merge base with main' };
  const previous = tryGit('rev-parse', '--verify', 'HEAD~1^{commit}');
  return previous ? { rev: previous, how: 'the previous commit' } : undefined;
}

let kube: Kube;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-revisions-'));
const base = baseRevision();
const baseRoot = base ? extractRevision(ROOT, base.rev, path.join(scratch, 'base')) : undefined;

beforeAll(() => {
  kube = connect();
});
afterAll(() => {
  kube.close();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/**
 * Every non-hook object as stored, without what changes on any write (resourceVersion, the managed-fields
 * timestamps): equal before and after a re-sync means the re-sync changed nothing. (A write may still bump
 * resourceVersion without changing content: the first re-apply of a just-created PersistentVolumeClaim does.)
 * Hooks are left out: they are re-created on every sync by design.
 */
function stored(reports: Map<string, SyncReport>, tree: EnvironmentTree): Record<string, unknown> {
  const hooks = new Set(tree.units.flatMap((u) => u.objects.filter((o) => hookOf(o) !== undefined).map(keyOf)));
  const out: Record<string, unknown> = {};
  for (const r of reports.values()) {
    for (const [k, o] of r.live) {
      if (hooks.has(k)) continue;
      const { resourceVersion: _rv, managedFields, ...metadata } = o.metadata;
      out[k] = { ...o, metadata: { ...metadata, managedFields: (managedFields ?? []).map(({ time: _t, ...m }: { time?: string }) => m) } };
    }
  }
  return out;
}

/**
 * The client teams' namespaces exist before Argo CD syncs: the clients' Applications write into them but neither
 * render nor create them (CreateNamespace=false), so the cluster is given them as their teams would create them.
 */
async function createClientNamespaces(tree: EnvironmentTree): Promise<void> {
  const project = tree.bootstrap.find((o) => o.kind === 'AppProject' && o.metadata.name === clientsProjectName(tree.env));
  for (const d of project?.spec.destinations ?? []) {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: d.namespace } }, { fieldManager: 'client-team' });
  }
}

describe.each(ENVS)('environment %s', (env) => {
  const head = readEnvironment(ROOT, env);
  afterAll(async () => {
    await wipe(kube, [head, ...(baseRoot ? [readEnvironment(baseRoot, env)] : [])]);
  });

  test('the bootstrap command of docs/deploying.md applies argocd/ with no warning', async () => {
    if (head.bootstrap.length === 0) return; // `local` has no Argo CD side
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } }, { fieldManager: 'argocd-install' });
    const r = kubectl(['apply', '--server-side', '-k', path.join(ROOT, 'argocd', env)]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual(head.bootstrap.map((o) => `${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''}/${o.metadata.name} serverside-applied`).sort());
  });

  test('every object is accepted in wave order under argocd-controller, without a warning, and a second sync changes nothing', async () => {
    await createClientNamespaces(head);
    const first = await syncEnvironment(kube, head);
    const second = await syncEnvironment(kube, head);
    expect(stored(second, head)).toEqual(stored(first, head));
    // The Argo CD side is not rendered for `local`; every app's objects are all there.
    const applied = [...first.values()].reduce((n, r) => n + r.live.size, 0);
    expect(applied).toBe(head.units.reduce((n, u) => n + u.objects.length, 0));
    // Namespaces carry exactly the labels the manifests give them (the server adds only its own name label).
    for (const ns of head.units.flatMap((u) => u.objects).filter((o) => o.kind === 'Namespace')) {
      const live = await kube.get(ns);
      expect(live?.metadata.labels).toEqual({ ...ns.metadata.labels, 'kubernetes.io/metadata.name': ns.metadata.name });
    }
    for (const [app, r] of first) if (r.acceptedWarnings.length > 0) console.log(`${env} ${app}: allow-listed: ${r.acceptedWarnings.join('; ')}`);
  });

  test('upgrade from the base revision, rollback and upgrade again apply cleanly (hooks re-created, removed objects pruned)', async () => {
    if (!base || !baseRoot) {
      console.warn(`${env}: no base revision (no main and no previous commit): upgrade replay skipped`);
      return;
    }
    const old = readEnvironment(baseRoot, env);
    if (old.units.every((u) => u.objects.length === 0)) {
      console.warn(`${env}: not in ${base.how} (${base.rev.slice(0, 12)}): upgrade replay skipped`);
      return;
    }
    await wipe(kube, [head, old]);
    await createClientNamespaces(head);
    await syncEnvironment(kube, old, { strictWarnings: false });
    const upgraded = await syncEnvironment(kube, head, { previous: old });
    await syncEnvironment(kube, old, { previous: head, strictWarnings: false });
    await syncEnvironment(kube, head, { previous: old });
    // Whatever the new revision dropped is gone; every hook existing before was re-created, not patched.
    const wanted = new Set(head.units.flatMap((u) => u.objects.map(keyOf)));
    for (const o of old.units.flatMap((u) => u.objects).filter((x) => !wanted.has(keyOf(x)) && hookOf(x) === undefined)) {
      expect(await kube.get(o)).toBeUndefined();
    }
    const hooks = head.units.flatMap((u) => u.objects.filter((o) => hookOf(o) !== undefined).map(keyOf));
    const recreated = [...upgraded.values()].flatMap((r) => r.hooksRecreated);
    const hooksInBoth = hooks.filter((k) => old.units.some((u) => u.objects.some((o) => keyOf(o) === k)));
    expect(recreated.sort()).toEqual(hooksInBoth.sort());
    console.log(`${env}: upgrade replay from ${base.how} (${base.rev.slice(0, 12)}) and back: clean`);
  });
});
