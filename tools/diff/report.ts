/**
 * The diff as a reviewer reads it: dangers first, then per environment and Argo CD Application folder the
 * added (+), removed (-) and changed (~) objects in apply order, each change with its fields `old → new`.
 * Two forms: plain text for a terminal, and Markdown for a pull-request comment (one collapsible section
 * per environment, a marker line so CI can find and update its own comment).
 *
 * Values are printed as rendered: ExternalSecret templates appear as their template text (they are never
 * evaluated here). Nothing under `data`/`stringData` of a `kind: Secret` is ever printed.
 */
import { compareTrees, type EnvironmentDiff, type ObjectChange } from './compare';
import { DANGER_TITLES, dangersOf, type Danger, type DangerKind } from './dangers';
import { formatPath, hunks, type FieldChange } from './fields';
import { displayName, placementOf, treeOf, waveOf } from './objects';
import type { RenderedFile } from '../../lib/synth/synth';

/** First line of the Markdown form: CI finds its previous comment by it and updates that one. */
export const MARKDOWN_MARKER = '<!-- mlflow-gitops:diff -->';
/** GitHub refuses comment bodies above 65536 characters; stay clearly below. */
export const MARKDOWN_LIMIT = 60000;

export interface DiffReport {
  /** What the base is, e.g. `main (merge base 1a2b3c4)`. */
  readonly baseLabel: string;
  /** What it is compared with, e.g. `working tree`. */
  readonly headLabel: string;
  readonly environments: readonly EnvironmentDiff[];
  readonly dangers: readonly Danger[];
  /** Caveats about how the comparison was made (printed under the title). */
  readonly notes: readonly string[];
}

export interface DiffInput {
  readonly baseLabel: string;
  readonly headLabel: string;
  readonly base: readonly RenderedFile[];
  readonly head: readonly RenderedFile[];
  /** Only these environments (default: all on either side). */
  readonly envs?: readonly string[];
  readonly notes?: readonly string[];
}

/** Compares two rendered checkouts and finds the dangers. */
export function diffReport(input: DiffInput): DiffReport {
  const environments = compareTrees(treeOf(input.base), treeOf(input.head), input.envs);
  return { baseLabel: input.baseLabel, headLabel: input.headLabel, environments, dangers: dangersOf(environments), notes: input.notes ?? [] };
}

// ---------------------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------------------

const HIDDEN = '(hidden: Secret data)';

function isSecretData(c: ObjectChange, f: FieldChange): boolean {
  return (c.after ?? c.before)?.kind === 'Secret' && (f.path[0] === 'data' || f.path[0] === 'stringData');
}

function value(v: unknown, present: boolean): string {
  return present ? JSON.stringify(v) : '(none)';
}

/** Changed lines of two texts, as `- old` / `+ new` lines under `@@ line N` (N: the line in the new text). */
export function lineDiff(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  return hunks(a, b).flatMap((h) => [
    `@@ line ${h.atNew + 1}`,
    ...a.slice(h.at, h.at + h.removed).map((l) => `- ${l}`),
    ...b.slice(h.atNew, h.atNew + h.added).map((l) => `+ ${l}`),
  ]);
}

/** The lines of one field change, indented by the caller. */
function fieldLines(c: ObjectChange, f: FieldChange): string[] {
  const path = formatPath(f.path);
  if (isSecretData(c, f)) return [`${path}: ${HIDDEN}`];
  const multiLine = (v: unknown) => typeof v === 'string' && v.includes('\n');
  if (f.hasBefore && f.hasAfter && typeof f.before === 'string' && typeof f.after === 'string' && (multiLine(f.before) || multiLine(f.after)) && f.before.length + f.after.length < 200000) {
    return [`${path}: text changed`, ...lineDiff(f.before, f.after).map((l) => `    ${l}`)];
  }
  if (Array.isArray(f.before) && Array.isArray(f.after) && [...f.before, ...f.after].every((x) => x === null || typeof x !== 'object')) {
    return listEdits(f.before, f.after).map((e) => `${path}${e}`);
  }
  return [`${path}: ${value(f.before, f.hasBefore)} → ${value(f.after, f.hasAfter)}`];
}

/** Edits between two lists of plain values: `: inserts "a", "b" at [3]`, `: removes "x" from [5]`, `: replaces … at [1]`. */
function listEdits(before: readonly unknown[], after: readonly unknown[]): string[] {
  const items = (l: readonly unknown[]) => l.map((x) => JSON.stringify(x)).join(', ');
  const out: string[] = [];
  for (const h of hunks(before.map((x) => JSON.stringify(x)), after.map((x) => JSON.stringify(x)))) {
    const removed = before.slice(h.at, h.at + h.removed);
    const added = after.slice(h.atNew, h.atNew + h.added);
    if (removed.length === 0) out.push(`: inserts ${items(added)} at [${h.atNew}]`);
    else if (added.length === 0) out.push(`: removes ${items(removed)} from [${h.at}]`);
    else out.push(`: replaces ${items(removed)} with ${items(added)} at [${h.at}]`);
  }
  return out;
}

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

function objectHeader(c: ObjectChange): string {
  const o = (c.after ?? c.before)!;
  const placement =
    c.before && c.after && waveOf(c.before) !== waveOf(c.after) ? `wave ${waveOf(c.before)} → ${waveOf(c.after)}` : placementOf(o);
  return `${SIGN[c.status]} ${displayName(o)} (${placement})`;
}

