/**
 * The real MLflow server as synthesized for `dev` switched to Cloud SQL for PostgreSQL (`database.engine: postgres`;
 * no config/ file): the migration Job's container and then the server container, with their exact argv, env and
 * files (tools/pod-harness/; the rewrites it prints are the only differences from the pod: among them the
 * proxy's 127.0.0.1:5432 → the test PostgreSQL of scripts/test-postgres.sh, a fresh database owned by its LOGIN-only
 * test role). Basic-auth on, as in dev. No skip switch for PostgreSQL: without it this suite fails.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import { PARENT_CONNECTIONS, connectionBudget } from '../../lib/config/sizing';
import { configFrom, rawConfig, shippedConfig } from '../../tools/environments';
import { mlflowPython, mlflowVersion, postgresAdmin, TEST_POSTGRES } from '../../tools/pod-harness/test-servers';
import { descendants } from '../../tools/pod-harness/process';
import { basicAuth, httpRequest, probeOnce, probesOf } from '../../tools/pod-harness/http';
import { startPod, type StartedPod } from '../../tools/pod-harness/pod';

const SKIP_MLFLOW = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1';
const CLIENT = path.join(__dirname, 'client_roundtrip.py');
const SEARCH = '/api/2.0/mlflow/experiments/search?max_results=1';

function devOnPostgres(): Server {
  const doc = rawConfig('dev');
  doc.database.engine = 'postgres';
  return configFrom('dev', doc);
}

/** Runs a python with the venv's MLflow; resolves its stdout's last line as JSON. */
function runPython(args: string[], env: Record<string, string>): Promise<any> {
  const python = mlflowPython()!;
  return new Promise((resolve, reject) => {
    const p = spawn(python, args, { env: { PATH: `${path.dirname(python)}:/usr/bin:/bin`, MLFLOW_DISABLE_TELEMETRY: 'true', PYTHONDONTWRITEBYTECODE: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`${args[0]} exited ${code}:\n${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

/** Tables, alembic revisions and row counts of the server's database. */
const FINGERPRINT_PY = `
import json, os, sqlalchemy as sa
e = sa.create_engine(os.environ["URI"])
with e.connect() as c:
    names = sorted(sa.inspect(c).get_table_names())
    out = {"tables": names}
    for t in names:
        if t.startswith("alembic_version"):
            out[t] = [r[0] for r in c.execute(sa.text(f"SELECT version_num FROM {t}"))]
    for t in ("experiments", "runs", "registered_models", "model_versions", "users"):
        if t in names:
            out["rows." + t] = c.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()
print(json.dumps(out, sort_keys=True))
`;

/**
 * The pod's connections to its database, per process of the server (`mlflow server` parent first, then its
 * descendants by pid): PostgreSQL's client ports (pg_stat_activity) mapped to the process owning each socket
 * (`/proc/net/tcp` local port → socket inode → `/proc/PID/fd`). Also the connections no process of the pod owns.
 */
function connectionsByProcess(pod: StartedPod): { parent: number; others: Array<{ pid: number; cmd: string; count: number }>; unowned: number; users: string[] } {
  const rows = postgresAdmin(`SELECT client_port, usename FROM pg_stat_activity WHERE datname = '${pod.database!.name}' AND backend_type = 'client backend'`)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('|'));
  const inodeOfPort = new Map<number, string>();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 10 && parseInt(f[2].split(':')[1], 16) === TEST_POSTGRES.port) inodeOfPort.set(parseInt(f[1].split(':')[1], 16), f[9]);
  }
  const parentPid = pod.server.running.commandPid();
  const pids = [parentPid, ...descendants(parentPid).sort((a, b) => a - b)];
  const owner = new Map<string, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // ended meanwhile
    }
    for (const fd of fds) {
      const m = /^socket:\[(\d+)\]$/.exec((() => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } })());
      if (m) owner.set(m[1], pid);
    }
  }
  const counts = new Map<number, number>(pids.map((p) => [p, 0]));
  let unowned = 0;
  for (const [port] of rows) {
    const pid = owner.get(inodeOfPort.get(Number(port)) ?? '');
    if (pid === undefined) unowned++;
    else counts.set(pid, counts.get(pid)! + 1);
  }
  const cmd = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 80);
  return {
    parent: counts.get(parentPid)!,
    others: pids.slice(1).map((pid) => ({ pid, cmd: cmd(pid), count: counts.get(pid)! })).filter((o) => o.count > 0),
    unowned,
    users: [...new Set(rows.map(([, user]) => user))],
  };
}

const SKIP_POSTGRES = process.env.MLFLOW_GITOPS_SKIP_POSTGRES === '1';
(SKIP_MLFLOW || SKIP_POSTGRES ? describe.skip : describe)('real MLflow server as synthesized for dev on Cloud SQL for PostgreSQL', () => {
  let pod: StartedPod;
  let readyMs = 0;
  /** Connections right after the server became ready, before any request. */
  let atStart: ReturnType<typeof connectionsByProcess>;
  const admin = () => ({ Authorization: basicAuth(pod.credentials.adminUsername, pod.credentials.adminPassword) });

  beforeAll(async () => {
    if (!mlflowPython()) throw new Error('no real MLflow venv (.mlflow-python): run `bash scripts/test-mlflow.sh`');
    console.log(`runs against MLflow ${mlflowVersion()} (the images pin ${shippedConfig('dev').image.tag}) and PostgreSQL on 127.0.0.1:${TEST_POSTGRES.port}`);
    const t0 = Date.now();
    pod = await startPod(devOnPostgres(), { area: 'e2e_postgres' });
    readyMs = Date.now() - t0;
    atStart = connectionsByProcess(pod);
    console.log(`dev on PostgreSQL: migration ${pod.migration.ms} ms, server start ${pod.server.startMs} ms, ready after ${readyMs} ms`);
  }, 300_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  test('the migration Job on an empty database: the tracking store initialized, MLflow’s own auth migrations, the users; no MySQL step', () => {
    expect(pod.rendered.config.database.engine).toBe('postgres');
    // The rewritten proxy address: the test server, the pod's own database.
    expect(pod.migration.output).toContain(`migrate: connected to postgresql+psycopg2://***:***@127.0.0.1:${TEST_POSTGRES.port}/${pod.database!.name}`);
    expect(pod.migration.output).toContain("empty database: initializing it through MLflow's SqlAlchemyStore (artifact root mlflow-artifacts:/)");
    expect(pod.migration.output).toContain("auth store on postgresql: MLflow's own migrations (the foreign-key workaround is MySQL-only)");
    expect(pod.migration.output).toContain("migrate: admin user 'admin': created (admin)");
    expect(pod.migration.output).toContain("migrate: smoke user 'smoke-test': created (not admin)");
    expect(pod.migration.output).not.toContain('log_bin');
  });

  test('startup, readiness and liveness probes answer 200', async () => {
    const probes = probesOf(pod.serverContainer);
    expect(probes.map((p) => p.kind).sort()).toEqual(['livenessProbe', 'readinessProbe', 'startupProbe']);
    for (const p of probes) expect({ probe: p.kind, ok: (await probeOnce(p)).ok }).toEqual({ probe: p.kind, ok: true });
  });

  test('basic-auth on the PostgreSQL auth store: 401 without or with wrong credentials, 200 with the admin from the Secret', async () => {
    const host = { Host: 'localhost' };
    expect((await httpRequest(pod.server.port, SEARCH, { headers: host })).status).toBe(401);
    expect((await httpRequest(pod.server.port, SEARCH, { headers: { ...host, Authorization: basicAuth('admin', 'wrong-password-123') } })).status).toBe(401);
    expect((await httpRequest(pod.server.port, SEARCH, { headers: { ...host, ...admin() } })).status).toBe(200);
  });

  test('client round trip with the real mlflow client: experiment, run, params, metrics, proxied artifact, model, alias', async () => {
    const suffix = `pg-${Date.now()}`;
    const r = await runPython([CLIENT, suffix], {
      HOME: pod.podRoot.dir,
      MLFLOW_TRACKING_URI: pod.server.url,
      MLFLOW_TRACKING_USERNAME: pod.credentials.adminUsername,
      MLFLOW_TRACKING_PASSWORD: pod.credentials.adminPassword,
    });
    expect(r.params).toEqual({ alpha: '0.5' });
    expect(r.metrics).toEqual({ rmse: 0.4 });
    expect(r.downloaded).toBe(`hello ${suffix}\n`);
    expect(r.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    expect(r.alias_version).toBe(r.model_version);
    expect(r.search_hits).toEqual([r.run_id]);
  });

  test("the pod's connections stay within its share of the connection budget, all as the configured user", () => {
    const c = pod.rendered.config;
    if (c.database.engine !== 'postgres' || !c.server.autoscaling) throw new Error('expected dev on PostgreSQL with autoscaling');
    const perPod = connectionBudget({
      maxReplicas: c.server.autoscaling.maxReplicas,
      workers: c.server.workers,
      authEnabled: c.auth !== undefined,
      poolSize: c.database.pool.size,
      maxOverflow: c.database.pool.maxOverflow,
      maxConnections: c.database.maxConnections,
    }).perPod;
    const after = connectionsByProcess(pod);
    console.log(
      `dev on PostgreSQL, connections per process: at start ${JSON.stringify(atStart)}; after the round trip ${JSON.stringify(after)} ` +
        `(budget per pod ${perPod}: parent ${PARENT_CONNECTIONS} + workers × stores × (pool + overflow))`,
    );
    for (const snapshot of [atStart, after]) {
      expect(snapshot.users).toEqual([TEST_POSTGRES.user]);
      expect(snapshot.unowned).toBe(0); // every connection to the pod's database is the server's
      // The parent holds the tracking and registry stores' connections, as measured on MariaDB.
      expect(snapshot.parent).toBe(PARENT_CONNECTIONS);
      expect(snapshot.parent + snapshot.others.reduce((n, o) => n + o.count, 0)).toBeLessThanOrEqual(perPod);
    }
  });

  test('a second migration run is a no-op: exit 0, same schema revisions, tables and rows', async () => {
    const uri = { URI: pod.serverContainer.env.MLFLOW_BACKEND_STORE_URI };
    const before = await runPython(['-c', FINGERPRINT_PY], uri);
    const again = await pod.migrateAgain();
    expect({ code: again.code }).toEqual({ code: 0 });
    expect(again.output).toContain("nothing to migrate: every schema is at this MLflow's head");
    expect(await runPython(['-c', FINGERPRINT_PY], uri)).toEqual(before);
  });
});
