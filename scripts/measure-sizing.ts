/**
 * `npm run measure:sizing`: the figures behind lib/config/sizing.ts, measured on the real server.
 *
 * Starts an environment's server as synthesized (tools/pod-harness/: the migration Job, then the
 * Deployment's exact argv, env and Secret files — basic-auth, pool settings, credential cache — on the test MariaDB
 * of scripts/test-mariadb.sh; the harness prints its rewrites), puts it under bounded load (C clients for S seconds,
 * each logged in as a plain MLflow user: a log-batch of 50 metrics and a run search per iteration, and with
 * --artifact-kib a proxied artifact upload + download every 5th), and samples once a second:
 *   - PSS (`/proc/PID/smaps_rollup`) of every process of the server: the `mlflow server` parent, the uvicorn
 *     supervisor, multiprocessing's resource tracker, and each worker — PSS splits shared pages between the
 *     processes that map them, so the sum is what the pod's memory cgroup is charged;
 *   - the database connections each process holds: MariaDB's PROCESSLIST (client host:port) mapped to the pid
 *     that owns the socket (`/proc/net/tcp` local port → socket inode → `/proc/PID/fd`).
 * It prints the idle, peak and after-load figure per process, and exits non-zero when a request failed.
 *
 * What differs from a pod: the harness's rewrites, and no google-cloud-storage here (artifacts go to a local folder,
 * so the GCS client libraries are not loaded; sizing.ts adds a margin for them).
 *
 *   npm run measure:sizing -- [--env dev] [--workers N] [--clients 8] [--seconds 60] [--artifact-kib 256]
 *
 * Traffic goes to 127.0.0.1 only. The server is stopped and its database dropped, also on failure.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import { parseArgs } from 'util';
import { configFrom, rawConfig } from '../tools/environments';
import { mariadbRoot, mlflowPython, mlflowVersion, TEST_MARIADB } from '../tools/pod-harness/test-servers';
import { startPod, type StartedPod } from '../tools/pod-harness/pod';

const USAGE =
  'usage: npm run measure:sizing -- [--env dev|prod] [--workers N] [--clients N] [--seconds N] [--artifact-kib N]';
const HELP = `${USAGE}

Starts an environment's server as synthesized on the test MariaDB (bash scripts/test-mariadb.sh, and the MLflow venv
of bash scripts/test-mlflow.sh), puts it under load and prints each process's memory (PSS) and database connections.

  --env dev|prod        the environment (default dev: basic-auth on MySQL)
  --workers N           uvicorn workers (default: the environment's server.workers)
  --clients N           concurrent clients (default 8)
  --seconds N           load duration (default 60)
  --artifact-kib N      proxied artifact upload + download every 5th iteration (default 256; 0: none)
  -h, --help            print this text`;

interface Options {
  env: string;
  /** undefined: the environment's own `server.workers`. */
  workers?: number;
  clients: number;
  seconds: number;
  /** Size of the proxied artifact each client uploads and downloads every 5th iteration; 0: none. */
  artifactKiB: number;
}

function parseOptions(argv: string[]): Options | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        env: { type: 'string', default: 'dev' },
        workers: { type: 'string' },
        clients: { type: 'string', default: '8' },
        seconds: { type: 'string', default: '60' },
        'artifact-kib': { type: 'string', default: '256' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split(/\. /)[0]);
  }
  const values = parsed.values;
  if (values.help) return 'help';
  const num = (name: string, v: string, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got '${v}'`);
    return n;
  };
  if (values.env !== 'dev' && values.env !== 'prod') throw new UsageError(`--env: expected dev or prod (basic-auth on MySQL), got '${values.env}'`);
  return {
    env: values.env,
    workers: values.workers === undefined ? undefined : num('workers', values.workers, 1, 8),
    clients: num('clients', values.clients!, 1, 64),
    seconds: num('seconds', values.seconds!, 5, 600),
    artifactKiB: num('artifact-kib', values['artifact-kib']!, 0, 65536),
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

/** Database connections per pid: MariaDB's view of the clients of `database`, mapped to the owning process. */
export function connectionsByPid(database: string, pids: readonly number[]): Map<number, number> {
  const clientPorts = mariadbRoot(`SELECT HOST FROM information_schema.PROCESSLIST WHERE DB = '${database}'`)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => Number(l.split(':')[1]));
  const inodeOfPort = localPortsTo(TEST_MARIADB.port);
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
  if (o === 'help') {
    console.log(HELP);
    return 0;
  }
  const python = mlflowPython();
  if (!python) throw new Error("no MLflow venv: run 'bash scripts/test-mlflow.sh' first (writes .mlflow-python)");
  const doc = rawConfig(o.env);
  if (o.workers !== undefined) doc.server.workers = o.workers;
  // The memory guard would refuse a worker count the limit does not cover; this measures, so give it room.
  if (o.workers !== undefined) doc.server.resources.limits.memory = '64Gi';
  const config = configFrom(o.env, doc);
  if (config.database.engine !== 'mysql' || !config.auth) throw new Error(`${o.env}: expected basic-auth on MySQL`);
  const pool = config.database.pool;
  console.log(
    `MLflow ${mlflowVersion(python)}; ${o.env} as synthesized, ${config.server.workers} workers, pool ${pool.size}+${pool.maxOverflow}, ` +
      `credential cache ${config.auth.credentialCacheTtlSeconds} s`,
  );

  let pod: StartedPod | undefined;
  try {
    pod = await startPod(config, { area: 'sizing' });
    const database = pod.database!.name;
    const base = pod.server.url;
    console.log(`/health answered after ${(pod.server.startMs / 1000).toFixed(1)} s; database ${database}`);
    const root = pod.server.running.commandPid(); // the `mlflow server` parent (PID 1 of the pod's namespace)

    const loadUser = 'sizing-load';
    const loadPassword = crypto.randomBytes(12).toString('hex');
    await call(base, basic(pod.credentials.adminUsername, pod.credentials.adminPassword), 'POST', '/api/2.0/mlflow/users/create', {
      username: loadUser,
      password: loadPassword,
    });
    await new Promise((r) => setTimeout(r, 2000));
    const idle = sample(root, database);

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
      const { procs: p, s } = sample(root, database);
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
    const after = sample(root, database);

    console.log(
      `\nload: ${o.clients} clients × ${o.seconds} s as a plain user (artifacts ${o.artifactKiB} KiB): ` +
        `${result.requests} requests (${(result.requests / o.seconds).toFixed(1)}/s), ${result.errors} errors`,
    );
    console.log('\nrole              pid     PSS MiB idle / peak / after    DB connections idle / peak / after');
    for (const p of procs) {
      const row = [
        p.role.padEnd(16),
        String(p.pid).padEnd(7),
        `${mib(idle.s.pss.get(p.pid) ?? 0)} / ${mib(peakPss.get(p.pid) ?? 0)} / ${mib(after.s.pss.get(p.pid) ?? 0)}`.padEnd(30),
        `${idle.s.connections.get(p.pid) ?? 0} / ${peakConn.get(p.pid) ?? 0} / ${after.s.connections.get(p.pid) ?? 0}`,
      ];
      console.log(row.join(' '));
    }
    const idleTotal = [...idle.s.pss.values()].reduce((a, b) => a + b, 0);
    console.log(`\npod total PSS: idle ${mib(idleTotal)} MiB, peak ${mib(peakTotalKiB)} MiB`);
    if (result.errors > 0) {
      console.error(`measure:sizing: ${result.errors} requests failed; first: ${result.firstError}`);
      return 1;
    }
    return 0;
  } finally {
    await pod?.stop();
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