/** The lines of one object: its header and, for a change, one line per field. */
function objectLines(c: ObjectChange, withFields: boolean): string[] {
  return [objectHeader(c), ...(withFields ? c.fields.flatMap((f) => fieldLines(c, f)).map((l) => `    ${l}`) : [])];
}

/** `2 changed, 1 added (new environment)`: only for an environment with changes (the others are listed under `No changes`). */
function summary(e: EnvironmentDiff): string {
  const count = (s: ObjectChange['status']) => e.folders.reduce((n, f) => n + f.changes.filter((c) => c.status === s).length, 0);
  const parts = (['changed', 'added', 'removed'] as const).filter((s) => count(s) > 0).map((s) => `${count(s)} ${s}`);
  const life = !e.inBase ? ' (new environment)' : !e.inHead ? ' (environment removed)' : '';
  return `${parts.join(', ')}${life}`;
}

function folderTitle(folder: string, application: string | undefined): { text: string; md: string } {
  if (folder.startsWith('argocd/')) return { text: `${folder} (bootstrap, applied by hand)`, md: `\`${folder}\` (bootstrap, applied by hand)` };
  return application
    ? { text: `${folder} (Application ${application})`, md: `\`${folder}\` (Application \`${application}\`)` }
    : { text: folder, md: `\`${folder}\`` };
}

function dangerGroups(dangers: readonly Danger[]): [DangerKind, Danger[]][] {
  const kinds = [...new Set(dangers.map((d) => d.kind))];
  return kinds.map((k) => [k, dangers.filter((d) => d.kind === k)]);
}

// ---------------------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------------------

export function formatText(r: DiffReport): string {
  const out: string[] = [`Rendered manifests: ${r.baseLabel} → ${r.headLabel}`, ...r.notes.map((n) => `Note: ${n}`), ''];
  if (r.dangers.length === 0) out.push('No dangers found.');
  else {
    out.push(`DANGER (${r.dangers.length}):`);
    for (const [kind, list] of dangerGroups(r.dangers)) {
      out.push(`  ${DANGER_TITLES[kind]}:`);
      for (const d of list) out.push(`    ! ${d.env} ${d.object}: ${d.message}`);
    }
  }
  for (const e of r.environments.filter((x) => x.folders.length > 0)) {
    out.push('', `${e.env}: ${summary(e)}`);
    for (const f of e.folders) {
      out.push(`  ${folderTitle(f.folder, f.application).text}`);
      for (const c of f.changes) out.push(...objectLines(c, true).map((l) => `    ${l}`));
    }
  }
  const unchanged = r.environments.filter((e) => e.folders.length === 0).map((e) => e.env);
  if (unchanged.length > 0) out.push('', `No changes: ${unchanged.join(', ')}.`);
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// Markdown (a pull-request comment)
// ---------------------------------------------------------------------------------------------------------

function escapeMd(s: string): string {
  return s.replace(/[\\`*_<>[\]|]/g, (ch) => `\\${ch}`);
}

/** A fenced block longer than any backtick run inside it. */
function fenced(lines: readonly string[]): string[] {
  const longest = Math.max(2, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence];
}

/** How much of each environment the Markdown form shows: everything, the objects without their fields, or counts. */
type Detail = 'fields' | 'objects' | 'summary';

function markdown(r: DiffReport, detail: Detail): string {
  const out: string[] = [MARKDOWN_MARKER, `### Rendered manifests: ${escapeMd(r.baseLabel)} → ${escapeMd(r.headLabel)}`, ''];
  for (const n of r.notes) out.push(`> ${escapeMd(n)}`, '');
  if (r.dangers.length === 0) out.push('No dangers found.', '');
  else {
    out.push('> [!CAUTION]', `> **${r.dangers.length} danger${r.dangers.length > 1 ? 's' : ''}**: read ${r.dangers.length > 1 ? 'them' : 'it'} before merging.`, '');
    for (const [kind, list] of dangerGroups(r.dangers)) {
      out.push(`**${DANGER_TITLES[kind]}**`, '');
      for (const d of list) out.push(`- \`${d.env}\` \`${d.object}\`: ${escapeMd(d.message)}`);
      out.push('');
    }
  }
  const unchanged = r.environments.filter((e) => e.folders.length === 0).map((e) => `\`${e.env}\``);
  for (const e of r.environments.filter((x) => x.folders.length > 0)) {
    if (detail === 'summary') {
      out.push(`- **${e.env}**: ${escapeMd(summary(e))}`);
      continue;
    }
    out.push(`<details><summary><b>${e.env}</b>: ${escapeMd(summary(e))}</summary>`, '');
    for (const f of e.folders) {
      out.push(folderTitle(f.folder, f.application).md, '', ...fenced(f.changes.flatMap((c) => objectLines(c, detail === 'fields'))), '');
    }
    if (detail === 'objects') out.push('Field changes left out: the comment would be too long. Run `npm run diff` to see them.', '');
    out.push('</details>', '');
  }
  if (detail === 'summary') out.push('', 'Objects left out: the comment would be too long. Run `npm run diff` to see them.', '');
  if (unchanged.length > 0) out.push(`No changes: ${unchanged.join(', ')}.`, '');
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * The Markdown form. When too long for a comment, the field lines are left out, then the object lists; the
 * dangers never are.
 */
export function formatMarkdown(r: DiffReport): string {
  const fields = markdown(r, 'fields');
  if (fields.length <= MARKDOWN_LIMIT) return fields;
  const objects = markdown(r, 'objects');
  return objects.length <= MARKDOWN_LIMIT ? objects : markdown(r, 'summary');
}
