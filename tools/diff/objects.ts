/**
 * The rendered output of one checkout as data: every object of `dist/<env>/<app>/` and `argocd/<env>/`,
 * grouped by environment and by folder (one folder per Argo CD Application path; `argocd/<env>` is the
 * bootstrap a person applies), identified the way Kubernetes identifies it, and ordered the way Argo CD
 * applies it (hook phase, then sync wave).
 */
import * as yaml from 'js-yaml';
import { HOOK_ANNOTATION, SYNC_WAVE_ANNOTATION } from '../../lib/names';
import type { RenderedFile } from '../../lib/synth/synth';

/** A parsed Kubernetes object. Only what the comparison needs is typed. */
export type KubeObject = {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Record<string, string>; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
};

const HELM_HOOK = 'helm.sh/hook';

/** Argo CD's sync phases in the order it runs them; objects without a hook run in `Sync`. */
const PHASES = ['PreSync', 'Sync', 'PostSync', 'SyncFail', 'PostDelete'] as const;

/** One object in its folder. */
export interface RenderedObject {
  /** `apps/Deployment/mlflow/mlflow`: API group (not version), kind, namespace, name. */
  readonly key: string;
  /** `dist/dev/mlflow`, `dist/dev/apps`, `argocd/dev`. */
  readonly folder: string;
  readonly file: string;
  readonly object: KubeObject;
}

/** The output of one checkout: environment → folder → objects by key. */
export type RenderedTree = ReadonlyMap<string, ReadonlyMap<string, ReadonlyMap<string, RenderedObject>>>;

/** `apps/v1` → `apps`; `v1` → `` (the core group). */
export function apiGroupOf(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  return v.includes('/') ? v.slice(0, v.indexOf('/')) : '';
}

/**
 * Identity of an object: group, kind, namespace, name. The API version is not part of it: an object moved
 * from `v1beta1` to `v1` is the same object to the API server and to Argo CD, and shows as a change.
 */
export function keyOf(o: KubeObject, file: string): string {
  const name = o.metadata?.name ?? `(file ${file})`;
  return [apiGroupOf(o.apiVersion), o.kind ?? '', o.metadata?.namespace ?? '', name].join('/');
}

/** `Deployment mlflow/mlflow`, `Namespace mlflow` (cluster-scoped objects have no namespace part). */
export function displayName(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  return `${o.kind ?? '(no kind)'} ${ns ? `${ns}/` : ''}${o.metadata?.name ?? '(no name)'}`;
}

function annotation(o: KubeObject, key: string): string | undefined {
  return o.metadata?.annotations?.[key];
}

/** The sync wave of an object (Argo CD's default: 0). */
export function waveOf(o: KubeObject): number {
  const w = Number.parseInt(annotation(o, SYNC_WAVE_ANNOTATION) ?? '0', 10);
  return Number.isNaN(w) ? 0 : w;
}

/** Argo CD hook phases of an object (`Sync`, `PreSync`…), empty when it is not a hook. */
export function hookPhasesOf(o: KubeObject): string[] {
  const v = annotation(o, HOOK_ANNOTATION);
  return v ? v.split(',').map((s) => s.trim()).filter((s) => s.length > 0) : [];
}

/** Whether Argo CD treats the object as a hook (its own annotation, or a Helm hook it maps to one). */
export function isHook(o: KubeObject): boolean {
  return hookPhasesOf(o).length > 0 || annotation(o, HELM_HOOK) !== undefined;
}

/** Where Argo CD applies an object: `wave 1`, `wave 0, Sync hook`. */
export function placementOf(o: KubeObject): string {
  const phases = hookPhasesOf(o);
  return `wave ${waveOf(o)}${phases.length > 0 ? `, ${phases.join('+')} hook` : ''}`;
}

/** Sort key: phase, wave, then kind and name (the order Argo CD applies them, near enough for reading). */
export function compareApplyOrder(a: RenderedObject, b: RenderedObject): number {
  const phase = (o: KubeObject) => {
    const p = hookPhasesOf(o)[0] ?? 'Sync';
    const i = (PHASES as readonly string[]).indexOf(p);
    return i === -1 ? PHASES.length : i;
  };
  return phase(a.object) - phase(b.object) || waveOf(a.object) - waveOf(b.object) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** `dist/dev/mlflow/x.yaml` → env `dev`, folder `dist/dev/mlflow`; `argocd/dev/x.yaml` → `dev`, `argocd/dev`. */
export function placeOf(file: string): { env: string; folder: string } | undefined {
  const parts = file.split('/');
  if (parts[0] === 'dist' && parts.length >= 4) return { env: parts[1], folder: parts.slice(0, -1).join('/') };
  if (parts[0] === 'argocd' && parts.length >= 3) return { env: parts[1], folder: parts.slice(0, -1).join('/') };
  return undefined;
}

/** Parses the files of one checkout. Files outside `dist/` and `argocd/` are ignored. */
/** The tree of rendered files, each path relative to the checkout (`dist/dev/mlflow/deployment-mlflow.yaml`). */
export function treeOf(files: readonly RenderedFile[]): RenderedTree {
  const tree = new Map<string, Map<string, Map<string, RenderedObject>>>();
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const place = placeOf(f.path);
    if (!place || !/\.ya?ml$/.test(f.path)) continue;
    for (const doc of yaml.loadAll(f.content)) {
      if (doc === null || typeof doc !== 'object') continue;
      const object = doc as KubeObject;
      const folders = tree.get(place.env) ?? new Map<string, Map<string, RenderedObject>>();
      tree.set(place.env, folders);
      const objects = folders.get(place.folder) ?? new Map<string, RenderedObject>();
      folders.set(place.folder, objects);
      const key = keyOf(object, f.path);
      objects.set(key, { key, folder: place.folder, file: f.path, object });
    }
  }
  return tree;
}
