/**
 * lib/mlflow/scripts/migrate.py killed partway, as a preempted node, an OOM kill or the Job's deadline kill it: SIGKILL
 * to its whole process group (the script and `python -m mlflow db upgrade` under it) at many points of a real run, each
 * followed by one rerun. Real MLflow (the venv of scripts/test-mlflow.sh), a real MariaDB (a private instance with
 * binary logging on and log_bin_trust_function_creators on, as the Terraform contract sets Cloud SQL; private because
 * that global is flipped off by other suites on the shared server) and the shared real PostgreSQL.
 *
 * - First install (an empty database): every rerun exits 0 and leaves a schema equal, table for table, column for
 *   column, index, constraint, trigger and revision, to one migrated without interruption.
 * - Upgrade (a database with data at an older revision): every rerun refuses with exit 9, names the restore point the
 *   killed run logged and changes nothing; the data is still there; a copy taken before the upgrade (what the clone to
 *   the restore point gives; it is the uninterrupted reference run) migrates to head.
 *
 * Kill points: the killed runs are timed from the line the script logs right after writing its marker (the last thing
 * before the first DDL). The uninterrupted reference run of each engine gives the length D of that part; the points
 * are spread evenly over it, KILL_POINTS of them (0, D/n, 2D/n, ...), so they cover the DDL phase whatever this
 * machine's speed. A kill that came after the run had already finished (its marker gone) is counted apart (the
 * machine is shared and timings vary); the test asserts that at least half of the kills landed mid-run, and that the
 * first-install kills reached past MLflow's first tables (on MariaDB, three or more depths of the schema), adding up to
 * EXTRA_POINTS kills halfway between two that found different depths when the even points missed.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PrivateMariadb } from '../../tools/pod-harness/private-mariadb';
import { makeOlderSchema } from '../support/older-schema';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'lib', 'mlflow', 'scripts', 'migrate.py');
const PYTHON_FILE = path.join(ROOT, '.mlflow-python');
const PYTHON = fs.existsSync(PYTHON_FILE) ? fs.readFileSync(PYTHON_FILE, 'utf8').trim() : '';
const SKIP_MLFLOW = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1';
const SKIP_MARIADB = SKIP_MLFLOW || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';

/** Kill points per engine and case (the docs name these figures: docs/migration.md, "Interrupted runs"). */
const FIRST_INSTALL_POINTS = 6;
const UPGRADE_POINTS = 5;
/** At most this many more first-install kills, placed by bisection where the even points missed a depth. */
const EXTRA_POINTS = 6;
/** The tracking revision the upgrade cases start from (before the trigger migration: a long chain follows it). */
const OLDER_REVISION = 'bf29a5ff90ea';
const MARKED_FIRST = /migrate: first install into an empty database: marked in mlflow_gitops_migration/;
const MARKED_UPGRADE = /migrate: upgrade marked in mlflow_gitops_migration/;
const INSTANCE = 'example-project:europe-west1:mlflow-dev';

interface Run {
  status: number | null;
  output: string;
}

const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: os.tmpdir(),
  MLFLOW_DISABLE_TELEMETRY: 'true',
  PYTHONDONTWRITEBYTECODE: '1',
  MIGRATE_CONNECT_TIMEOUT_SECONDS: '30',
  MIGRATE_CLOUDSQL_INSTANCE: INSTANCE,
});

function migrate(uri: string): Run {
  const r = spawnSync(PYTHON, [SCRIPT], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...baseEnv(), MLFLOW_BACKEND_STORE_URI: uri } });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function expectExit(run: Run, code: number): void {
  if (run.status !== code) throw new Error(`expected exit ${code}, got ${run.status}; output:\n${run.output}`);
}

interface Timed {
  /** ms from start to the marker line, and from the marker line to the exit. */
  toMarker: number;
  afterMarker: number;
  output: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Runs the script in a process group of its own; `killAfterMs` after the marker line appears, SIGKILL to the whole group
 * (what the kubelet does to a container's processes). Without `killAfterMs` it runs to the end.
 */
function runTimed(uri: string, marker: RegExp, killAfterMs?: number): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let markedAt = 0;
    let output = '';
    const child = spawn(PYTHON, [SCRIPT], { cwd: ROOT, detached: true, env: { ...baseEnv(), MLFLOW_BACKEND_STORE_URI: uri } });
    const guard = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 300_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!markedAt && marker.test(output)) {
        markedAt = Date.now();
        if (killAfterMs !== undefined) {
          setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL');
            } catch {
              // already exited: counted as "finished before the kill"
            }
          }, killAfterMs);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      const end = Date.now();
      resolve({ toMarker: (markedAt || end) - started, afterMarker: markedAt ? end - markedAt : 0, output, code, signal });
    });
  });
}

