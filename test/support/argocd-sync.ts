/**
 * Replays an Argo CD sync against the test API server: the order Argo CD's sync engine applies objects in
 * (phase, wave, kind, name), server-side apply under Argo CD's field manager, hooks deleted before re-creation
 * as their delete policy says, and objects gone from the new revision pruned last. Every refusal and every
 * warning the API server sends is a failure, naming the object (a few expected warnings are allow-listed, each
 * with its reason).
 *
 * What it cannot replay: waiting for health between waves (no controller makes anything healthy here) and
 * rendering Helm-chart Applications (the add-ons; their CRDs are installed by the test set-up instead).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { KubeError, objectName, type Kube, type Obj } from './apiserver';

/** The field manager of Argo CD's server-side apply (`ServerSideApply=true`). */
export const ARGOCD_FIELD_MANAGER = 'argocd-controller';
/** Annotation Argo CD 3 tracks its objects by (`application.resourceTrackingMethod: annotation`, the default). */
export const TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';

/** A warning the API server sends that is expected, and why it is accepted. */
export interface AllowedWarning {
  readonly kind: string;
  readonly text: string;
  readonly why: string;
}

/** The only warnings a sync of this project's output may produce. */
export const ALLOWED_WARNINGS: readonly AllowedWarning[] = [
  {
    kind: 'Ingress',
    text: `annotation "kubernetes.io/ingress.class" is deprecated, please use 'spec.ingressClassName' instead`,
    why: "GKE's Ingress controller selects its Ingresses by this annotation (gce, gce-internal); it does not read spec.ingressClassName",
  },
];

/** Argo CD's kind order within one phase and wave (gitops-engine's sync tasks; unknown kinds come last). */
const KIND_ORDER = [
  'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodSecurityPolicy', 'PodDisruptionBudget', 'ServiceAccount',
  'Secret', 'SecretList', 'ConfigMap', 'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition',
  'ClusterRole', 'ClusterRoleList', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'Role', 'RoleList', 'RoleBinding',
  'RoleBindingList', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'Ingress', 'APIService',
];
const PHASES = ['PreSync', 'Sync', 'PostSync', 'SyncFail'];

const annotations = (o: Obj): Record<string, string> => (o.metadata.annotations ?? {}) as Record<string, string>;
/** The hook phase of an object, or undefined for a plain resource. */
export const hookOf = (o: Obj): string | undefined => annotations(o)['argocd.argoproj.io/hook'];
const waveOf = (o: Obj) => Number(annotations(o)['argocd.argoproj.io/sync-wave'] ?? '0');
const kindRank = (k: string) => (KIND_ORDER.includes(k) ? KIND_ORDER.indexOf(k) - KIND_ORDER.length : 0);

/** Objects in the order Argo CD applies them: phase, wave, kind, name. */
export function syncOrder(objects: readonly Obj[]): Obj[] {
  return [...objects].sort(
    (a, b) =>
      PHASES.indexOf(hookOf(a) ?? 'Sync') - PHASES.indexOf(hookOf(b) ?? 'Sync') ||
      waveOf(a) - waveOf(b) ||
      kindRank(a.kind) - kindRank(b.kind) ||
      (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0),
  );
}

