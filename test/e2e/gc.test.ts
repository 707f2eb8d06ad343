/**
 * The gc CronJob's container as synthesized, against the REAL MLflow (the test venv) and the REAL test MariaDB:
 * `dev` with `gc: { schedule, olderThanDays: 30 }` (one change more, stated: `server.workers: 1`, for a faster start).
 * The pod harness (tools/pod-harness/) runs the migration Job and the server as rendered, then the CronJob's
 * `gc` container with its exact argv (`$(MLFLOW_BACKEND_STORE_URI)` expanded as the kubelet does) and env, the admin's
 * credentials from the `mlflow-gc-auth` ExternalSecret's template; the rewrites it prints are the only differences from
 * the pods (database address, the Service URL → the test server, and a local folder standing in for the
 * `gs://` artifact destination: no google-cloud-storage and no network here).
 *
 * Data is written through the server (proxied artifacts: `mlflow-artifacts:` URIs) by the real client
 * (test/e2e/gc_data.py), soft-deleted through the API, and the deletions that should count as old are backdated
 * 40 days in the database (`runs.deleted_time`, `experiments.last_update_time`: the columns `mlflow gc
 * --older-than` compares). What must go: the old deleted runs (with and without artifacts) and the old deleted
 * experiment with its run; what must stay: the active run, the recently deleted run, the recently deleted experiment.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connectionsByPid } from '../../scripts/measure-sizing';
import { GC_CONNECTIONS } from '../../lib/config/sizing';
import { configFrom, rawConfig } from '../../tools/environments';
import { mariadbRoot, mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';
import { describeRewrites, PodRoot, prepareContainer, type PreparedContainer } from '../../tools/pod-harness/container';
import { memoryOf, runContainer, sleep } from '../../tools/pod-harness/process';
import { startPod, type StartedPod } from '../../tools/pod-harness/pod';

const PYTHON = mlflowPython();
const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const DATA_SCRIPT = path.join(__dirname, 'gc_data.py');
const GC = { kind: 'CronJob', name: 'mlflow-gc', container: 'gc' } as const;
const DAY_MS = 86_400_000;

interface Created {
  readonly experiment_id: string;
  readonly run_id: string;
  readonly artifact_uri: string;
  readonly artifact: string | null;
}

/** One run of the gc container to completion (bounded), sampling its database connections and memory. */
async function runGc(p: PreparedContainer, database: string, timeoutMs = 120_000) {
  const started = Date.now();
  const c = runContainer(p);
  let code: number | undefined;
  void c.exited.then((x) => (code = x));
  let maxConnections = 0;
  let maxRssKiB = 0;
  while (code === undefined && Date.now() - started < timeoutMs) {
    try {
      const pid = c.commandPid();
      maxConnections = Math.max(maxConnections, connectionsByPid(database, [pid]).get(pid) ?? 0);
      maxRssKiB = Math.max(maxRssKiB, memoryOf(pid).rssKiB);
    } catch {
      // not started yet, or just exited
    }
    await sleep(100);
  }
  if (code === undefined) {
    await c.stop();
    throw new Error(`gc did not finish in ${timeoutMs} ms; output:\n${c.output()}`);
  }
  return { code, output: c.output(), ms: Date.now() - started, maxConnections, maxRssKiB };
}

