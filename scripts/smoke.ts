/**
 * `npm run smoke -- --url <url>`: the PostSync smoke test (lib/mlflow/scripts/smoke.py) from a laptop, against a
 * deployed server — e.g. `local` behind `kubectl port-forward`, or a GKE environment's public host.
 *
 * Credentials come from the environment, as for any MLflow client: MLFLOW_TRACKING_USERNAME and
 * MLFLOW_TRACKING_PASSWORD (both, or neither for a server without basic-auth). The script needs a Python with
 * MLflow: --python, else the test venv in .mlflow-python (scripts/test-mlflow.sh), else `python3` on PATH.
 *
 * Exit codes: the script's (0 passed, 1 a step failed — the message names it, 2 bad configuration), and 2 for a
 * usage error here.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';

const ROOT = path.join(__dirname, '..');
const SCRIPT = path.join(ROOT, 'lib', 'mlflow', 'scripts', 'smoke.py');
export const USAGE =
  'usage: npm run smoke -- --url <server URL> [--python <python with mlflow>] [--health-timeout <seconds>]   (credentials: MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD)';

/** What `--help` prints. */
export const HELP = `${USAGE}

Runs the PostSync smoke test (lib/mlflow/scripts/smoke.py) against a deployed server: logs a run, uploads and
downloads an artifact, registers a model version with an alias, then deletes what it created.

  --url <server URL>           the server, e.g. http://localhost:5000 behind kubectl port-forward
  --python <python>            a Python with MLflow (default: .mlflow-python from scripts/test-mlflow.sh, else python3)
  --health-timeout <seconds>   how long to wait for /health first (default 60)
  -h, --help                   print this text

Credentials: MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (both, or neither without basic-auth).
Exit codes: 0 passed; 1 a step failed (the message names it); 2 usage error or bad configuration.`;

interface Options {
  readonly url: string;
  readonly python: string;
  readonly healthTimeoutSeconds?: string;
}

class UsageError extends Error {}

function parse(argv: readonly string[]): Options | 'help' {
  let values: { url?: string; python?: string; 'health-timeout'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: { url: { type: 'string' }, python: { type: 'string' }, 'health-timeout': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    // Node's parseArgs messages run on with advice about positionals: keep the first sentence.
    throw new UsageError((e as Error).message.split(/\. /)[0].replace(/^Unknown option/, 'unknown option'));
  }
  if (values.help) return 'help';
  if (values.url === undefined) throw new UsageError('--url is required');
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(values.url)) throw new UsageError(`--url must be an http:// or https:// URL, got '${values.url}'`);
  const timeout = values['health-timeout'];
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError(`--health-timeout must be a whole number of seconds, got '${timeout}'`);
  return { url: values.url, python: values.python ?? defaultPython(), healthTimeoutSeconds: timeout };
}

function defaultPython(): string {
  const file = path.join(ROOT, '.mlflow-python');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : 'python3';
}

function main(argv: readonly string[]): number {
  let o: Options;
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    o = parsed;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`smoke: ${e.message}\n${USAGE}\n`);
    return 2;
  }
  const r = spawnSync(o.python, [SCRIPT], {
    stdio: 'inherit',
    env: {
      ...process.env,
      MLFLOW_TRACKING_URI: o.url,
      ...(o.healthTimeoutSeconds !== undefined ? { SMOKE_HEALTH_TIMEOUT_SECONDS: o.healthTimeoutSeconds } : {}),
    },
  });
  if (r.error) {
    process.stderr.write(`smoke: cannot run ${o.python}: ${r.error.message} (give a Python with MLflow installed: --python)\n`);
    return 2;
  }
  return r.status ?? 1;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
