/**
 * The real MLflow server as synthesized, per shipped environment: the migration container (the Job for dev/prod, the
 * server pod's init container for local) and then the server container run with their exact argv, env and mounted
 * files (tools/pod-harness/; the rewrites it prints are the only differences from the pod). dev and prod
 * run on the real test MariaDB (binary logging on) with basic-auth on; local on SQLite.
 *
 * Every expectation is read from the synthesized objects (probes, Ingress hosts, Service, PodMonitoring, grace
 * period), never restated here. One server per environment, reused by every check; the three pods start at once
 * (their migrations wait on the database and their start-ups on imports, so they overlap), then each environment's
 * checks run in order. Without the venv (`MLFLOW_GITOPS_SKIP_MLFLOW=1`) or MariaDB (`MLFLOW_GITOPS_SKIP_MARIADB=1`)
 * the affected environments are skipped and say so; otherwise a missing part fails.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { find, shippedConfig } from '../../tools/environments';
import { mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';
import { sleep } from '../../tools/pod-harness/process';
import { basicAuth, httpRequest, probeOnce, probesOf } from '../../tools/pod-harness/http';
import { startPod, type StartedPod } from '../../tools/pod-harness/pod';

const SKIP_MLFLOW = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1';
const SKIP_MARIADB = process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const CLIENT = path.join(__dirname, 'client_roundtrip.py');
/** A pod IP as the kubelet's probes and the load balancer's health checks send it in `Host` (pod CIDR 10.0.0.0/8). */
const POD_IP = '10.8.0.17';
const UNKNOWN_HOST = 'mlflow.attacker.example';
const OTHER_ORIGIN = 'https://attacker.example';

interface EnvCase {
  readonly env: string;
  readonly auth: boolean;
  readonly mysql: boolean;
}

const timings: string[] = [];

const CASES: EnvCase[] = [
  { env: 'local', auth: false, mysql: false },
  { env: 'dev', auth: true, mysql: true },
  { env: 'prod', auth: true, mysql: true },
];
const skipped = (c: EnvCase) => SKIP_MLFLOW || (c.mysql && SKIP_MARIADB);

/**
 * Every environment's pod is started at once (migrations on MariaDB mostly wait on the database, server start-up on
 * imports: overlapping them is what keeps the suite near its budget); each describe awaits its own.
 */
const starting = new Map<string, Promise<StartedPod>>();

beforeAll(() => {
  if (SKIP_MLFLOW) return;
  if (!mlflowPython()) throw new Error('no real MLflow venv (.mlflow-python): run `bash scripts/test-mlflow.sh`, or set MLFLOW_GITOPS_SKIP_MLFLOW=1');
  console.log(`real-server suites run against MLflow ${mlflowVersion()} (the images pin ${shippedConfig('prod').image.tag})`);
  for (const c of CASES.filter((x) => !skipped(x))) {
    const t0 = Date.now();
    const p = startPod(c.env, { area: `e2e_${c.env}` }).then((pod) => {
      timings.push(`${c.env}: migration ${pod.migration.ms} ms, server start (spawn → startup probe) ${pod.server.startMs} ms, ready after ${Date.now() - t0} ms`);
      return pod;
    });
    p.catch(() => undefined); // reported by the describe that awaits it
    starting.set(c.env, p);
  }
});

afterAll(async () => {
  await Promise.all([...starting.values()].map((p) => p.then((pod) => pod.stop(), () => undefined)));
  if (timings.length) console.log(`real-server timings:\n  ${timings.join('\n  ')}`);
}, 60_000);

