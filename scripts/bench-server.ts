/**
 * `npm run bench:server`: the real MLflow server as rendered for `dev` (tools/pod-harness/: the Deployment's
 * argv, env and Secret files, on the test MariaDB), measured — not a test. Reports requests/s, server CPU per request
 * and per-process memory (PSS from /proc/<pid>/smaps_rollup: the `mlflow server` parent, the uvicorn supervisor and
 * each worker) for authenticated metric logging and run search, with basic-auth's credential cache off versus on,
 * in one run, as ratios.
 *
 * The cache is `auth_cache_ttl_seconds` in the auth ini's [mlflow] section. Both runs set it by one listed rewrite of
 * the rendered `basic_auth.ini` (printed with the harness's other rewrites): off = 0 (MLflow's default), on = the
 * rendered value when the ini has one, else 60. Loopback only; every loop is bounded by a count and a time.
 *
 *   npm run bench:server [-- --requests 300 --seconds 20 --concurrency 4]
 */
import * as http from 'http';
import * as os from 'os';
import { createTestDatabase, mlflowVersion } from '../tools/pod-harness/test-servers';
import { renderSecrets, testSecretValues } from '../tools/pod-harness/secrets';
import { renderPod } from '../tools/pod-harness/container';
import { cpuMsOf, descendants, memoryOf } from '../tools/pod-harness/process';
import { basicAuth } from '../tools/pod-harness/http';
import { startPod, type StartedPod } from '../tools/pod-harness/pod';

const ENV = 'dev';
const HELP = `usage: npm run bench:server [-- --requests N --seconds N --concurrency N]

Measures the real MLflow server as rendered for dev, on the test MariaDB (bash scripts/test-mariadb.sh, and the
MLflow venv of bash scripts/test-mlflow.sh): requests/s, server CPU per request and memory per process, with
basic-auth's credential cache off and on.

  --requests N      requests per workload at most (default 300)
  --seconds N       seconds per workload at most (default 20)
  --concurrency N   concurrent keep-alive connections (default 4)
  -h, --help        print this text`;
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const MAX_REQUESTS = arg('requests', 300);
const MAX_SECONDS = arg('seconds', 20);
const CONCURRENCY = arg('concurrency', 4);
const CACHE_ON_DEFAULT = 60;

/** The rendered ini's own TTL, if the config renders one. */
function renderedTtl(): number | undefined {
  const rendered = renderPod(ENV);
  const ini = renderSecrets(rendered.manifests, testSecretValues(rendered.config).values).get('mlflow-auth')?.['basic_auth.ini'];
  const m = /^auth_cache_ttl_seconds\s*=\s*(\d+)\s*$/m.exec(ini ?? '');
  return m ? Number(m[1]) : undefined;
}

/** The listed rewrite: `auth_cache_ttl_seconds = ttl` in [mlflow], replacing any rendered value. */
function cacheRewrite(ttl: number) {
  return {
    secret: 'mlflow-auth',
    key: 'basic_auth.ini',
    description: `bench: auth_cache_ttl_seconds = ${ttl}`,
    apply: (ini: string) => {
      const without = ini.replace(/^auth_cache_ttl_seconds\s*=.*\n/m, '');
      if (!/^\[mlflow\]\n/m.test(without)) throw new Error('the auth ini has no [mlflow] section');
      return without.replace(/^\[mlflow\]\n/m, `[mlflow]\nauth_cache_ttl_seconds = ${ttl}\n`);
    },
  };
}

interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly serverCpuMsPerRequest: number;
}

