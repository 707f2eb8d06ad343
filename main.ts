/**
 * Entry point: `npm run synth` (every config/*.yaml → dist/<env>/ and argocd/<env>/) or
 * `npm run synth -- --config <file> --out <dir>` (one file → <dir>). Only wiring: parse arguments, check the
 * output directories, load and validate configs, render, write atomically, report. `run` is the command
 * itself (tests call it in-process); the last lines run it when this file is the program.
 */
import * as path from 'path';
import { parseFlags, UsageError } from './lib/cli';
import { ConfigError, configFilesIn, environmentNameOf, loadEnvironments } from './lib/config/config';
import { loadRepositoryEnvironments } from './lib/config/environment-files';
import { assertReplaceable, OutputDirectoryError, renderEnvironment, replaceDirectory, SynthError, type RenderedFile } from './lib/synth/synth';

const EXIT_OK = 0;
const EXIT_INVALID = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage: npm run synth [-- --config <file> --out <dir>]

Without options, synthesizes every config/*.yaml of this repository into dist/<env>/ and argocd/<env>/.

  --config <file>   synthesize this one environment file instead ...
  --out <dir>       ... into <dir> (its Argo CD bootstrap under <dir>/argocd/); <dir> is replaced, so it
                    must not exist, be empty, or be a directory synth wrote for this same environment (it
                    carries .mlflow-gitops-synth); never dist/, argocd/ or a folder inside them
  -h, --help        print this text

--out is for reviewing one environment's manifests. The Argo CD Applications in it still point at
dist/<env>/ in gitops.repoURL: Argo CD deploys what the full synth writes and you commit, not <dir>.

Exit codes: 0 written; 1 invalid configuration or policy violation; 2 usage error or an output directory
synth may not replace. Nothing is written unless the exit code is 0.`;

/** Where a command writes its messages (process.stdout/stderr, or a test's buffers). */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

interface Args {
  /** One config file and the directory it goes to; absent: every config of the repository. */
  readonly single?: { readonly config: string; readonly out: string };
}

function parseArguments(argv: readonly string[]): Args | 'help' {
  const flags = parseFlags(argv, { config: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (flags.help) return 'help';
  if (flags.config === undefined && flags.out === undefined) return {};
  if (flags.config === undefined || flags.out === undefined) throw new UsageError('--config and --out go together');
  return { single: { config: flags.config, out: flags.out } };
}

function under(dir: string, files: readonly RenderedFile[]): RenderedFile[] {
  return files.map((f) => ({ path: path.posix.join(dir, f.path), content: f.content }));
}

/** Replaces each output directory with its files. */
function write(outputs: ReadonlyArray<readonly [string, readonly RenderedFile[]]>): void {
  // Check every directory before replacing any: a refusal leaves all of them as they were.
  for (const [dir, files] of outputs) assertReplaceable(dir, files);
  for (const [dir, files] of outputs) replaceDirectory(dir, files);
}

function synthesize(args: Args, root: string, io: Io): void {
  if (args.single !== undefined) {
    const { config: file, out: dir } = args.single;
    // Before reading the config: a refused --out is a usage error, whatever the file.
    assertReplaceable(dir, undefined, environmentNameOf(file).name);
    const [env] = loadEnvironments([file]);
    const out = renderEnvironment(env);
    replaceDirectory(dir, [...out.dist, ...under('argocd', out.bootstrap)], env.name);
    io.stdout.write(`synthesized ${file} → ${dir}\n`);
    if (out.bootstrap.length > 0) {
      // The Applications' source.path is a path in the Git repository; synth cannot know where <dir> is committed, if anywhere.
      io.stdout.write(`note: its Argo CD Applications point at dist/${env.name}/ in the Git repository, not at ${dir}: Argo CD deploys what npm run synth writes to dist/\n`);
    }
    return;
  }
  const dist = path.join(root, 'dist');
  const argocd = path.join(root, 'argocd');
  // Before reading the configs (again once rendered, with the files): refusals first, whatever the configs.
  assertReplaceable(dist);
  assertReplaceable(argocd);
  const configs = loadRepositoryEnvironments(configFilesIn(path.join(root, 'config')));
  // Render everything before writing anything: an error leaves both trees as they were.
  const distFiles: RenderedFile[] = [];
  const bootstrapFiles: RenderedFile[] = [];
  for (const c of configs) {
    const out = renderEnvironment(c);
    distFiles.push(...under(c.name, out.dist));
    bootstrapFiles.push(...under(c.name, out.bootstrap));
  }
  write([
    [dist, distFiles],
    [argocd, bootstrapFiles],
  ]);
  const names = configs.map((c) => c.name).join(', ');
  io.stdout.write(`synthesized ${names} → dist/ (${distFiles.length} files), argocd/ (${bootstrapFiles.length} files)\n`);
}

function plural(problems: readonly unknown[]): string {
  return `${problems.length} problem${problems.length > 1 ? 's' : ''}`;
}

/**
 * The synth command: `argv` without node and script, messages to `io`, `root` the repository whose config/
 * it reads without --config. Returns the exit code; never throws.
 */
export function run(argv: readonly string[], io: Io, root: string = __dirname): number {
  try {
    const args = parseArguments(argv);
    if (args === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT_OK;
    }
    synthesize(args, root, io);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`synth: ${e.message}\n\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof OutputDirectoryError) {
      io.stderr.write(`synth: ${e.message}. Nothing was written.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof ConfigError) {
      io.stderr.write(`Invalid configuration (${plural(e.problems)}); nothing was written:\n${e.message}\n`);
    } else if (e instanceof SynthError) {
      io.stderr.write(`Synthesis refused (${plural(e.problems)}); nothing was written:\n${e.message}\n`);
    } else {
      // A bug, not a user error: the stack is what a maintainer needs.
      io.stderr.write(`synth failed; nothing was written: ${(e as Error).stack ?? e}\n`);
    }
    return EXIT_INVALID;
  }
}

if (require.main === module) process.exitCode = run(process.argv.slice(2), process);
