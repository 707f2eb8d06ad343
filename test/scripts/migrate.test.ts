/**
 * lib/mlflow/scripts/migrate.py as the migration Job runs it: a subprocess, against a REAL MariaDB (binary logging on,
 * like Cloud SQL; started by `bash scripts/test-mariadb.sh`) or a SQLite file. Only MLflow itself is faked
 * (test/scripts/fake-mlflow: same entry points, same MySQL failure modes: error 1419 for triggers, errno 121 for
 * upstream's duplicate auth FK names). Each case gets its own `mlflow_…` database, dropped afterwards.
 *
 * Without a reachable MariaDB the MariaDB cases FAIL, unless MLFLOW_GITOPS_SKIP_MARIADB=1 skips them (loudly).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'lib', 'mlflow', 'scripts', 'migrate.py');
const FAKE_MLFLOW = path.join(__dirname, 'fake-mlflow');
const PYTHON = process.env.MIGRATE_TEST_PYTHON ?? '/usr/bin/python3';

// Defaults match scripts/test-mariadb.sh.
const HOST = process.env.MARIADB_HOST ?? '127.0.0.1';
const PORT = process.env.MARIADB_PORT ?? '33306';
const SOCKET = process.env.MARIADB_SOCKET ?? '/tmp/mlflow-gitops-mariadb/mariadb.sock';
const USER = 'mlflow_test';
const PASSWORD = 'mlflow_test';
const SKIP_MARIADB = process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';

const TRACKING_HEAD = 'fake_trigger'; // test/scripts/fake-mlflow/mlflow/__init__.py
const AUTH_INITIAL = '8606fa83a998';
const AUTH_HEAD = 'e6c5d2f7a8b9';

interface Run {
  status: number | null;
  output: string;
  ms: number;
}

function runPython(args: string[], env: Record<string, string>): Run {
  const started = Date.now();
  const r = spawnSync(PYTHON, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      PYTHONPATH: FAKE_MLFLOW,
      MLFLOW_DISABLE_TELEMETRY: 'true',
      PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ in the work tree
      MIGRATE_CONNECT_TIMEOUT_SECONDS: '10',
      ...env,
    },
  });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`, ms: Date.now() - started };
}

const migrate = (env: Record<string, string>): Run => runPython([SCRIPT], env);

/** Fails with the script's whole output, not just two numbers. */
function expectExit(run: Run, code: number): void {
  if (run.status !== code) throw new Error(`expected exit ${code}, got ${run.status}; output:\n${run.output}`);
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-test-'));
  tmpDirs.push(dir);
  return dir;
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('migrate.py without a database server', () => {
  test('a missing URI or an unreadable auth config is a configuration error (exit 2)', () => {
    const noUri = migrate({});
    expectExit(noUri, 2);
    expect(noUri.output).toContain('migrate: ERROR: MLFLOW_BACKEND_STORE_URI is not set');

    const dir = tmpDir();
    const ini = path.join(dir, 'auth.ini');
    fs.writeFileSync(ini, '[mlflow]\ndatabase_uri = mysql+pymysql://u:50%off@127.0.0.1/mlflow_x\n');
    const badIni = migrate({ MLFLOW_BACKEND_STORE_URI: `sqlite:///${dir}/mlflow.db`, MLFLOW_AUTH_CONFIG_PATH: ini });
    expectExit(badIni, 2);
    expect(badIni.output).toContain("InterpolationSyntaxError section='mlflow' option='database_uri'");
    expect(badIni.output).toContain('write a literal % as %%');
    expect(badIni.output).not.toContain('off@'); // the value (with its password) is not echoed
    expect(fs.existsSync(path.join(dir, 'mlflow.db'))).toBe(false); // nothing touched
  });

  test('an unreachable database: retried, then exit 4 within the timeout, password never printed', async () => {
    const port = await closedPort();
    const run = migrate({
      MLFLOW_BACKEND_STORE_URI: `mysql+pymysql://mlflow:S3cr3t%2FPa55@127.0.0.1:${port}/mlflow`,
      MIGRATE_CONNECT_TIMEOUT_SECONDS: '2',
    });
    expectExit(run, 4);
    expect(run.output).toContain('database not reachable yet (attempt 1)');
    expect(run.output).toMatch(/could not connect to mysql\+pymysql:\/\/mlflow:\*\*\*@127\.0\.0\.1:\d+\/mlflow within 2s/);
    expect(run.output).toContain("Can't connect to MySQL server");
    expect(run.output).not.toContain('S3cr3t');
    expect(run.ms).toBeLessThan(8_000);
  });

  test('SQLite: an empty file is initialized through the store (no log_bin query), then upgraded', () => {
    const file = path.join(tmpDir(), 'mlflow.db');
    const env = { MLFLOW_BACKEND_STORE_URI: `sqlite:///${file}` };
    const first = migrate(env);
    expectExit(first, 0);
    expect(first.output).toContain("initializing it through MLflow's SqlAlchemyStore");
    expect(first.output).not.toContain('log_bin');
    const query = (sql: string): unknown =>
      JSON.parse(
        runPython(['-c', 'import json,sqlite3,sys; print(json.dumps(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()))', file, sql], {})
          .output,
      );
    expect(query('SELECT experiment_id, artifact_location FROM experiments')).toEqual([[0, 'mlflow-artifacts:/0']]);
    expect(query('SELECT version_num FROM alembic_version')).toEqual([[TRACKING_HEAD]]);

    const second = migrate(env);
    expectExit(second, 0);
    expect(second.output).toContain('running: python -m mlflow db upgrade sqlite:///');
    expect(second.output).toContain('already at head');
  });
});

// ---- MariaDB --------------------------------------------------------------------------------------------------

/** Runs SQL as root over the unix socket (SUPER: can set globals); rows of tab-separated columns. */
function sql(statements: string, database?: string): string[][] {
  const r = spawnSync(
    'mariadb',
    ['--no-defaults', `--socket=${SOCKET}`, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statements],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`mariadb: ${r.stderr.trim()}`);
  return r.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('\t'));
}