/** `count`-and-time bounded load with `CONCURRENCY` keep-alive connections; every response must be 200. */
async function load(pod: StartedPod, pids: () => number[], make: (i: number) => { path: string; body: string }): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const auth = basicAuth(pod.credentials.adminUsername, pod.credentials.adminPassword);
  const cpu0 = pids().reduce((s, p) => s + cpuMsOf(p), 0);
  const t0 = Date.now();
  const deadline = t0 + MAX_SECONDS * 1000;
  let issued = 0;
  let done = 0;
  let errors = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const { path, body } = make(i);
      const req = http.request(
        { host: '127.0.0.1', port: pod.server.port, method: 'POST', path, agent, headers: { Host: 'localhost', Authorization: auth, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          if (res.statusCode !== 200) errors++;
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.setTimeout(30_000, () => req.destroy());
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const lane = async () => {
    while (issued < MAX_REQUESTS && Date.now() < deadline) {
      await one(issued++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  const seconds = (Date.now() - t0) / 1000;
  const cpu = pids().reduce((s, p) => s + cpuMsOf(p), 0) - cpu0;
  agent.destroy();
  return { requests: done, errors, seconds, perSecond: done / seconds, serverCpuMsPerRequest: cpu / Math.max(done, 1) };
}

async function api(pod: StartedPod, path: string, body: unknown): Promise<any> {
  const auth = basicAuth(pod.credentials.adminUsername, pod.credentials.adminPassword);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: pod.server.port, method: 'POST', path, agent: false, headers: { Host: 'localhost', Authorization: auth, 'Content-Type': 'application/json' } },
      (res) => {
        let out = '';
        res.on('data', (d) => (out += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(out)) : reject(new Error(`${path}: ${res.statusCode} ${out}`))));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** The server's processes: the `mlflow server` parent (PID 1 of the pod's namespace) and its descendants. */
function serverPids(pod: StartedPod): number[] {
  const parent = pod.server.running.commandPid();
  return [parent, ...descendants(parent)];
}

function memoryTable(pod: StartedPod): string[] {
  const parent = pod.server.running.commandPid();
  let total = 0;
  const rows = serverPids(pod).map((pid) => {
    const m = memoryOf(pid);
    total += m.pssKiB;
    const role =
      pid === parent
        ? 'mlflow server (parent)'
        : /resource_tracker/.test(m.cmd)
          ? 'multiprocessing tracker'
          : /spawn_main|multiprocessing/.test(m.cmd)
            ? 'uvicorn worker'
            : /uvicorn/.test(m.cmd)
              ? 'uvicorn supervisor'
              : m.cmd.slice(0, 40);
    return `${role.padEnd(24)} pid ${String(pid).padEnd(7)} PSS ${(m.pssKiB / 1024).toFixed(0).padStart(4)} MiB  RSS ${(m.rssKiB / 1024).toFixed(0).padStart(4)} MiB`;
  });
  return [...rows, `${'total (the pod)'.padEnd(24)}             PSS ${(total / 1024).toFixed(0).padStart(4)} MiB`];
}

async function measure(mode: 'off' | 'on', ttl: number, database: { name: string; drop(): void }, migrate: boolean, secrets: ReturnType<typeof testSecretValues>) {
  const t0 = Date.now();
  const pod = await startPod(ENV, { database, migrate, secrets, secretFileRewrite: cacheRewrite(ttl) });
  try {
    console.log(`cache ${mode}: server ready after ${Date.now() - t0} ms (start ${pod.server.startMs} ms)`);
    const exp = await api(pod, '/api/2.0/mlflow/experiments/create', { name: `bench-${mode}-${Date.now()}` });
    const run = await api(pod, '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() });
    const runId = run.run.info.run_id;
    for (let i = 0; i < 20; i++) await api(pod, '/api/2.0/mlflow/runs/create', { experiment_id: exp.experiment_id, start_time: Date.now() });
    const pids = () => serverPids(pod);
    const logging = await load(pod, pids, (i) => ({
      path: '/api/2.0/mlflow/runs/log-metric',
      body: JSON.stringify({ run_id: runId, key: 'loss', value: 1 / (i + 1), timestamp: Date.now(), step: i }),
    }));
    const search = await load(pod, pids, () => ({
      path: '/api/2.0/mlflow/runs/search',
      body: JSON.stringify({ experiment_ids: [exp.experiment_id], max_results: 50 }),
    }));
    const memory = memoryTable(pod);
    return { logging, search, memory };
  } finally {
    await pod.stop();
  }
}

async function main() {
  console.log(`bench:server — MLflow ${mlflowVersion()} as rendered for ${ENV}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`bounds per workload: ${MAX_REQUESTS} requests or ${MAX_SECONDS} s, ${CONCURRENCY} concurrent keep-alive connections, loopback`);
  const database = createTestDatabase('bench');
  try {
    const onTtl = renderedTtl() ?? CACHE_ON_DEFAULT;
    // One set of Secret Manager values for both runs: MLflow creates the admin once, from the first run's password.
    const secrets = testSecretValues(renderPod(ENV).config);
    const off = await measure('off', 0, database, true, secrets);
    const on = await measure('on', onTtl, database, false, secrets);
    const row = (name: string, a: LoadResult, b: LoadResult) =>
      `${name.padEnd(22)} off ${a.perSecond.toFixed(1).padStart(6)} req/s ${a.serverCpuMsPerRequest.toFixed(0).padStart(4)} ms CPU/req (${a.requests} req, ${a.errors} err) | ` +
      `on ${b.perSecond.toFixed(1).padStart(6)} req/s ${b.serverCpuMsPerRequest.toFixed(0).padStart(4)} ms CPU/req (${b.requests} req, ${b.errors} err) | ` +
      `on/off ×${(b.perSecond / a.perSecond).toFixed(2)} req/s, ×${(b.serverCpuMsPerRequest / a.serverCpuMsPerRequest).toFixed(2)} CPU/req`;
    console.log(`\nresults (auth_cache_ttl_seconds off = 0, on = ${onTtl}):`);
    console.log(row('log-metric (auth)', off.logging, on.logging));
    console.log(row('runs/search (auth)', off.search, on.search));
    console.log('\nmemory after the workloads, cache off:');
    off.memory.forEach((l) => console.log(`  ${l}`));
    console.log('memory after the workloads, cache on:');
    on.memory.forEach((l) => console.log(`  ${l}`));
    console.log(`\nload at end ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    if (off.logging.errors + off.search.errors + on.logging.errors + on.search.errors > 0) process.exitCode = 1;
  } finally {
    database.drop();
  }
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(HELP);
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