/** The restore point and clone command a run logged before its first DDL. */
function restorePointOf(output: string): { time: string; clone: string } {
  const time = /migrate: restore point: (\S+) \(UTC\), before any change to this database/.exec(output);
  const clone = /Cloud SQL point-in-time recovery\): (gcloud sql instances clone .*)$/m.exec(output);
  if (!time || !clone) throw new Error(`no restore point in the output:\n${output}`);
  return { time: time[1], clone: clone[1] };
}

/** One engine's test database server, as these cases need it. */
interface Engine {
  name: string;
  /** PostgreSQL: DDL is transactional, and MLflow runs its whole upgrade in one transaction. */
  transactionalDdl: boolean;
  uri(db: string): string;
  createDatabase(): string;
  /** A copy of `from` (the clone of the runbook, taken before the upgrade). */
  copyDatabase(from: string): string;
  /** The schema, independently of migrate.py: tables, columns, indexes, constraints, triggers, revision. */
  schema(db: string): string[];
  rows(db: string, sql: string): string[][];
  tables(db: string): string[];
}

const summaries: string[] = [];
afterAll(() => {
  if (summaries.length) console.log(`migrate-interrupted.test.ts:\n  ${summaries.join('\n  ')}`);
});

function killCases(engine: () => Engine): void {
  test(`first install killed at ${FIRST_INSTALL_POINTS} points: each rerun exits 0 and leaves the schema of an uninterrupted run`, async () => {
    const e = engine();
    const referenceDb = e.createDatabase();
    const reference = await runTimed(e.uri(referenceDb), MARKED_FIRST);
    if (reference.code !== 0) throw new Error(`the uninterrupted run failed:\n${reference.output}`);
    expect(reference.output).toContain('migrate: marker table mlflow_gitops_migration dropped');
    const expected = e.schema(referenceDb);
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.join('\n')).not.toContain('mlflow_gitops_migration');
    const full = e.tables(referenceDb).length;

    const landed: string[] = [];
    let finishedFirst = 0;
    /** Kill times tried and what each found: the number of tables, or Infinity where the run had already finished. */
    const tried: { at: number; depth: number }[] = [];
    const killAt = async (at: number) => {
      const db = e.createDatabase();
      const killed = await runTimed(e.uri(db), MARKED_FIRST, at);
      // Mid-run means the marker is still there; without it the run had finished (killed, if at all, on its way out).
      const midRun = hasMarker(e, db);
      if (!midRun) {
        finishedFirst++;
        expect(killed.output).toContain('migrate: marker table mlflow_gitops_migration dropped');
        tried.push({ at, depth: Infinity });
      } else {
        expect(killed.signal).toBe('SIGKILL');
        const depth = e.tables(db).length;
        landed.push(`${at} ms: ${depth} tables`);
        tried.push({ at, depth });
        expect(e.rows(db, 'SELECT state FROM mlflow_gitops_migration')).toEqual([['first-install']]);
      }
      const rerun = migrate(e.uri(db));
      expectExit(rerun, 0);
      if (midRun) {
        expect(rerun.output).toMatch(/an earlier first install into this database \(empty when it began at \S+Z\) was interrupted: starting over, after dropping the \d+ tables it created/);
      }
      expect(e.schema(db)).toEqual(expected);
      expect(e.rows(db, 'SELECT experiment_id, artifact_location FROM experiments')).toEqual([['0', 'mlflow-artifacts:/0']]);
    };
    for (let i = 0; i < FIRST_INSTALL_POINTS; i++) await killAt(Math.round((reference.afterMarker * i) / FIRST_INSTALL_POINTS));
    // Half of the kills must land mid-run and reach past MLflow's first tables (more than the marker's table), and on
    // MySQL, which keeps each statement, three depths of the schema. A machine slower or faster than the reference run
    // can make the even points miss that; then up to EXTRA_POINTS more go halfway into the widest gap between two kill
    // times that found different depths (or a depth and a finished run), where a new depth must lie. PostgreSQL shows
    // few depths: its upgrade after the first tables is one transaction, rolled back when killed.
    const depths = () => new Set(tried.filter((t) => t.depth !== Infinity).map((t) => t.depth));
    const enough = () =>
      landed.length >= Math.ceil(FIRST_INSTALL_POINTS / 2) && [...depths()].some((n) => n > 1) && (e.transactionalDdl || depths().size >= 3);
    for (let extra = 0; extra < EXTRA_POINTS && !enough(); extra++) {
      const sorted = [...tried].sort((a, b) => a.at - b.at);
      let gap: [number, number] | undefined;
      for (let i = 0; i + 1 < sorted.length; i++) {
        const [a, b] = [sorted[i], sorted[i + 1]];
        if (a.depth !== b.depth && b.at - a.at > 1 && (!gap || b.at - a.at > gap[1] - gap[0])) gap = [a.at, b.at];
      }
      if (!gap) break;
      await killAt(Math.round((gap[0] + gap[1]) / 2));
    }
    summaries.push(
      `${e.name} first install: reference ${reference.toMarker} ms to the marker + ${reference.afterMarker} ms of DDL (${full} tables); ` +
        `killed at ${landed.join(', ')}; ${finishedFirst} finished before the kill`,
    );
    // At least half of the kills landed mid-run (the machine is shared: a late point may come after the end), past
    // MLflow's first tables, and on MySQL at three depths.
    expect({ landed, depths: [...depths()].sort((a, b) => a - b), enough: enough() }).toEqual({
      landed: expect.any(Array),
      depths: expect.any(Array),
      enough: true,
    });
  }, 1_500_000);

  test(`upgrade killed at ${UPGRADE_POINTS} points: each rerun refuses (exit 9) pointing at the restore point and changes nothing; the copy from before migrates`, async () => {
    const e = engine();
    const olderTemplate = e.createDatabase();
    olderSchema(e.uri(olderTemplate));
    // Data the upgrade must never discard.
    e.rows(olderTemplate, "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage) VALUES (7, 'kept', 'mlflow-artifacts:/7', 'active')");

    const referenceDb = e.copyDatabase(olderTemplate);
    const reference = await runTimed(e.uri(referenceDb), MARKED_UPGRADE);
    if (reference.code !== 0) throw new Error(`the uninterrupted upgrade failed:\n${reference.output}`);
    const { clone } = restorePointOf(reference.output);
    expect(clone).toMatch(/^gcloud sql instances clone mlflow-dev mlflow-dev-\d{8}-\d{6} --project=example-project --point-in-time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // The reference is also the runbook's clone: the database as it was at the restore point (a copy taken before
    // the upgrade) migrates to head, its data kept, and the marker gone.
    expect(e.schema(referenceDb).join('\n')).not.toContain('mlflow_gitops_migration');
    const head = new RegExp(`tracking schema at revision ${OLDER_REVISION}, head of this MLflow (\\w+): migration pending`).exec(reference.output);
    expect(head).not.toBeNull();
    expect(e.rows(referenceDb, 'SELECT version_num FROM alembic_version')).toEqual([[head![1]]]);
    expect(e.rows(referenceDb, 'SELECT name FROM experiments WHERE experiment_id = 7')).toEqual([['kept']]);
    const upgraded = e.schema(referenceDb);

    const landed: string[] = [];
    let finishedFirst = 0;
    let before: string[] = [];
    for (let i = 0; i < UPGRADE_POINTS; i++) {
      const db = e.copyDatabase(olderTemplate);
      if (i === 0) before = e.schema(db);
      const at = Math.round((reference.afterMarker * i) / UPGRADE_POINTS);
      const killed = await runTimed(e.uri(db), MARKED_UPGRADE, at);
      if (!hasMarker(e, db)) {
        finishedFirst++;
        expect(killed.output).toContain('migrate: marker table mlflow_gitops_migration dropped');
        continue;
      }
      expect(killed.signal).toBe('SIGKILL');
      const point = restorePointOf(killed.output);
      const after = e.schema(db);
      const mlflowPart = (schema: string[]) => schema.filter((line) => !line.includes('mlflow_gitops_migration')).join('\n');
      const state = mlflowPart(after) === mlflowPart(before) ? 'unchanged' : mlflowPart(after) === mlflowPart(upgraded) ? 'upgraded whole' : 'partly upgraded';
      landed.push(`${at} ms: MLflow's schema ${state}`);
      // PostgreSQL applies the upgrade in one transaction: a kill leaves it as it was, or (killed after the commit,
      // before the marker was dropped) upgraded whole, never in between. MySQL keeps each statement it applied.
      if (e.transactionalDdl) expect(state).not.toBe('partly upgraded');
      const rerun = migrate(e.uri(db));
      expectExit(rerun, 9);
      expect(rerun.output).toContain(
        `migrate: ERROR: an earlier run began upgrading this database (MLflow data at tracking ${OLDER_REVISION}) at ${point.time} and did not finish: ` +
          'it was interrupted, and the part it applied may be kept (MySQL commits each DDL statement)',
      );
      expect(rerun.output).toContain(
        `This Job cannot undo that, so nothing was changed. Restore point: ${point.time} (UTC). Clone to it: \`${point.clone}\`. ` +
          'Runbook: docs/migration.md, "Interrupted upgrade" (clone to the restore point, check the clone, switch to it, sync again). ' +
          'Only if you have checked that the schema is whole at one revision, drop the table mlflow_gitops_migration and sync again.',
      );
      expect(e.schema(db)).toEqual(after); // the refusal changed nothing
      expect(e.rows(db, "SELECT name FROM experiments WHERE experiment_id = 7")).toEqual([['kept']]);
    }
    summaries.push(
      `${e.name} upgrade from ${OLDER_REVISION}: reference ${reference.afterMarker} ms after the marker; killed at ${landed.join(', ')}; ` +
        `${finishedFirst} finished before the kill`,
    );
    expect(landed.length).toBeGreaterThanOrEqual(Math.ceil(UPGRADE_POINTS / 2));
  }, 1_500_000);
}