(SKIP || !PYTHON ? describe.skip : describe)('mlflow gc as synthesized, on the real MLflow and MariaDB', () => {
  let pod: StartedPod | undefined;
  let gcRoot: PodRoot | undefined;
  let data: Record<string, Created> & { experiments?: Record<string, string> };
  let experiments: Record<string, string>;
  let artifacts: string;
  let database: string;
  const prepare = (root: PodRoot) =>
    prepareContainer(pod!.rendered, GC, { pod: root, secretValues: pod!.secretValues, database, serverUrl: pod!.server.url });

  const runIds = () => mariadbRoot('SELECT run_uuid FROM runs', database).split('\n').filter(Boolean).sort();
  const experimentIds = () => mariadbRoot('SELECT experiment_id FROM experiments', database).split('\n').filter(Boolean).sort();
  const artifactFile = (c: Created) => path.join(artifacts, c.artifact_uri.replace(/^mlflow-artifacts:\//, ''), c.artifact!);

  beforeAll(async () => {
    console.log(`gc.test.ts: real MLflow ${mlflowVersion()} (${PYTHON})`);
    const doc = rawConfig('dev');
    doc.server.workers = 1;
    doc.gc = { schedule: '17 3 * * *', olderThanDays: 30 };
    pod = await startPod(configFrom('dev', doc), { area: 'gc' });
    database = pod.database!.name;
    // The harness's local folder standing in for gs://example-mlflow-dev-artifacts/mlflow.
    artifacts = pod.serverContainer.argv[pod.serverContainer.argv.indexOf('--artifacts-destination') + 1];

    const made = spawnSync(PYTHON!, [DATA_SCRIPT, 'gc'], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: '/usr/bin:/bin',
        HOME: pod.podRoot.dir,
        MLFLOW_TRACKING_URI: pod.server.url,
        MLFLOW_TRACKING_USERNAME: pod.credentials.adminUsername,
        MLFLOW_TRACKING_PASSWORD: pod.credentials.adminPassword,
      },
    });
    if (made.status !== 0) throw new Error(`gc_data.py exited ${made.status}:\n${made.stderr}`);
    data = JSON.parse(made.stdout.trim().split('\n').pop()!);
    experiments = data.experiments!;
    // Deleted 40 days ago: the columns `--older-than` compares (ms since the epoch, as MLflow writes them).
    const old = Date.now() - 40 * DAY_MS;
    const oldRuns = ['old-deleted-run', 'old-deleted-run-without-artifacts', 'run-of-old-experiment'].map((n) => `'${data[n].run_id}'`);
    mariadbRoot(`UPDATE runs SET deleted_time = ${old} WHERE run_uuid IN (${oldRuns.join(', ')})`, database);
    mariadbRoot(`UPDATE experiments SET last_update_time = ${old} WHERE experiment_id = ${experiments.old}`, database);
    gcRoot = new PodRoot('dev-gc-job');
  }, 300_000);

  afterAll(async () => {
    gcRoot?.remove();
    await pod?.stop();
  }, 60_000);

  test('the data is in place: proxied artifact URIs, files on the artifact destination, soft deletions', () => {
    for (const name of ['active', 'old-deleted-run', 'recently-deleted-run', 'run-of-old-experiment', 'run-of-recent-experiment']) {
      expect(data[name].artifact_uri).toBe(`mlflow-artifacts:/${data[name].experiment_id}/${data[name].run_id}/artifacts`);
      expect(fs.readFileSync(artifactFile(data[name]), 'utf8')).toBe(`artifact of ${name}`);
    }
    const stages = mariadbRoot("SELECT lifecycle_stage, COUNT(*) FROM runs GROUP BY lifecycle_stage ORDER BY 1", database);
    expect(stages).toBe('active\t1\ndeleted\t5\n');
  });

  test('without the admin’s credentials the server refuses the artifact DELETE, and gc deletes nothing', async () => {
    const prepared = await prepare(gcRoot!);
    const wrong = { ...prepared, env: { ...prepared.env, MLFLOW_TRACKING_PASSWORD: 'not-the-password' } };
    const before = { runs: runIds(), experiments: experimentIds() };
    const r = await runGc(wrong, database);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/HTTPError: 401 Client Error: unauthorized for url: http:\/\/127\.0\.0\.1:\d+\/api\/2\.0\/mlflow-artifacts\/artifacts\//i);
    expect(r.output).not.toMatch(/permanently deleted/);
    expect({ runs: runIds(), experiments: experimentIds() }).toEqual(before);
    expect(fs.existsSync(artifactFile(data['old-deleted-run']))).toBe(true);
  }, 180_000);

  test('the CronJob’s container deletes exactly what was deleted more than 30 days ago, with its artifacts', async () => {
    const prepared = await prepare(gcRoot!);
    // The command line as rendered (database URI expanded from the Secret, Service URL rewritten to the test server).
    expect(prepared.argv.slice(0, 2)).toEqual(['mlflow', 'gc']);
    expect(prepared.argv.slice(4, 6)).toEqual(['--older-than', '30d']);
    expect(prepared.argv[2]).toBe('--backend-store-uri');
    expect(prepared.argv[3]).toBe(prepared.env.MLFLOW_BACKEND_STORE_URI);
    expect(prepared.argv[3]).toMatch(new RegExp(`^mysql\\+pymysql://mlflow_test:[^@]+@127\\.0\\.0\\.1:33306/${database}$`));
    expect(prepared.argv.slice(6)).toEqual(['--tracking-uri', pod!.server.url]);
    console.log(describeRewrites(prepared));

    // Besides the test's own: '0' (Default) and the experiments the migration Job created for dev's client grants.
    const experimentsBefore = experimentIds();
    const r = await runGc(prepared, database);
    console.log(
      `gc.test.ts: gc exited ${r.code} after ${r.ms} ms; peak database connections of the gc process ${r.maxConnections}, ` +
        `peak RSS ${Math.round(r.maxRssKiB / 1024)} MiB\n${r.output}`,
    );
    expect(r.code).toBe(0);
    const gone = ['old-deleted-run', 'old-deleted-run-without-artifacts', 'run-of-old-experiment'];
    const kept = ['active', 'recently-deleted-run', 'run-of-recent-experiment'];
    const reported = [...r.output.matchAll(/^Run with ID (\w+) has been permanently deleted\.$/gm)].map((m) => m[1]).sort();
    expect(reported).toEqual(gone.map((n) => data[n].run_id).sort());
    expect([...r.output.matchAll(/^Experiment with ID (\d+) has been permanently deleted\.$/gm)].map((m) => m[1])).toEqual([experiments.old]);

    expect(runIds()).toEqual(kept.map((n) => data[n].run_id).sort());
    expect(experimentsBefore).toEqual(expect.arrayContaining(['0', experiments.old, experiments.keep, experiments.runs, experiments.recent]));
    expect(experimentIds()).toEqual(experimentsBefore.filter((id) => id !== experiments.old));
    for (const n of ['old-deleted-run', 'run-of-old-experiment']) expect(fs.existsSync(artifactFile(data[n]))).toBe(false);
    for (const n of kept) expect(fs.readFileSync(artifactFile(data[n]), 'utf8')).toBe(`artifact of ${n}`);
    // Its metrics, params and tags went with it (hard delete), and nothing of a kept run.
    expect(mariadbRoot(`SELECT COUNT(*) FROM tags WHERE run_uuid = '${data['old-deleted-run'].run_id}'`, database).trim()).toBe('0');

    // Within the connection budget's share for the gc pod (pool 1 + overflow 1); memory within the container's limit.
    expect(r.maxConnections).toBeGreaterThan(0);
    expect(r.maxConnections).toBeLessThanOrEqual(GC_CONNECTIONS);
    expect(r.maxRssKiB).toBeLessThan(768 * 1024);
  }, 180_000);

  test('the next scheduled run finds nothing more to delete and succeeds', async () => {
    const before = { runs: runIds(), experiments: experimentIds() };
    const r = await runGc(await prepare(gcRoot!), database);
    expect(r.code).toBe(0);
    expect(r.output).not.toMatch(/permanently deleted/);
    expect({ runs: runIds(), experiments: experimentIds() }).toEqual(before);
  }, 180_000);
});
