/**
 * The smoke test script (lib/mlflow/scripts/smoke.py, the file the PostSync Job's ConfigMap ships) through
 * `npm run smoke`, against a REAL `mlflow server` (the venv of `.mlflow-python`, scripts/test-mlflow.sh) with
 * basic-auth, proxied artifacts and the credential cache on — started here with the Deployment's server flags, on
 * SQLite for both stores (what this suite proves is the client round trip, not the database; the MariaDB runs are
 * the migration's and the harness's) and a local artifact folder instead of `gs://` (no google-cloud-storage here).
 * The smoke user is created through the admin API, as a plain user, like the migration Job does.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { ROOT, RUN_TS, find, render, shippedConfig } from './support/environments';

const PYTHON_FILE = path.join(ROOT, '.mlflow-python');
const PYTHON = fs.existsSync(PYTHON_FILE) ? fs.readFileSync(PYTHON_FILE, 'utf8').trim() : undefined;
const SMOKE_USER = 'smoke-test';
const SMOKE_PASSWORD = crypto.randomBytes(12).toString('hex');
const ADMIN = 'admin';
const ADMIN_PASSWORD = crypto.randomBytes(12).toString('hex');
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

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The auth ini lines of dev's rendered ExternalSecret template that hold no template expression. */
const RENDERED_INI_LITERALS: string[] = find(render(shippedConfig('dev')).byPath.mlflow, 'ExternalSecret', 'mlflow-auth')
  .spec.target.template.data['basic_auth.ini'].split('\n')
  .filter((l: string) => l !== '' && !l.includes('{{'));

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