/** Whether the database still holds the script's marker table (the run was cut before its end). */
function hasMarker(e: Engine, db: string): boolean {
  return e.tables(db).includes('mlflow_gitops_migration');
}

/** An older MLflow's tracking schema at OLDER_REVISION, made by MLflow's own code. */
function olderSchema(uri: string): void {
  makeOlderSchema(PYTHON, uri, OLDER_REVISION, baseEnv());
}

if (SKIP_MLFLOW) console.warn('MLFLOW_GITOPS_SKIP_MLFLOW=1: test/scripts/migrate-interrupted.test.ts is SKIPPED.');

(SKIP_MLFLOW ? describe.skip : describe)('migrate.py killed partway', () => {
  beforeAll(() => {
    if (!PYTHON || !fs.existsSync(PYTHON)) throw new Error(`no MLflow venv (${PYTHON_FILE}): run \`bash scripts/test-mlflow.sh\` first`);
  });

  (SKIP_MARIADB ? describe.skip : describe)('MariaDB (a private instance: binary logging on, the trust flag on)', () => {
    let server: PrivateMariadb;
    let counter = 0;
    const sql = (statements: string, database?: string): string[][] => {
      const r = spawnSync('mariadb', ['--no-defaults', `--socket=${server.socket}`, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statements], {
        encoding: 'utf8',
        timeout: 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      if (r.status !== 0) throw new Error(`mariadb: ${r.stderr}`);
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    };
    const engine: Engine = {
      name: 'MariaDB',
      transactionalDdl: false,
      uri: (name) => `mysql+pymysql://mlflow_test:mlflow_test@127.0.0.1:${server.port}/${name}`,
      createDatabase: () => {
        const name = `mlflow_kill${++counter}`;
        sql(`CREATE DATABASE ${name}`);
        return name;
      },
      copyDatabase: (from) => {
        const name = engine.createDatabase();
        const dump = spawnSync('mariadb-dump', ['--no-defaults', `--socket=${server.socket}`, '-uroot', '--triggers', '--routines', from], { maxBuffer: 64 * 1024 * 1024 });
        if (dump.status !== 0) throw new Error(`mariadb-dump: ${dump.stderr}`);
        const load = spawnSync('mariadb', ['--no-defaults', `--socket=${server.socket}`, '-uroot', name], { input: dump.stdout });
        if (load.status !== 0) throw new Error(`mariadb load: ${load.stderr}`);
        return name;
      },
      schema: (db) =>
        [
          ...sql(`SELECT 'table', TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' ORDER BY 2`),
          ...sql(
            `SELECT 'column', TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, 'none'), EXTRA FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = '${db}' ORDER BY TABLE_NAME, COLUMN_NAME`,
          ),
          ...sql(
            `SELECT 'index', TABLE_NAME, INDEX_NAME, NON_UNIQUE, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM information_schema.STATISTICS
             WHERE TABLE_SCHEMA = '${db}' GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE ORDER BY TABLE_NAME, INDEX_NAME`,
          ),
          ...sql(
            `SELECT 'constraint', TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = '${db}' ORDER BY TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE`,
          ),
          ...sql(
            `SELECT 'fk', TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS
             WHERE CONSTRAINT_SCHEMA = '${db}' ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
          ),
          ...sql(`SELECT 'check', TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '${db}' ORDER BY 2, 3`),
          ...sql(`SELECT 'trigger', TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db}' ORDER BY 2`),
          ...sql(`SELECT 'revision', version_num FROM ${db}.alembic_version`),
        ].map((row) => row.join(' ')),
      rows: (db, statement) => sql(statement, db),
      tables: (db) => sql(`SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}'`).map(([t]) => t),
    };

    beforeAll(async () => {
      server = await PrivateMariadb.create('mlflow-gitops-kill-db');
      server.start();
      sql('SET GLOBAL log_bin_trust_function_creators = 1'); // the Cloud SQL flag of the Terraform contract
    }, 130_000);

    afterAll(() => server?.remove(), 40_000);

    killCases(() => engine);
  });

  describe('PostgreSQL (the shared server, a role that owns only its databases)', () => {
    const SUFFIX = `${process.pid}_${Math.floor(Math.random() * 1e6)}`;
    const ROLE = `mlflow_kill_${SUFFIX}`;
    const PASSWORD = 'kill_Pa55word';
    let dir = '';
    let port = 0;
    let bindir = '';
    const databases: string[] = [];
    const pg = (statements: string, database = 'postgres'): string[][] => {
      const r = spawnSync(
        path.join(bindir, 'psql'),
        ['-X', '-q', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-U', 'postgres', '-d', database, '-c', statements],
        { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      );
      if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
      return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    };
    const engine: Engine = {
      name: 'PostgreSQL',
      transactionalDdl: true,
      uri: (db) => `postgresql+psycopg2://${ROLE}:${PASSWORD}@127.0.0.1:${port}/${db}`,
      createDatabase: () => {
        const name = `mlflow_kill_${SUFFIX}_${databases.length + 1}`;
        pg(`CREATE DATABASE ${name} OWNER ${ROLE}`);
        databases.push(name);
        return name;
      },
      copyDatabase: (from) => {
        const name = `mlflow_kill_${SUFFIX}_${databases.length + 1}`;
        pg(`CREATE DATABASE ${name} TEMPLATE ${from} OWNER ${ROLE}`);
        databases.push(name);
        return name;
      },
      schema: (db) =>
        [
          ...pg(`SELECT 'table', tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 2`, db),
          ...pg(
            `SELECT 'column', table_name, column_name, data_type, COALESCE(character_maximum_length::text, ''), is_nullable, COALESCE(column_default, 'none')
             FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, column_name`,
            db,
          ),
          ...pg(`SELECT 'index', tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 2, 3`, db),
          ...pg(
            `SELECT 'constraint', conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
             WHERE connamespace = 'public'::regnamespace ORDER BY 2, 3`,
            db,
          ),
          ...pg(`SELECT 'trigger', tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 2, 3`, db),
          ...pg(`SELECT 'function', proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace ORDER BY 2`, db),
          ...pg(`SELECT 'revision', version_num FROM alembic_version`, db),
        ].map((row) => row.join(' ')),
      rows: (db, statement) => pg(statement, db),
      tables: (db) => pg(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`, db).map(([t]) => t),
    };

    beforeAll(() => {
      const start = spawnSync('bash', [path.join(ROOT, 'scripts', 'test-postgres.sh')], { encoding: 'utf8', timeout: 120_000, env: process.env });
      if (start.status !== 0) throw new Error(`scripts/test-postgres.sh exited ${start.status}:\n${start.stdout}${start.stderr}`);
      dir = /POSTGRES_DIR=(\S+)/.exec(start.stdout)![1];
      port = Number(/POSTGRES_PORT=(\S+)/.exec(start.stdout)![1]);
      bindir = /is up \((\S+), as /.exec(start.stdout)![1];
      pg(`CREATE ROLE ${ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '${PASSWORD}'`);
    }, 130_000);

    afterAll(() => {
      if (!bindir) return;
      for (const db of databases) pg(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      pg(`DROP ROLE IF EXISTS ${ROLE}`);
    }, 120_000);

    killCases(() => engine);
  });
});
