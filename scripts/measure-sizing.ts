/**
 * `npm run measure:sizing`: the figures behind lib/config/sizing.ts, measured on the real server.
 *
 * Starts the real `mlflow server` (the venv of `.mlflow-python`) with basic-auth against the test MariaDB
 * (scripts/test-mariadb.sh), the pool settings and worker count of a shipped config, puts it under bounded load
 * (C clients for S seconds, each as a non-admin MLflow user: log-batch of metrics, run search, a small proxied
 * artifact upload + download every few iterations), and samples once a second:
 *   - PSS (`/proc/PID/smaps_rollup`) of every process of the server: the `mlflow server` parent, the uvicorn
 *     supervisor, multiprocessing's resource tracker, and each worker — PSS splits shared pages between the
 *     processes that map them, so the sum is what the pod's memory cgroup is charged;
 *   - the database connections each process holds: MariaDB's PROCESSLIST (client host:port) mapped to the pid
 *     that owns the socket (`/proc/net/tcp` local port → socket inode → `/proc/PID/fd`).
 * It prints the idle and peak figure per process role, and exits non-zero when the run itself failed.
 *
 * What differs from a pod, stated: no google-cloud-storage here (artifacts go to a local folder, so the GCS
 * client libraries are not loaded; sizing.ts adds a margin for them), and the schema is created as MariaDB's
 * root (SUPER may create triggers with binary logging on; the test user cannot, exactly like Cloud SQL without
 * `log_bin_trust_function_creators`), so the migration's log_bin precheck is skipped for that one step.
 *
 *   npm run measure:sizing -- [--workers 2] [--clients 8] [--seconds 60] [--auth-cache-ttl 60] [--pool 5 --overflow 5]
 *                              [--artifact-kib 256]   (0: metric logging and search only)
 *
 * Traffic goes to 127.0.0.1 only. Every process started here is stopped by its process group, also on failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

const ROOT = path.join(__dirname, '..');
const MARIADB_SOCKET = process.env.MARIADB_SOCKET ?? '/tmp/mlflow-gitops-mariadb/mariadb.sock';
const MARIADB_PORT = Number(process.env.MARIADB_PORT ?? '33306');
const DB_USER = 'mlflow_test';
const DB_PASSWORD = 'mlflow_test';

const USAGE =
  'usage: npm run measure:sizing -- [--workers N] [--clients N] [--seconds N] [--auth-cache-ttl SECONDS] [--pool N] [--overflow N] [--artifact-kib N] [--malloc-arena-max N] [--port N]';

interface Options {
  workers: number;
  clients: number;
  seconds: number;
  authCacheTtl: number;
  pool: number;
  overflow: number;
  port: number;
  /** Size of the proxied artifact each client uploads and downloads every 5th iteration; 0: none. */
  artifactKiB: number;
  /** `MALLOC_ARENA_MAX` for the server (glibc's per-thread malloc arenas); undefined: glibc's default. */
  mallocArenaMax?: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      workers: { type: 'string', default: '2' },
      clients: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '60' },
      'auth-cache-ttl': { type: 'string', default: '60' },
      pool: { type: 'string', default: '5' },
      overflow: { type: 'string', default: '5' },
      port: { type: 'string', default: '5931' },
      'artifact-kib': { type: 'string', default: '256' },
      'malloc-arena-max': { type: 'string' },
    },
  });
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got '${v}'`);
    return n;
  };
  return {
    workers: num('workers', values.workers, 1, 8),
    clients: num('clients', values.clients, 1, 64),
    seconds: num('seconds', values.seconds, 5, 600),
    authCacheTtl: num('auth-cache-ttl', values['auth-cache-ttl'], 0, 86400),
    pool: num('pool', values.pool, 1, 50),
    overflow: num('overflow', values.overflow, 0, 50),
    port: num('port', values.port, 1024, 65535),
    artifactKiB: num('artifact-kib', values['artifact-kib'], 0, 65536),
    mallocArenaMax: values['malloc-arena-max'] === undefined ? undefined : num('malloc-arena-max', values['malloc-arena-max'], 1, 64),
  };
}

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------------------
// /proc: the server's processes, their PSS and their database sockets
// ---------------------------------------------------------------------------------------------------------

export type ProcessRole = 'parent' | 'supervisor' | 'resource-tracker' | 'worker' | 'other';

export interface ServerProcess {
  readonly pid: number;
  readonly role: ProcessRole;
}

function readProc(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined; // the process ended between listing and reading
  }
}

/** The process tree under `rootPid` (itself included), each with its role in an `mlflow server`. */
export function serverProcesses(rootPid: number): ServerProcess[] {
  const parentOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProc(`/proc/${entry}/stat`);
    if (!stat) continue;
    // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    parentOf.set(Number(entry), ppid);
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; p = parentOf.get(p) ?? 0, hops++) if (p === rootPid) return true;
    return false;
  };
  const out: ServerProcess[] = [];
  for (const pid of [...parentOf.keys()].sort((a, b) => a - b)) {
    if (!inTree(pid)) continue;
    const cmd = (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' ');
    const role: ProcessRole =
      pid === rootPid
        ? 'parent'
        : cmd.includes('multiprocessing.resource_tracker')
          ? 'resource-tracker'
          : cmd.includes('multiprocessing.spawn')
            ? 'worker'
            : cmd.includes('-m uvicorn')
              ? 'supervisor'
              : 'other';
    out.push({ pid, role });
  }
  return out;
}

/** Proportional set size of a process in KiB, or undefined when it has ended. */
export function pssKiB(pid: number): number | undefined {
  const m = /^Pss:\s+(\d+) kB/m.exec(readProc(`/proc/${pid}/smaps_rollup`) ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Socket inodes of `pid`'s open file descriptors. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[] = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  return out;
}

/** Local TCP port → socket inode, for IPv4 loopback connections to `remotePort`. */
function localPortsTo(remotePort: number): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of (readProc('/proc/net/tcp') ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const [, local, remote] = f;
    if (parseInt(remote.split(':')[1], 16) !== remotePort) continue;
    out.set(parseInt(local.split(':')[1], 16), f[9]);
  }
  return out;
}

function mariadb(sql: string): string[][] {
  const out = execFileSync('mariadb', ['--no-defaults', `--socket=${MARIADB_SOCKET}`, '-uroot', '-N', '-B', '-e', sql], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'));
}

/** Database connections per pid: MariaDB's view of the clients of `database`, mapped to the owning process. */
export function connectionsByPid(database: string, pids: readonly number[]): Map<number, number> {
  const clientPorts = mariadb(`SELECT HOST FROM information_schema.PROCESSLIST WHERE DB = '${database}'`).map((r) =>
    Number(r[0].split(':')[1]),
  );
  const inodeOfPort = localPortsTo(MARIADB_PORT);
  const owner = new Map<string, number>();
  for (const pid of pids) for (const inode of socketInodes(pid)) owner.set(inode, pid);
  const out = new Map<number, number>(pids.map((p) => [p, 0]));
  for (const port of clientPorts) {
    const pid = owner.get(inodeOfPort.get(port) ?? '');
    if (pid !== undefined) out.set(pid, (out.get(pid) ?? 0) + 1);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------

function mlflowPython(): string {
  const file = path.join(ROOT, '.mlflow-python');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run 'bash scripts/test-mlflow.sh' first`);
  return fs.readFileSync(file, 'utf8').trim();
}

