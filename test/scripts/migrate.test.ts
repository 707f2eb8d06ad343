/**
 * lib/mlflow/scripts/migrate.py as the migration Job runs it: a subprocess of the REAL MLflow's python (the venv that
 * `scripts/test-mlflow.sh` prepares, path in `.mlflow-python`), against SQLite files, a REAL MariaDB with binary
 * logging on and a user without SUPER, as on Cloud SQL for MySQL, and a REAL PostgreSQL (Debian's, from
 * `scripts/test-postgres.sh`) with a role that owns only its databases. No fake anywhere, except two named shims:
 * a `flask_wtf` and a `psycopg2` module that raise ImportError, to stand for an image without Flask-WTF or without
 * the PostgreSQL driver.
 *
 * The MariaDB cases start their OWN throw-away MariaDB (scripts/test-mariadb.sh with a private directory and port,
 * stopped by pid afterwards), not the shared one on :33306: they need to flip the global
 * log_bin_trust_function_creators, and flipping it on the shared server would break other suites migrating there
 * at the same moment. Cases in this file run one after another, so flipping it on the private server is safe.
 *
 * The cases both servers share run from one table, once per engine (the loop over `mariadb()` and `postgres()`: what
 * differs between the engines is in each one's hooks), followed by each engine's own cases.
 *
 * Without the venv the whole file FAILS (run `bash scripts/test-mlflow.sh`), unless MLFLOW_GITOPS_SKIP_MLFLOW=1;
 * without MariaDB the MariaDB cases fail unless MLFLOW_GITOPS_SKIP_MARIADB=1 (both skip loudly). The PostgreSQL cases
 * use the shared server on loopback (started by pretest, or here: the script is idempotent): without a PostgreSQL they
 * fail, with the set-up script's output, unless MLFLOW_GITOPS_SKIP_POSTGRES=1 (they skip loudly).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mlflowManifests } from '../../lib/synth/synth';
import { containerNamed, find } from '../support/constructs';
import { configFrom, rawConfig } from '../../tools/environments';
import { freePort } from '../../tools/pod-harness/process';
import { PrivateMariadb } from '../../tools/pod-harness/private-mariadb';
import { makeOlderSchema } from '../support/older-schema';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'lib', 'mlflow', 'scripts', 'migrate.py');
const PYTHON_FILE = path.join(ROOT, '.mlflow-python');
const SKIP_MLFLOW = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1';
const SKIP_MARIADB = SKIP_MLFLOW || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const PYTHON = fs.existsSync(PYTHON_FILE) ? fs.readFileSync(PYTHON_FILE, 'utf8').trim() : '';

/** Revisions that exist in every MLflow this project can run (3.11 to 3.17): the auth schema's first one, and the
 * tracking revision just before the migration that creates a trigger (1bd49d398cd23, "add secrets tables"). */
const AUTH_INITIAL = '8606fa83a998';
const TRACKING_BEFORE_TRIGGER = 'bf29a5ff90ea';

// Every secret any case uses: no output may ever contain one of them (checked by expectExit on every run).
const DB_USER = 'mlflow_migrate';
const DB_PASSWORD = 'Db_Pa55/word%x'; // `/` and `%` exercise the URL encoding and the ini's `%%`
const ADMIN_PASSWORD = 'admin-first-Pa55word';
const ADMIN_ROTATED = 'admin-rotated-Pa55word';
const METRICS_PASSWORD = 'metrics-first-Pa55word';
const METRICS_ROTATED = 'metrics-rotated-Pa55word';
const SMOKE_PASSWORD = 'smoke-first-Pa55word';
const SMOKE_ROTATED = 'smoke-rotated-Pa55word';
const CLIENT_PASSWORD = 'client-first-Pa55word';
const CLIENT_ROTATED = 'client-rotated-Pa55word';
const SERVING_PASSWORD = 'serving-first-Pa55word';
const SECRETS = [
  DB_PASSWORD,
  encodeURIComponent(DB_PASSWORD),
  ADMIN_PASSWORD,
  ADMIN_ROTATED,
  METRICS_PASSWORD,
  METRICS_ROTATED,
  SMOKE_PASSWORD,
  SMOKE_ROTATED,
  CLIENT_PASSWORD,
  CLIENT_ROTATED,
  SERVING_PASSWORD,
  'S3cr3t',
];

interface Run {
  status: number | null;
  /** stdout and stderr, as a log shows them. */
  output: string;
  stdout: string;
  ms: number;
}

function runPython(args: string[], env: Record<string, string>, extraPythonPath?: string): Run {
  const started = Date.now();
  const r = spawnSync(PYTHON, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      MLFLOW_DISABLE_TELEMETRY: 'true',
      PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in the work tree
      MIGRATE_CONNECT_TIMEOUT_SECONDS: '10',
      ...(extraPythonPath ? { PYTHONPATH: extraPythonPath } : {}),
      ...env,
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout, ms: Date.now() - started };
}

const migrate = (env: Record<string, string>, extraPythonPath?: string): Run => runPython([SCRIPT], env, extraPythonPath);

/** Fails with the script's whole output, not just two numbers; and no run may ever print a secret. */
function expectExit(run: Run, code: number): void {
  if (run.status !== code) throw new Error(`expected exit ${code}, got ${run.status}; output:\n${run.output}`);
  for (const secret of SECRETS) {
    if (run.output.includes(secret)) throw new Error(`output contains the secret ${JSON.stringify(secret)}:\n${run.output}`);
  }
}

