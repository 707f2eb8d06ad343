/**
 * Command-line flags of the project's two commands (`main.ts`, `scripts/import-terraform.ts`), parsed by
 * Node's `util.parseArgs`. Every problem becomes a one-line `UsageError` in the project's words, so that a
 * command prints that line and its usage (exit 2) instead of Node's message or a stack trace.
 */
import { parseArgs } from 'util';
import { clip } from './config/yaml-document';

/** A usage error: a one-line message; the command prints it with its usage text and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The flags a command accepts, by long name (`config` is `--config`). */
export type FlagSpec = Readonly<Record<string, { readonly type: 'string' | 'boolean'; readonly short?: string }>>;

/** The parsed flags: strings for `string` flags, `true` for boolean ones given; absent flags are absent. */
export type Flags<S extends FlagSpec> = { readonly [K in keyof S]?: S[K]['type'] extends 'string' ? string : boolean };

/**
 * Parses `argv` against `spec`. Refuses, with a `UsageError`: an unknown flag, a positional argument, a
 * string flag without a value (end of the line, `--flag=`, or followed by another flag; a lone `-` is a
 * value: stdin), a value given to a boolean flag, and a flag given twice.
 */
export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): Flags<S> {
  // Non-strict with tokens: Node's own errors differ between versions and name no fix; these messages are ours.
  const { tokens } = parseArgs({ args: [...argv], options: spec, strict: false, allowPositionals: true, tokens: true });
  const flags: Record<string, string | boolean> = {};
  for (const t of tokens) {
    if (t.kind === 'positional') throw new UsageError(`unexpected argument '${clip(t.value)}'`);
    if (t.kind === 'option-terminator') throw new UsageError(`unexpected argument '--'`);
    const option = Object.hasOwn(spec, t.name) ? spec[t.name] : undefined;
    if (option === undefined) throw new UsageError(`unknown option '${clip(t.rawName)}'`);
    const flag = `--${t.name}`;
    if (Object.hasOwn(flags, t.name)) throw new UsageError(`${flag} given twice`);
    if (option.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(`${flag} takes no value`);
      flags[t.name] = true;
    } else {
      const missing = t.value === undefined || t.value === '' || (!t.inlineValue && t.value.startsWith('-') && t.value !== '-');
      if (missing) throw new UsageError(`${flag} needs a value`);
      flags[t.name] = t.value;
    }
  }
  return flags as Flags<S>;
}