const created: string[] = [];
let counter = 0;

function newDatabase(): string {
  const name = `mlflow_t${process.pid}_${++counter}`;
  sql(`DROP DATABASE IF EXISTS ${name}; CREATE DATABASE ${name}`);
  created.push(name);
  return name;
}

const mysqlUri = (db: string, password = PASSWORD): string => `mysql+pymysql://${USER}:${password}@${HOST}:${PORT}/${db}`;
const tables = (db: string): string[] => sql('SHOW TABLES', db).map(([t]) => t);
const versions = (db: string, table: string): string[] => sql(`SELECT version_num FROM ${table}`, db).map(([v]) => v);
const foreignKeys = (db: string): string[][] =>
  sql(
    `SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS
     WHERE CONSTRAINT_SCHEMA = '${db}' ORDER BY TABLE_NAME`,
  );
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

/** Another run of this file (a second checkout on the machine) must not flip the global flag under us. */
const LOCK = path.join(os.tmpdir(), 'mlflow-gitops-migrate-test.lock');
let haveLock = false;

async function acquireLock(): Promise<void> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      haveLock = true;
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(fs.readFileSync(LOCK, 'utf8').trim());
    let ownerAlive = true;
    try {
      if (owner > 0) process.kill(owner, 0);
    } catch (e) {
      ownerAlive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!ownerAlive) {
      fs.rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is held by pid ${owner} (another run of this test?)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

if (SKIP_MARIADB) {
  console.warn('MLFLOW_GITOPS_SKIP_MARIADB=1: the MariaDB cases of test/scripts/migrate.test.ts are SKIPPED.');
}

(SKIP_MARIADB ? describe.skip : describe)('migrate.py against MariaDB (log_bin on, user without SUPER)', () => {
  let trustBefore: string | undefined;

  beforeAll(async () => {
    try {
      sql('SELECT 1');
    } catch (e) {
      throw new Error(
        `MariaDB is not reachable on socket ${SOCKET} (${(e as Error).message}): run \`bash scripts/test-mariadb.sh\` first ` +
          '(or set MLFLOW_GITOPS_SKIP_MARIADB=1 to skip these cases)',
      );
    }
    await acquireLock();
    trustBefore = sql('SELECT @@GLOBAL.log_bin_trust_function_creators')[0][0];
    sql('SET GLOBAL log_bin_trust_function_creators = 1'); // the cases below migrate; one turns it off itself
  });

  afterAll(() => {
    try {
      for (const db of created) sql(`DROP DATABASE IF EXISTS ${db}`);
      if (trustBefore !== undefined) sql(`SET GLOBAL log_bin_trust_function_creators = ${trustBefore}`);
    } finally {
      if (haveLock) fs.rmSync(LOCK, { force: true });
    }
  });

  test('empty database: initialized through the store (experiment 0 in mlflow-artifacts:/), then idempotent', () => {
    const db = newDatabase();
    const first = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) });
    expectExit(first, 0);
    expect(first.output).toContain('@@log_bin=1 @@log_bin_trust_function_creators=1');
    expect(first.output).toContain("empty database: initializing it through MLflow's SqlAlchemyStore");
    expect(first.output).not.toContain('running: python -m mlflow db upgrade');
    expect(sql('SELECT experiment_id, artifact_location FROM experiments', db)).toEqual([['0', 'mlflow-artifacts:/0']]);
    expect(versions(db, 'alembic_version')).toEqual([TRACKING_HEAD]);

    const second = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) });
    expectExit(second, 0);
    expect(second.output).toContain(`schema at revision ${TRACKING_HEAD}: running \`mlflow db upgrade\``);
    expect(second.output).toContain('already at head');
    expect(sql('SELECT COUNT(*) FROM experiments', db)).toEqual([['1']]);
  });

  test('database at an older revision: `mlflow db upgrade` brings it to head', () => {
    const db = newDatabase();
    expectExit(migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) }), 0);
    sql(`DROP TRIGGER metrics_fake_trigger; UPDATE alembic_version SET version_num = '451aebb31d03'`, db);

    const run = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) });
    expectExit(run, 0);
    expect(run.output).toContain('schema at revision 451aebb31d03: running `mlflow db upgrade`');
    expect(run.output).toContain('Running upgrade 451aebb31d03 -> fake_trigger');
    expect(versions(db, 'alembic_version')).toEqual([TRACKING_HEAD]);
    expect(sql(`SHOW TRIGGERS LIKE 'metrics'`, db).map((row) => row[0])).toEqual(['metrics_fake_trigger']);
  });

  test('half-initialized database: refused (exit 5), nothing changed', () => {
    const noVersion = newDatabase();
    sql('CREATE TABLE experiments (experiment_id INT PRIMARY KEY)', noVersion);
    const run = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(noVersion) });
    expectExit(run, 5);
    expect(run.output).toContain('half-initialized database: MLflow tables exist (experiments) but there is no alembic_version');
    expect(tables(noVersion)).toEqual(['experiments']);

    const emptyVersion = newDatabase();
    sql('CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)', emptyVersion);
    const run2 = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(emptyVersion) });
    expectExit(run2, 5);
    expect(run2.output).toContain('table alembic_version exists but is empty');
    expect(run2.output).toContain('drop the empty alembic_version table');
    expect(tables(emptyVersion)).toEqual(['alembic_version']);
  });

  /** The basic-auth ini as the chart writes it: `%` doubled. `mlflow%%5Ftest` must be read as `mlflow%5Ftest`. */
  function authIni(db: string): string {
    const ini = path.join(tmpDir(), 'basic_auth.ini');
    const uri = mysqlUri(db, 'mlflow%5Ftest').replace(/%/g, '%%');
    fs.writeFileSync(
      ini,
      `[mlflow]\ndefault_permission = READ\ndatabase_uri = ${uri}\nadmin_username = admin\nadmin_password = not%%used\n`,
    );
    return ini;
  }

  test('auth on MySQL: tables pre-created with distinct FK names, stamped, upgraded by MLflow; idempotent', () => {
    const db = newDatabase();
    const env = { MLFLOW_BACKEND_STORE_URI: mysqlUri(db), MLFLOW_AUTH_CONFIG_PATH: authIni(db) };
    const first = migrate(env);
    expectExit(first, 0);
    expect(first.output).toContain(
      `pre-creating auth tables users, experiment_permissions, registered_model_permissions with distinct FK names; stamping alembic_version_auth with ${AUTH_INITIAL}`,
    );
    expect(first.output).toMatch(/running: python -m mlflow\.server\.auth db upgrade --url mysql\+pymysql:\/\/[^:\s]+:\*\*\*@127/);
    // The later migration found (by introspection) the names migrate.py gave the FKs.
    expect(first.output).toContain('replacing FK fk_experiment_permissions_user_id on experiment_permissions');
    expect(first.output).toContain('replacing FK fk_registered_model_permissions_user_id on registered_model_permissions');
    expect(versions(db, 'alembic_version_auth')).toEqual([AUTH_HEAD]);
    expect(versions(db, 'alembic_version')).toEqual([TRACKING_HEAD]); // tracking and auth share the database
    expect(foreignKeys(db)).toEqual([
      ['experiment_permissions', 'fk_experiment_permissions_user_id_users', 'CASCADE'],
      ['registered_model_permissions', 'fk_registered_model_permissions_user_id_users', 'CASCADE'],
    ]);
    expect(shape(db, ['registered_model_permissions'])).toEqual([
      ['registered_model_permissions', 'id', 'int(11)', 'NO', 'auto_increment'],
      ['registered_model_permissions', 'name', 'varchar(255)', 'NO', ''],
      ['registered_model_permissions', 'user_id', 'int(11)', 'NO', ''],
      ['registered_model_permissions', 'permission', 'varchar(255)', 'YES', ''],
      ['registered_model_permissions', 'PRIMARY', 'PRIMARY KEY'],
      ['registered_model_permissions', 'unique_name_user', 'UNIQUE'],
    ]);

    const second = migrate(env);
    expectExit(second, 0);
    expect(second.output).toContain(`auth schema at revision ${AUTH_HEAD}: no pre-create needed`);
    expect(second.output).toContain('auth schema already at head');
    expect(versions(db, 'alembic_version_auth')).toEqual([AUTH_HEAD]);
  });

  test("control: without the pre-create MLflow's auth upgrade fails with errno 121; migrate.py then repairs it", () => {
    const db = newDatabase();
    const upstream = runPython(['-m', 'mlflow.server.auth', 'db', 'upgrade', '--url', mysqlUri(db)], {});
    expect(upstream.status).not.toBe(0);
    expect(upstream.output).toMatch(/create table `[^`]+`\.`registered_model_permissions` \(errno: 121 "Duplicate key/);
    expect(tables(db)).toEqual(['alembic_version_auth', 'experiment_permissions', 'users']);
    expect(versions(db, 'alembic_version_auth')).toEqual([]);

    // What upstream's migration managed to create has exactly the shape migrate.py pre-creates.
    const reference = newDatabase();
    expectExit(migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(reference), MLFLOW_AUTH_CONFIG_PATH: authIni(reference) }), 0);
    const upstreamShape = shape(db, ['users', 'experiment_permissions']);
    expect(upstreamShape.length).toBeGreaterThan(8);
    expect(shape(reference, ['users', 'experiment_permissions'])).toEqual(upstreamShape);

    // The state upstream's failure leaves is repaired: the missing table is added, then MLflow migrates on.
    const repair = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db), MLFLOW_AUTH_CONFIG_PATH: authIni(db) });
    expectExit(repair, 0);
    expect(repair.output).toContain('pre-creating auth tables registered_model_permissions (keeping existing');
    expect(versions(db, 'alembic_version_auth')).toEqual([AUTH_HEAD]);
    expect(foreignKeys(db).map(([table, name]) => `${table}.${name}`)).toEqual([
      'experiment_permissions.fk_experiment_permissions_user_id_users',
      'registered_model_permissions.fk_registered_model_permissions_user_id_users',
    ]);
  });

  describe('log_bin_trust_function_creators off (the global flag: cases here run one at a time)', () => {
    afterEach(() => sql('SET GLOBAL log_bin_trust_function_creators = 1'));

    test('refused before any change (exit 3, names the flag); succeeds once the flag is on', () => {
      const db = newDatabase();
      sql('SET GLOBAL log_bin_trust_function_creators = 0');
      const refused = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) });
      expectExit(refused, 3);
      expect(refused.output).toContain('@@log_bin=1 @@log_bin_trust_function_creators=0');
      expect(refused.output).toContain('--database-flags=log_bin_trust_function_creators=on');
      expect(refused.output).toContain('REPLACES the instance');
      expect(tables(db)).toEqual([]);

      sql('SET GLOBAL log_bin_trust_function_creators = 1');
      const run = migrate({ MLFLOW_BACKEND_STORE_URI: mysqlUri(db) });
      expectExit(run, 0);
      expect(versions(db, 'alembic_version')).toEqual([TRACKING_HEAD]);
      expect(sql(`SHOW TRIGGERS LIKE 'metrics'`, db).map((row) => row[0])).toEqual(['metrics_fake_trigger']);
    });
  });
});