/** Runs a python snippet with the real MLflow; its last stdout line parsed as JSON. */
function pythonJson(code: string, args: string[], env: Record<string, string> = {}): any {
  const r = runPython(['-c', code, ...args], env);
  if (r.status !== 0) throw new Error(`python helper failed (exit ${r.status}):\n${r.output}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-test-'));
  tmpDirs.push(dir);
  return dir;
}

/** A directory to put first on PYTHONPATH: a package `name` whose import fails as if it were not installed. */
function missingModule(name: string): string {
  const shim = tmpDir();
  fs.mkdirSync(path.join(shim, name));
  fs.writeFileSync(path.join(shim, name, '__init__.py'), `raise ModuleNotFoundError("No module named '${name}' (test shim)", name="${name}")\n`);
  return shim;
}

/**
 * The basic-auth ini as the ExternalSecret template renders it (`%` doubled), for `databaseUri`.
 * Written to a fresh file each time: the rotation case rewrites the password as Secret Manager would.
 */
function authIni(databaseUri: string, adminPassword: string, dir = tmpDir()): string {
  const ini = path.join(dir, 'basic_auth.ini');
  const d = (s: string) => s.replace(/%/g, '%%');
  fs.writeFileSync(
    ini,
    [
      '[mlflow]',
      'default_permission = READ',
      `database_uri = ${d(databaseUri)}`,
      'admin_username = admin',
      `admin_password = ${d(adminPassword)}`,
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      '',
    ].join('\n'),
  );
  return ini;
}

/** Which (user, password) pairs MLflow's own auth store accepts, and who is an admin. */
const USERS_PY = `
import json, sys
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
store = SqlAlchemyStore()
store.init_db(sys.argv[1])
pairs = json.loads(sys.argv[2])
print(json.dumps({
    "accepted": [user + ":" + pw for user, pw in pairs if store.authenticate_user(user, pw)],
    "admins": sorted(u.username for u in store.list_users() if u.is_admin),
    "users": sorted(u.username for u in store.list_users()),
}))
`;
function authUsers(databaseUri: string, ini: string, pairs: Array<[string, string]>): { accepted: string[]; admins: string[]; users: string[] } {
  return pythonJson(USERS_PY, [databaseUri, JSON.stringify(pairs)], { MLFLOW_AUTH_CONFIG_PATH: ini });
}

/** The access plan as the chart renders it (the ConfigMap's access.json) and the password files (the Secret), in a fresh directory. */
function accessPlan(plan: unknown, passwords: Record<string, string>, dir = tmpDir()): Record<string, string> {
  const file = path.join(dir, 'access.json');
  fs.writeFileSync(file, JSON.stringify(plan));
  const pwDir = path.join(dir, 'passwords');
  fs.mkdirSync(pwDir, { recursive: true });
  for (const [user, pw] of Object.entries(passwords)) fs.writeFileSync(path.join(pwDir, user), pw);
  return { MIGRATE_ACCESS_FILE: file, MIGRATE_PASSWORDS_DIR: pwDir };
}

/** Each user's experiment grants (by experiment name) and model grants, as MLflow's auth store has them. */
const GRANTS_PY = `
import json, sys
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking
store = SqlAlchemyStore()
store.init_db(sys.argv[1])
tracking = Tracking(sys.argv[1], "mlflow-artifacts:/")
out = {}
for user in json.loads(sys.argv[2]):
    if not store.has_user(user):
        out[user] = None
        continue
    out[user] = {
        "experiments": {tracking.get_experiment(p.experiment_id).name: p.permission for p in store.list_experiment_permissions(user)},
        "models": {p.name: p.permission for p in store.list_registered_model_permissions(user)},
    }
print(json.dumps(out))
`;
function grantsOf(uri: string, users: string[]): Record<string, { experiments: Record<string, string>; models: Record<string, string> } | null> {
  return pythonJson(GRANTS_PY, [uri, JSON.stringify(users)]);
}

/** Through MLflow's stores on the database: experiments A and B, a registered model whose version 1 is a logged model
 * in A (MLflow 3: source models:/m-...) and version 2 a run's artifacts in B (older clients), alias champion on v1. */
const VERSIONS_PY = `
import json, sys
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking
uri, model, a_name, b_name = sys.argv[1:5]
tracking, registry = Tracking(uri, "mlflow-artifacts:/"), Registry(uri)
a, b = tracking.create_experiment(a_name), tracking.create_experiment(b_name)
logged = tracking.create_logged_model(experiment_id=a, name="model")
run = tracking.create_run(b, user_id="trainer", start_time=0, tags=[], run_name="train")
registry.create_registered_model(model)
v1 = registry.create_model_version(model, source="models:/" + logged.model_id, model_id=logged.model_id)
v2 = registry.create_model_version(model, source=run.info.artifact_uri + "/model", run_id=run.info.run_id)
registry.set_registered_model_alias(model, "champion", v1.version)
print(json.dumps({"a": a, "b": b, "v1": v1.version, "v2": v2.version, "modelId": logged.model_id, "runId": run.info.run_id}))
`;
/** Moves the alias, or grants by hand as an admin would (kind: experiment name or model name). */
const ADMIN_PY = `
import json, sys
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking
uri, action = sys.argv[1], json.loads(sys.argv[2])
store = SqlAlchemyStore()
store.init_db(uri)
if action["do"] == "alias":
    Registry(uri).set_registered_model_alias(action["model"], "champion", action["version"])
elif action["do"] == "experiment-grant":
    tracking = Tracking(uri, "mlflow-artifacts:/")
    experiment = tracking.get_experiment_by_name(action["name"])
    experiment_id = experiment.experiment_id if experiment else tracking.create_experiment(action["name"])
    store.create_experiment_permission(experiment_id, action["user"], action["permission"])
elif action["do"] == "create-user":
    store.create_user(action["user"], action["password"])
elif action["do"] == "model-grant-update":
    store.update_registered_model_permission(action["name"], action["user"], action["permission"])
print(json.dumps("ok"))
`;
const adminDoes = (uri: string, action: Record<string, string>) => pythonJson(ADMIN_PY, [uri, JSON.stringify(action)]);

/** The MLflow the suite runs against, and the heads of its own alembic scripts (not of migrate.py). */
let mlflow: { version: string; trackingHead: string[]; authHead: string[] };
const FACTS_PY = `
import importlib.metadata, json, os
import mlflow
from alembic.script import ScriptDirectory
base = os.path.dirname(mlflow.__file__)
heads = lambda *p: sorted(ScriptDirectory(os.path.join(base, *p)).get_heads())
print(json.dumps({"version": importlib.metadata.version("mlflow"),
                  "trackingHead": heads("store", "db_migrations"),
                  "authHead": heads("server", "auth", "db", "migrations")}))
`;

/** A tracking schema of an older MLflow at `uri`, made by MLflow's own migrations: its first tables, then alembic up to `revision`. */
function olderSchemaAt(uri: string, revision: string): void {
  makeOlderSchema(PYTHON, uri, revision, { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), MLFLOW_DISABLE_TELEMETRY: 'true', PYTHONDONTWRITEBYTECODE: '1' });
}

if (SKIP_MLFLOW) console.warn('MLFLOW_GITOPS_SKIP_MLFLOW=1: test/scripts/migrate.test.ts (the real-MLflow migration suite) is SKIPPED.');

(SKIP_MLFLOW ? describe.skip : describe)('migrate.py with the real MLflow', () => {
  beforeAll(() => {
    if (!PYTHON || !fs.existsSync(PYTHON)) {
      throw new Error(`no MLflow venv (${PYTHON_FILE} missing or stale): run \`bash scripts/test-mlflow.sh\` first (npm test's pretest does)`);
    }
    mlflow = pythonJson(FACTS_PY, []);
    console.log(
      `migrate.test.ts runs against MLflow ${mlflow.version} (${PYTHON}); tracking head ${mlflow.trackingHead}, auth head ${mlflow.authHead}`,
    );
  });

  describe('without a database server', () => {
    test('configuration errors exit 2 before anything is touched, naming the place, never the value', () => {
      const noUri = migrate({});
      expectExit(noUri, 2);
      expect(noUri.output).toContain('migrate: ERROR: MLFLOW_BACKEND_STORE_URI is not set');

      const noTimeout = migrate({ MLFLOW_BACKEND_STORE_URI: 'sqlite:////nonexistent/mlflow.db', MIGRATE_CONNECT_TIMEOUT_SECONDS: '' });
      expectExit(noTimeout, 2);
      expect(noTimeout.output).toContain(
        'migrate: ERROR: MIGRATE_CONNECT_TIMEOUT_SECONDS is not set: set it to how many seconds to retry the first connection',
      );

      const dir = tmpDir();
      const sqlite = `sqlite:///${dir}/mlflow.db`;
      const badPercent = path.join(dir, 'percent.ini');
      fs.writeFileSync(badPercent, '[mlflow]\ndatabase_uri = mysql+pymysql://u:50%off@127.0.0.1/mlflow_x\n');
      const interpolation = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: badPercent });
      expectExit(interpolation, 2);
      expect(interpolation.output).toContain("InterpolationSyntaxError section='mlflow' option='database_uri'");
      expect(interpolation.output).toContain('write a literal % as %%');
      expect(interpolation.output).not.toContain('off@'); // the value (with its password) is not echoed

      const noAdminPassword = path.join(dir, 'no-admin.ini');
      fs.writeFileSync(noAdminPassword, `[mlflow]\ndatabase_uri = ${sqlite}\nadmin_username = admin\n`);
      const missing = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: noAdminPassword });
      expectExit(missing, 2);
      expect(missing.output).toContain(`migrate: ERROR: bad auth config ${noAdminPassword}: [mlflow] admin_password is missing`);

      const emptyUser = path.join(dir, 'empty-user.ini');
      fs.writeFileSync(emptyUser, `[mlflow]\ndatabase_uri = ${sqlite}\nadmin_username =\nadmin_password = ${ADMIN_PASSWORD}\n`);
      const empty = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: emptyUser });
      expectExit(empty, 2);
      expect(empty.output).toContain(`migrate: ERROR: bad auth config ${emptyUser}: [mlflow] admin_username is empty`);

      const shortAdmin = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: authIni(sqlite, 'short') });
      expectExit(shortAdmin, 2);
      expect(shortAdmin.output).toMatch(/ERROR: \[mlflow\] admin_password of \S+basic_auth\.ini has 5 characters; MLflow's auth store needs at least 12/);

      const ini = authIni(sqlite, ADMIN_PASSWORD);
      const cases: Array<[Record<string, string>, string]> = [
        [{ MLFLOW_METRICS_USERNAME: 'metrics-scraper' }, 'MLFLOW_METRICS_PASSWORD is not set: the metrics user needs both a name and a password'],
        [{ MLFLOW_METRICS_PASSWORD: METRICS_PASSWORD }, 'MLFLOW_METRICS_USERNAME is not set: the metrics user needs both a name and a password'],
        [
          { MLFLOW_METRICS_USERNAME: 'admin', MLFLOW_METRICS_PASSWORD: METRICS_PASSWORD },
          "MLFLOW_METRICS_USERNAME is the admin user 'admin': the scraper must be a separate, non-admin user",
        ],
        [
          { MLFLOW_METRICS_USERNAME: 'metrics-scraper', MLFLOW_METRICS_PASSWORD: 'tiny-pw' },
          "MLFLOW_METRICS_PASSWORD has 7 characters; MLflow's auth store needs at least 12",
        ],
        // The smoke test's user: the same rules, and a user of its own.
        [{ MLFLOW_SMOKE_USERNAME: 'smoke-test' }, 'MLFLOW_SMOKE_PASSWORD is not set: the smoke user needs both a name and a password'],
        [{ MLFLOW_SMOKE_PASSWORD: SMOKE_PASSWORD }, 'MLFLOW_SMOKE_USERNAME is not set: the smoke user needs both a name and a password'],
        [
          { MLFLOW_SMOKE_USERNAME: 'admin', MLFLOW_SMOKE_PASSWORD: SMOKE_PASSWORD },
          "MLFLOW_SMOKE_USERNAME is the admin user 'admin': the smoke test must be a separate, non-admin user",
        ],
        [
          {
            MLFLOW_METRICS_USERNAME: 'metrics-scraper',
            MLFLOW_METRICS_PASSWORD: METRICS_PASSWORD,
            MLFLOW_SMOKE_USERNAME: 'metrics-scraper',
            MLFLOW_SMOKE_PASSWORD: SMOKE_PASSWORD,
          },
          "MLFLOW_SMOKE_USERNAME is the metrics user 'metrics-scraper': the smoke test must be a separate user",
        ],
      ];
      for (const [env, message] of cases) {
        const run = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: ini, ...env });
        expectExit(run, 2);
        expect(run.output).toContain(`migrate: ERROR: ${message}`);
      }
      const withoutAuth = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_METRICS_USERNAME: 'm', MLFLOW_METRICS_PASSWORD: METRICS_PASSWORD });
      expectExit(withoutAuth, 2);
      expect(withoutAuth.output).toContain('migrate: ERROR: MLFLOW_METRICS_USERNAME is set but basic-auth is not (no MLFLOW_AUTH_CONFIG_PATH)');
      expect(fs.existsSync(path.join(dir, 'mlflow.db'))).toBe(false); // nothing touched
    });

    test('a bad access plan: exit 2 before anything is touched, every problem at once, no password shown', () => {
      const dir = tmpDir();
      const sqlite = `sqlite:///${dir}/mlflow.db`;
      const ini = authIni(sqlite, ADMIN_PASSWORD);
      const plan = {
        clients: [
          { username: 'team-a', experiments: [{ name: 'iris', permission: 'OWNER' }], models: [] },
          { username: 'admin', experiments: [], models: [] },
          { username: 'team-b', experiments: [], models: [] },
        ],
        serving: [{ username: 'serve-x', model: 'model-x', alias: 'champion' }],
      };
      const env = accessPlan(plan, { 'team-a': CLIENT_PASSWORD, admin: ADMIN_PASSWORD, 'serve-x': 'short' });
      const run = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: ini, ...env });
      expectExit(run, 2);
      const file = env.MIGRATE_ACCESS_FILE;
      expect(run.output).toContain(
        `migrate: ERROR: bad access plan:\n` +
          `  ${file}: clients[0].experiments[0].permission: 'OWNER' is not one of READ, USE, EDIT, MANAGE\n` +
          `  ${file}: clients[1].username: 'admin' is the admin user; each client and serving needs its own user\n` +
          `  ${file}: clients[2]: no password for 'team-b' (${env.MIGRATE_PASSWORDS_DIR}/team-b: No such file or directory)\n` +
          `  ${file}: serving[0]: the password of 'serve-x' (${env.MIGRATE_PASSWORDS_DIR}/serve-x) has 5 characters; MLflow's auth store needs at least 12\n`,
      );
      expect(run.output).not.toContain("short'");
      expect(fs.existsSync(`${dir}/mlflow.db`)).toBe(false);

      const noAuth = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, ...env });
      expectExit(noAuth, 2);
      expect(noAuth.output).toContain('migrate: ERROR: MIGRATE_ACCESS_FILE is set but basic-auth is not (no MLFLOW_AUTH_CONFIG_PATH)');
    });

    test('an unreachable database: retried, then exit 4 within the timeout, password never printed', async () => {
      const port = await freePort();
      const run = migrate({
        MLFLOW_BACKEND_STORE_URI: `mysql+pymysql://mlflow:S3cr3t%2FPa55@127.0.0.1:${port}/mlflow`,
        MIGRATE_CONNECT_TIMEOUT_SECONDS: '2',
      });
      expectExit(run, 4);
      expect(run.output).toContain('database not reachable yet (attempt 1)');
      expect(run.output).toMatch(/could not connect to mysql\+pymysql:\/\/mlflow:\*\*\*@127\.0\.0\.1:\d+\/mlflow within 2s/);
      expect(run.output).toContain("Can't connect to MySQL server");
      // Far below the Job's 120 s, so the 2 s timeout was honoured (generous: the suite may share the CPU).
      expect(run.ms).toBeLessThan(30_000);
    });

    test('an image without Flask-WTF fails the hook before any change (exit 7), naming the cause', () => {
      // SHIM, not MLflow: a `flask_wtf` package first on PYTHONPATH that raises ImportError, standing for an
      // image whose MLflow was installed without the `auth` extra. Everything else is the real venv.
      const shim = missingModule('flask_wtf');
      const dir = tmpDir();
      const sqlite = `sqlite:///${dir}/mlflow.db`;
      const run = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: authIni(sqlite, ADMIN_PASSWORD) }, shim);
      expectExit(run, 7);
      expect(run.output).toContain(
        "migrate: ERROR: this image lacks Flask-WTF (ModuleNotFoundError: No module named 'flask_wtf' (test shim)), " +
          "which MLflow's basic-auth app (--app-name basic-auth) needs: the server could not start. Nothing was changed. " +
          'Use an image that installs mlflow[auth] (see docs/migration.md).',
      );
      expect(fs.existsSync(path.join(dir, 'mlflow.db'))).toBe(false);

      // No shim: an ini the auth app cannot read (no default_permission) makes MLflow's own import fail, as the
      // server's would at start.
      const noDefault = path.join(tmpDir(), 'basic_auth.ini');
      fs.writeFileSync(noDefault, `[mlflow]\ndatabase_uri = ${sqlite}\nadmin_username = admin\nadmin_password = ${ADMIN_PASSWORD}\n`);
      const unreadable = migrate({ MLFLOW_BACKEND_STORE_URI: sqlite, MLFLOW_AUTH_CONFIG_PATH: noDefault });
      expectExit(unreadable, 7);
      expect(unreadable.output).toContain(
        "migrate: ERROR: this image cannot load MLflow's basic-auth app (import mlflow.server.auth: KeyError: 'default_permission'): " +
          'the server could not start. Nothing was changed.',
      );
      expect(fs.existsSync(path.join(dir, 'mlflow.db'))).toBe(false);
    });

    test('a python without MLflow (not the MLflow image) is refused (exit 6) before any change', () => {
      // Debian's python3 has SQLAlchemy (scripts/test-mariadb.sh installs it) but no MLflow.
      const file = path.join(tmpDir(), 'mlflow.db');
      spawnSync('/usr/bin/python3', ['-c', 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"); c.execute("INSERT INTO alembic_version VALUES (\'bf29a5ff90ea\')"); c.commit()', file]);
      const r = spawnSync('/usr/bin/python3', [SCRIPT], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONDONTWRITEBYTECODE: '1', MIGRATE_CONNECT_TIMEOUT_SECONDS: '10', MLFLOW_BACKEND_STORE_URI: `sqlite:///${file}` },
      });
      const run: Run = { status: r.status, output: `${r.stdout}${r.stderr}`, stdout: r.stdout, ms: 0 };
      expectExit(run, 6);
      expect(run.output).toContain('migrate: ERROR: MLflow is not installed for /usr/bin/python3: is this the MLflow image?');
    });

    test('SQLite: an empty file is initialized through the store (no log_bin query); a second run changes nothing', () => {
      const file = path.join(tmpDir(), 'mlflow.db');
      const env = { MLFLOW_BACKEND_STORE_URI: `sqlite:///${file}` };
      const first = migrate(env);
      expectExit(first, 0);
      expect(first.output).toContain("empty database: initializing it through MLflow's SqlAlchemyStore (artifact root mlflow-artifacts:/)");
      expect(first.output).not.toContain('log_bin');
      const query = (sql: string): unknown =>
        pythonJson('import json,sqlite3,sys; print(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))', [file, sql]);
      expect(query('SELECT experiment_id, artifact_location FROM experiments')).toEqual([[0, 'mlflow-artifacts:/0']]);
      expect(query('SELECT version_num FROM alembic_version')).toEqual([mlflow.trackingHead]);

      const before = fs.statSync(file).mtimeMs;
      const second = migrate(env);
      expectExit(second, 0);
      expect(second.output).toContain(`tracking schema at revision ${mlflow.trackingHead}, head of this MLflow ${mlflow.trackingHead}: at head`);
      expect(second.output).toContain('nothing to migrate: every schema is at this MLflow\'s head (no log_bin check needed)');
      expect(second.output).not.toContain('running: python -m mlflow db upgrade');
      expect(fs.statSync(file).mtimeMs).toBe(before);
    });
    test('interrupted first install: with a table MLflow does not create it is refused (exit 5), nothing dropped; MLflow tables alone are dropped and the install starts over', () => {
      const file = path.join(tmpDir(), 'mlflow.db');
      const exec = (statements: string[]): void => {
        pythonJson('import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); [c.execute(s) for s in json.loads(sys.argv[2])]; c.commit(); print(json.dumps("ok"))', [file, JSON.stringify(statements)]);
      };
      const tableNames = (): string[] =>
        pythonJson('import json,sqlite3,sys; print(json.dumps(sorted(r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT name FROM sqlite_master WHERE type=\'table\'"))))', [file]);
      // What a first install killed after its marker and MLflow's first tables leaves (the access record too, if it was
      // killed while reconciling the clients' users), plus a table of someone else's.
      exec([
        'CREATE TABLE mlflow_gitops_migration (id INTEGER PRIMARY KEY, state VARCHAR(32) NOT NULL, started_at VARCHAR(32) NOT NULL, from_revision VARCHAR(255), clone_command VARCHAR(1000))',
        "INSERT INTO mlflow_gitops_migration (id, state, started_at) VALUES (1, 'first-install', '2026-12-07T01:02:03Z')",
        'CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY)',
        'CREATE TABLE runs (run_uuid VARCHAR(32) PRIMARY KEY)',
        'CREATE TABLE mlflow_gitops_access (id INTEGER PRIMARY KEY)',
        'CREATE TABLE audit_log (id INTEGER PRIMARY KEY)',
      ]);
      const env = { MLFLOW_BACKEND_STORE_URI: `sqlite:///${file}` };
      const refused = migrate(env);
      expectExit(refused, 5);
      expect(refused.output).toContain(
        'migrate: ERROR: an earlier first install into this database (empty when it began at 2026-12-07T01:02:03Z) was interrupted, ' +
          "but the database now also holds tables MLflow's schema does not create (audit_log): that run did not make them, so nothing " +
          'is dropped. Find out what created them; move them elsewhere and sync again.',
      );
      expect(tableNames()).toEqual(['audit_log', 'experiments', 'mlflow_gitops_access', 'mlflow_gitops_migration', 'runs']);

      exec(['DROP TABLE audit_log']);
      const recovered = migrate(env);
      expectExit(recovered, 0);
      expect(recovered.output).toContain(
        'migrate: an earlier first install into this database (empty when it began at 2026-12-07T01:02:03Z) was interrupted: ' +
          'starting over, after dropping the 3 tables it created',
      );
      expect(recovered.output).toContain('migrate: dropped experiments, mlflow_gitops_access, runs');
      expect(recovered.output).toContain('migrate: marker table mlflow_gitops_migration dropped');
      expect(tableNames()).not.toContain('mlflow_gitops_migration');
      expect(tableNames()).toContain('alembic_version');

      // Without the marker the same MLflow tables are refused: names alone prove nothing.
      const unmarked = path.join(tmpDir(), 'mlflow.db');
      pythonJson('import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY)"); c.commit(); print(json.dumps("ok"))', [unmarked]);
      expectExit(migrate({ MLFLOW_BACKEND_STORE_URI: `sqlite:///${unmarked}` }), 5);
    });

    test('a first install into a database holding other tables gets no marker, and says so', () => {
      const file = path.join(tmpDir(), 'mlflow.db');
      pythonJson('import json,sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)"); c.commit(); print(json.dumps("ok"))', [file]);
      const run = migrate({ MLFLOW_BACKEND_STORE_URI: `sqlite:///${file}` });
      expectExit(run, 0);
      expect(run.output).toContain(
        'migrate: the database holds tables MLflow does not create (audit_log): if this run is interrupted, the next one cannot prove ' +
          'what it created and will refuse (exit 5)',
      );
      expect(run.output).not.toContain('marked in mlflow_gitops_migration');
    });

    test('MIGRATE_CLOUDSQL_INSTANCE that is no instance connection name: exit 2 before anything is touched', () => {
      const dir = tmpDir();
      const run = migrate({ MLFLOW_BACKEND_STORE_URI: `sqlite:///${dir}/mlflow.db`, MIGRATE_CLOUDSQL_INSTANCE: 'mlflow-dev' });
      expectExit(run, 2);
      expect(run.output).toContain("migrate: ERROR: MIGRATE_CLOUDSQL_INSTANCE must be an instance connection name PROJECT:REGION:INSTANCE, not 'mlflow-dev'");
      expect(fs.existsSync(path.join(dir, 'mlflow.db'))).toBe(false);
    });
  });

  // ---- Database servers: the cases every engine runs, then each engine's own --------------------------------

  for (const engine of [mariadb(), postgres()]) {
    if (engine.skip && !SKIP_MLFLOW) console.warn(`${engine.skipVariable}=1: the ${engine.name} cases of test/scripts/migrate.test.ts are SKIPPED.`);

    (engine.skip ? describe.skip : describe)(`against ${engine.title}`, () => {
      beforeAll(() => engine.start(), 130_000);
      afterAll(() => engine.stop(), 60_000);
      const { sql, tables, versions } = engine;

      test('empty database: initialized through the store (experiment 0 in mlflow-artifacts:/); a schema newer than the image is refused (exit 8)', () => {
        const db = engine.newDatabase();
        const env = { MLFLOW_BACKEND_STORE_URI: engine.uri(db) };
        const first = migrate(env);
        expectExit(first, 0);
        expect(first.output).toContain("empty database: initializing it through MLflow's SqlAlchemyStore");
        expect(sql('SELECT experiment_id, artifact_location FROM experiments', db)).toEqual([['0', 'mlflow-artifacts:/0']]);
        expect(versions(db, 'alembic_version')).toEqual(mlflow.trackingHead);
        engine.initialized(first, db, env);

        // An image older than the schema: refused before anything runs.
        sql(`UPDATE alembic_version SET version_num = 'ffffffffffff'`, db);
        const newer = migrate(env);
        expectExit(newer, 8);
        expect(newer.output).toContain(
          `migrate: ERROR: the tracking schema is at revision ffffffffffff, which the MLflow in this image does not know ` +
            `(its head: ${mlflow.trackingHead}): a newer MLflow migrated this database. Nothing was changed.`,
        );
        expect(versions(db, 'alembic_version')).toEqual(['ffffffffffff']);
      });

      test('half-initialized database: refused (exit 5), nothing changed', () => {
        const noVersion = engine.newDatabase();
        engine.asUser('CREATE TABLE experiments (experiment_id INTEGER PRIMARY KEY)', noVersion);
        const run = migrate({ MLFLOW_BACKEND_STORE_URI: engine.uri(noVersion) });
        expectExit(run, 5);
        expect(run.output).toContain('half-initialized database: MLflow tables exist (experiments) but there is no alembic_version');
        expect(tables(noVersion)).toEqual(['experiments']);

        const emptyVersion = engine.newDatabase();
        engine.asUser('CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)', emptyVersion);
        const run2 = migrate({ MLFLOW_BACKEND_STORE_URI: engine.uri(emptyVersion) });
        expectExit(run2, 5);
        expect(run2.output).toContain('table alembic_version exists but is empty');
        expect(run2.output).toContain('drop the empty alembic_version table');
        expect(tables(emptyVersion)).toEqual(['alembic_version']);
      });

      const auth = { db: '' };

      test('basic-auth: the auth schema migrated to head; admin, metrics and smoke users created, least privilege; a second run changes nothing', () => {
        auth.db = engine.newDatabase();
        const uri = engine.uri(auth.db);
        const env = {
          MLFLOW_BACKEND_STORE_URI: uri,
          MLFLOW_AUTH_CONFIG_PATH: authIni(uri, ADMIN_PASSWORD),
          MLFLOW_METRICS_USERNAME: 'metrics-scraper',
          MLFLOW_METRICS_PASSWORD: METRICS_PASSWORD,
          MLFLOW_SMOKE_USERNAME: 'smoke-test',
          MLFLOW_SMOKE_PASSWORD: SMOKE_PASSWORD,
        };
        const first = migrate(env);
        expectExit(first, 0);
        expect(first.output).toContain("migrate: admin user 'admin': created (admin)");
        expect(first.output).toContain("migrate: metrics user 'metrics-scraper': created (not admin)");
        expect(first.output).toContain("migrate: smoke user 'smoke-test': created (not admin)");
        expect(versions(auth.db, 'alembic_version_auth')).toEqual(mlflow.authHead);
        expect(versions(auth.db, 'alembic_version')).toEqual(mlflow.trackingHead); // tracking and auth share the database
        engine.authMigrated(first, auth.db);
        expect(sql('SELECT username, is_admin FROM users ORDER BY username', auth.db)).toEqual([
          ['admin', engine.TRUE],
          ['metrics-scraper', engine.FALSE],
          ['smoke-test', engine.FALSE],
        ]);
        // Least privilege: no permission rows for the plain users (default_permission is all they get).
        for (const table of ['experiment_permissions', 'registered_model_permissions']) {
          expect(sql(`SELECT u.username, COUNT(p.id) FROM users u LEFT JOIN ${table} p ON u.id = p.user_id WHERE NOT u.is_admin GROUP BY u.username ORDER BY u.username`, auth.db)).toEqual([
            ['metrics-scraper', '0'],
            ['smoke-test', '0'],
          ]);
        }

        const hashes = sql('SELECT username, password_hash FROM users ORDER BY username', auth.db);
        const second = migrate(env);
        expectExit(second, 0);
        expect(second.output).toContain(`auth schema at revision ${mlflow.authHead}, head of this MLflow ${mlflow.authHead}: at head`);
        expect(second.output).toContain("migrate: admin user 'admin': unchanged");
        expect(second.output).toContain("migrate: metrics user 'metrics-scraper': unchanged");
        expect(second.output).toContain("migrate: smoke user 'smoke-test': unchanged");
        expect(second.output).not.toContain('running: python -m mlflow');
        expect(sql('SELECT username, password_hash FROM users ORDER BY username', auth.db)).toEqual(hashes);
      });

      test('password rotation: the new admin, metrics and smoke passwords authenticate, the old ones no longer; promoted plain users are demoted', () => {
        expect(auth.db).not.toBe(''); // needs the database of the case above
        const uri = engine.uri(auth.db);
        sql("UPDATE users SET is_admin = true WHERE username IN ('metrics-scraper', 'smoke-test')", auth.db); // someone promoted them by hand
        const ini = authIni(uri, ADMIN_ROTATED); // what ESO renders after a rotation in Secret Manager
        const rotated = migrate({
          MLFLOW_BACKEND_STORE_URI: uri,
          MLFLOW_AUTH_CONFIG_PATH: ini,
          MLFLOW_METRICS_USERNAME: 'metrics-scraper',
          MLFLOW_METRICS_PASSWORD: METRICS_ROTATED,
          MLFLOW_SMOKE_USERNAME: 'smoke-test',
          MLFLOW_SMOKE_PASSWORD: SMOKE_ROTATED,
        });
        expectExit(rotated, 0);
        expect(rotated.output).toContain("migrate: admin user 'admin': password reset to the configured one");
        expect(rotated.output).toContain("migrate: metrics user 'metrics-scraper': password reset to the configured one; is_admin set to False");
        expect(rotated.output).toContain("migrate: smoke user 'smoke-test': password reset to the configured one; is_admin set to False");
        expect(
          authUsers(uri, ini, [
            ['admin', ADMIN_PASSWORD],
            ['admin', ADMIN_ROTATED],
            ['metrics-scraper', METRICS_PASSWORD],
            ['metrics-scraper', METRICS_ROTATED],
            ['smoke-test', SMOKE_PASSWORD],
            ['smoke-test', SMOKE_ROTATED],
          ]),
        ).toEqual({
          accepted: [`admin:${ADMIN_ROTATED}`, `metrics-scraper:${METRICS_ROTATED}`, `smoke-test:${SMOKE_ROTATED}`],
          admins: ['admin'],
          users: ['admin', 'metrics-scraper', 'smoke-test'],
        });
        engine.rotated(uri, ini);
      });

      test('clients and a served model: users and exact grants, an experiment created for its grant, the serving grant follows the alias, what left the config revoked (a user made by hand before it was named kept), the rest left alone', () => {
        expect(auth.db).not.toBe(''); // the basic-auth database of the cases above
        const uri = engine.uri(auth.db);
        const ini = authIni(uri, ADMIN_ROTATED);
        const base = { MLFLOW_BACKEND_STORE_URI: uri, MLFLOW_AUTH_CONFIG_PATH: ini };
        const client = (experiments: Record<string, string>, models: Record<string, string>) => ({
          username: 'team-a',
          experiments: Object.entries(experiments).map(([name, permission]) => ({ name, permission })),
          models: Object.entries(models).map(([name, permission]) => ({ name, permission })),
        });
        const serving = [
          { username: 'serve-x', model: 'model-x', alias: 'champion' },
          { username: 'serve-pinned', model: 'model-x', version: 2 },
          // An alias nobody sets: once the model exists, MLflow answers INVALID_PARAMETER_VALUE, not RESOURCE_DOES_NOT_EXIST.
          { username: 'serve-unset', model: 'model-x', alias: 'challenger' },
        ];
        const passwords = { 'team-a': CLIENT_PASSWORD, 'team-b': CLIENT_PASSWORD, 'serve-x': SERVING_PASSWORD, 'serve-pinned': SERVING_PASSWORD, 'serve-unset': SERVING_PASSWORD };
        const users = ['team-a', 'serve-x', 'serve-pinned', 'smoke-test'];

        // A user an admin made by hand before the configuration named it as a client: adopted, never deleted.
        adminDoes(uri, { do: 'create-user', user: 'team-b', password: 'made-by-hand-long' });
        const adopted = { username: 'team-b', experiments: [], models: [{ name: 'model-b', permission: 'READ' }] };

        // First sync: the model does not exist yet, the experiment neither.
        const first = migrate({
          ...base,
          ...accessPlan({ clients: [client({ 'exp-a': 'EDIT' }, { 'model-a': 'READ' }), adopted], serving }, passwords),
        });
        expectExit(first, 0);
        expect(first.output).toContain("migrate: user 'team-b' existed before the configuration named it: reconciled from now on, kept if it leaves the configuration");
        expect(first.output).toContain("migrate: client user 'team-b': password reset to the configured one");
        expect(grantsOf(uri, ['team-b'])['team-b']).toEqual({ experiments: {}, models: { 'model-b': 'READ' } });
        expect(first.output).toContain("migrate: client user 'team-a': created (not admin)");
        expect(first.output).toContain("migrate: serving user 'serve-x': created (not admin)");
        expect(first.output).toMatch(/^migrate: experiment 'exp-a' did not exist: created \(id (\d+), artifacts mlflow-artifacts:\/\1\) so that its grants hold from now on$/m);
        expect(first.output).toContain(
          "migrate: serving user 'serve-x': models:/model-x@champion does not exist yet (Registered Model with name=model-x not found); READ on the model only.",
        );
        expect(first.output).toContain("migrate: serving user 'serve-pinned': models:/model-x version 2 does not exist yet");
        expect(grantsOf(uri, users)).toEqual({
          'team-a': { experiments: { 'exp-a': 'EDIT' }, models: { 'model-a': 'READ' } },
          'serve-x': { experiments: {}, models: { 'model-x': 'READ' } },
          'serve-pinned': { experiments: {}, models: { 'model-x': 'READ' } },
          'smoke-test': { experiments: {}, models: {} }, // the plain users are not touched
        });
        expect(authUsers(uri, ini, [['team-a', CLIENT_PASSWORD], ['serve-x', SERVING_PASSWORD]]).accepted).toEqual([`team-a:${CLIENT_PASSWORD}`, `serve-x:${SERVING_PASSWORD}`]);

        // The model appears, v1 logged in experiment A (logged model), v2 in B (a run's artifacts); @champion → v1.
        const mv = pythonJson(VERSIONS_PY, [uri, 'model-x', 'serving-a', 'serving-b'], { MLFLOW_TRACKING_URI: uri }); // the registry reads the logged model through the client
        // An admin grants team-a something by hand; the grant on model-a is changed by hand.
        adminDoes(uri, { do: 'experiment-grant', name: 'by-hand', user: 'team-a', permission: 'MANAGE' });
        const plan = { clients: [client({ 'exp-a': 'EDIT' }, { 'model-a': 'READ' }), adopted], serving };
        const v1 = migrate({ ...base, ...accessPlan(plan, passwords) });
        expectExit(v1, 0);
        expect(v1.output).toContain(`migrate: serving user 'serve-x': model-x @champion -> version ${mv.v1}, logged model ${mv.modelId}, experiment 'serving-a' (id ${mv.a})`);
        expect(v1.output).toContain(`migrate: granted READ to 'serve-x' on experiment 'serving-a' (id ${mv.a})`);
        expect(v1.output).not.toContain("client user 'team-a': created");
        expect(grantsOf(uri, ['serve-x'])['serve-x']).toEqual({ experiments: { 'serving-a': 'READ' }, models: { 'model-x': 'READ' } });
        // The pinned version 2 was logged by a run in experiment B.
        expect(v1.output).toContain(`migrate: serving user 'serve-pinned': model-x version ${mv.v2}, run ${mv.runId}, experiment 'serving-b' (id ${mv.b})`);
        expect(grantsOf(uri, ['serve-pinned'])['serve-pinned']).toEqual({ experiments: { 'serving-b': 'READ' }, models: { 'model-x': 'READ' } });
        // The model exists, the alias is not set: logged, READ on the model only, the sync not blocked.
        expect(v1.output).toContain(
          "migrate: serving user 'serve-unset': models:/model-x@challenger does not exist yet (Registered model alias challenger not found.); READ on the model only.",
        );
        expect(grantsOf(uri, ['serve-unset'])['serve-unset']).toEqual({ experiments: {}, models: { 'model-x': 'READ' } });

        // A second run with the same plan changes nothing.
        const again = migrate({ ...base, ...accessPlan(plan, passwords) });
        expectExit(again, 0);
        expect(again.output).not.toMatch(/granted|revoked|set '|deleted|created/);
        expect(again.output).toContain("migrate: client user 'team-a': unchanged");

        // The alias moves to v2 (another experiment): the next sync moves the serving user's experiment grant.
        adminDoes(uri, { do: 'alias', model: 'model-x', version: mv.v2 });
        const v2 = migrate({ ...base, ...accessPlan(plan, passwords) });
        expectExit(v2, 0);
        expect(v2.output).toContain(`migrate: serving user 'serve-x': model-x @champion -> version ${mv.v2}, run ${mv.runId}, experiment 'serving-b' (id ${mv.b})`);
        expect(v2.output).toContain(`migrate: revoked READ of 'serve-x' on experiment 'serving-a' (id ${mv.a}) (no longer configured)`);
        expect(grantsOf(uri, ['serve-x'])['serve-x']).toEqual({ experiments: { 'serving-b': 'READ' }, models: { 'model-x': 'READ' } });

        // A permission changed in the config is set exactly; a grant removed from it is revoked, unless a person changed
        // it since; the admin's grant by hand stays; a rotated password works.
        adminDoes(uri, { do: 'model-grant-update', name: 'model-a', user: 'team-a', permission: 'MANAGE' });
        const changed = migrate({
          ...base,
          ...accessPlan({ clients: [client({ 'exp-a': 'READ' }, {}), adopted], serving }, { ...passwords, 'team-a': CLIENT_ROTATED }),
        });
        expectExit(changed, 0);
        expect(changed.output).toMatch(/^migrate: set 'team-a' on experiment 'exp-a' \(id \d+\) to READ \(was EDIT\)$/m);
        expect(changed.output).toContain("migrate: 'team-a' on model 'model-a' is MANAGE, not the READ granted here: changed by hand, left alone");
        expect(changed.output).toContain("migrate: client user 'team-a': password reset to the configured one");
        expect(grantsOf(uri, ['team-a'])['team-a']).toEqual({ experiments: { 'exp-a': 'READ', 'by-hand': 'MANAGE' }, models: { 'model-a': 'MANAGE' } });
        expect(authUsers(uri, ini, [['team-a', CLIENT_PASSWORD], ['team-a', CLIENT_ROTATED]]).accepted).toEqual([`team-a:${CLIENT_ROTATED}`]);

        // Clients and serving gone from the config (the chart then renders no plan at all): their users are deleted;
        // the plain users stay; the record is empty.
        const gone = migrate(base);
        expectExit(gone, 0);
        expect(gone.output).toContain("migrate: user 'serve-x': deleted (no longer a client or serving), with its grants");
        expect(gone.output).toContain("migrate: user 'team-a': deleted (no longer a client or serving), with its grants");
        expect(gone.output).toContain("migrate: user 'serve-pinned': deleted (no longer a client or serving), with its grants");
        expect(gone.output).toContain("migrate: user 'team-b': kept (it existed before the configuration named it), the grants made for it revoked");
        expect(gone.output).toContain("migrate: revoked READ of 'team-b' on model 'model-b' (no longer configured)");
        expect(grantsOf(uri, users)).toEqual({ 'team-a': null, 'serve-x': null, 'serve-pinned': null, 'smoke-test': { experiments: {}, models: {} } });
        expect(grantsOf(uri, ['team-b'])['team-b']).toEqual({ experiments: {}, models: {} });
        expect(sql('SELECT COUNT(*) FROM mlflow_gitops_access', auth.db)).toEqual([['0']]);
        expect(sql("SELECT name FROM experiments WHERE name = 'exp-a'", auth.db)).toEqual([['exp-a']]); // experiments are data: kept
      }, 300_000);

      engine.ownCases(auth);
    });
  }
});

