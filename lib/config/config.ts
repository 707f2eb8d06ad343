/**
 * The loader: a config file's text → its YAML mapping → the schema (`schema.ts`) → the guards (`guards.ts`, and
 * `instances.ts` for a file with `instances:`) → the resolved {@link Environment} (`model.ts`), or every problem of
 * every file at once. The one path for a single-server file and a file with instances.
 *
 * Validation happens once, here, at the edge. Constructs in `lib/` receive the resolved model and never read
 * files, `process.env`, the clock or the network.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { z } from 'zod';
import { APP_PATHS } from '../names';
import { crossFieldProblems } from './guards';
import { validateInstances } from './instances';
import { resolveServer, type Environment } from './model';
import { environmentSchema, NAMES_A_KEY } from './schema';
import { echo, expansionProblem, sizeProblem } from './yaml-document';

/** A problem found in a config file: where, what was given, what is expected. */
export interface ConfigProblem {
  readonly file: string;
  /** Dotted field path (`database.pool.size`), or '' for the whole document. */
  readonly path: string;
  readonly message: string;
  /** The value found at `path`, when there is one. */
  readonly value?: unknown;
}

// ---------------------------------------------------------------------------------------------------------
// Loader
// ---------------------------------------------------------------------------------------------------------

/** Thrown when one or more config files are invalid; `problems` lists every one of them. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.path === '' ? p.file : `${p.file}: ${p.path}`;
  const got = p.value === undefined ? '' : ` (got ${echo(p.value)})`;
  return `${where}: ${p.message}${got}`;
}

/** An environment name: a config file's base name, the folder `dist/<env>/`, part of every Application name. */
const ENV_NAME = /^[a-z][a-z0-9-]{0,29}$/;
/** What {@link isEnvironmentName} accepts, as messages say it. */
export const ENVIRONMENT_NAME_RULE = "lowercase letter first, then letters, digits or '-' (max 30)";

/** Whether `name` is an environment name: the one owner of that rule. */
export function isEnvironmentName(name: string): boolean {
  return ENV_NAME.test(name);
}

function valueAt(doc: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = doc;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}: remove or fix the spelling`;
  }
  if (value === undefined) return `required: ${issue.message}`;
  return issue.message;
}

/**
 * The problems of a failed schema parse of `doc`: field path, message, and the value found there; each once (a value
 * can fail two checks that say the same, e.g. 1e20 is neither a safe integer nor within the maximum).
 */
export function schemaProblems(file: string, doc: unknown, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  const seen = new Set<string>();
  return issues.flatMap((issue) => {
    const aboutKey = issue.code === 'unrecognized_keys' || (issue.code === 'custom' && issue.params?.[NAMES_A_KEY] === true);
    const value = aboutKey ? undefined : valueAt(doc, issue.path);
    const problem = {
      file,
      path: issue.path.map(String).join('.'),
      message: aboutKey ? describeIssue(issue, null) : describeIssue(issue, value),
      value,
    };
    const key = `${problem.path}\n${problem.message}`;
    if (seen.has(key)) return [];
    seen.add(key);
    return [problem];
  });
}

/** The environment name of a config file (`config/prod.yaml` → `prod`), and the problem when it is not a valid one: the one owner of that rule. */
export function environmentNameOf(file: string): { name: string; problem?: ConfigProblem } {
  const name = path.basename(file).replace(/\.ya?ml$/, '');
  if (isEnvironmentName(name)) return { name };
  return { name, problem: { file, path: '', message: `the file name must be an environment name: ${ENVIRONMENT_NAME_RULE}` } };
}

/**
 * Validates a parsed config document and resolves it: a single server when it has no `instances`, else one server
 * per instance. `file` names the environment and is used in messages.
 */
export function validateEnvironment(file: string, doc: unknown): { environment?: Environment; problems: ConfigProblem[] } {
  const env = environmentNameOf(file);
  const problems: ConfigProblem[] = env.problem ? [env.problem] : [];
  if (doc !== null && typeof doc === 'object' && Object.hasOwn(doc, 'instances')) {
    const r = validateInstances(file, env.name, doc as Record<string, unknown>);
    problems.push(...r.problems);
    if (problems.length > 0 || r.instances === undefined) return { problems };
    return { environment: { name: env.name, servers: r.instances.map((i) => resolveServer(`${env.name}-${i.name}`, i.name, i.config)) }, problems };
  }
  const parsed = environmentSchema.safeParse(doc);
  if (!parsed.success) return { problems: [...problems, ...schemaProblems(file, doc, parsed.error.issues)] };
  for (const g of crossFieldProblems(parsed.data)) problems.push({ file, path: g.path, message: g.message });
  if (problems.length > 0) return { problems };
  return { environment: { name: env.name, servers: [resolveServer(env.name, APP_PATHS.mlflow, parsed.data)] }, problems };
}

/** Reads, validates and resolves one config file. */
export function loadEnvironmentFile(file: string): { environment?: Environment; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [{ file, path: '', message: `cannot read the file: ${(e as Error).message}` }] };
  }
  return parseEnvironmentText(file, text);
}

/** Parses, validates and resolves the text of a config file (as read from `file`, named in every problem). */
export function parseEnvironmentText(file: string, text: string): { environment?: Environment; problems: ConfigProblem[] } {
  const r = parseConfigDocument(file, text);
  return r.doc === undefined ? { problems: r.problems } : validateEnvironment(file, r.doc);
}

/** Loads config files, collecting the problems of all of them: throws a {@link ConfigError} listing every one. */
export function loadEnvironments(files: readonly string[]): Environment[] {
  const out: Environment[] = [];
  const problems: ConfigProblem[] = [];
  for (const f of files) {
    const r = loadEnvironmentFile(f);
    problems.push(...r.problems);
    if (r.environment) out.push(r.environment);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

/** The YAML mapping of a config file's text, or the one problem that prevents reading it (empty, malformed, not a mapping). */
export function parseConfigDocument(file: string, text: string): { doc?: Record<string, unknown>; problems: ConfigProblem[] } {
  const tooLarge = sizeProblem(text);
  if (tooLarge !== undefined) return { problems: [{ file, path: '', message: tooLarge }] };
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) {
    return { problems: [{ file, path: '', message: 'the file is empty: expected a YAML mapping at the top level' }] };
  }
  let doc: unknown;
  try {
    doc = yaml.load(text, { filename: file, schema: yaml.CORE_SCHEMA });
  } catch (e) {
    const err = e as yaml.YAMLException;
    const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return { problems: [{ file, path: '', message: `malformed YAML${at}: ${err.reason ?? err.message}` }] };
  }
  const expanded = expansionProblem(doc);
  if (expanded !== undefined) return { problems: [{ file, path: '', message: expanded }] };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { problems: [{ file, path: '', message: 'expected a YAML mapping at the top level', value: doc ?? undefined }] };
  }
  return { doc: doc as Record<string, unknown>, problems: [] };
}

/** The config files of a directory: `*.yaml`, sorted, so output order never depends on the file system. */
export function configFilesIn(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}
