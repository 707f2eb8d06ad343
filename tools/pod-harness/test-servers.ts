/**
 * The test parts the pod harness runs a pod against: the venv with the real MLflow (scripts/test-mlflow.sh), the test
 * MariaDB (scripts/test-mariadb.sh) and the test PostgreSQL (scripts/test-postgres.sh), and throw-away databases on them.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import { ROOT } from '../environments';

/** The venv python written by scripts/test-mlflow.sh, or `undefined` when MLflow was not prepared. */
export function mlflowPython(): string | undefined {
  const file = path.join(ROOT, '.mlflow-python');
  if (!fs.existsSync(file)) return undefined;
  const p = fs.readFileSync(file, 'utf8').trim();
  return p && fs.existsSync(p) ? p : undefined;
}

/** The venv python, or a loud error saying how to prepare it. */
export function requireMlflowPython(): string {
  const p = mlflowPython();
  if (!p) throw new Error('no real MLflow venv: run `bash scripts/test-mlflow.sh` (writes .mlflow-python)');
  return p;
}

/** `mlflow.__version__` of the venv (tests print it). */
export function mlflowVersion(python = requireMlflowPython()): string {
  const r = spawnSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`cannot import mlflow with ${python}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The test MariaDB of scripts/test-mariadb.sh. */
export const TEST_MARIADB = {
  host: process.env.MARIADB_HOST ?? '127.0.0.1',
  port: Number(process.env.MARIADB_PORT ?? '33306'),
  socket: process.env.MARIADB_SOCKET ?? '/tmp/mlflow-gitops-mariadb/mariadb.sock',
  user: 'mlflow_test',
  password: 'mlflow_test',
} as const;

/** The test PostgreSQL of scripts/test-postgres.sh (its test role owns the databases the harness creates). */
export const TEST_POSTGRES = {
  host: '127.0.0.1',
  port: Number(process.env.POSTGRES_PORT ?? '35432'),
  socketDir: process.env.POSTGRES_DIR ?? '/tmp/mlflow-gitops-postgres',
  user: 'mlflow_test',
  password: 'mlflow_test',
} as const;

/** The Cloud SQL engines, and the test server standing in for each. */
export type CloudSqlEngine = 'mysql' | 'postgres';
export function testDatabaseServer(engine: CloudSqlEngine): { readonly name: string; readonly host: string; readonly port: number; readonly user: string; readonly password: string } {
  return engine === 'postgres' ? { name: 'PostgreSQL', ...TEST_POSTGRES } : { name: 'MariaDB', ...TEST_MARIADB };
}

/** The Cloud SQL engine of a config, or undefined for SQLite. */
export function cloudSqlEngine(config: Server): CloudSqlEngine | undefined {
  return config.database.engine === 'sqlite' ? undefined : config.database.engine;
}

/** Runs SQL as PostgreSQL's superuser over its socket; throws with PostgreSQL's message. */
export function postgresAdmin(statements: string, database = 'postgres'): string {
  const r = spawnSync(
    'psql',
    ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', TEST_POSTGRES.socketDir, '-p', String(TEST_POSTGRES.port), '-U', 'postgres', '-d', database, '-c', statements],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs SQL as MariaDB's root over the socket; throws with MariaDB's message. */
export function mariadbRoot(statements: string, database?: string): string {
  const r = spawnSync(
    'mariadb',
    ['--no-defaults', `--socket=${TEST_MARIADB.socket}`, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statements],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`mariadb: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The instance flag the Terraform contract requires on Cloud SQL (`log_bin_trust_function_creators=on`), set on the
 * shared test MariaDB (whose start-up default is off, to show the failure). Returns the value it found. It is not
 * restored: the global is shared by suites running at the same time, and setting it back to off under another
 * suite's migration would fail that suite; a suite that needs it off sets it off itself.
 */
export function setCloudSqlFlags(): { readonly before: string } {
  const before = mariadbRoot('SELECT @@GLOBAL.log_bin_trust_function_creators').trim();
  mariadbRoot('SET GLOBAL log_bin_trust_function_creators = 1');
  return { before };
}

/**
 * A fresh, empty database `mlflow_<area>_<random>` on the test server of `engine` (MariaDB: the test user has ALL on
 * `mlflow\_%`; PostgreSQL: owned by the test role). Drop it with `drop()`.
 */
export function createTestDatabase(area: string, engine: CloudSqlEngine = 'mysql'): { readonly name: string; drop(): void } {
  const name = `mlflow_${area}_${Math.random().toString(36).slice(2, 10)}`;
  if (!/^mlflow_[a-z0-9_]+$/.test(name)) throw new Error(`bad test database name ${name}`);
  if (engine === 'postgres') {
    postgresAdmin(`CREATE DATABASE ${name} OWNER ${TEST_POSTGRES.user}`);
    return { name, drop: () => postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  mariadbRoot(`CREATE DATABASE ${name}`);
  return { name, drop: () => mariadbRoot(`DROP DATABASE IF EXISTS ${name}`) };
}