/** A database server the cases above run against, and what differs between engines. */
interface Engine {
  /** As in the test names and the skip warning. */
  readonly name: string;
  readonly title: string;
  readonly skip: boolean;
  readonly skipVariable: string;
  /** `is_admin` as the server prints it. */
  readonly TRUE: string;
  readonly FALSE: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /** SQL with full rights; rows of tab-separated columns. */
  sql(statements: string, database?: string): string[][];
  /** SQL as if the migrating user ran it: the tables it creates are the user's own. */
  asUser(statements: string, db: string): void;
  tables(db: string): string[];
  versions(db: string, table: string): string[];
  /** A fresh database the migrating user may use, and nothing else. */
  newDatabase(): string;
  /** The migrating user's URI of `db`. */
  uri(db: string): string;
  /** What this engine shows after an empty database was initialized (`first`, with `env`). */
  initialized(first: Run, db: string, env: Record<string, string>): void;
  /** What this engine shows after the first run with basic-auth migrated the auth schema of `db`. */
  authMigrated(first: Run, db: string): void;
  /** This engine's checks after the password rotation, on the same database. */
  rotated(uri: string, ini: string): void;
  /** The cases only this engine has; `auth.db` is the basic-auth database of the shared cases once they ran. */
  ownCases(auth: { readonly db: string }): void;
}

