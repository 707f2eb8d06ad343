/**
 * The smoke test script (lib/mlflow/scripts/smoke.py, the file the PostSync Job's ConfigMap ships) through
 * `npm run smoke`, against the REAL MLflow server as synthesized for dev (tools/pod-harness/: the migration
 * Job's and the Deployment's exact argv, env and files, Secrets rendered from the ExternalSecret templates, on the
 * test MariaDB; the harness prints its rewrites: database address, a local folder for `gs://`, ports). One change
 * to dev, stated: `server.workers: 1`, so that the credential-cache check meets the one worker that cached a login.
 * The smoke user comes from the harness's run of the migration Job's container as rendered: migrate.py creates it, a
 * plain user without permissions, from MLFLOW_SMOKE_USERNAME / MLFLOW_SMOKE_PASSWORD (the `mlflow-smoke-auth` Secret).
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT, RUN_TS, configFrom, rawConfig } from '../../tools/environments';
import { mariadbRoot, mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';
import { renderSecrets } from '../../tools/pod-harness/secrets';
import { describeRewrites, PodRoot, prepareContainer } from '../../tools/pod-harness/container';
import { freePort, runToCompletion } from '../../tools/pod-harness/process';
import { startPod, type StartedPod } from '../../tools/pod-harness/pod';

const PYTHON = mlflowPython();
const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';

const USAGE =
  'usage: npm run smoke -- --url <server URL> [--python <python with mlflow>] [--health-timeout <seconds>]   (credentials: MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD)';

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run smoke -- ARGS` as a person runs it (node + tsx, the npm script's command), with only `env` as credentials. */
function smoke(args: string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [...RUN_TS, path.join(ROOT, 'scripts', 'smoke.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), PYTHONDONTWRITEBYTECODE: '1', ...env },
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectExit(r: Result, code: number): void {
  if (r.status !== code) throw new Error(`expected exit ${code}, got ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

const auth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('usage (no server needed)', () => {
  test('no --url: one line, the usage, exit 2', () => {
    const r = smoke([]);
    expectExit(r, 2);
    expect(r.stderr).toBe(`smoke: --url is required\n${USAGE}\n`);
  });

  test('an unknown option or a malformed URL: exit 2 naming it', () => {
    const unknown = smoke(['--url', 'http://127.0.0.1:1', '--verbose']);
    expectExit(unknown, 2);
    expect(unknown.stderr).toBe(`smoke: unknown option '--verbose'\n${USAGE}\n`);
    const missing = smoke(['--url']);
    expectExit(missing, 2);
    expect(missing.stderr).toBe(`smoke: Option '--url <value>' argument missing\n${USAGE}\n`);
    const bad = smoke(['--url', 'mlflow.example.com']);
    expectExit(bad, 2);
    expect(bad.stderr).toBe(`smoke: --url must be an http:// or https:// URL, got 'mlflow.example.com'\n${USAGE}\n`);
  });
});

const PYTHON_WITHOUT_MLFLOW = spawnSync('/usr/bin/python3', ['-c', 'import mlflow'], { encoding: 'utf8' }).status === 1 ? '/usr/bin/python3' : undefined;

(PYTHON_WITHOUT_MLFLOW ? test : test.skip)('a Python without MLflow (--python): exit 2 before any step, saying so', () => {
  const r = smoke(['--url', 'http://127.0.0.1:1', '--python', PYTHON_WITHOUT_MLFLOW!]);
  expectExit(r, 2);
  expect(r.stderr).toBe(
    `smoke: ERROR: this Python (${PYTHON_WITHOUT_MLFLOW}) cannot import MLflow (No module named 'mlflow'): use one with mlflow installed\n`,
  );
  expect(r.stdout).not.toContain('ok ');
});

(PYTHON && !SKIP ? describe : describe.skip)('against the real MLflow server (dev as synthesized, basic-auth on MariaDB)', () => {
  let pod: StartedPod | undefined;
  let url = '';
  let artifacts = '';
  let smokeUser = '';
  let smokePassword = '';
  let admin = '';

  const api = async (method: string, p: string, body?: unknown): Promise<any> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: admin, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  };
  const filesUnder = (dir: string): string[] =>
    fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name) : [];

  beforeAll(async () => {
    console.log(`smoke.test.ts: real MLflow ${mlflowVersion()} (${PYTHON})`);
    const doc = rawConfig('dev');
    // The shipped default the smoke user must pass under: no permission on anything it did not create.
    expect(doc.auth.defaultPermission).toBe('NO_PERMISSIONS');
    doc.server.workers = 1;
    pod = await startPod(configFrom('dev', doc), { area: 'smoke' });
    url = pod.server.url;
    admin = auth(pod.credentials.adminUsername, pod.credentials.adminPassword);
    const smokeSecret = renderSecrets(pod.rendered.manifests, pod.secretValues).get('mlflow-smoke-auth');
    if (!smokeSecret) throw new Error('dev renders no mlflow-smoke-auth Secret');
    [smokeUser, smokePassword] = [smokeSecret.username, smokeSecret.password];
    // The harness's local folder standing in for gs://example-mlflow-dev-artifacts/mlflow.
    artifacts = pod.serverContainer.argv[pod.serverContainer.argv.indexOf('--artifacts-destination') + 1];
    // Nothing creates the smoke user here: the migration Job's run (startPod) did, from the rendered Secret.
    expect(pod.migration.output).toContain(`migrate: smoke user '${smokeUser}': created (not admin)`);
  }, 240_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  const asSmokeUser = () => ({ MLFLOW_TRACKING_USERNAME: smokeUser, MLFLOW_TRACKING_PASSWORD: smokePassword });

  test('a passing run: every step, as the plain smoke user, and nothing left behind', async () => {
    const r = smoke(['--url', url], asSmokeUser());
    expectExit(r, 0);
    const steps = [...r.stdout.matchAll(/^smoke: ok {3}(.+) \(\d+\.\d\d s\)$/gm)].map((m) => m[1]);
    expect(steps).toEqual([
      'health',
      'login',
      'experiment',
      'run',
      'params and metrics',
      'artifact upload',
      'artifact download',
      'model version',
      'alias',
      'cleanup',
    ]);
    expect(r.stdout).toMatch(/^smoke: PASSED$/m);
    expect(`${r.stdout}${r.stderr}`).not.toContain(smokePassword);

    // Cleaned up: its experiment deleted, no registered model, no artifact file on the server's store.
    const exps = await api('GET', '/api/2.0/mlflow/experiments/search?max_results=100&view_type=ALL');
    const mine = exps.experiments.filter((e: any) => e.name.startsWith(`smoke/${smokeUser}/`));
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.filter((e: any) => e.lifecycle_stage !== 'deleted')).toEqual([]);
    expect(mine[0].artifact_location).toMatch(/^mlflow-artifacts:\//);
    expect((await api('GET', '/api/2.0/mlflow/registered-models/search')).registered_models ?? []).toEqual([]);
    expect(filesUnder(artifacts)).toEqual([]);
  }, 120_000);

  test("the PostSync Job's own container as synthesized passes: its argv, env, Secret and the ConfigMap's script", async () => {
    // The harness prepares Job/mlflow-smoke like a pod (uid, mounts, the mlflow-smoke-auth Secret from its
    // ExternalSecret); one more rewrite, made here and printed: the Service URL → the test server.
    const jobPod = new PodRoot('dev-smoke-job');
    try {
      const prepared = await prepareContainer(pod!.rendered, { kind: 'Job', name: 'mlflow-smoke', container: 'smoke' }, { pod: jobPod, secretValues: pod!.secretValues });
      expect(prepared.env.MLFLOW_TRACKING_URI).toBe('http://mlflow.mlflow.svc.cluster.local:5000');
      expect(prepared.env.MLFLOW_TRACKING_USERNAME).toBe(smokeUser);
      console.log(`${describeRewrites(prepared)}\n  [service-address, this test] env MLFLOW_TRACKING_URI: ${prepared.env.MLFLOW_TRACKING_URI} → ${url}`);
      const r = await runToCompletion({ ...prepared, env: { ...prepared.env, MLFLOW_TRACKING_URI: url } }, 120_000);
      if (r.code !== 0) throw new Error(`the smoke Job's container exited ${r.code}:\n${r.output}`);
      expect(r.output).toMatch(/^smoke: PASSED$/m);
      expect(r.output).not.toContain(smokePassword);
    } finally {
      jobPod.remove();
    }
  }, 180_000);

  test('a wrong password fails at login, exit 1, and prints no password', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: smokeUser, MLFLOW_TRACKING_PASSWORD: 'not-the-password' });
    expectExit(r, 1);
    expect(r.stderr).toBe(
      "smoke: FAILED at step 'login': the server answered 401 Unauthorized for user 'smoke-test': wrong password, or the " +
        'user does not exist (the migration Job creates it from the smoke password secret)\n',
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('not-the-password');
  }, 60_000);

  test('an admin as the smoke user is refused (least privilege)', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: pod!.credentials.adminUsername, MLFLOW_TRACKING_PASSWORD: pod!.credentials.adminPassword });
    expectExit(r, 1);
    expect(r.stderr).toBe(`smoke: FAILED at step 'login': user '${pod!.credentials.adminUsername}' is an admin: the smoke test must run as a plain user (least privilege)\n`);
  }, 60_000);

  test('an artifact store the server cannot write fails at the upload, and the cleanup still runs', async () => {
    // The server's store turns into a file: every upload through the proxy answers 500, as with a bucket it may not write.
    const moved = `${artifacts}.moved`;
    const existed = fs.existsSync(artifacts);
    if (existed) fs.renameSync(artifacts, moved);
    fs.mkdirSync(path.dirname(artifacts), { recursive: true });
    fs.writeFileSync(artifacts, 'not a directory');
    let r: Result;
    try {
      r = smoke(['--url', url], asSmokeUser());
    } finally {
      fs.rmSync(artifacts);
      if (existed) fs.renameSync(moved, artifacts);
    }
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^smoke: FAILED at step 'artifact upload': MlflowException: API request to .*\/api\/2\.0\/mlflow-artifacts\/artifacts\/.* failed/);
    expect(r.stdout).toMatch(/^smoke: ok {3}cleanup /m);
    expect(r.stdout).not.toContain('PASSED');
    const exps = await api('GET', '/api/2.0/mlflow/experiments/search?max_results=100&view_type=ACTIVE_ONLY');
    expect(exps.experiments.filter((e: any) => e.name.startsWith('smoke/'))).toEqual([]);
  }, 120_000);

  test('no server answering: fails at health within the timeout', async () => {
    const r = smoke(['--url', `http://127.0.0.1:${await freePort()}`, '--health-timeout', '2'], asSmokeUser());
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^smoke: FAILED at step 'health': http:\/\/127\.0\.0\.1:\d+\/health did not answer 200 within 2 s \(last: .*refused.*\)\n$/);
  }, 60_000);

  test("the rendered credential cache is on in the real server: a login is served from it, the trade-off included", async () => {
    // A user logs in once; its password then changes out of band (in the auth database, as a rotation by the
    // migration Job does). Within the TTL the old password still works on this worker — the staleness docs/configuration.md
    // states — and the new one works at once. Without auth_cache_ttl_seconds the old password would get 401.
    const ini = renderSecrets(pod!.rendered.manifests, pod!.secretValues).get('mlflow-auth')!['basic_auth.ini'];
    expect(ini.split('\n')).toContain('auth_cache_ttl_seconds = 60');
    const user = 'cache-probe';
    const [oldPassword, newPassword] = [crypto.randomBytes(12).toString('hex'), crypto.randomBytes(12).toString('hex')];
    await api('POST', '/api/2.0/mlflow/users/create', { username: user, password: oldPassword });
    const status = async (password: string) =>
      (await fetch(`${url}/api/2.0/mlflow/users/get?username=${user}`, { headers: { Authorization: auth(user, password) } })).status;
    expect(await status(oldPassword)).toBe(200);
    const hash = spawnSync(PYTHON!, ['-c', 'import sys; from werkzeug.security import generate_password_hash as h; print(h(sys.argv[1]))', newPassword], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(hash).toMatch(/^[a-z0-9]+:[^']+$/);
    const db = pod!.database!.name;
    mariadbRoot(`UPDATE users SET password_hash = '${hash}' WHERE username = '${user}'`, db);
    expect(mariadbRoot(`SELECT COUNT(*) FROM users WHERE username = '${user}' AND password_hash = '${hash}'`, db).trim()).toBe('1');
    expect(await status(newPassword)).toBe(200);
    expect(await status(oldPassword)).toBe(200);
    expect(await status('neither-password')).toBe(401);
  }, 60_000);

  test('only one of username and password: exit 2, bad configuration', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: smokeUser });
    expectExit(r, 2);
    expect(r.stderr).toBe(
      'smoke: ERROR: MLFLOW_TRACKING_PASSWORD is not set: give both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or neither\n',
    );
  });
});
