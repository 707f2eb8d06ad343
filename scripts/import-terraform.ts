/**
 * `npm run import-terraform -- --env <name> --outputs <file|->` — writes the Terraform outputs this project
 * reads (tools/terraform/contract.ts, docs/terraform-contract.md) into `config/<name>.yaml`, keeping every other byte,
 * validates the result with the config schema, and writes atomically. Any problem: exit 1, nothing written.
 * Only wiring lives here: arguments, file I/O, the atomic write, messages and exit codes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseFlags, UsageError } from '../lib/cli';
import { boundsProblem, clip } from '../lib/config/yaml-document';
import { newEnvironmentText } from '../tools/terraform/new-environment';
import { importTerraformOutputs, parseTerraformOutputs, type TerraformOutput } from '../tools/terraform/contract';
import { ENVIRONMENT_NAME_RULE, isEnvironmentName } from '../lib/config/config';

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage: npm run import-terraform -- --env <name> --outputs <file|-> [--config-dir <dir>]
       npm run import-terraform -- --env <name> --outputs <file|-> --from <env> --host <name> [--config-dir <dir>]

Writes the Terraform outputs this project reads (docs/terraform-contract.md) into
<config-dir>/<name>.yaml, keeping the rest of the file and its comments, and validates the result with the
config schema. Writes nothing when an output is missing, mistyped or sensitive, or the file would be invalid.

With --from, starts a new environment: <config-dir>/<name>.yaml must not exist yet, and is created from
<config-dir>/<env>.yaml with the fields Terraform does not set (image, sizes, exposure, auth users, gitops)
copied, --host as its public host, and every field the Terraform contract lists taken from the outputs.

  --env <name>          the environment: <config-dir>/<name>.yaml (lowercase letter, then a-z, 0-9, '-')
  --outputs <file|->    the JSON printed by \`terraform output -json\`; '-' reads it from stdin
  --from <env>          start <name> as a new environment from <config-dir>/<env>.yaml (needs --host)
  --host <name>         the new environment's public host (exposure.hosts)
  --config-dir <dir>    where the environment files are (default: config/ of this repository)
  -h, --help            print this text

Exit codes: 0 created, updated or already up to date, 1 refused (nothing written), 2 usage error.`;

interface Args {
  readonly env: string;
  readonly outputs: string;
  readonly configDir: string;
  /** A new environment: the environment it starts from and its public host. */
  readonly create?: { readonly from: string; readonly host: string };
}

