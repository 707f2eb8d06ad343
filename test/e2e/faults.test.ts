/**
 * Faults under a running server, on the real stack: dev's pod as synthesized (the migration Job's container, then the
 * server container with its exact argv and env: tools/pod-harness/), real MLflow, basic-auth on, and a
 * MariaDB of its own.
 *
 * The database is a DEDICATED MariaDB (scripts/test-mariadb.sh with a private directory and port), not the shared one
 * on :33306: stopping the shared server would fail every other suite using it at that moment. A TCP proxy that can
 * be cut was the other choice; a real server restart shows more (the server's pooled connections die with it, as on a
 * Cloud SQL maintenance restart or failover, and it comes back with a cold buffer pool), at the cost of about 5 s to
 * initialize a data directory.
 *
 * 1. A uvicorn worker SIGKILLed (an OOM kill of one process): the pod keeps answering, and the worker count comes back.
 * 2. The database restarted and unreachable for OUTAGE_MS: requests during the outage fail (an error status, never
 *    a hang past the client's timeout), and once the database is back every request succeeds, without restarting
 *    the server.
 * 3. SIGTERM during traffic: every request in flight when the kubelet sends SIGTERM (after preStop) completes with
 *    200; the process exits 0 within the grace period minus preStop.
 */
import * as http from 'http';
import * as fs from 'fs';
import { configFrom, rawConfig } from '../../tools/environments';
import { PrivateMariadb } from '../../tools/pod-harness/private-mariadb';

type Harness = typeof import('../../tools/pod-harness/pod') & typeof import('../../tools/pod-harness/process') & typeof import('../../tools/pod-harness/http');

const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const OUTAGE_MS = 8_000;
const SEARCH = '/api/2.0/mlflow/experiments/search?max_results=5';

const figures: string[] = [];