/**
 * MariaDB: a private instance (not the shared one: the log_bin case flips a global), binary logging on and a user
 * without SUPER, as on Cloud SQL for MySQL.
 */
function mariadb(): Engine {
  let server: PrivateMariadb | undefined;
  let counter = 0;
  const socket = () => server!.socket;

  /** Runs SQL as root over the private server's socket (SUPER: can set globals); rows of tab-separated columns. */
  function sql(statements: string, database?: string): string[][] {
    const r = spawnSync(
      'mariadb',
      ['--no-defaults', `--socket=${socket()}`, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statements],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`mariadb: ${r.stderr.trim()}`);
    return r.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  }
  const setTrust = (on: boolean) => sql(`SET GLOBAL log_bin_trust_function_creators = ${on ? 1 : 0}`);
  const newDatabase = (): string => {
    const name = `mlflow_m${++counter}`;
    sql(`CREATE DATABASE ${name}`);
    return name;
  };
  const mysqlUri = (db: string): string => `mysql+pymysql://${DB_USER}:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:${server!.port}/${db}`;
  const tables = (db: string): string[] => sql('SHOW TABLES', db).map(([t]) => t);
  const versions = (db: string, table: string): string[] => sql(`SELECT version_num FROM ${table}`, db).map(([v]) => v);
  const triggers = (db: string): string[] => sql(`SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db}'`).map(([t]) => t);
  const foreignKeys = (db: string): string[][] =>
    sql(
      `SELECT TABLE_NAME, CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS
       WHERE CONSTRAINT_SCHEMA = '${db}' AND TABLE_NAME IN ('experiment_permissions', 'registered_model_permissions')
       ORDER BY TABLE_NAME`,
    );
  /** Whether each (user, password) verifies against the stored hash, with the function MLflow's store uses. */
  const passwordChecks = (db: string, pairs: Array<[string, string]>): boolean[] => {
    const hashes = Object.fromEntries(sql('SELECT username, password_hash FROM users', db));
    return pythonJson(
      'import json,sys; from werkzeug.security import check_password_hash as c; print(json.dumps([c(h, p) for h, p in json.loads(sys.argv[1])]))',
      [JSON.stringify(pairs.map(([user, password]) => [hashes[user], password]))],
    );
  };
  /** Columns and non-FK constraints of `names`: what must equal upstream's initial auth migration. */
  const shape = (db: string, names: string[]): string[][] => {
    const list = names.map((n) => `'${n}'`).join(',');
    return [
      ...sql(
        `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = '${db}' AND TABLE_NAME IN (${list}) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      ),
      ...sql(
        `SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
         WHERE CONSTRAINT_SCHEMA = '${db}' AND TABLE_NAME IN (${list}) AND CONSTRAINT_TYPE <> 'FOREIGN KEY'
         ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
      ),
    ];
  };

  return {
    name: 'MariaDB',
    title: 'MariaDB (log_bin on, a user without SUPER)',
    skip: SKIP_MARIADB,
    skipVariable: 'MLFLOW_GITOPS_SKIP_MARIADB',
    TRUE: '1',
    FALSE: '0',
    sql,
    asUser: (statements, db) => void sql(statements, db), // root, in a database the user has every right on
    tables,
    versions,
    newDatabase,
    uri: mysqlUri,

    async start() {
      server = await PrivateMariadb.create('mlflow-gitops-migrate-db');
      server.start();
      sql(
        `CREATE USER '${DB_USER}'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}'; ` +
          `GRANT ALL PRIVILEGES ON \`mlflow\\_%\`.* TO '${DB_USER}'@'127.0.0.1'`,
      );
      // As on Cloud SQL: binary logging on, and the migrating user has no SUPER.
      expect(sql('SELECT @@log_bin')).toEqual([['1']]);
      expect(sql(`SHOW GRANTS FOR '${DB_USER}'@'127.0.0.1'`).flat().join('\n')).not.toContain('SUPER');
      setTrust(true); // the migrating cases need it; the ones that test it set it themselves
    },

    async stop() {
      await server?.remove();
    },

    initialized(first, db) {
      expect(first.output).toContain('@@log_bin=1 @@log_bin_trust_function_creators=1');
      expect(triggers(db).length).toBeGreaterThan(0); // the trigger migration ran (it needs the flag)
      // (A second run at head is the last step of the log_bin case below, and of the basic-auth cases.)
    },

    authMigrated(first, db) {
      expect(first.output).toContain(
        `pre-creating auth tables users, experiment_permissions, registered_model_permissions with distinct FK names; stamping alembic_version_auth with ${AUTH_INITIAL}`,
      );
      expect(first.output).toMatch(/running: python -m mlflow\.server\.auth db upgrade --url mysql\+pymysql:\/\/mlflow_migrate:\*\*\*@127/);
      expect(foreignKeys(db)).toEqual([
        ['experiment_permissions', 'fk_experiment_permissions_user_id'],
        ['registered_model_permissions', 'fk_registered_model_permissions_user_id'],
      ]);
      // Checked the way MLflow's store checks (werkzeug's check_password_hash on the stored hash); the rotation
      // case asks the store itself.
      expect(passwordChecks(db, [
        ['admin', ADMIN_PASSWORD],
        ['metrics-scraper', METRICS_PASSWORD],
        ['metrics-scraper', ADMIN_PASSWORD],
        ['smoke-test', SMOKE_PASSWORD],
        ['smoke-test', METRICS_PASSWORD],
      ])).toEqual([true, true, false, true, false]);
      expect(first.output).toContain('migrate: basic-auth app loads in this image (flask_wtf, mlflow.server.auth)');
    },

    rotated(uri, ini) {
      // A user MLflow's store cannot write (a name longer than its column) fails the hook with the database's reason.
      const tooLong = migrate({
        MLFLOW_BACKEND_STORE_URI: uri,
        MLFLOW_AUTH_CONFIG_PATH: ini,
        MLFLOW_METRICS_USERNAME: 'm'.repeat(300),
        MLFLOW_METRICS_PASSWORD: METRICS_ROTATED,
      });
      expectExit(tooLong, 6);
      expect(tooLong.output).toContain(
        `migrate: ERROR: reconciling the basic-auth users failed: MlflowException: (pymysql.err.DataError) (1406, "Data too long for column 'username' at row 1")`,
      );
    },

    ownCases(auth) {
      const olderSchema = (db: string, revision: string): void => olderSchemaAt(mysqlUri(db), revision);

      test('log_bin precheck only when a migration is pending: older schema refused with the flag off (exit 3), upgraded with it on, then at head the flag no longer matters', () => {
        const db = newDatabase();
        olderSchema(db, TRACKING_BEFORE_TRIGGER);
        expect(versions(db, 'alembic_version')).toEqual([TRACKING_BEFORE_TRIGGER]);
        const env = { MLFLOW_BACKEND_STORE_URI: mysqlUri(db) };
        try {
          setTrust(false);
          const refused = migrate(env);
          expectExit(refused, 3);
          expect(refused.output).toContain(`tracking schema at revision ${TRACKING_BEFORE_TRIGGER}, head of this MLflow ${mlflow.trackingHead}: migration pending`);
          expect(refused.output).toContain('@@log_bin=1 @@log_bin_trust_function_creators=0');
          expect(refused.output).toContain(
            "migrate: ERROR: MySQL has binary logging on and log_bin_trust_function_creators off: MLflow's trigger migration would fail " +
              'with error 1419 and leave the schema half-migrated. Nothing was changed.',
          );
          expect(refused.output).toContain('--database-flags=log_bin_trust_function_creators=on` -- that REPLACES the instance');
          expect(versions(db, 'alembic_version')).toEqual([TRACKING_BEFORE_TRIGGER]);
          expect(triggers(db)).toEqual([]);
          // An empty database is a pending migration too (its initialization runs the trigger migration).
          const empty = newDatabase();
          const emptyRefused = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(empty) });
          expectExit(emptyRefused, 3);
          expect(emptyRefused.output).toContain('migrate: tracking store: empty database, to be initialized');
          expect(emptyRefused.output).toContain('migrate: ERROR: MySQL has binary logging on and log_bin_trust_function_creators off');
          expect(tables(empty)).toEqual([]);

          setTrust(true);
          const upgraded = migrate(env);
          expectExit(upgraded, 0);
          expect(upgraded.output).toContain(`schema at revision ${TRACKING_BEFORE_TRIGGER}: running \`mlflow db upgrade\``);
          expect(versions(db, 'alembic_version')).toEqual(mlflow.trackingHead);
          expect(triggers(db).length).toBeGreaterThan(0);

          // Defect 3: the flag flipped off again, nothing pending -> exit 0, no retries for nothing.
          setTrust(false);
          const atHead = migrate(env);
          expectExit(atHead, 0);
          expect(atHead.output).toContain("migrate: nothing to migrate: every schema is at this MLflow's head (no log_bin check needed)");
          expect(atHead.output).not.toContain('@@log_bin');
        } finally {
          setTrust(true);
        }
      });

      test("MySQL auth workaround still needed: MLflow's own auth upgrade fails with errno 121; migrate.py repairs what it leaves", () => {
        const db = newDatabase();
        const upstream = runPython(['-m', 'mlflow.server.auth', 'db', 'upgrade', '--url', mysqlUri(db)], {});
        expect(upstream.status).not.toBe(0);
        expect(upstream.output).toMatch(/create table `[^`]+`\.`registered_model_permissions` \(errno: 121 "Duplicate key/);
        expect(tables(db)).toEqual(['alembic_version_auth', 'experiment_permissions', 'users']);
        expect(versions(db, 'alembic_version_auth')).toEqual([]);

        // What upstream's migration managed to create has exactly the shape migrate.py pre-creates (before the later
        // migrations change it: compare with a database at the initial revision, pre-created by migrate.py's own code).
        const reference = newDatabase();
        pythonJson(
          `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("migrate", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.precreate_auth_tables(m.make_engine(sys.argv[2]))
print(json.dumps("ok"))
`,
          [SCRIPT, mysqlUri(reference)],
        );
        const upstreamShape = shape(db, ['users', 'experiment_permissions']);
        expect(upstreamShape.length).toBeGreaterThan(8);
        expect(shape(reference, ['users', 'experiment_permissions'])).toEqual(upstreamShape);

        // The state upstream's failure leaves is repaired: the missing table is added, then MLflow migrates on.
        // (The tracking store of this run is one already at head, so that only the auth store migrates.)
        expect(auth.db).not.toBe('');
        const repair = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(auth.db), MLFLOW_AUTH_CONFIG_PATH: authIni(mysqlUri(db), ADMIN_PASSWORD) });
        expectExit(repair, 0);
        expect(repair.output).toContain('auth store: no revision yet, to be migrated');
        expect(repair.output).toContain('pre-creating auth tables registered_model_permissions (keeping existing');
        expect(versions(db, 'alembic_version_auth')).toEqual(mlflow.authHead);
        expect(foreignKeys(db).map(([table]) => table)).toEqual(['experiment_permissions', 'registered_model_permissions']);
      });

      test('IAM database login: the password-less URI dev renders with database.login iam migrates an empty database, auth included; a second run changes nothing', () => {
        // The stand-in for the Cloud SQL Auth Proxy's --auto-iam-authn: a MariaDB user without a password on loopback
        // (the proxy accepts MLflow's password-less login and adds the IAM token itself). Its name is dev's IAM
        // database user, and the URI is the one the migration Job of dev's IAM variant carries, pointed at this server.
        const doc = rawConfig('dev');
        doc.database.login = 'iam';
        delete doc.database.userSecret;
        delete doc.database.passwordSecret;
        const job = find(mlflowManifests(configFrom('dev', doc)), 'Job', 'mlflow-migrate');
        const rendered: string = containerNamed(job.spec.template.spec, 'migrate').env.find((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI').value;
        expect(rendered).toBe('mysql+pymysql://mlflow-server@127.0.0.1:3306/mlflow');
        sql(`CREATE USER IF NOT EXISTS 'mlflow-server'@'127.0.0.1'; GRANT ALL PRIVILEGES ON \`mlflow\\_%\`.* TO 'mlflow-server'@'127.0.0.1'`);
        expect(sql("SELECT user, host, authentication_string = '' FROM mysql.user WHERE user = 'mlflow-server'")).toEqual([['mlflow-server', '127.0.0.1', '1']]); // no password
        const db = newDatabase();
        const uri = rendered.replace('@127.0.0.1:3306/mlflow', `@127.0.0.1:${server!.port}/${db}`);
        const env = { MLFLOW_BACKEND_STORE_URI: uri, MLFLOW_AUTH_CONFIG_PATH: authIni(uri, ADMIN_PASSWORD) };

        const first = migrate(env);
        expectExit(first, 0);
        expect(first.output).toContain(`migrate: connected to mysql+pymysql://mlflow-server@127.0.0.1:${server!.port}/${db}`);
        expect(first.output).toContain("migrate: admin user 'admin': created (admin)");
        expect(versions(db, 'alembic_version')).toEqual(mlflow.trackingHead);
        expect(versions(db, 'alembic_version_auth')).toEqual(mlflow.authHead);
        expect(authUsers(uri, env.MLFLOW_AUTH_CONFIG_PATH, [['admin', ADMIN_PASSWORD]])).toEqual({ accepted: [`admin:${ADMIN_PASSWORD}`], admins: ['admin'], users: ['admin'] });

        const second = migrate(env);
        expectExit(second, 0);
        expect(second.output).toContain("migrate: admin user 'admin': unchanged");
        expect(second.output).not.toContain('running: python -m mlflow');
      });
    },
  };
}

