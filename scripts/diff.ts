/**
 * `npm run diff -- [--base <git-ref>] [--env <name>] [--format text|markdown] [--fail-on danger]` (`--help`: {@link HELP})
 *
 * Renders the base (default: the merge base of HEAD with `main`, or `origin/main` in a CI clone) and the
 * working tree, and prints what changes object by object, with the dangers first (tools/diff).
 *
 * The base is read from git without touching the working tree or the index: `git archive` into a temporary
 * directory, which is then synthesized by the base's own `main.ts` (its code, its configs) with this
 * checkout's node_modules. Its committed `dist/` is not trusted: it is deleted before the synth. The working
 * tree is synthesized in this process by its own code (this script is part of it), nothing is written.
 *
 * Exit codes: 0 compared; 1 dangers found with `--fail-on danger`; 2 usage error, a base ref that is not a
 * commit, a base that does not synthesize (invalid config), or a working tree that does not synthesize.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import type { RenderedFile } from '../lib/synth/synth';
import { diffReport, formatMarkdown, formatText, type DiffReport } from '../tools/diff/report';

export const USAGE = 'usage: npm run diff -- [--base <git-ref>] [--env <name>]... [--format text|markdown] [--fail-on danger]';

/** What `--help` prints: the usage line, then what the command does and what each option means. */
export const HELP = `${USAGE}

Renders the base commit and the working tree (nothing is written) and prints what changes, object by object,
with the dangers first (docs/reviewing.md).

  --base <git-ref>   the commit to compare with (default: the merge base of HEAD with main, else origin/main)
  --env <name>       only this environment (repeat for several; default: every environment on either side)
  --format <form>    text (default) or markdown (a pull-request comment)
  --fail-on danger   exit 1 when a danger is found
  -h, --help         print this text

Exit codes: 0 compared; 1 dangers found with --fail-on danger; 2 usage error, a base that is not a commit or
does not synthesize, or a working tree that does not synthesize.`;

/** A problem that stops the comparison: reported as one line, exit 2. */
export class DiffError extends Error {
  constructor(
    message: string,
    /** Print the usage line after the message. */
    public readonly usage = false,
  ) {
    super(message);
    this.name = 'DiffError';
  }
}

export interface DiffOptions {
  readonly base?: string;
  readonly envs?: readonly string[];
  readonly format: 'text' | 'markdown';
  readonly failOnDanger: boolean;
}

/** The options, or `'help'` when `--help`/`-h` is given (whatever else is). */
export function parseDiffArgs(argv: readonly string[]): DiffOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        base: { type: 'string' },
        env: { type: 'string', multiple: true },
        format: { type: 'string' },
        'fail-on': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    // Node's messages are full sentences with a hint; keep the first sentence.
    throw new DiffError((e as Error).message.split('. ')[0].replace(/\.$/, ''), true);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const format = v.format ?? 'text';
  if (format !== 'text' && format !== 'markdown') throw new DiffError(`--format ${format}: expected 'text' or 'markdown'`, true);
  if (v['fail-on'] !== undefined && v['fail-on'] !== 'danger') throw new DiffError(`--fail-on ${v['fail-on']}: expected 'danger'`, true);
  if (v.base !== undefined && v.base.trim() === '') throw new DiffError('--base: expected a git ref', true);
  return { base: v.base, envs: v.env, format, failOnDanger: v['fail-on'] === 'danger' };
}

// ---------------------------------------------------------------------------------------------------------
// git
// ---------------------------------------------------------------------------------------------------------

function git(root: string, args: readonly string[]): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).trim();
}

function tryGit(root: string, args: readonly string[]): string | undefined {
  try {
    return git(root, args);
  } catch {
    return undefined;
  }
}

