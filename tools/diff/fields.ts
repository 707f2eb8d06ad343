/**
 * Field-level comparison of two versions of one object: every leaf that differs, with a readable path.
 * List items that carry an identity (`name`, ExternalSecret `secretKey`, `mountPath`) are matched by it, so
 * inserting a container or an environment variable shows as one addition, not as every later item changing.
 */

/** One step of a field path: a map key, a list index, or a list item matched by an identity field. */
export type Segment = string | number | { readonly field: string; readonly value: string };

export interface FieldChange {
  readonly path: readonly Segment[];
  /** Absent when the field is added. */
  readonly before?: unknown;
  /** Absent when the field is removed. */
  readonly after?: unknown;
  readonly hasBefore: boolean;
  readonly hasAfter: boolean;
}

/** Identity fields of list items, in order of preference. */
const ITEM_IDENTITIES = ['name', 'secretKey', 'mountPath'] as const;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** The identity field shared by every item of both lists, with unique values on each side. */
function identityOf(a: readonly unknown[], b: readonly unknown[]): string | undefined {
  const all = [...a, ...b];
  if (all.length === 0 || !all.every(isPlainObject)) return undefined;
  return ITEM_IDENTITIES.find((f) => {
    const unique = (list: readonly unknown[]) => {
      const values = list.map((x) => (x as Record<string, unknown>)[f]);
      return values.every((v) => typeof v === 'string' || typeof v === 'number') && new Set(values).size === values.length;
    };
    return unique(a) && unique(b);
  });
}

const isScalar = (v: unknown) => v === null || typeof v !== 'object';

/** Every difference between `before` and `after`, in the order of `after` (removed fields after). */
export function fieldChanges(before: unknown, after: unknown, path: readonly Segment[] = []): FieldChange[] {
  if (deepEqual(before, after)) return [];
  if (isPlainObject(before) && isPlainObject(after)) {
    const out: FieldChange[] = [];
    for (const k of Object.keys(after)) {
      if (k in before) out.push(...fieldChanges(before[k], after[k], [...path, k]));
      else out.push({ path: [...path, k], after: after[k], hasBefore: false, hasAfter: true });
    }
    for (const k of Object.keys(before)) {
      if (!(k in after)) out.push({ path: [...path, k], before: before[k], hasBefore: true, hasAfter: false });
    }
    return out;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    const id = identityOf(before, after);
    if (id !== undefined) {
      const idOf = (x: unknown) => String((x as Record<string, unknown>)[id]);
      const old = new Map(before.map((x) => [idOf(x), x]));
      const now = new Set(after.map(idOf));
      const out: FieldChange[] = [];
      for (const x of after) {
        const seg: Segment = { field: id, value: idOf(x) };
        if (old.has(idOf(x))) out.push(...fieldChanges(old.get(idOf(x)), x, [...path, seg]));
        else out.push({ path: [...path, seg], after: x, hasBefore: false, hasAfter: true });
      }
      for (const x of before) {
        if (!now.has(idOf(x))) out.push({ path: [...path, { field: id, value: idOf(x) }], before: x, hasBefore: true, hasAfter: false });
      }
      return out;
    }
    // A list of plain values that grew or shrank (a command line, a host list): one change of the whole list,
    // exact and unambiguous, rather than a run of shifted indices.
    if (before.length !== after.length && [...before, ...after].every(isScalar)) {
      return [{ path, before, after, hasBefore: true, hasAfter: true }];
    }
    if (before.length === after.length) return before.flatMap((x, i) => fieldChanges(x, after[i], [...path, i]));
    // Items inserted or removed: runs of differing items (longest common subsequence); within a run, items
    // pair up in order and the rest are whole additions or removals.
    const out: FieldChange[] = [];
    const json = (l: readonly unknown[]) => l.map((x) => JSON.stringify(x));
    for (const h of hunks(json(before), json(after))) {
      const paired = Math.min(h.removed, h.added);
      for (let k = 0; k < paired; k++) out.push(...fieldChanges(before[h.at + k], after[h.atNew + k], [...path, h.atNew + k]));
      for (let k = paired; k < h.removed; k++) out.push({ path: [...path, h.at + k], before: before[h.at + k], hasBefore: true, hasAfter: false });
      for (let k = paired; k < h.added; k++) out.push({ path: [...path, h.atNew + k], after: after[h.atNew + k], hasBefore: false, hasAfter: true });
    }
    return out;
  }
  return [{ path, before, after, hasBefore: true, hasAfter: true }];
}

/** `spec.template.spec.containers[name=mlflow].image`, `metadata.labels["app.kubernetes.io/version"]`. */
export function formatPath(path: readonly Segment[]): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else if (typeof seg === 'string') s += /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg) ? `${s === '' ? '' : '.'}${seg}` : `[${JSON.stringify(seg)}]`;
    else s += `[${seg.field}=${seg.value}]`;
  }
  return s === '' ? '(the whole object)' : s;
}

/** Whether `path` starts with the map keys `prefix`. */
export function startsWith(path: readonly Segment[], ...prefix: readonly string[]): boolean {
  return prefix.every((p, i) => path[i] === p);
}

export interface Hunk {
  /** Index in the old list. */
  readonly at: number;
  readonly removed: number;
  /** Index in the new list. */
  readonly atNew: number;
  readonly added: number;
}

/** Runs of differing items between `a` and `b` (longest common subsequence). */
export function hunks(a: readonly string[], b: readonly string[]): Hunk[] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: Hunk[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    const start = { i, j };
    while ((i < a.length || j < b.length) && !(i < a.length && j < b.length && a[i] === b[j])) {
      if (j < b.length && (i >= a.length || lcs[i][j + 1] >= lcs[i + 1][j])) j++;
      else i++;
    }
    out.push({ at: start.i, removed: i - start.i, atNew: start.j, added: j - start.j });
  }
  return out;
}
