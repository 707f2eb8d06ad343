/**
 * The edit `npm run promote` makes: raise one served model's `promotion` count in the text of its config file,
 * keeping every other byte (comments, order, spacing). Pure: text in, text out; scripts/promote.ts reads, validates,
 * writes and re-synthesizes.
 */
import { isMap, isScalar, isSeq, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';

/** The result of {@link promoteText}: the new text and the count before and after, or why not. */
export type PromoteResult =
  | { readonly ok: true; readonly text: string; readonly from: number; readonly to: number; readonly alias: string; readonly model: string; readonly notes: readonly string[] }
  | { readonly ok: false; readonly problem: string };

/** Every `serving` entry of the document: top-level, and of each of `instances[]`, with where it is. */
function servingEntries(doc: Document): Array<{ entry: YAMLMap; where: string }> {
  const out: Array<{ entry: YAMLMap; where: string }> = [];
  const from = (list: unknown, where: string) => {
    if (!isSeq(list)) return;
    list.items.forEach((e, i) => {
      if (isMap(e)) out.push({ entry: e, where: `${where}[${i}]` });
    });
  };
  from(doc.get('serving'), 'serving');
  const instances = doc.get('instances');
  if (isSeq(instances)) {
    instances.items.forEach((inst, i) => {
      if (isMap(inst)) from(inst.get('serving'), `instances[${i}].serving`);
    });
  }
  return out;
}

/** The file's text with `serving[name].promotion` raised by one. `file` names the file in messages. */
export function promoteText(file: string, text: string, serving: string): PromoteResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return { ok: false, problem: `${file}: malformed YAML: ${doc.errors[0].message}` };
  const entries = servingEntries(doc);
  const matches = entries.filter((e) => e.entry.get('name') === serving);
  if (matches.length === 0) {
    const names = entries.map((e) => String(e.entry.get('name')));
    return { ok: false, problem: `${file} has no serving '${serving}' (${names.length > 0 ? `servings: ${names.join(', ')}` : 'it lists no serving'})` };
  }
  if (matches.length > 1) return { ok: false, problem: `${file} has ${matches.length} servings named '${serving}' (${matches.map((m) => m.where).join(', ')}): name one serving per entry` };
  const { entry, where } = matches[0];
  const alias = entry.get('alias');
  if (typeof alias !== 'string') {
    const version = entry.get('version');
    return {
      ok: false,
      problem:
        `${where} '${serving}' in ${file} serves pinned version ${String(version)}, not an alias: there is nothing to promote; ` +
        'to serve another version, change its `version`',
    };
  }
  const current = entry.get('promotion');
  const from = current === undefined ? 0 : Number(current);
  const to = from + 1;
  const base = { ok: true as const, from, to, alias, model: String(entry.get('model')) };

  // In place, keeping every other byte: the count's own characters, or a new line after the alias's.
  const node = entry.get('promotion', true);
  if (isScalar(node) && node.range) {
    return { ...base, text: text.slice(0, node.range[0]) + String(to) + text.slice(node.range[1]), notes: [] };
  }
  const aliasPair = entry.items.find((p: Pair) => isScalar(p.key) && p.key.value === 'alias');
  const aliasKey = aliasPair && isScalar(aliasPair.key) ? aliasPair.key : undefined;
  if (current === undefined && aliasKey?.range && !entry.flow) {
    const lineStart = text.lastIndexOf('\n', aliasKey.range[0] - 1) + 1;
    const indent = text.slice(lineStart, aliasKey.range[0]);
    if (/^[ ]*(- )?[ ]*$/.test(indent)) {
      const lineEnd = text.indexOf('\n', aliasKey.range[0]);
      const at = lineEnd === -1 ? text.length : lineEnd + 1;
      const line = `${' '.repeat(indent.length)}promotion: ${to}\n`;
      return { ...base, text: text.slice(0, at) + (lineEnd === -1 ? '\n' : '') + line + text.slice(at), notes: [] };
    }
  }
  // Not editable in place (a flow mapping `{ … }`): let the YAML library write the document.
  entry.set('promotion', to);
  return {
    ...base,
    text: doc.toString(),
    notes: [`the YAML library re-serialized ${file} (the serving is a flow mapping): comments are kept, spacing inside { } and [ ] may have been normalized`],
  };
}