function commitOf(root: string, ref: string): string | undefined {
  return tryGit(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
}

export interface Base {
  readonly commit: string;
  /** `main (merge base 1a2b3c4)`, `v1.2 (1a2b3c4)`. */
  readonly label: string;
}

/** The commit to compare with: `--base`, or the merge base of HEAD with `main` (else `origin/main`). */
export function resolveBase(root: string, ref: string | undefined): Base {
  if (tryGit(root, ['rev-parse', '--git-dir']) === undefined) throw new DiffError(`${root} is not in a git repository`);
  const short = (c: string) => c.slice(0, 7);
  if (ref !== undefined) {
    const commit = commitOf(root, ref);
    if (!commit) throw new DiffError(`--base ${ref}: not a commit in this repository`);
    return { commit, label: `${ref} (${short(commit)})` };
  }
  const main = ['main', 'origin/main'].find((r) => commitOf(root, r));
  if (!main) throw new DiffError('no --base given and neither main nor origin/main exists: pass --base <git-ref>', true);
  const commit = tryGit(root, ['merge-base', 'HEAD', main]);
  if (!commit) throw new DiffError(`HEAD and ${main} have no merge base: pass --base <git-ref>`, true);
  return { commit, label: `${main} (merge base ${short(commit)})` };
}

// ---------------------------------------------------------------------------------------------------------
// Synthesizing
// ---------------------------------------------------------------------------------------------------------

function filesUnder(dir: string, prefix: string): RenderedFile[] {
  if (!fs.existsSync(dir)) return [];
  const out: RenderedFile[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}/${e.name}`);
      else out.push({ path: `${rel}/${e.name}`, content: fs.readFileSync(p, 'utf8') });
    }
  };
  walk(dir, prefix);
  return out;
}

/** One line out of a failed synth's stderr: the first problem, and how many more there are. */
function firstProblem(stderr: string, dir: string): string {
  const lines = stderr.split('\n').map((l) => l.split(`${dir}${path.sep}`).join('').trim()).filter((l) => l.length > 0);
  const head = lines[0] ?? 'no output';
  const m = /^(Invalid configuration|Synthesis refused) \((\d+) problems?\)/.exec(head);
  if (!m) return `synth failed: ${head}`;
  const more = Number(m[2]) - 1;
  return `${m[1] === 'Invalid configuration' ? 'its configuration is invalid' : 'synth refused it'}: ${lines[1] ?? ''}${more > 0 ? ` (and ${more} more)` : ''}`;
}

/**
 * A fresh directory for rendering `commit`: named after the commit when that name is free, so that tsx's
 * transform cache (keyed by file path and content) is warm when the same base is rendered again; else a
 * unique one. Removed after use.
 */
function workDirectory(commit: string): string {
  const named = path.join(os.tmpdir(), `mlflow-gitops-diff-${commit.slice(0, 12)}`);
  try {
    fs.mkdirSync(named);
    return named;
  } catch {
    return fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-diff-'));
  }
}

/**
 * Renders a commit by its own code: `git archive` into a temporary directory, this checkout's node_modules
 * linked in, its committed output deleted, then its `main.ts` run there. Returns `dist/…` and `argocd/…`.
 */
export async function renderCommit(root: string, base: Base): Promise<RenderedFile[]> {
  const prefix = git(root, ['rev-parse', '--show-prefix']);
  const tmp = workDirectory(base.commit);
  try {
    const tree = path.join(tmp, 'tree');
    fs.mkdirSync(tree);
    const tar = path.join(tmp, 'base.tar');
    if (tryGit(root, ['archive', '--format=tar', '-o', tar, prefix === '' ? base.commit : `${base.commit}:${prefix.replace(/\/$/, '')}`]) === undefined) {
      throw new DiffError(`base ${base.label}: has no ${prefix}`);
    }
    execFileSync('tar', ['-xf', tar, '-C', tree], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (!fs.existsSync(path.join(tree, 'main.ts'))) throw new DiffError(`base ${base.label}: has no main.ts to synthesize it with`);
    fs.rmSync(path.join(tree, 'dist'), { recursive: true, force: true });
    fs.rmSync(path.join(tree, 'argocd'), { recursive: true, force: true });
    const modules = path.join(root, 'node_modules');
    if (fs.existsSync(modules) && !fs.existsSync(path.join(tree, 'node_modules'))) fs.symlinkSync(modules, path.join(tree, 'node_modules'), 'dir');
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, ['--require', 'tsx/cjs', 'main.ts'], { cwd: tree, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
        if (err) reject(new DiffError(`base ${base.label}: ${firstProblem(String(stderr), tree)}`));
        else resolve();
      });
    });
    return [...filesUnder(path.join(tree, 'dist'), 'dist'), ...filesUnder(path.join(tree, 'argocd'), 'argocd')];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Renders the working tree's configs with this checkout's code, in memory (the same files `npm run synth` writes). */
/** Environments of the working tree: the names of its config files. */
export function workingTreeEnvironments(root: string): string[] {
  const dir = path.join(root, 'config');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).map((f) => f.replace(/\.ya?ml$/, '')).sort() : [];
}

export function renderWorkingTree(root: string, envs?: readonly string[]): RenderedFile[] {
  // Loaded here, not at the top: a usage error is reported without loading cdk8s and every construct.
  const { ConfigError, configFilesIn, loadEnvironments } = require('../lib/config/config') as typeof import('../lib/config/config');
  const { renderEnvironment, SynthError } = require('../lib/synth/synth') as typeof import('../lib/synth/synth');
  try {
    const files: RenderedFile[] = [];
    const configs = configFilesIn(path.join(root, 'config')).filter((f) => envs === undefined || envs.includes(path.basename(f).replace(/\.ya?ml$/, '')));
    for (const c of loadEnvironments(configs)) {
      const out = renderEnvironment(c);
      files.push(...out.dist.map((f) => ({ path: `dist/${c.name}/${f.path}`, content: f.content })));
      files.push(...out.bootstrap.map((f) => ({ path: `argocd/${c.name}/${f.path}`, content: f.content })));
    }
    return files;
  } catch (e) {
    if (e instanceof ConfigError || e instanceof SynthError) {
      const what = e instanceof ConfigError ? 'its configuration is invalid' : 'synth refused it';
      const first = e.message.split('\n')[0].split(`${root}${path.sep}`).join('');
      const more = e.problems.length - 1;
      throw new DiffError(`working tree: ${what}: ${first}${more > 0 ? ` (and ${more} more; run npm run synth)` : ''}`);
    }
    throw e;
  }
}

/** Caveats: the base is rendered with this checkout's dependencies. */
function notesFor(root: string, base: Base): string[] {
  const prefix = git(root, ['rev-parse', '--show-prefix']);
  const lockThen = tryGit(root, ['show', `${base.commit}:${prefix}package-lock.json`]);
  const lockNow = fs.existsSync(path.join(root, 'package-lock.json')) ? fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8').trim() : undefined;
  return lockThen !== lockNow ? ["package-lock.json differs from the base's: the base was rendered with this checkout's node_modules"] : [];
}

// ---------------------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------------------

export interface DiffIo {
  /** The checkout to compare (default: the one this script is in). */
  readonly root?: string;
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** How the base commit is rendered (default {@link renderCommit}); tests share one rendering between cases. */
  readonly renderBase?: (root: string, base: Base) => Promise<RenderedFile[]>;
}

/** Builds the report (throws {@link DiffError}). */
export async function buildReport(options: DiffOptions, root: string, renderBase = renderCommit): Promise<DiffReport> {
  const base = resolveBase(root, options.base);
  const baseEnvs = (tryGit(root, ['ls-tree', '--name-only', `${base.commit}:${git(root, ['rev-parse', '--show-prefix'])}config`]) ?? '')
    .split('\n')
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
  const headEnvs = workingTreeEnvironments(root);
  for (const env of options.envs ?? []) {
    if (!baseEnvs.includes(env) && !headEnvs.includes(env)) {
      throw new DiffError(`--env ${env}: no such environment (base: ${baseEnvs.join(', ') || 'none'}; working tree: ${headEnvs.join(', ') || 'none'})`, true);
    }
  }
  // The base renders in a child process while this one renders the working tree.
  const baseFiles = renderBase(root, base);
  baseFiles.catch(() => undefined); // awaited below, after the working tree (whose error would come first)
  const head = renderWorkingTree(root, options.envs);
  return diffReport({ baseLabel: base.label, headLabel: 'working tree', base: await baseFiles, head, envs: options.envs, notes: notesFor(root, base) });
}

export async function runDiff(argv: readonly string[], io: DiffIo): Promise<number> {
  try {
    const options = parseDiffArgs(argv);
    if (options === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const report = await buildReport(options, io.root ?? path.resolve(__dirname, '..'), io.renderBase);
    io.stdout(options.format === 'markdown' ? formatMarkdown(report) : formatText(report));
    if (options.failOnDanger && report.dangers.length > 0) {
      io.stderr(`diff: ${report.dangers.length} danger${report.dangers.length > 1 ? 's' : ''} found (--fail-on danger)\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (!(e instanceof DiffError)) throw e;
    io.stderr(`diff: ${e.message}\n${e.usage ? `${USAGE}\n` : ''}`);
    return 2;
  }
}

if (require.main === module) {
  runDiff(process.argv.slice(2), { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`diff failed: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 2;
    },
  );
}
