/**
 * Bounds on what a config file may cost to read, and on what a message may echo of it. A config is a few KB
 * and a few hundred values; a file far beyond that is a mistake or an attack (a YAML alias bomb: a few KB whose
 * aliases expand to billions of values), and must be refused before anything walks it.
 */
import * as yaml from 'js-yaml';

/** The largest config file synth reads (the shipped ones have under 3 KB). */
export const MAX_CONFIG_BYTES = 256 * 1024;

/**
 * The most values (mappings, sequences and scalars) a config document may hold once its aliases are expanded:
 * the parser shares an alias's target instead of copying it, but validation and messages walk every copy.
 */
export const MAX_CONFIG_VALUES = 10_000;

/** The longest echo of a value in a message; longer ones are cut and their length given. */
export const MAX_ECHO_CHARS = 120;

/** Why `text` is too large to parse, or undefined. */
export function sizeProblem(text: string): string | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= MAX_CONFIG_BYTES) return undefined;
  return `the file has ${bytes} bytes; a config file may have at most ${MAX_CONFIG_BYTES} (${MAX_CONFIG_BYTES / 1024} KiB)`;
}

/** Why the parsed `doc` is too large to validate (too many values once aliases are expanded), or undefined. */
export function expansionProblem(doc: unknown): string | undefined {
  let count = 0;
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (++count > MAX_CONFIG_VALUES) {
      return (
        `the document expands to more than ${MAX_CONFIG_VALUES} values (each YAML alias counts as a copy of what it refers to); ` +
        'a config has a few hundred: write the values out, or use fewer aliases'
      );
    }
    if (v !== null && typeof v === 'object') stack.push(...Object.values(v as object));
  }
  return undefined;
}

/**
 * Why `text` is too large to read as a config file (its size, or its values once aliases are expanded), or undefined.
 * For readers that parse the text their own way (import-terraform edits it with the `yaml` library): a malformed
 * document is left to them.
 */
export function boundsProblem(text: string): string | undefined {
  const size = sizeProblem(text);
  if (size !== undefined) return size;
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.CORE_SCHEMA });
  } catch {
    return undefined;
  }
  return expansionProblem(doc);
}

/** `value` as a message shows it: JSON (a string in quotes), cut to {@link MAX_ECHO_CHARS} characters. */
export function echo(value: unknown): string {
  return clip(typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value)));
}

/** `text` cut to {@link MAX_ECHO_CHARS} characters, saying how long it was. */
export function clip(text: string): string {
  return text.length <= MAX_ECHO_CHARS ? text : `${text.slice(0, MAX_ECHO_CHARS)}… (${text.length} characters)`;
}
