/**
 * `npm run import-terraform -- --env <name> --outputs <file|->` — writes the Terraform outputs this project
 * reads (lib/terraform/contract.ts, docs/terraform-contract.md) into `config/<name>.yaml`, keeping every other byte,
 * validates the result with the config schema, and writes atomically. Any problem: exit 1, nothing written.
 * Only wiring lives here: arguments, file I/O, the atomic write, messages and exit codes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { importTerraformOutputs, parseTerraformOutputs, type TerraformOutput } from '../lib/terraform/contract';

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

const USAGE = `Usage: npm run import-terraform -- --env <name> --outputs <file|-> [--config-dir <dir>]

Writes the Terraform outputs this project reads (docs/terraform-contract.md) into
<config-dir>/<name>.yaml, keeping the rest of the file and its comments, and validates the result with the
config schema. Writes nothing when an output is missing, mistyped or sensitive, or the file would be invalid.

  --env <name>          the environment: <config-dir>/<name>.yaml (lowercase letter, then a-z, 0-9, '-')
  --outputs <file|->    the JSON printed by \`terraform output -json\`; '-' reads it from stdin
  --config-dir <dir>    where the environment files are (default: config/ of this repository)
  -h, --help            print this text

Exit codes: 0 updated or already up to date, 1 refused (nothing written), 2 usage error.`;

class UsageError extends Error {}

interface Args {
  readonly env: string;
  readonly outputs: string;
  readonly configDir: string;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return 'help';
    const m = /^(--env|--outputs|--config-dir)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unknown argument '${a}'`);
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '' || (m[2] === undefined && value.startsWith('--'))) throw new UsageError(`${m[1]} needs a value`);
    if (flags.has(m[1])) throw new UsageError(`${m[1]} given twice`);
    flags.set(m[1], value);
  }
  const env = flags.get('--env');
  const outputs = flags.get('--outputs');
  if (env === undefined) throw new UsageError('--env is required');
  if (outputs === undefined) throw new UsageError('--outputs is required');
  if (!/^[a-z][a-z0-9-]*$/.test(env)) {
    throw new UsageError(`--env '${env}' is not an environment name: a lowercase letter, then lowercase letters, digits or '-'`);
  }
  return { env, outputs, configDir: flags.get('--config-dir') ?? path.resolve(__dirname, '..', 'config') };
}

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

function refuse(problems: readonly string[]): number {
  const n = problems.length;
  console.error(`import-terraform refused (${n} problem${n > 1 ? 's' : ''}); nothing was written:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return EXIT_REFUSED;
}

function display(v: unknown): string {
  return v === undefined ? '(absent)' : typeof v === 'string' ? v : JSON.stringify(v);
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

function main(argv: readonly string[]): number {
  let args: Args | 'help';
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`import-terraform: ${e.message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (args === 'help') {
    console.log(USAGE);
    return EXIT_OK;
  }

  const configFile = path.join(args.configDir, `${args.env}.yaml`);
  const configName = shown(configFile);
  const outputsName = args.outputs === '-' ? 'stdin' : shown(args.outputs);
  const problems: string[] = [];

  // Read both inputs first, so one run reports the problems of both.
  let configText: string | undefined;
  let mode = 0o644;
  try {
    configText = fs.readFileSync(configFile, 'utf8');
    mode = fs.statSync(configFile).mode & 0o777;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      let known = '';
      try {
        const envs = fs.readdirSync(args.configDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
        known = envs.length > 0 ? ` (environments there: ${envs.join(', ')})` : '';
      } catch {
        known = ` (${shown(args.configDir)} is not a readable directory)`;
      }
      problems.push(`${configName} does not exist${known}`);
    } else {
      problems.push(`${configName}: cannot read the file: ${err.message}`);
    }
  }
  let outputs: Record<string, TerraformOutput> | undefined;
  try {
    const text = fs.readFileSync(args.outputs === '-' ? 0 : args.outputs, 'utf8');
    const parsed = parseTerraformOutputs(outputsName, text);
    problems.push(...parsed.problems);
    outputs = parsed.outputs;
  } catch (e) {
    problems.push(`${outputsName}: cannot read the Terraform outputs file: ${(e as Error).message}`);
  }
  if (configText === undefined || outputs === undefined || problems.length > 0) return refuse(problems);

  const result = importTerraformOutputs({ configFile: configName, configText, outputsSource: outputsName, outputs });
  if (!result.ok) return refuse(result.problems);
  if (result.changes.length === 0) {
    console.log(`${configName} is already up to date with ${outputsName} (${result.checked} fields checked); not rewritten`);
    return EXIT_OK;
  }
  // Someone edited the file meanwhile: do not overwrite their change with a result computed from the old text.
  if (fs.readFileSync(configFile, 'utf8') !== configText) return refuse([`${configName} changed while importing; run the command again`]);
  writeAtomically(configFile, result.text, mode);

  const n = result.changes.length;
  console.log(`${configName}: ${n} field${n > 1 ? 's' : ''} updated from ${outputsName} (${result.checked} checked):`);
  for (const c of result.changes) console.log(`  ${c.path}: ${display(c.from)} → ${display(c.to)}`);
  for (const note of result.notes) console.log(`note: ${note}`);
  return EXIT_OK;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(`import-terraform failed: ${(e as Error).stack ?? e}`);
  process.exitCode = EXIT_REFUSED;
}
