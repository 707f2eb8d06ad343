/**
 * Every printable ASCII password reaches the database intact: the real migration and the real MLflow server of
 * `dev` as synthesized (basic-auth on, so the password is in the backend URI and, with each `%` doubled, in the auth
 * ini's `database_uri`) run with a MariaDB user whose password is every printable ASCII character, space first. The
 * Secrets are rendered from the ExternalSecret templates as ESO renders them (tools/pod-harness/secrets.ts: Go's
 * `urlquery`, sprig's `replace`); the admin's password holds every printable character too.
 */
import * as fs from 'fs';
import { createTestDatabase, mariadbRoot, mlflowPython } from '../../tools/pod-harness/test-servers';
import { testSecretValues } from '../../tools/pod-harness/secrets';
import { renderPod } from '../../tools/pod-harness/container';
import { basicAuth, httpRequest } from '../../tools/pod-harness/http';
import { startPod, type StartedPod } from '../../tools/pod-harness/pod';

const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';

/** Every printable ASCII character, space to `~`: space, `+`, `@`, `:`, `/`, `%`, `#`, `?`, quotes, backslash… */
const PRINTABLE = Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
/** An ini value loses its surrounding spaces (configparser strips them), so the admin's password does not start with one. */
const ADMIN_PASSWORD = `A${PRINTABLE}Z`;

/** A SQL string literal (MariaDB: backslash escapes, quote doubled). */
const sqlString = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

(SKIP ? describe.skip : describe)('a password with every printable character, on the real server (dev)', () => {
  const user = `mlflow_pw_${Math.random().toString(36).slice(2, 10)}`;
  const hosts = ['127.0.0.1', 'localhost'];
  let database: ReturnType<typeof createTestDatabase>;
  let pod: StartedPod;

  beforeAll(async () => {
    if (!mlflowPython()) throw new Error('no real MLflow venv (.mlflow-python): run `bash scripts/test-mlflow.sh`, or set MLFLOW_GITOPS_SKIP_MLFLOW=1');
    database = createTestDatabase('pwenc');
    for (const h of hosts) {
      mariadbRoot(`CREATE USER '${user}'@'${h}' IDENTIFIED BY ${sqlString(PRINTABLE)}; GRANT ALL PRIVILEGES ON \`${database.name}\`.* TO '${user}'@'${h}'`);
    }
    const config = renderPod('dev').config;
    if (config.database.engine !== 'mysql' || config.database.login !== 'password' || !config.auth) throw new Error('dev is expected to use MySQL with basic-auth');
    const secrets = testSecretValues(config, { adminPassword: ADMIN_PASSWORD });
    const values = { ...secrets.values, [config.database.userSecret]: user, [config.database.passwordSecret]: PRINTABLE };
    pod = await startPod('dev', { secrets: { values, credentials: secrets.credentials }, database });
  }, 300_000);

  afterAll(async () => {
    await pod?.stop();
    database?.drop();
    for (const h of hosts) mariadbRoot(`DROP USER IF EXISTS '${user}'@'${h}'`);
  }, 60_000);

  test('the templates encode it: no space and no bare + in the URI; in the ini every % doubled', () => {
    const uri = pod.serverContainer.env.MLFLOW_BACKEND_STORE_URI;
    const credentials = /^mysql\+pymysql:\/\/([^@]*)@/.exec(uri)![1];
    expect(credentials).toMatch(/^[A-Za-z0-9_.~%:-]+$/);
    expect(decodeURIComponent(credentials.split(':')[1])).toBe(PRINTABLE);
    const ini = fs.readFileSync(pod.serverContainer.env.MLFLOW_AUTH_CONFIG_PATH, 'utf8');
    const iniUri = /^database_uri = (.*)$/m.exec(ini)![1];
    expect(iniUri.replaceAll('%%', '%').replace(/@127\.0\.0\.1:\d+\//, '@X/')).toBe(uri.replace(/@127\.0\.0\.1:\d+\//, '@X/'));
    expect(/^admin_password = (.*)$/m.exec(ini)![1]).toBe(ADMIN_PASSWORD.replaceAll('%', '%%'));
  });

  test('the migration connected with it', () => {
    expect(pod.migration.code).toBe(0);
  });

  test('the server works with it: tracking store and auth store, as the admin whose password is every printable character', async () => {
    const auth = { Authorization: basicAuth(pod.credentials.adminUsername, ADMIN_PASSWORD) };
    const body = JSON.stringify({ name: 'every printable password' });
    const created = await httpRequest(pod.server.port, '/api/2.0/mlflow/experiments/create', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
      body,
    });
    expect({ status: created.status, body: created.body }).toEqual({ status: 200, body: expect.stringMatching(/experiment_id/) });
    const got = await httpRequest(pod.server.port, `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent('every printable password')}`, { headers: auth });
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body).experiment.experiment_id).toBe(JSON.parse(created.body).experiment_id);
    const wrong = await httpRequest(pod.server.port, '/api/2.0/mlflow/experiments/search?max_results=1', { headers: { Authorization: basicAuth(pod.credentials.adminUsername, PRINTABLE) } });
    expect(wrong.status).toBe(401);
    // The server's connections are this user's, not the test server's default user.
    const sessions = Number(mariadbRoot(`SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '${user}' AND DB = '${database.name}'`).trim());
    expect(sessions).toBeGreaterThan(0);
  });
});
