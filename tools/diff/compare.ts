/**
 * Object-by-object comparison of two rendered checkouts, per environment and per Argo CD Application folder:
 * which objects are added, removed or changed, and for a change every field with its old and new value.
 */
import { fieldChanges, type FieldChange } from './fields';
import { compareApplyOrder, type KubeObject, type RenderedObject, type RenderedTree } from './objects';

export interface ObjectChange {
  readonly status: 'added' | 'removed' | 'changed';
  readonly key: string;
  readonly folder: string;
  /** The base version (absent when added). */
  readonly before?: KubeObject;
  /** The new version (absent when removed). */
  readonly after?: KubeObject;
  /** Changed fields (empty unless `changed`). */
  readonly fields: readonly FieldChange[];
}

export interface FolderDiff {
  /** `dist/dev/mlflow`, `argocd/dev`. */
  readonly folder: string;
  /** The Argo CD Application that syncs the folder, when one in the output does. */
  readonly application?: string;
  /** In apply order (hook phase, wave, kind, name). */
  readonly changes: readonly ObjectChange[];
}

export interface EnvironmentDiff {
  readonly env: string;
  readonly inBase: boolean;
  readonly inHead: boolean;
  /** Only folders with changes. */
  readonly folders: readonly FolderDiff[];
}

/** The Application whose source path is `folder`, in either checkout. */
function applicationOf(folder: string, trees: readonly RenderedTree[], env: string): string | undefined {
  for (const tree of trees) {
    for (const objects of tree.get(env)?.values() ?? []) {
      for (const { object } of objects.values()) {
        if (object.kind !== 'Application' || !object.apiVersion?.startsWith('argoproj.io/')) continue;
        const spec = object.spec as { source?: { path?: string }; sources?: { path?: string }[] } | undefined;
        const paths = [spec?.source?.path, ...(spec?.sources ?? []).map((s) => s.path)];
        if (paths.includes(folder) && object.metadata?.name) return object.metadata.name;
      }
    }
  }
  return undefined;
}

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** Compares `base` with `head`, for the given environments (default: every environment on either side). */
export function compareTrees(base: RenderedTree, head: RenderedTree, envs?: readonly string[]): EnvironmentDiff[] {
  return (envs ?? sorted([...base.keys(), ...head.keys()])).map((env) => {
    const b = base.get(env) ?? new Map();
    const h = head.get(env) ?? new Map();
    const folders: FolderDiff[] = [];
    for (const folder of sorted([...b.keys(), ...h.keys()])) {
      const before: ReadonlyMap<string, RenderedObject> = b.get(folder) ?? new Map();
      const after: ReadonlyMap<string, RenderedObject> = h.get(folder) ?? new Map();
      const changes: { order: RenderedObject; change: ObjectChange }[] = [];
      for (const [key, now] of after) {
        const old = before.get(key);
        if (!old) {
          changes.push({ order: now, change: { status: 'added', key, folder, after: now.object, fields: [] } });
          continue;
        }
        const fields = fieldChanges(old.object, now.object);
        if (fields.length > 0) changes.push({ order: now, change: { status: 'changed', key, folder, before: old.object, after: now.object, fields } });
      }
      for (const [key, old] of before) {
        if (!after.has(key)) changes.push({ order: old, change: { status: 'removed', key, folder, before: old.object, fields: [] } });
      }
      if (changes.length === 0) continue;
      changes.sort((x, y) => compareApplyOrder(x.order, y.order));
      folders.push({ folder, application: applicationOf(folder, [head, base], env), changes: changes.map((c) => c.change) });
    }
    return { env, inBase: base.has(env), inHead: head.has(env), folders };
  });
}