/** PostgreSQL: the shared test server of scripts/test-postgres.sh, with a role that owns only its databases. */
function postgres(): Engine {
  // Nothing here changes a server-wide setting, so the cases use the shared server (started by pretest; started
  // here too when it is not running), each in a database of its own, dropped afterwards with the role.
  const SUFFIX = `${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const ROLE = `mlflow_migrate_${SUFFIX}`;
  let dir = '';
  let port = 0;
  let bindir = '';
  const databases: string[] = [];

  /** SQL as the superuser over the server's unix socket; rows of tab-separated columns. */
  function pg(statements: string, database = 'postgres'): string[][] {
    const r = spawnSync(
      path.join(bindir, 'psql'),
      ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', database, '-c', statements],
      { encoding: 'utf8', timeout: 20_000 },
    );
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
    return r.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  }
  /** A fresh database owned by the migrating role, nothing else granted. */
  function newDatabase(): string {
    const name = `mlflow_pg_${SUFFIX}_${databases.length + 1}`;
    pg(`CREATE DATABASE ${name} OWNER ${ROLE}`);
    databases.push(name);
    return name;
  }
  const pgUri = (db: string): string => `postgresql+psycopg2://${ROLE}:${encodeURIComponent(DB_PASSWORD)}@127.0.0.1:${port}/${db}`;
  const tables = (db: string): string[] =>
    pg(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`, db).map(([t]) => t);
  const versions = (db: string, table: string): string[] => pg(`SELECT version_num FROM ${table}`, db).map(([v]) => v);
  const owners = (db: string): string[] => [...new Set(pg(`SELECT tableowner FROM pg_tables WHERE schemaname = 'public'`, db).map(([o]) => o))];

  return {
    name: 'PostgreSQL',
    title: 'PostgreSQL (a role that owns only its databases)',
    skip: process.env.MLFLOW_GITOPS_SKIP_POSTGRES === '1',
    skipVariable: 'MLFLOW_GITOPS_SKIP_POSTGRES',
    TRUE: 't',
    FALSE: 'f',
    sql: pg,
    asUser: (statements, db) => void pg(`SET ROLE ${ROLE}; ${statements}`, db),
    tables,
    versions,
    newDatabase,
    uri: pgUri,

    start() {
      const start = spawnSync('bash', [path.join(ROOT, 'scripts', 'test-postgres.sh')], { encoding: 'utf8', timeout: 120_000, env: process.env });
      if (start.status !== 0) {
        throw new Error(`the test PostgreSQL is not available: scripts/test-postgres.sh exited ${start.status}:\n${start.stdout}${start.stderr}`);
      }
      const fact = (name: string) => {
        const m = new RegExp(`${name}=(\\S+)`).exec(start.stdout);
        if (!m) throw new Error(`scripts/test-postgres.sh did not print ${name}:\n${start.stdout}`);
        return m[1];
      };
      dir = fact('POSTGRES_DIR');
      port = Number(fact('POSTGRES_PORT'));
      bindir = /is up \((\S+), as /.exec(start.stdout)![1];
      console.log(start.stdout.split('\n')[0]);
      // As on Cloud SQL, the migrating user is no superuser; here it cannot even create databases or roles.
      pg(`CREATE ROLE ${ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${DB_PASSWORD}'`);
      expect(pg(`SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = '${ROLE}'`)).toEqual([['f', 'f', 'f']]);
    },

    stop() {
      if (!bindir) return;
      for (const db of databases) pg(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      pg(`DROP ROLE IF EXISTS ${ROLE}`);
    },

    initialized(first, db, env) {
      expect(first.output).toContain(`migrate: connected to postgresql+psycopg2://${ROLE}:***@127.0.0.1:${port}/${db}`);
      expect(first.output).toContain("empty database: initializing it through MLflow's SqlAlchemyStore (artifact root mlflow-artifacts:/)");
      expect(first.output).not.toContain('log_bin');
      expect(owners(db)).toEqual([ROLE]); // every table belongs to the migrating role

      // xmin is the transaction that wrote a row: unchanged rows keep it.
      const rows = () => [
        ...tables(db).map((t) => [t]),
        ...pg('SELECT xmin::text, version_num FROM alembic_version', db),
        ...pg('SELECT xmin::text, experiment_id, name, lifecycle_stage, last_update_time FROM experiments', db),
      ];
      const before = rows();
      const second = migrate(env);
      expectExit(second, 0);
      expect(second.output).toContain(`tracking schema at revision ${mlflow.trackingHead}, head of this MLflow ${mlflow.trackingHead}: at head`);
      expect(second.output).toContain("migrate: nothing to migrate: every schema is at this MLflow's head (no log_bin check needed)");
      expect(second.output).not.toContain('running: python -m mlflow');
      expect(rows()).toEqual(before);
    },

    authMigrated(first, db) {
      expect(first.output).toContain("migrate: auth store on postgresql: MLflow's own migrations (the foreign-key workaround is MySQL-only)");
      expect(first.output).not.toContain('pre-creating');
      expect(first.output).not.toContain('log_bin');
      expect(first.output).toMatch(/running: python -m mlflow\.server\.auth db upgrade --url postgresql\+psycopg2:\/\/mlflow_migrate_\w+:\*\*\*@127/);
      // Upstream's two foreign keys named alike, which MySQL refuses: PostgreSQL names constraints per table.
      expect(
        pg(
          `SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f'
           AND conrelid::regclass::text IN ('experiment_permissions', 'registered_model_permissions') ORDER BY 1`,
          db,
        ),
      ).toEqual([
        ['experiment_permissions', 'fk_user_id'],
        ['registered_model_permissions', 'fk_user_id'],
      ]);
      expect(owners(db)).toEqual([ROLE]);
    },

    rotated() {},

    ownCases() {
      test('an older schema is upgraded by `mlflow db upgrade`; a failing upgrade is rolled back whole (exit 6), then succeeds once the cause is gone', () => {
        const db = newDatabase();
        olderSchemaAt(pgUri(db), TRACKING_BEFORE_TRIGGER);
        expect(versions(db, 'alembic_version')).toEqual([TRACKING_BEFORE_TRIGGER]);
        const env = { MLFLOW_BACKEND_STORE_URI: pgUri(db) };

        // A table in the way of a migration late in the chain (76601a5f987d creates `issues`); the migrations before
        // it (the secrets tables of 1bd49d398cd23 among them) run first in the same transaction.
        pg(`CREATE TABLE issues (id INTEGER PRIMARY KEY)`, db);
        pg(`ALTER TABLE issues OWNER TO ${ROLE}`, db);
        const failed = migrate(env);
        expectExit(failed, 6);
        expect(failed.output).toContain(`schema at revision ${TRACKING_BEFORE_TRIGGER}: running \`mlflow db upgrade\``);
        expect(failed.output).toMatch(/DuplicateTable\) relation "issues" already exists/);
        expect(failed.output).toContain(
          'migrate: ERROR: `mlflow db upgrade` failed (exit 1, output above). PostgreSQL rolled the whole upgrade back: ' +
            'the schema is still at the revision it started from. Fix the cause shown above and sync again.',
        );
        expect(failed.output).not.toContain('log_bin');
        // The restore point was logged before the first change (no instance given here: no clone command); PostgreSQL
        // rolled the upgrade back, so the marker is gone and the next run may upgrade.
        expect(failed.output).toMatch(new RegExp(`migrate: restore point: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ \\(UTC\\), before any change to this database \\(MLflow data at tracking ${TRACKING_BEFORE_TRIGGER}\\)`));
        expect(failed.output).toContain('migrate: no MIGRATE_CLOUDSQL_INSTANCE: to go back, restore a backup or snapshot taken before that time');
        expect(tables(db)).not.toContain('mlflow_gitops_migration');
        expect(versions(db, 'alembic_version')).toEqual([TRACKING_BEFORE_TRIGGER]);
        expect(tables(db)).not.toContain('secrets'); // created by an earlier migration of the same run: rolled back

        pg('DROP TABLE issues', db);
        const upgraded = migrate(env);
        expectExit(upgraded, 0);
        expect(upgraded.output).toContain(`tracking schema at revision ${TRACKING_BEFORE_TRIGGER}, head of this MLflow ${mlflow.trackingHead}: migration pending`);
        expect(versions(db, 'alembic_version')).toEqual(mlflow.trackingHead);
        expect(tables(db)).toEqual(expect.arrayContaining(['secrets', 'issues']));
      });

      test('a wrong password or a closed port: retried, then exit 4 within the timeout, the password never printed', async () => {
        const db = newDatabase();
        const wrong = migrate({
          MLFLOW_BACKEND_STORE_URI: `postgresql+psycopg2://${ROLE}:S3cr3t@127.0.0.1:${port}/${db}`,
          MIGRATE_CONNECT_TIMEOUT_SECONDS: '2',
        });
        expectExit(wrong, 4);
        expect(wrong.output).toContain(`migrate: ERROR: could not connect to postgresql+psycopg2://${ROLE}:***@127.0.0.1:${port}/${db} within 2s`);
        expect(wrong.output).toContain(`password authentication failed for user "${ROLE}"`);

        const closed = await freePort();
        const unreachable = migrate({ MLFLOW_BACKEND_STORE_URI: `postgresql+psycopg2://mlflow:S3cr3t@127.0.0.1:${closed}/mlflow`, MIGRATE_CONNECT_TIMEOUT_SECONDS: '2' });
        expectExit(unreachable, 4);
        expect(unreachable.output).toContain('database not reachable yet (attempt 1)');
        expect(unreachable.output).toMatch(/OperationalError: connection to server at "127\.0\.0\.1", port \d+ failed: Connection refused/);
        expect(unreachable.ms).toBeLessThan(30_000);
      });

      test('an image without psycopg2 is refused before anything is touched (exit 2), naming the missing driver', () => {
        // SHIM, not the venv's driver: a `psycopg2` package first on PYTHONPATH that raises ImportError, standing for an
        // image without the `db` extra. Everything else is the real venv.
        const shim = missingModule('psycopg2');
        const db = newDatabase();
        const run = migrate({ MLFLOW_BACKEND_STORE_URI: pgUri(db) }, shim);
        expectExit(run, 2);
        expect(run.output).toContain(
          `migrate: ERROR: cannot use database URI postgresql+psycopg2://${ROLE}:***@127.0.0.1:${port}/${db}: ` +
            "ModuleNotFoundError: No module named 'psycopg2' (test shim)",
        );
        expect(tables(db)).toEqual([]);
      });
    },
  };
}