(SKIP ? describe.skip : describe)("faults under dev's real server (a dedicated MariaDB)", () => {
  let h: Harness;
  let db: PrivateMariadb;
  let pod: Awaited<ReturnType<Harness['startPod']>>;
  const saved = { port: process.env.MARIADB_PORT, socket: process.env.MARIADB_SOCKET };

  const admin = () => ({ Host: 'localhost', Authorization: h.basicAuth(pod.credentials.adminUsername, pod.credentials.adminPassword) });
  const search = () => h.httpRequest(pod.server.port, SEARCH, { headers: admin(), timeoutMs: 30_000 }).then((r) => r.status, (e: Error) => `error: ${e.message}`);
  /** The worker processes of uvicorn (the children of its supervisor), from /proc. */
  const workers = (): number[] =>
    h.descendants(pod.server.running.commandPid()).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('multiprocessing.spawn');
      } catch {
        return false;
      }
    });
  const workerCount = () => Number(pod.serverContainer.argv[pod.serverContainer.argv.indexOf('--workers') + 1]);

  beforeAll(async () => {
    db = await PrivateMariadb.create('mlflow-gitops-faults-db');
    db.start();
    // The harness reads the test MariaDB's address when it is loaded: load it pointed at the dedicated one.
    process.env.MARIADB_PORT = String(db.port);
    process.env.MARIADB_SOCKET = db.socket;
    jest.isolateModules(() => {
      h = { ...require('../../tools/pod-harness/pod'), ...require('../../tools/pod-harness/process'), ...require('../../tools/pod-harness/http') };
    });
    pod = await h.startPod(configFrom('dev', rawConfig('dev')), { area: 'faults' });
    console.log(`faults.test.ts: dev's server on MariaDB 127.0.0.1:${db.port} (dedicated), ${workerCount()} workers`);
  }, 400_000);

  afterAll(async () => {
    await pod?.stop();
    process.env.MARIADB_PORT = saved.port;
    process.env.MARIADB_SOCKET = saved.socket;
    if (saved.port === undefined) delete process.env.MARIADB_PORT;
    if (saved.socket === undefined) delete process.env.MARIADB_SOCKET;
    await db?.remove();
    if (figures.length) console.log(`faults.test.ts:\n  ${figures.join('\n  ')}`);
  }, 60_000);

  test('a uvicorn worker SIGKILLed: the pod keeps answering, and the worker count comes back', async () => {
    const expected = workerCount();
    expect(expected).toBeGreaterThanOrEqual(2); // the other worker keeps serving while one is replaced
    for (let i = 0; i < 100 && workers().length < expected; i++) await h.sleep(200);
    const before = workers();
    expect(before).toHaveLength(expected);
    const victim = before[0];
    process.kill(victim, 'SIGKILL');
    const killedAt = Date.now();
    const statuses: Array<number | string> = [];
    let back = 0;
    while (Date.now() - killedAt < 60_000) {
      statuses.push(await search());
      const now = workers();
      if (!back && now.length === expected && !now.includes(victim)) back = Date.now() - killedAt;
      if (back && statuses.length >= 10) break;
      await h.sleep(100);
    }
    figures.push(`worker SIGKILLed: replaced after ${back} ms; ${statuses.filter((s) => s !== 200).length} of ${statuses.length} requests failed meanwhile`);
    expect(back).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]); // the surviving worker answered every request
  }, 120_000);

  test(`the database restarted, unreachable for ${OUTAGE_MS / 1000} s: requests meanwhile fail, every request after it succeeds`, async () => {
    expect(await search()).toBe(200);
    const logFrom = pod.server.running.output().length;
    await db.stop();
    const downAt = Date.now();
    const during: Array<number | string> = [];
    while (Date.now() - downAt < OUTAGE_MS) {
      during.push(await search());
      await h.sleep(500);
    }
    db.start();
    const upAt = Date.now();
    // The first request may still meet a pooled connection the restart closed; MLflow's pool (pre-ping on) replaces it.
    const after: Array<number | string> = [];
    for (let i = 0; i < 20; i++) after.push(await search());
    const body = JSON.stringify({ name: 'after-the-outage' });
    const created = await h.httpRequest(pod.server.port, '/api/2.0/mlflow/experiments/create', {
      method: 'POST',
      headers: { ...admin(), 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) },
      body,
      timeoutMs: 30_000,
    });
    figures.push(
      `database down ${upAt - downAt} ms: ${during.filter((s) => s !== 200).length} of ${during.length} requests failed during it ` +
        `(${[...new Set(during)].join(', ')}); after it ${after.filter((s) => s === 200).length} of ${after.length} succeeded`,
    );
    expect(during.filter((s) => s === 200)).toEqual([]); // nothing served from nowhere: the outage was real
    expect(after).toEqual(Array(after.length).fill(200));
    expect({ status: created.status, body: created.body }).toEqual({ status: 200, body: expect.stringContaining('experiment_id') });
    expect(pod.server.running.output().slice(logFrom)).not.toMatch(/Child process \[\d+\] died/); // no worker died of the outage
  }, 180_000);

  test('SIGTERM during traffic: every request in flight completes with 200, the process exits 0 within its budget', async () => {
    const spec = pod.serverContainer;
    const grace = spec.pod.terminationGracePeriodSeconds;
    const preStop = spec.container.lifecycle.preStop.exec.command;
    const budgetMs = (grace - Number(preStop[1])) * 1000;
    // Slow uploads (sent in two halves) keep requests in flight across the signal, besides quick searches.
    const upload = (n: number) =>
      new Promise<number | string>((resolve) => {
        const body = Buffer.alloc(128 * 1024, 'y');
        const req = http.request(
          {
            host: '127.0.0.1',
            port: pod.server.port,
            method: 'PUT',
            path: `/api/2.0/mlflow-artifacts/artifacts/sigterm/upload-${n}.bin`,
            agent: false,
            headers: { ...admin(), 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', (e) => resolve(`error: ${e.message}`));
        req.write(body.subarray(0, body.length / 2));
        setTimeout(() => req.end(body.subarray(body.length / 2)), 2_000);
      });
    const inFlight: Array<Promise<number | string>> = [];
    for (let i = 0; i < 4; i++) inFlight.push(upload(i));
    for (let i = 0; i < 4; i++) inFlight.push(search());
    await h.sleep(500); // all of them accepted, the uploads half sent
    pod.server.running.signal('SIGTERM');
    const sentAt = Date.now();
    const statuses = await Promise.all(inFlight);
    const code = await Promise.race([pod.server.running.exited, h.sleep(budgetMs + 5_000).then(() => -1)]);
    const exitMs = Date.now() - sentAt;
    figures.push(`SIGTERM with ${inFlight.length} requests in flight: ${statuses.join(', ')}; exit ${code} after ${exitMs} ms (budget ${budgetMs} ms)`);
    expect(statuses).toEqual(Array(inFlight.length).fill(200));
    expect(code).toBe(0);
    expect(exitMs).toBeLessThanOrEqual(budgetMs);
  }, 120_000);
});
