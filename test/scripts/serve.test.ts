/**
 * serve.py's start, without a server: a stand-in `mlflow` package (on PYTHONPATH) answers the registry calls as the
 * case needs (403, not found, another error, or the version after a number of refusals), and a stand-in `mlflow`
 * command (on PATH) is the scoring server. What it proves: a cause a sync may remove (a grant not given yet, a model
 * not registered yet) is retried for SERVE_WAIT_SECONDS, its message logged each time, then the pod exits with that
 * message; other causes exit at once; SIGTERM stops the wait at once. Against the real server:
 * test/e2e/serving.test.ts.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../tools/environments';

const SCRIPT = path.join(ROOT, 'lib', 'mlflow', 'scripts', 'serve.py');

/** The stand-in client: fails with `FAKE_FAIL` (denied | not-found | broken | download-denied) the first `FAKE_FAILURES` calls it may fail (all, without it). */
const FAKE_MLFLOW = `
import os, sys

class MlflowException(Exception):
    def __init__(self, message, error_code):
        super().__init__(message)
        self.error_code = error_code

ERRORS = {
    "denied": ("API request failed with error code 403", "PERMISSION_DENIED"),
    # What MLflow 3.17 answers for an alias not set on an existing model (test/e2e/serving.test.ts meets it for real).
    "not-found": ("INVALID_PARAMETER_VALUE: Registered model alias champion not found.", "INVALID_PARAMETER_VALUE"),
    "broken": ("connection refused", "INTERNAL_ERROR"),
    "download-denied": ("403 Client Error: FORBIDDEN", None),
}

def _call(kinds):
    """Counts the calls that may fail with FAKE_FAIL; raises its error for the first FAKE_FAILURES of them."""
    kind = os.environ.get("FAKE_FAIL")
    if kind not in kinds:
        return
    count_file = os.environ["FAKE_COUNT"]
    n = int(open(count_file).read()) if os.path.exists(count_file) else 0
    open(count_file, "w").write(str(n + 1))
    limit = os.environ.get("FAKE_FAILURES")
    if limit is None or n < int(limit):
        raise MlflowException(*ERRORS[kind])

class _Version:
    version = "2"
    run_id = "r1"

class MlflowClient:
    def get_model_version_by_alias(self, name, alias):
        _call(("denied", "not-found", "broken"))
        return _Version()

    def get_model_version_download_uri(self, name, version):
        return "mlflow-artifacts:/7/models/m-1/artifacts"

def get_tracking_uri():
    return "http://mlflow.test:5000"

class _Artifacts:
    @staticmethod
    def download_artifacts(artifact_uri, dst_path):
        _call(("download-denied",))
        return dst_path

artifacts = _Artifacts()
`;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-test-'));
  fs.mkdirSync(path.join(dir, 'py', 'mlflow'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'py', 'mlflow', '__init__.py'), FAKE_MLFLOW);
  fs.mkdirSync(path.join(dir, 'bin'));
  // The scoring server: says how it was started, and exits.
  fs.writeFileSync(path.join(dir, 'bin', 'mlflow'), '#!/bin/sh\necho "scoring server: $*"\n', { mode: 0o755 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let run = 0;
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  run += 1;
  return {
    PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`,
    PYTHONPATH: path.join(dir, 'py'),
    MLFLOW_TRACKING_USERNAME: 'serve-iris',
    FAKE_COUNT: path.join(dir, `count-${run}`),
    ...extra,
  };
}

const ARGS = [SCRIPT, '--model', 'iris', '--alias', 'champion', '--promote-command', 'npm run promote -- dev iris', '--port', '8080', '--model-dir', '/tmp/m'];

function serve(extra: Record<string, string>) {
  const e = env(extra);
  const r = spawnSync('python3', ARGS, { encoding: 'utf8', env: e, timeout: 60_000 });
  // The calls that could fail as FAKE_FAIL says: the attempts.
  const calls = fs.existsSync(e.FAKE_COUNT as string) ? Number(fs.readFileSync(e.FAKE_COUNT as string, 'utf8')) : 0;
  return { code: r.status, stdout: r.stdout, errors: r.stderr.split('\n').filter((l) => l !== ''), calls };
}

const DENIED =
  "user 'serve-iris' may not read registered model 'iris' (403, which MLflow also answers for a model that does not exist): check that the model " +
  'is registered and named in serving[].model, and that the migration Job ran (it grants the serving user READ on the model)';
const DOWNLOAD_DENIED =
  "user 'serve-iris' may not read experiment 7, where iris version 2 was logged (403 from the artifact proxy): the sync grants the serving user " +
  'READ on the experiment of the version it serves; run `npm run promote -- dev iris`, review and merge, and the next sync grants it before the pods roll';

test('SERVE_WAIT_SECONDS=0: a 403 ends the start at once with its message', () => {
  expect(serve({ SERVE_WAIT_SECONDS: '0', FAKE_FAIL: 'denied' })).toEqual({ code: 1, stdout: '', errors: [`serve: ERROR: ${DENIED}`], calls: 1 });
});

test('unset: no wait either (the Deployment sets it)', () => {
  expect(serve({ FAKE_FAIL: 'denied' })).toMatchObject({ code: 1, errors: [`serve: ERROR: ${DENIED}`], calls: 1 });
});

test('a 403 on the download is retried, the message logged each time, and the version served once the grant is there', () => {
  const r = serve({ SERVE_WAIT_SECONDS: '30', FAKE_FAIL: 'download-denied', FAKE_FAILURES: '1' });
  expect(r.code).toBe(0);
  expect(r.errors).toEqual([expect.stringMatching(new RegExp(`^serve: ERROR: ${DOWNLOAD_DENIED.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(retrying for up to (30|29) s more\\)$`))]);
  expect(r.stdout).toContain('serve: iris@champion → version 2 (run r1, experiment 7)\n');
  expect(r.stdout).toContain('scoring server: models serve -m /tmp/m --env-manager local --host 0.0.0.0 --port 8080\n');
}, 60_000);

test('a model or alias not found is retried too; after SERVE_WAIT_SECONDS the pod exits with the message', () => {
  const r = serve({ SERVE_WAIT_SECONDS: '1', FAKE_FAIL: 'not-found' });
  const message = 'iris@champion does not exist at http://mlflow.test:5000: register the model (and set the alias), then promote it';
  expect(r).toEqual({ code: 1, stdout: '', errors: [`serve: ERROR: ${message} (retrying for up to 1 s more)`, `serve: ERROR: ${message}`], calls: 2 });
}, 60_000);

test('any other error is not waited for', () => {
  expect(serve({ SERVE_WAIT_SECONDS: '30', FAKE_FAIL: 'broken' })).toEqual({
    code: 1,
    stdout: '',
    errors: ['serve: ERROR: cannot resolve iris@champion at http://mlflow.test:5000: connection refused'],
    calls: 1,
  });
});

test('a SERVE_WAIT_SECONDS that is not a whole number is refused', () => {
  expect(serve({ SERVE_WAIT_SECONDS: 'soon', FAKE_FAIL: 'denied' })).toMatchObject({ code: 1, errors: ["serve: ERROR: SERVE_WAIT_SECONDS='soon': expected a whole number of seconds"] });
});

test('SIGTERM while waiting stops the pod at once, exit 0', async () => {
  const child = spawn('python3', ARGS, { env: env({ SERVE_WAIT_SECONDS: '120', FAKE_FAIL: 'denied' }) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve) => child.stderr.once('data', () => resolve()));
  const started = Date.now();
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect({ code, stopped: stdout, fast: Date.now() - started < 5_000 }).toEqual({ code: 0, stopped: 'serve: stopped by signal 15 before the scoring server started\n', fast: true });
  expect(stderr).toContain('retrying for up to');
}, 30_000);