async function waitForHealth(base: string, server: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`mlflow server exited with ${server.exitCode} before /health answered`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`/health did not answer within ${timeoutMs / 1000} s`);
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 45_000));
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Load
// ---------------------------------------------------------------------------------------------------------

interface LoadResult {
  requests: number;
  errors: number;
  firstError?: string;
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function call(base: string, auth: string, method: string, p: string, body?: unknown): Promise<any> {
  const r = await fetch(`${base}${p}`, {
    method,
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return text === '' ? {} : JSON.parse(text);
}

async function client(base: string, auth: string, id: number, deadline: number, artifactKiB: number, result: LoadResult): Promise<void> {
  const tag = crypto.randomBytes(4).toString('hex');
  const exp = await call(base, auth, 'POST', '/api/2.0/mlflow/experiments/create', { name: `sizing-${id}-${tag}` });
  const run = await call(base, auth, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() });
  const runId: string = run.run.info.run_id;
  const payload = crypto.randomBytes(artifactKiB * 1024);
  for (let step = 0; Date.now() < deadline; step++) {
    try {
      const ts = Date.now();
      const metrics = Array.from({ length: 50 }, (_, k) => ({ key: `m${k}`, value: Math.sin(step + k), timestamp: ts, step }));
      await call(base, auth, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
      await call(base, auth, 'POST', '/api/2.0/mlflow/runs/search', { experiment_ids: [exp.experiment_id], max_results: 100 });
      result.requests += 2;
      if (artifactKiB > 0 && step % 5 === 0) {
        const artifact = `/api/2.0/mlflow-artifacts/artifacts/${exp.experiment_id}/${runId}/artifacts/blob-${step}.bin`;
        const up = await fetch(`${base}${artifact}`, { method: 'PUT', headers: { Authorization: auth }, body: payload });
        if (!up.ok) throw new Error(`PUT artifact: HTTP ${up.status}`);
        const down = await fetch(`${base}${artifact}`, { headers: { Authorization: auth } });
        if (!down.ok || (await down.arrayBuffer()).byteLength !== payload.length) throw new Error(`GET artifact: HTTP ${down.status}`);
        result.requests += 2;
      }
    } catch (e) {
      result.errors++;
      result.firstError ??= (e as Error).message;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

interface Sample {
  readonly pss: Map<number, number>;
  readonly connections: Map<number, number>;
}

function sample(rootPid: number, database: string): { procs: ServerProcess[]; s: Sample } {
  const procs = serverProcesses(rootPid);
  const pss = new Map<number, number>();
  for (const p of procs) {
    const v = pssKiB(p.pid);
    if (v !== undefined) pss.set(p.pid, v);
  }
  return { procs, s: { pss, connections: connectionsByPid(database, procs.map((p) => p.pid)) } };
}

const mib = (kib: number) => (kib / 1024).toFixed(0);

async function main(): Promise<number> {
  const o = parseOptions(process.argv.slice(2));
  const python = mlflowPython();
  const bin = path.dirname(python);
  const version = execFileSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8' }).trim();
  const database = `mlflow_sizing_${crypto.randomBytes(4).toString('hex')}`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-sizing-'));
  const adminUser = 'admin';
  const adminPassword = crypto.randomBytes(12).toString('hex');
  const loadUser = 'sizing-load';
  const loadPassword = crypto.randomBytes(12).toString('hex');
  const tcpUri = `mysql+pymysql://${DB_USER}:${DB_PASSWORD}@127.0.0.1:${MARIADB_PORT}/${database}`;
  const rootUri = `mysql+pymysql://root@localhost/${database}?unix_socket=${encodeURIComponent(MARIADB_SOCKET)}`;
  const ini = (uri: string) =>
    [
      '[mlflow]',
      'default_permission = READ',
      `database_uri = ${uri.replace(/%/g, '%%')}`,
      `admin_username = ${adminUser}`,
      `admin_password = ${adminPassword}`,
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      `auth_cache_ttl_seconds = ${o.authCacheTtl}`,
      '',
    ].join('\n');
  fs.writeFileSync(path.join(work, 'auth.ini'), ini(tcpUri), { mode: 0o600 });
  fs.writeFileSync(path.join(work, 'auth-root.ini'), ini(rootUri), { mode: 0o600 });
  fs.mkdirSync(path.join(work, 'artifacts'));

  console.log(`MLflow ${version} (${python}); MariaDB database ${database}; ${o.workers} workers, pool ${o.pool}+${o.overflow}, auth cache TTL ${o.authCacheTtl} s, MALLOC_ARENA_MAX ${o.mallocArenaMax ?? '(glibc default)'}`);
  mariadb(`CREATE DATABASE \`${database}\``);
  let server: ChildProcess | undefined;
  try {
    // Schema as root (SUPER: triggers allowed with binary logging on), through the shipped migration script.
    execFileSync(
      python,
      [
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import migrate; migrate.check_log_bin = lambda engine: None; sys.exit(migrate.run())',
        path.join(ROOT, 'lib/mlflow/scripts'),
      ],
      {
        env: { ...process.env, MLFLOW_BACKEND_STORE_URI: rootUri, MLFLOW_AUTH_CONFIG_PATH: path.join(work, 'auth-root.ini'), HOME: work },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );

    const base = `http://127.0.0.1:${o.port}`;
    server = spawn(
      path.join(bin, 'mlflow'),
      [
        'server',
        '--host',
        '127.0.0.1',
        '--port',
        String(o.port),
        '--workers',
        String(o.workers),
        '--artifacts-destination',
        path.join(work, 'artifacts'),
        '--app-name',
        'basic-auth',
        '--uvicorn-opts',
        '--timeout-graceful-shutdown 30 --timeout-keep-alive 620',
      ],
      {
        detached: true, // own process group: stopped as a whole
        stdio: ['ignore', fs.openSync(path.join(work, 'server.log'), 'a'), fs.openSync(path.join(work, 'server.log'), 'a')],
        env: {
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          HOME: work,
          MLFLOW_BACKEND_STORE_URI: tcpUri,
          MLFLOW_AUTH_CONFIG_PATH: path.join(work, 'auth.ini'),
          MLFLOW_FLASK_SERVER_SECRET_KEY: crypto.randomBytes(16).toString('hex'),
          MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: String(o.pool),
          MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: String(o.overflow),
          MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: '1800',
          MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
          MLFLOW_DISABLE_TELEMETRY: 'true',
          ...(o.mallocArenaMax !== undefined ? { MALLOC_ARENA_MAX: String(o.mallocArenaMax) } : {}),
        },
      },
    );
    const started = Date.now();
    await waitForHealth(base, server, 120_000);
    console.log(`/health answered after ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const admin = basic(adminUser, adminPassword);
    await call(base, admin, 'POST', '/api/2.0/mlflow/users/create', { username: loadUser, password: loadPassword });
    await new Promise((r) => setTimeout(r, 2000));
    const idle = sample(server.pid!, database);

    const peakPss = new Map<number, number>();
    const peakConn = new Map<number, number>();
    let peakTotalKiB = 0;
    let procs = idle.procs;
    const result: LoadResult = { requests: 0, errors: 0 };
    const deadline = Date.now() + o.seconds * 1000;
    const auth = basic(loadUser, loadPassword);
    const clients = Promise.all(Array.from({ length: o.clients }, (_, i) => client(base, auth, i, deadline, o.artifactKiB, result)));
    let done = false;
    void clients.finally(() => (done = true));
    while (!done && Date.now() < deadline + 30_000) {
      const { procs: p, s } = sample(server.pid!, database);
      procs = p;
      let total = 0;
      for (const [pid, v] of s.pss) {
        peakPss.set(pid, Math.max(peakPss.get(pid) ?? 0, v));
        total += v;
      }
      for (const [pid, v] of s.connections) peakConn.set(pid, Math.max(peakConn.get(pid) ?? 0, v));
      peakTotalKiB = Math.max(peakTotalKiB, total);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await clients;
    await new Promise((r) => setTimeout(r, 2000));
    const after = sample(server.pid!, database);

    console.log(`\nload: ${o.clients} clients × ${o.seconds} s as a non-admin user (artifacts ${o.artifactKiB} KiB): ${result.requests} requests (${(result.requests / o.seconds).toFixed(1)}/s), ${result.errors} errors`);
    console.log('\nrole              pid     PSS MiB idle / peak / after    DB connections idle / peak / after');
    for (const p of procs) {
      const row = [
        p.role.padEnd(16),
        String(p.pid).padEnd(7),
        `${mib(idle.s.pss.get(p.pid) ?? 0)} / ${mib(peakPss.get(p.pid) ?? 0)} / ${mib(after.s.pss.get(p.pid) ?? 0)}`.padEnd(30),
        `${idle.s.connections.get(p.pid) ?? 0} / ${peakConn.get(p.pid) ?? 0} / ${after.s.connections.get(p.pid) ?? 0}`,
      ];
      console.log(`${row.join(' ')}`);
    }
    const idleTotal = [...idle.s.pss.values()].reduce((a, b) => a + b, 0);
    console.log(`\npod total PSS: idle ${mib(idleTotal)} MiB, peak ${mib(peakTotalKiB)} MiB`);
    if (result.errors > 0) {
      console.error(`measure:sizing: ${result.errors} requests failed; first: ${result.firstError}`);
      return 1;
    }
    return 0;
  } finally {
    if (server) await stopGroup(server);
    mariadb(`DROP DATABASE IF EXISTS \`${database}\``);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        console.error(`measure:sizing: ${(e as Error).message}\n${USAGE}`);
        process.exit(2);
      }
      console.error(`measure:sizing: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
