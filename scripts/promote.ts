/**
 * `npm run promote -- <env> <serving>` — rolls out the version a served model's alias points at now, as a reviewed
 * change: raises `promotion` of that `serving` entry in `config/<env>.yaml` (every other byte kept, tools/promote.ts),
 * validates the file, writes it, and re-synthesizes `dist/` (that environment's serving Deployment changes, its pod
 * template's promotion annotation, and the server's access plan, by the same count). After review and merge, the
 * server's sync runs the migration Job, which grants the serving user READ on the experiment of the version the alias
 * points at; the served models' Application rolls the Deployment, whose new pods wait for that grant
 * (docs/clients.md#serving).
 * Only wiring lives here: arguments, file I/O, messages and exit codes.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isEnvironmentName, parseEnvironmentText, formatProblem, ENVIRONMENT_NAME_RULE } from '../lib/config/config';
import { boundsProblem, clip } from '../lib/config/yaml-document';
import { run as synth } from '../main';
import { APP_PATHS, servingName } from '../lib/names';
import { promoteText } from '../tools/promote';

const EXIT_OK = 0;
const EXIT_REFUSED = 1;
const EXIT_USAGE = 2;

export const USAGE = 'usage: npm run promote -- <env> <serving>';

/** What `--help` prints. */
export const HELP = `${USAGE}

Rolls out the version a served model's alias points at now, as a reviewed change: raises serving[].promotion of
<serving> in config/<env>.yaml (the rest of the file kept as it is), validates it, and re-synthesizes dist/. Review
with npm run diff, commit and merge: the sync grants the serving user READ on the experiment of that version, then
the serving pods roll and resolve the alias (docs/clients.md#serving).

  -h, --help   print this text

Exit codes: 0 promoted; 1 refused (unknown environment or serving, a pinned version, an invalid file): nothing
written; 2 usage error.`;

/** Where the command writes its messages. */
export interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

function refuse(io: Io, problem: string): number {
  io.stderr.write(`promote: ${problem}; nothing was written\n`);
  return EXIT_REFUSED;
}

/** The command: `argv` without node and script; `root` the repository (its config/ and dist/). Returns the exit code. */
export function run(argv: readonly string[], io: Io, root: string = path.resolve(__dirname, '..')): number {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    io.stdout.write(`${HELP}\n`);
    return EXIT_OK;
  }
  if (argv.length !== 2 || argv.some((a) => a.startsWith('-'))) {
    io.stderr.write(`promote: expected an environment and a serving name, got ${argv.length === 0 ? 'nothing' : argv.map((a) => `'${clip(a)}'`).join(' ')}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const [env, serving] = argv;
  if (!isEnvironmentName(env)) {
    io.stderr.write(`promote: '${clip(env)}' is not an environment name: ${ENVIRONMENT_NAME_RULE}\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const configDir = path.join(root, 'config');
  const file = path.join(configDir, `${env}.yaml`);
  const shown = path.posix.join('config', `${env}.yaml`);
  if (!fs.existsSync(file)) {
    const envs = fs.readdirSync(configDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
    return refuse(io, `no environment '${env}': ${shown} does not exist (environments: ${envs.join(', ')})`);
  }
  const text = fs.readFileSync(file, 'utf8');
  const tooLarge = boundsProblem(text);
  if (tooLarge !== undefined) return refuse(io, `${shown}: ${tooLarge}`);
  const result = promoteText(shown, text, serving);
  if (!result.ok) return refuse(io, result.problem);
  const checked = parseEnvironmentText(shown, result.text);
  if (checked.problems.length > 0) return refuse(io, `${shown} would be invalid:\n${checked.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n(fix the file first)`);

  fs.writeFileSync(file, result.text);
  io.stdout.write(`promote: ${shown}: serving ${serving} (${result.model}@${result.alias}) promotion ${result.from} → ${result.to}\n`);
  for (const note of result.notes) io.stdout.write(`note: ${note}\n`);
  const code = synth([], io, root);
  if (code !== EXIT_OK) {
    // Leave the tree as it was: the config back, dist/ untouched (synth writes nothing when it fails).
    fs.writeFileSync(file, text);
    io.stderr.write(`promote: synth failed; ${shown} was restored\n`);
    return code;
  }
  io.stdout.write(
    `next: review with \`npm run diff -- --env ${env}\` (under dist/${env}/${APP_PATHS.serving}/ the pod template of Deployment ${servingName(serving)} rolls; ` +
      `in the server's folder the access plan ConfigMap carries the new count), commit ${shown} and dist/${env}/, merge; ` +
      `the server's sync runs the migration Job, which grants the serving user READ on the experiment of the version ${result.model}@${result.alias} points at; ` +
      `the new pods wait for that grant, the old ones serving meanwhile, then resolve it\n`,
  );
  return EXIT_OK;
}

if (require.main === module) process.exitCode = run(process.argv.slice(2), process);