/** Runs the real client round trip (test/e2e/client_roundtrip.py) with the venv's python; resolves its JSON. */
function clientRoundTrip(pod: StartedPod, suffix: string, auth: boolean): Promise<any> {
  const python = mlflowPython()!;
  const env: Record<string, string> = {
    PATH: `${path.dirname(python)}:/usr/bin:/bin`,
    HOME: pod.podRoot.dir,
    MLFLOW_TRACKING_URI: pod.server.url,
    MLFLOW_DISABLE_TELEMETRY: 'true',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  if (auth) {
    env.MLFLOW_TRACKING_USERNAME = pod.credentials.adminUsername;
    env.MLFLOW_TRACKING_PASSWORD = pod.credentials.adminPassword;
  }
  return new Promise((resolve, reject) => {
    const p = spawn(python, [CLIENT, suffix], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`client round trip exited ${code}:\n${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!));
    });
  });
}

/** Schema and data fingerprint of the server's database (tables, alembic revisions, row counts), via SQLAlchemy. */
function fingerprint(pod: StartedPod): Promise<string> {
  const python = mlflowPython()!;
  const code = [
    'import os, sqlalchemy as sa',
    'e = sa.create_engine(os.environ["URI"])',
    'with e.connect() as c:',
    '    names = sorted(sa.inspect(c).get_table_names())',
    '    out = {"tables": names}',
    '    for t in names:',
    '        if t.startswith("alembic_version"):',
    '            out[t] = [r[0] for r in c.execute(sa.text(f"SELECT version_num FROM {t}"))]',
    '    for t in ("experiments", "runs", "registered_models", "model_versions", "users"):',
    '        if t in names:',
    '            out["rows." + t] = c.execute(sa.text(f"SELECT COUNT(*) FROM {t}")).scalar()',
    'import json; print(json.dumps(out, sort_keys=True))',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const p = spawn(python, ['-c', code], { env: { PATH: '/usr/bin:/bin', URI: pod.serverContainer.env.MLFLOW_BACKEND_STORE_URI } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (c) => (c === 0 ? resolve(out.trim()) : reject(new Error(err))));
  });
}

/** Service DNS names a client in the cluster may send as Host, from the rendered Service. */
function serviceHosts(pod: StartedPod): string[] {
  const svc = find(pod.rendered.manifests, 'Service', 'mlflow');
  const ns = svc.metadata.namespace;
  const names = [svc.metadata.name, `${svc.metadata.name}.${ns}`, `${svc.metadata.name}.${ns}.svc`, `${svc.metadata.name}.${ns}.svc.cluster.local`];
  const port = svc.spec.ports.find((p: any) => p.name === 'http').port;
  return names.flatMap((n) => [n, `${n}:${port}`]);
}

function ingressHosts(pod: StartedPod): string[] {
  const ing = pod.rendered.manifests.filter((m) => m.kind === 'Ingress') as any[];
  return ing.flatMap((i) => i.spec.rules.map((r: any) => r.host as string));
}

/** The public origin: https on the Ingress host, or — without an Ingress — the port-forward of the README's local quick start. */
function publicOrigins(pod: StartedPod): string[] {
  const hosts = ingressHosts(pod);
  return hosts.length ? hosts.map((h) => `https://${h}`) : ['http://localhost:5000'];
}

const SEARCH = '/api/2.0/mlflow/experiments/search?max_results=1';

for (const c of CASES) {
  (skipped(c) ? describe.skip : describe)(`real MLflow server as synthesized for ${c.env}`, () => {
    let pod: StartedPod;
    const admin = () => ({ Authorization: basicAuth(pod.credentials.adminUsername, pod.credentials.adminPassword) });
    const authed = () => (c.auth ? admin() : {});

    beforeAll(async () => {
      pod = await starting.get(c.env)!;
    }, 300_000);

    test('the config under test is what this case assumes', () => {
      expect(pod.rendered.config.auth !== undefined).toBe(c.auth);
      expect(pod.rendered.config.database.engine).toBe(c.mysql ? 'mysql' : 'sqlite');
    });

    test("runs as the pod's runAsUser/runAsGroup, as PID 1 of its own PID namespace (root here) or as the current user", () => {
      const pid = pod.server.running.commandPid();
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const sc = { ...pod.serverContainer.pod.securityContext, ...pod.serverContainer.container.securityContext };
      const uid = process.getuid!() === 0 ? sc.runAsUser : process.getuid!();
      expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(uid));
      if (process.getuid!() === 0) {
        expect(/^Gid:\s+(\d+)/m.exec(status)![1]).toBe(String(sc.runAsGroup));
        expect(/^NSpid:\s+\d+\s+(\d+)$/m.exec(status)![1]).toBe('1');
        expect(/^NoNewPrivs:\s+(\d)/m.exec(status)![1]).toBe('1');
        expect(/^CapBnd:\s+(\w+)/m.exec(status)![1]).toBe('0000000000000000');
      }
    });

    test('startup, readiness and liveness probes answer as defined (path, port, within timeoutSeconds, kubelet Host)', async () => {
      const probes = probesOf(pod.serverContainer);
      expect(probes.map((p) => p.kind).sort()).toEqual(['livenessProbe', 'readinessProbe', 'startupProbe']);
      for (const p of probes) {
        const containerPort = [...pod.serverContainer.ports].find(([, h]) => h === p.port)![0];
        const r = await httpRequest(p.port, p.path, {
          headers: { Host: `${POD_IP}:${containerPort}`, 'User-Agent': 'kube-probe/1.28', Accept: '*/*' },
          timeoutMs: p.timeoutSeconds * 1000,
        });
        expect({ probe: p.kind, status: r.status }).toEqual({ probe: p.kind, status: 200 });
        expect((await probeOnce(p)).ok).toBe(true);
      }
    });

    test('the load balancer health check (BackendConfig) answers, where there is one', async () => {
      const bcs = pod.rendered.manifests.filter((m) => m.kind === 'BackendConfig') as any[];
      expect(bcs.length).toBe(c.env === 'local' ? 0 : 1);
      for (const bc of bcs) {
        const hostPort = pod.serverContainer.ports.get(bc.spec.healthCheck.port)!;
        const r = await httpRequest(hostPort, bc.spec.healthCheck.requestPath, { headers: { Host: `${POD_IP}:${bc.spec.healthCheck.port}` } });
        expect(r.status).toBe(200);
      }
    });

    test('Ingress hosts and Service DNS names are accepted as Host; an unknown Host gets 403', async () => {
      const hosts = [...ingressHosts(pod), ...serviceHosts(pod)];
      expect(hosts.length).toBeGreaterThanOrEqual(8);
      // Host validation runs before authentication: an accepted Host reaches the app, which (under basic-auth)
      // asks for credentials. Without credentials each check costs no password hash.
      const reached = c.auth ? 401 : 200;
      const results = await Promise.all(hosts.map(async (h) => [h, (await httpRequest(pod.server.port, SEARCH, { headers: { Host: h } })).status]));
      expect(results).toEqual(hosts.map((h) => [h, reached]));
      const withCreds = await httpRequest(pod.server.port, SEARCH, { headers: { Host: hosts[0], ...authed() } });
      expect(withCreds.status).toBe(200);
      const bad = await httpRequest(pod.server.port, SEARCH, { headers: { Host: UNKNOWN_HOST, ...authed() } });
      expect(bad.status).toBe(403);
      expect(bad.body).toMatch(/Invalid Host header/i);
    });

    test('CORS: a preflight from the public origin is allowed, another origin is refused (preflight and request)', async () => {
      const host = ingressHosts(pod)[0] ?? 'localhost:5000';
      const preflight = (origin: string) =>
        httpRequest(pod.server.port, '/api/2.0/mlflow/runs/create', {
          method: 'OPTIONS',
          headers: { Host: host, Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
        });
      for (const origin of publicOrigins(pod)) {
        const ok = await preflight(origin);
        expect({ origin, status: ok.status, allow: ok.headers['access-control-allow-origin'] }).toEqual({ origin, status: 200, allow: origin });
      }
      const refused = await preflight(OTHER_ORIGIN);
      expect(refused.status).toBe(400);
      expect(refused.headers['access-control-allow-origin']).toBeUndefined();
      const post = await httpRequest(pod.server.port, '/api/2.0/mlflow/experiments/create', {
        method: 'POST',
        headers: { Host: host, Origin: OTHER_ORIGIN, 'Content-Type': 'application/json', ...authed() },
        body: JSON.stringify({ name: 'cross-origin' }),
      });
      expect(post.status).toBe(403);
    });

    if (c.auth) {
      test('basic-auth: 401 without or with wrong credentials, 200 with the admin credentials from the Secret', async () => {
        const none = await httpRequest(pod.server.port, SEARCH, { headers: { Host: 'localhost' } });
        expect(none.status).toBe(401);
        const wrong = await httpRequest(pod.server.port, SEARCH, { headers: { Host: 'localhost', Authorization: basicAuth(pod.credentials.adminUsername, 'wrong') } });
        expect(wrong.status).toBe(401);
        const ok = await httpRequest(pod.server.port, SEARCH, { headers: { Host: 'localhost', ...admin() } });
        expect(ok.status).toBe(200);
      });
    } else {
      test('no auth: the API answers without credentials', async () => {
        expect((await httpRequest(pod.server.port, SEARCH, { headers: { Host: 'localhost' } })).status).toBe(200);
      });
    }

    test('client round trip with the real mlflow client: experiment, run, params, metrics, artifact up/down, model, alias', async () => {
      const suffix = Math.random().toString(36).slice(2, 8);
      const r = await clientRoundTrip(pod, suffix, c.auth);
      console.log(`${c.env}: client round trip against MLflow ${r.mlflow_version}`);
      expect(r.params).toEqual({ alpha: '0.5' });
      expect(r.metrics).toEqual({ rmse: 0.4 });
      expect(r.rmse_history).toEqual([
        [1, 0.42],
        [2, 0.4],
      ]);
      expect(r.artifacts).toEqual(['notes/hello.txt']);
      expect(r.downloaded).toBe(`hello ${suffix}\n`);
      expect(r.artifact_uri).toMatch(/^mlflow-artifacts:\//); // proxied through the server, not a direct store URI
      expect(r.alias_version).toBe(r.model_version);
      expect(r.alias_run_id).toBe(r.run_id);
      expect(r.search_hits).toEqual([r.run_id]);
      // The upload landed where --artifacts-destination points (gs:// → the listed local folder).
      const dest = pod.serverContainer.argv[pod.serverContainer.argv.indexOf('--artifacts-destination') + 1];
      const file = path.join(dest, r.experiment_id, r.run_id, 'artifacts', 'notes', 'hello.txt');
      expect(fs.readFileSync(file, 'utf8')).toBe(`hello ${suffix}\n`);
    }, 180_000);

    const monitors = () => pod.rendered.manifests.filter((m) => m.kind === 'PodMonitoring') as any[];
    if (c.env === 'local') {
      test('no PodMonitoring is rendered (metrics: none), and no --expose-prometheus', () => {
        expect(monitors()).toEqual([]);
        expect(pod.serverContainer.argv).not.toContain('--expose-prometheus');
      });
    } else {
      // The user exists only because the migration run above created it from MLFLOW_METRICS_USERNAME/PASSWORD (Secret
      // mlflow-metrics-auth): before migrate.py did that, every scrape got 401.
      test('/metrics answers 200 to the PodMonitoring credentials (the user the migration created)', async () => {
        const [mon] = monitors();
        const ep = mon.spec.endpoints[0];
        const secret = find(pod.rendered.manifests, 'ExternalSecret', ep.basicAuth.password.secret.name);
        const passwordId = secret.spec.data.find((d: any) => d.secretKey === 'password').remoteRef.key;
        const password = pod.secretValues[passwordId];
        const port = pod.serverContainer.ports.get(pod.serverContainer.container.ports.find((p: any) => p.name === ep.port).containerPort)!;
        const noCreds = await httpRequest(port, ep.path, { headers: { Host: `${POD_IP}:5000` } });
        expect(noCreds.status).toBe(401);
        const r = await httpRequest(port, ep.path, { headers: { Host: `${POD_IP}:5000`, Authorization: basicAuth(ep.basicAuth.username, password) } });
        expect(r.status).toBe(200);
        expect(r.body).toMatch(/^# TYPE /m);
        // The scraper is a plain user: a route with a permission rule still refuses it (deleting the Default
        // experiment needs MANAGE; the default permission, NO_PERMISSIONS in dev and prod, grants less).
        const body = JSON.stringify({ experiment_id: '0' });
        const del = await httpRequest(port, '/api/2.0/mlflow/experiments/delete', {
          method: 'POST',
          headers: {
            Host: `${POD_IP}:5000`,
            'Content-Type': 'application/json',
            'Content-Length': String(Buffer.byteLength(body)),
            Authorization: basicAuth(ep.basicAuth.username, password),
          },
          body,
        });
        expect({ status: del.status, body: del.body }).toEqual({ status: 403, body: expect.stringContaining('Permission denied') });
      });
    }

    test('SIGTERM drains: an in-flight upload completes, the process exits 0 within the grace period minus preStop', async () => {
      const spec = pod.serverContainer;
      const grace = spec.pod.terminationGracePeriodSeconds;
      const preStop = spec.container.lifecycle?.preStop?.exec?.command;
      expect(preStop?.[0]).toBe('sleep');
      const budgetMs = (grace - Number(preStop[1])) * 1000;
      // The kubelet runs preStop (a sleep: nothing to run here), then sends SIGTERM to the container's PID 1.
      const body = Buffer.alloc(256 * 1024, 'x');
      const half = body.length / 2;
      let sentAt = 0;
      const upload = new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: pod.server.port,
            method: 'PUT',
            path: '/api/2.0/mlflow-artifacts/artifacts/drain/in-flight.bin',
            agent: false,
            headers: { Host: 'localhost', 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length), ...authed() },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.write(body.subarray(0, half), () => {
          setTimeout(() => {
            pod.server.running.signal('SIGTERM');
            sentAt = Date.now();
            setTimeout(() => req.end(body.subarray(half)), 1500);
          }, 300);
        });
      });
      const status = await upload;
      const code = await Promise.race([pod.server.running.exited, sleep(budgetMs + 5000).then(() => -1)]);
      const exitMs = Date.now() - sentAt;
      timings.push(`${c.env}: SIGTERM → exit ${exitMs} ms (budget ${budgetMs} ms)`);
      expect(status).toBe(200);
      expect(code).toBe(0);
      expect(exitMs).toBeLessThanOrEqual(budgetMs);
      const dest = spec.argv[spec.argv.indexOf('--artifacts-destination') + 1];
      expect(fs.statSync(path.join(dest, 'drain', 'in-flight.bin')).size).toBe(body.length);
    }, 120_000);

    test('a second migration run is a no-op: exit 0, same schema revisions, tables and rows', async () => {
      const before = await fingerprint(pod);
      const again = await pod.migrateAgain();
      expect({ code: again.code, output: again.output }).toEqual({ code: 0, output: expect.any(String) });
      expect(await fingerprint(pod)).toBe(before);
    }, 180_000);
  });
}