(PYTHON ? describe : describe.skip)('against the real MLflow server with basic-auth', () => {
  let server: ChildProcess | undefined;
  let work = '';
  let url = '';
  let artifacts = '';

  const api = async (method: string, p: string, body?: unknown): Promise<any> => {
    const r = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: auth(ADMIN, ADMIN_PASSWORD), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  };
  const filesUnder = (dir: string): string[] =>
    fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);

  beforeAll(async () => {
    const version = spawnSync(PYTHON!, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).stdout.trim();
    console.log(`smoke.test.ts: real MLflow ${version} (${PYTHON})`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-test-'));
    artifacts = path.join(work, 'artifacts');
    fs.mkdirSync(artifacts);
    // The ini as dev's ExternalSecret renders it: its literal lines (section, default permission, authorization
    // function, credential cache) as they are, the templated ones (database URI, admin) with this suite's values.
    expect(RENDERED_INI_LITERALS).toContain('auth_cache_ttl_seconds = 60');
    fs.writeFileSync(
      path.join(work, 'basic_auth.ini'),
      [
        ...RENDERED_INI_LITERALS,
        `database_uri = sqlite:///${path.join(work, 'auth.db')}`,
        `admin_username = ${ADMIN}`,
        `admin_password = ${ADMIN_PASSWORD}`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const bin = path.dirname(PYTHON!);
    const log = fs.openSync(path.join(work, 'server.log'), 'a');
    server = spawn(
      path.join(bin, 'mlflow'),
      [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--workers',
        '1',
        '--artifacts-destination',
        artifacts,
        '--app-name',
        'basic-auth',
        // The Deployment's keep-alive: longer than this suite's pauses, so fetch's pooled connection stays open.
        '--uvicorn-opts',
        '--timeout-graceful-shutdown 30 --timeout-keep-alive 620',
      ],
      {
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          HOME: work,
          MLFLOW_BACKEND_STORE_URI: `sqlite:///${path.join(work, 'mlflow.db')}`,
          MLFLOW_AUTH_CONFIG_PATH: path.join(work, 'basic_auth.ini'),
          MLFLOW_FLASK_SERVER_SECRET_KEY: crypto.randomBytes(16).toString('hex'),
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
          MLFLOW_DISABLE_TELEMETRY: 'true',
        },
      },
    );
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`mlflow server exited ${server.exitCode}:\n${fs.readFileSync(path.join(work, 'server.log'), 'utf8')}`);
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('mlflow server: /health did not answer within 150 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    await api('POST', '/api/2.0/mlflow/users/create', { username: SMOKE_USER, password: SMOKE_PASSWORD });
  }, 180_000);

  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      process.kill(-server.pid, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-server!.pid!, 'SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const asSmokeUser = { MLFLOW_TRACKING_USERNAME: SMOKE_USER, MLFLOW_TRACKING_PASSWORD: SMOKE_PASSWORD };

  test('a passing run: every step, as the plain smoke user, and nothing left behind', async () => {
    const r = smoke(['--url', url], asSmokeUser);
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
    expect(`${r.stdout}${r.stderr}`).not.toContain(SMOKE_PASSWORD);

    // Cleaned up: its experiment deleted, no registered model, no artifact file on the server's store.
    const exps = await api('GET', '/api/2.0/mlflow/experiments/search?max_results=100&view_type=ALL');
    const mine = exps.experiments.filter((e: any) => e.name.startsWith(`smoke/${SMOKE_USER}/`));
    expect(mine.map((e: any) => e.lifecycle_stage)).toEqual(['deleted']);
    expect(mine[0].artifact_location).toMatch(/^mlflow-artifacts:\//);
    expect((await api('GET', '/api/2.0/mlflow/registered-models/search')).registered_models ?? []).toEqual([]);
    expect(filesUnder(artifacts)).toEqual([]);
  }, 120_000);

  test('a wrong password fails at login, exit 1, and prints no password', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: SMOKE_USER, MLFLOW_TRACKING_PASSWORD: 'not-the-password' });
    expectExit(r, 1);
    expect(r.stderr).toBe(
      "smoke: FAILED at step 'login': the server answered 401 Unauthorized for user 'smoke-test': wrong password, or the " +
        'user does not exist (the migration Job creates it from the smoke password secret)\n',
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain('not-the-password');
  }, 60_000);

  test('an admin as the smoke user is refused (least privilege)', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: ADMIN, MLFLOW_TRACKING_PASSWORD: ADMIN_PASSWORD });
    expectExit(r, 1);
    expect(r.stderr).toBe("smoke: FAILED at step 'login': user 'admin' is an admin: the smoke test must run as a plain user (least privilege)\n");
  }, 60_000);

  test('an artifact store the server cannot write fails at the upload, and the cleanup still runs', async () => {
    // The server's store turns into a file: every upload through the proxy answers 500, as with a bucket it may not write.
    const moved = `${artifacts}.moved`;
    fs.renameSync(artifacts, moved);
    fs.writeFileSync(artifacts, 'not a directory');
    let r: Result;
    try {
      r = smoke(['--url', url], asSmokeUser);
    } finally {
      fs.rmSync(artifacts);
      fs.renameSync(moved, artifacts);
    }
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^smoke: FAILED at step 'artifact upload': MlflowException: API request to .*\/api\/2\.0\/mlflow-artifacts\/artifacts\/.* failed/);
    expect(r.stdout).toMatch(/^smoke: ok {3}cleanup /m);
    expect(r.stdout).not.toContain('PASSED');
    const exps = await api('GET', '/api/2.0/mlflow/experiments/search?max_results=100&view_type=ACTIVE_ONLY');
    expect(exps.experiments.filter((e: any) => e.name.startsWith('smoke/'))).toEqual([]);
  }, 120_000);

  test('no server answering: fails at health within the timeout', async () => {
    const r = smoke(['--url', `http://127.0.0.1:${await freePort()}`, '--health-timeout', '2'], asSmokeUser);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^smoke: FAILED at step 'health': http:\/\/127\.0\.0\.1:\d+\/health did not answer 200 within 2 s \(last: .*refused.*\)\n$/);
  }, 60_000);

  test("the rendered credential cache is on in the real server: a login is served from it, the trade-off included", async () => {
    // A user logs in once; its password then changes out of band (in the auth database, as a rotation by the
    // migration Job does). Within the TTL the old password still works on this worker — the staleness the README
    // states — and the new one works at once. Without auth_cache_ttl_seconds the old password would get 401.
    const user = 'cache-probe';
    const [oldPassword, newPassword] = [crypto.randomBytes(12).toString('hex'), crypto.randomBytes(12).toString('hex')];
    await api('POST', '/api/2.0/mlflow/users/create', { username: user, password: oldPassword });
    const status = async (password: string) =>
      (await fetch(`${url}/api/2.0/mlflow/users/get?username=${user}`, { headers: { Authorization: auth(user, password) } })).status;
    expect(await status(oldPassword)).toBe(200);
    const change = spawnSync(
      PYTHON!,
      [
        '-c',
        'import sqlite3, sys; from werkzeug.security import generate_password_hash as h; ' +
          'c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE users SET password_hash = ? WHERE username = ?", (h(sys.argv[3]), sys.argv[2])); ' +
          'c.commit(); print(c.total_changes)',
        path.join(work, 'auth.db'),
        user,
        newPassword,
      ],
      { encoding: 'utf8' },
    );
    expect(change.stdout.trim()).toBe('1');
    expect(await status(newPassword)).toBe(200);
    expect(await status(oldPassword)).toBe(200);
    expect(await status('neither-password')).toBe(401);
  }, 60_000);

  test('only one of username and password: exit 2, bad configuration', () => {
    const r = smoke(['--url', url], { MLFLOW_TRACKING_USERNAME: SMOKE_USER });
    expectExit(r, 2);
    expect(r.stderr).toBe(
      'smoke: ERROR: MLFLOW_TRACKING_PASSWORD is not set: give both MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or neither\n',
    );
  });
});