function parseArguments(argv: readonly string[]): Args | 'help' {
  const flags = parseFlags(argv, {
    env: { type: 'string' },
    outputs: { type: 'string' },
    'config-dir': { type: 'string' },
    from: { type: 'string' },
    host: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) return 'help';
  const { env, outputs } = flags;
  if (env === undefined) throw new UsageError('--env is required');
  if (outputs === undefined) throw new UsageError('--outputs is required');
  if (!isEnvironmentName(env)) throw new UsageError(`--env '${clip(env)}' is not an environment name: ${ENVIRONMENT_NAME_RULE}`);
  const { from, host } = flags;
  if ((from === undefined) !== (host === undefined)) throw new UsageError('--from and --host go together (a new environment needs its own public host)');
  if (from !== undefined && !isEnvironmentName(from)) throw new UsageError(`--from '${clip(from)}' is not an environment name`);
  const configDir = flags['config-dir'] ?? path.resolve(__dirname, '..', 'config');
  return { env, outputs, configDir, ...(from !== undefined && host !== undefined ? { create: { from, host } } : {}) };
}

/** Where the command reads stdin (`--outputs -`) and writes its messages: the process's, or a test's. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** The whole of standard input. @default reads file descriptor 0 */
  readonly readStdin?: () => string;
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function refuse(io: Io, problems: readonly string[]): number {
  const n = problems.length;
  io.stderr.write(`import-terraform refused (${n} problem${n > 1 ? 's' : ''}); nothing was written:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
  return EXIT_REFUSED;
}

function display(v: unknown): string {
  return v === undefined ? '(absent)' : clip(typeof v === 'string' ? v : JSON.stringify(v));
}

/** ` (environments there: dev, prod)`, or why the directory cannot be listed. */
function knownEnvironments(configDir: string): string {
  try {
    const envs = fs.readdirSync(configDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    return envs.length > 0 ? ` (environments there: ${envs.join(', ')})` : '';
  } catch {
    return ` (${shown(configDir)} is not a readable directory)`;
  }
}

/** Writes `text` to `file` through a temporary file in the same directory and a rename. */
function writeAtomically(file: string, text: string, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.import-terraform.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** The command: `argv` without node and script, stdin and messages through `io`. Returns the exit code. */
export function run(argv: readonly string[], io: Io): number {
  try {
    return importTerraform(argv, io);
  } catch (e) {
    // A bug, not a user error: the stack is what a maintainer needs.
    io.stderr.write(`import-terraform failed: ${(e as Error).stack ?? e}\n`);
    return EXIT_REFUSED;
  }
}

function importTerraform(argv: readonly string[], io: Io): number {
  let args: Args | 'help';
  try {
    args = parseArguments(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`import-terraform: ${e.message}\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }

  const configFile = path.join(args.configDir, `${args.env}.yaml`);
  const configName = shown(configFile);
  const outputsName = args.outputs === '-' ? 'stdin' : shown(args.outputs);
  const problems: string[] = [];

  // Read both inputs first, so one run reports the problems of both.
  let configText: string | undefined;
  let mode = 0o644;
  if (args.create !== undefined) {
    const sourceFile = path.join(args.configDir, `${args.create.from}.yaml`);
    if (fs.existsSync(configFile)) {
      problems.push(`${configName} exists already: --from starts a new environment; leave --from and --host out to update this one`);
    } else {
      try {
        const sourceText = fs.readFileSync(sourceFile, 'utf8');
        const tooLarge = boundsProblem(sourceText);
        const started = tooLarge === undefined ? newEnvironmentText({ env: args.env, sourceName: shown(sourceFile), sourceText, host: args.create.host }) : { problem: `${shown(sourceFile)}: ${tooLarge}` };
        if (started.problem !== undefined) problems.push(started.problem);
        configText = started.text;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        problems.push(err.code === 'ENOENT' ? `${shown(sourceFile)} does not exist${knownEnvironments(args.configDir)}` : `${shown(sourceFile)}: cannot read the file: ${err.message}`);
      }
    }
  } else {
    try {
      configText = fs.readFileSync(configFile, 'utf8');
      mode = fs.statSync(configFile).mode & 0o777;
      const tooLarge = boundsProblem(configText);
      if (tooLarge !== undefined) {
        problems.push(`${configName}: ${tooLarge}`);
        configText = undefined;
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') {
        problems.push(
          `${configName} does not exist${knownEnvironments(args.configDir)}; ` +
            `to start environment '${args.env}', add --from <an environment to copy> --host <its public host>`,
        );
      } else {
        problems.push(`${configName}: cannot read the file: ${err.message}`);
      }
    }
  }
  let outputs: Record<string, TerraformOutput> | undefined;
  try {
    const text = args.outputs === '-' ? (io.readStdin ?? (() => fs.readFileSync(0, 'utf8')))() : fs.readFileSync(args.outputs, 'utf8');
    const parsed = parseTerraformOutputs(outputsName, text);
    problems.push(...parsed.problems);
    outputs = parsed.outputs;
  } catch (e) {
    problems.push(`${outputsName}: cannot read the Terraform outputs file: ${(e as Error).message}`);
  }
  if (configText === undefined || outputs === undefined || problems.length > 0) return refuse(io, problems);

  const result = importTerraformOutputs({ configFile: configName, configText, outputsSource: outputsName, outputs });
  if (!result.ok) return refuse(io, result.problems);
  if (args.create !== undefined) {
    // 'wx' semantics for the rename: a file created meanwhile is never overwritten.
    if (fs.existsSync(configFile)) return refuse(io, [`${configName} was created while importing; run the command again without --from`]);
    writeAtomically(configFile, result.text, mode);
    const n = result.changes.length;
    io.stdout.write(`${configName}: created from ${shown(path.join(args.configDir, `${args.create.from}.yaml`))}, ${n} field${n > 1 ? 's' : ''} from ${outputsName}:\n`);
    for (const c of result.changes) io.stdout.write(`  ${c.path}: ${display(c.to)}\n`);
    io.stdout.write(`note: review the values Terraform does not set (copied: image, sizes, exposure, auth users, gitops), then run npm run synth\n`);
    return EXIT_OK;
  }
  if (result.changes.length === 0) {
    io.stdout.write(`${configName} is already up to date with ${outputsName} (${result.checked} fields checked); not rewritten\n`);
    return EXIT_OK;
  }
  // Someone edited the file meanwhile: do not overwrite their change with a result computed from the old text.
  if (fs.readFileSync(configFile, 'utf8') !== configText) return refuse(io, [`${configName} changed while importing; run the command again`]);
  writeAtomically(configFile, result.text, mode);

  const n = result.changes.length;
  io.stdout.write(`${configName}: ${n} field${n > 1 ? 's' : ''} updated from ${outputsName} (${result.checked} checked):\n`);
  for (const c of result.changes) io.stdout.write(`  ${c.path}: ${display(c.from)} → ${display(c.to)}\n`);
  for (const note of result.notes) io.stdout.write(`note: ${note}\n`);
  return EXIT_OK;
}

if (require.main === module) process.exitCode = run(process.argv.slice(2), process);