/** Identity of an object across revisions: group, kind, namespace, name. */
export function keyOf(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${o.kind}:${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** A failed sync: every refusal and unexpected warning, one line each, naming the object. */
export class SyncError extends Error {
  constructor(
    app: string,
    public readonly problems: readonly string[],
  ) {
    super(`sync of ${app} failed:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'SyncError';
  }
}

export interface SyncOptions {
  /** The Application's name (tracking annotation, messages). */
  readonly app: string;
  /** The objects of the revision synced before, to prune what the new one no longer has. @default - none */
  readonly previous?: readonly Obj[];
  /** @default ALLOWED_WARNINGS */
  readonly allowedWarnings?: readonly AllowedWarning[];
  /**
   * Warnings beyond the allow-list fail the sync. Off only to replay an older revision, whose warnings are not
   * this change's: they are reported in `acceptedWarnings` instead.
   * @default true
   */
  readonly strictWarnings?: boolean;
}

export interface SyncReport {
  /** Every object as the API server stored it after the sync, by {@link keyOf}. */
  readonly live: ReadonlyMap<string, Obj>;
  /** Keys of the hooks deleted before re-creation. */
  readonly hooksRecreated: readonly string[];
  /** Keys of the objects pruned. */
  readonly pruned: readonly string[];
  /** Warnings accepted (allow-listed, or any with `strictWarnings: false`), as `Kind ns/name: warning: text`. */
  readonly acceptedWarnings: readonly string[];
}

/**
 * Syncs `objects` as Argo CD would (one Application). Throws {@link SyncError} at the first refusal (Argo CD stops
 * a sync there), and after the sync when any object drew a warning that is not allow-listed.
 */
export async function sync(kube: Kube, objects: readonly Obj[], opts: SyncOptions): Promise<SyncReport> {
  const allowed = opts.allowedWarnings ?? ALLOWED_WARNINGS;
  const problems: string[] = [];
  const seenAllowed: string[] = [];
  const live = new Map<string, Obj>();
  const hooksRecreated: string[] = [];
  for (const desired of syncOrder(objects)) {
    const o: Obj = structuredClone(desired);
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    o.metadata.annotations = { ...annotations(o), [TRACKING_ANNOTATION]: `${opts.app}:${group}/${o.kind}:${o.metadata.namespace ?? ''}/${o.metadata.name}` };
    const hook = hookOf(o);
    try {
      if (hook !== undefined) {
        // Argo CD's default hook delete policy is BeforeHookCreation.
        const policies = (annotations(o)['argocd.argoproj.io/hook-delete-policy'] ?? 'BeforeHookCreation').split(',').map((p) => p.trim());
        if (policies.includes('BeforeHookCreation') && (await kube.get(o)) !== undefined) {
          await kube.delete(o);
          hooksRecreated.push(keyOf(o));
        }
      }
      const { object, warnings } = await kube.apply(o, { fieldManager: ARGOCD_FIELD_MANAGER });
      live.set(keyOf(o), object);
      for (const w of warnings) {
        const line = `${objectName(o)}: warning: ${w}`;
        if (opts.strictWarnings === false || allowed.some((a) => a.kind === o.kind && a.text === w)) seenAllowed.push(line);
        else problems.push(line);
      }
    } catch (e) {
      problems.push(e instanceof KubeError ? e.message : `${objectName(o)}: ${String(e)}`);
      throw new SyncError(opts.app, problems);
    }
  }
  // PruneLast=true: after every wave. Hooks are not pruned (their delete policy governs them).
  const wanted = new Set(objects.map(keyOf));
  const pruned: string[] = [];
  for (const old of opts.previous ?? []) {
    if (wanted.has(keyOf(old)) || hookOf(old) !== undefined) continue;
    try {
      await kube.delete(old);
      pruned.push(keyOf(old));
    } catch (e) {
      problems.push(`prune ${e instanceof KubeError ? e.message : `${objectName(old)}: ${String(e)}`}`);
    }
  }
  if (problems.length > 0) throw new SyncError(opts.app, problems);
  return { live, hooksRecreated, pruned, acceptedWarnings: seenAllowed };
}

// --- an environment's output, as Argo CD sees it ------------------------------------------------------------

/** One Application and the objects it syncs. */
export interface AppUnit {
  readonly app: string;
  readonly wave: number;
  readonly objects: Obj[];
}

/** An environment's output tree (`dist/<env>/` and `argocd/<env>/`), read from the work tree or from a git revision. */
export interface EnvironmentTree {
  readonly env: string;
  /** What a person applies once (`argocd/<env>/`, the files its kustomization lists). */
  readonly bootstrap: Obj[];
  /** The units Argo CD syncs, in order: the root app (child Applications), then each child by wave. */
  readonly units: AppUnit[];
  /** Child Applications whose source is a Helm chart: not rendered here. */
  readonly chartApps: string[];
}

function loadDir(root: string, rel: string): Obj[] {
  const dir = path.join(root, rel);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as Obj[])
    .filter((o) => o && o.kind !== 'Kustomization');
}

/**
 * Reads one environment's output under `root` (a checkout: the work tree, or a revision extracted with
 * {@link extractRevision}). Without `argocd/<env>` (e.g. `local`), the whole `dist/<env>/mlflow` is one unit.
 */
export function readEnvironment(root: string, env: string): EnvironmentTree {
  const bootDir = path.join(root, 'argocd', env);
  const kustomization = path.join(bootDir, 'kustomization.yaml');
  // The AppProject and root Application. (Older revisions also listed an argocd-cm fragment: argocd-cm is Argo CD's
  // object, not this project's; test/apiserver/argocd-cm.test.ts covers how its key is added.)
  const bootstrap = fs.existsSync(kustomization)
    ? ((yaml.load(fs.readFileSync(kustomization, 'utf8')) as { resources: string[] }).resources ?? [])
        .flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(bootDir, f), 'utf8')) as Obj[])
        .filter((o) => o.kind === 'AppProject' || o.kind === 'Application')
    : [];
  const apps = loadDir(root, path.join('dist', env, 'apps'));
  if (apps.length === 0) return { env, bootstrap, units: [{ app: `mlflow-${env}`, wave: 0, objects: loadDir(root, path.join('dist', env, 'mlflow')) }], chartApps: [] };
  const root_ = bootstrap.find((o) => o.kind === 'Application');
  const units: AppUnit[] = [{ app: root_?.metadata.name ?? `mlflow-${env}-root`, wave: 0, objects: apps }];
  const chartApps: string[] = [];
  for (const a of syncOrder(apps)) {
    const src = a.spec?.source ?? {};
    if (typeof src.path === 'string') {
      const rel = src.path as string;
      units.push({ app: a.metadata.name, wave: waveOf(a), objects: loadDir(root, rel) });
    } else chartApps.push(a.metadata.name);
  }
  return { env, bootstrap, units, chartApps };
}

/**
 * Extracts `dist/` and `argocd/` of a git revision into a new temporary directory (`git archive`: the work tree
 * and index are not touched). Returns the directory; the caller removes it.
 */
export function extractRevision(repo: string, rev: string, into: string): string {
  const { execFileSync } = require('child_process') as typeof import('child_process');
  fs.mkdirSync(into, { recursive: true });
  const present = ['dist', 'argocd'].filter((p) => {
    try {
      execFileSync('git', ['-C', repo, 'cat-file', '-e', `${rev}:${p}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
  if (present.length === 0) return into;
  const tar = execFileSync('git', ['-C', repo, 'archive', '--format=tar', rev, ...present], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', into], { input: tar });
  return into;
}

// --- an environment replayed ----------------------------------------------------------------------------------

/** The field manager a person's `kubectl apply --server-side` uses (the bootstrap). */
export const KUBECTL_FIELD_MANAGER = 'kubectl';

export interface EnvironmentSyncOptions {
  /** The revision synced before (upgrade, rollback): its units are pruned against and removed apps cascade-deleted. */
  readonly previous?: EnvironmentTree;
  /** See {@link SyncOptions.strictWarnings}. @default true */
  readonly strictWarnings?: boolean;
}

/**
 * Syncs an environment the way its bootstrap and Argo CD would: the bootstrap objects (as a person applies them,
 * into Argo CD's namespace), the root app's child Applications, then each child app by wave. Returns each app's
 * report.
 */
export async function syncEnvironment(kube: Kube, tree: EnvironmentTree, opts: EnvironmentSyncOptions = {}): Promise<Map<string, SyncReport>> {
  const strictWarnings = opts.strictWarnings ?? true;
  if (tree.bootstrap.length > 0) {
    await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } }, { fieldManager: 'argocd-install' });
    const problems: string[] = [];
    for (const o of syncOrder(tree.bootstrap)) {
      try {
        const { warnings } = await kube.apply(o, { fieldManager: KUBECTL_FIELD_MANAGER });
        if (strictWarnings) problems.push(...warnings.map((w) => `${objectName(o)}: warning: ${w}`));
      } catch (e) {
        throw new SyncError(`the bootstrap of ${tree.env}`, [...problems, e instanceof KubeError ? e.message : String(e)]);
      }
    }
    if (problems.length > 0) throw new SyncError(`the bootstrap of ${tree.env}`, problems);
  }
  const previousUnits = new Map((opts.previous?.units ?? []).map((u) => [u.app, u]));
  // Applications gone from this revision: Argo CD prunes them, and their finalizer cascades to their objects.
  for (const gone of previousUnits.values()) {
    if (tree.units.some((u) => u.app === gone.app)) continue;
    for (const o of syncOrder(gone.objects).reverse()) if (o.kind !== 'Namespace') await kube.delete(o);
    const appObj = opts.previous?.units[0]?.objects.find((a) => a.kind === 'Application' && a.metadata.name === gone.app);
    if (appObj && (await kube.get(appObj))) await kube.mergePatch(appObj, { metadata: { finalizers: null } }, ARGOCD_FIELD_MANAGER);
  }
  const reports = new Map<string, SyncReport>();
  for (const unit of tree.units) {
    reports.set(unit.app, await sync(kube, unit.objects, { app: unit.app, previous: previousUnits.get(unit.app)?.objects, strictWarnings }));
  }
  return reports;
}

/**
 * Removes everything the given trees put on the server (Application finalizers first: no controller would
 * remove them; namespaces last, finalized by hand), so the next environment starts from an empty cluster.
 */
export async function wipe(kube: Kube, trees: readonly EnvironmentTree[]): Promise<void> {
  const all = trees.flatMap((t) => [...t.bootstrap, ...t.units.flatMap((u) => u.objects)]);
  const unique = [...new Map(all.map((o) => [keyOf(o), o])).values()];
  // Argo CD's resources finalizer would make its controller delete the app's objects: they are deleted below.
  for (const o of unique.filter((x) => x.kind === 'Application')) {
    const live = await kube.get(o);
    if ((live?.metadata.finalizers ?? []).length > 0) await kube.mergePatch(o, { metadata: { finalizers: null } }, 'test-cleanup');
  }
  await Promise.all(unique.filter((o) => o.kind !== 'Namespace').map((o) => kube.delete(o)));
  for (const ns of unique.filter((o) => o.kind === 'Namespace')) await kube.deleteNamespace(ns.metadata.name);
}
