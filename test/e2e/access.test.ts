/**
 * The clients' and served models' MLflow users and grants on the REAL MLflow server as synthesized for dev
 * (tools/pod-harness/: the migration Job's and the Deployment's exact argv, env and files, the Secrets rendered from
 * the ExternalSecret templates, on the test MariaDB). Changes to dev, stated: `auth.defaultPermission: NO_PERMISSIONS`
 * (so that only a grant opens a door), `server.workers: 1` and `auth.credentialCacheTtlSeconds: 0` (a rotated
 * password is refused at once, not after the cache expires). Every user, grant and password comes from the migration
 * Job's run of the rendered plan and Secret: nothing here creates a user or a grant.
 *
 * The variants of the config (a grant removed, a password rotated, the alias moved) are re-synthesized and the
 * migration container run again on the same database, as the next sync would.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import { configFrom, rawConfig } from '../../tools/environments';
import { PodRoot, prepareContainer, renderPod } from '../../tools/pod-harness/container';
import { basicAuth } from '../../tools/pod-harness/http';
import { migrationSelector, startPod, type StartedPod } from '../../tools/pod-harness/pod';
import { runToCompletion } from '../../tools/pod-harness/process';
import { mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';

const PYTHON = mlflowPython();
const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const MODELS = path.join(__dirname, 'access_models.py');

/** dev as shipped, with the stated changes, and `change` applied to the raw document. */
function devVariant(change: (doc: Record<string, any>) => void = () => undefined): Server {
  const doc = rawConfig('dev');
  doc.server.workers = 1;
  doc.auth.defaultPermission = 'NO_PERMISSIONS';
  doc.auth.credentialCacheTtlSeconds = 0;
  change(doc);
  return configFrom('dev', doc);
}

(PYTHON && !SKIP ? describe : describe.skip)('clients and served models on the real MLflow server (dev, NO_PERMISSIONS, MariaDB)', () => {
  let pod: StartedPod;
  const pw = (user: string) => pod.credentials.userPasswords[user];
  let secretValues: Record<string, string>;
  const rotatedPasswords: string[] = [];

  /** The migration Job of `config`, run once more against the pod's database (the next sync's Job). */
  async function syncJob(config: Server): Promise<{ code: number; output: string }> {
    const rendered = renderPod(config);
    const root = new PodRoot('access-job');
    try {
      const prepared = await prepareContainer(rendered, migrationSelector(rendered), { pod: root, secretValues, database: pod.database!.name });
      return await runToCompletion(prepared, 120_000);
    } finally {
      root.remove();
    }
  }
  async function syncOk(config: Server): Promise<string> {
    const r = await syncJob(config);
    if (r.code !== 0) throw new Error(`migration exited ${r.code}:\n${r.output}`);
    const passwords = [pod.credentials.adminPassword, pod.credentials.smokePassword, pod.credentials.metricsPassword, ...Object.values(pod.credentials.userPasswords), ...rotatedPasswords];
    for (const p of passwords) expect(r.output).not.toContain(p);
    return r.output;
  }

  const call = async (user: string, password: string, method: string, p: string, body?: unknown) => {
    const r = await fetch(`${pod.server.url}${p}`, {
      method,
      headers: { Authorization: basicAuth(user, password), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: () => JSON.parse(text) };
  };
  const as = (user: string) => (method: string, p: string, body?: unknown) => call(user, pw(user), method, p, body);
  const admin = (method: string, p: string, body?: unknown) => call(pod.credentials.adminUsername, pod.credentials.adminPassword, method, p, body);
  const experimentId = async (name: string): Promise<string> => {
    const r = await admin('GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
    expect(r.status).toBe(200);
    return r.json().experiment.experiment_id;
  };

  beforeAll(async () => {
    console.log(`access.test.ts: real MLflow ${mlflowVersion()} (${PYTHON})`);
    pod = await startPod(devVariant(), { area: 'access' });
    secretValues = { ...pod.secretValues };
  }, 240_000);

  afterAll(async () => {
    await pod?.stop();
  }, 60_000);

  test('the first sync: every user created, the named experiments created as the server would, a missing model logged, exit 0', async () => {
    const out = pod.migration.output;
    for (const line of [
      "migrate: client user 'iris-trainer': created (not admin)",
      "migrate: client user 'iris-predictor': created (not admin)",
      "migrate: serving user 'serve-iris': created (not admin)",
    ]) {
      expect(out).toContain(line);
    }
    expect(out).toMatch(/^migrate: experiment 'iris' did not exist: created \(id \d+, artifacts mlflow-artifacts:\/\d+\) so that its grants hold from now on$/m);
    expect(out).toMatch(/^migrate: experiment 'iris-predictions' did not exist: created/m);
    expect(out).toContain("migrate: serving user 'serve-iris': models:/iris@champion does not exist yet");
    const iris = await admin('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${await experimentId('iris')}`);
    expect(iris.json().experiment.artifact_location).toBe(`mlflow-artifacts:/${await experimentId('iris')}`);
  });

  test('EDIT on iris logs a run there; READ reads but cannot write; a user without a grant gets 403', async () => {
    const iris = await experimentId('iris');
    const created = await as('iris-trainer')('POST', '/api/2.0/mlflow/runs/create', { experiment_id: iris });
    expect(created.status).toBe(200);
    const runId = created.json().run.info.run_id;
    expect((await as('iris-trainer')('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'acc', value: 0.9, timestamp: 0 })).status).toBe(200);

    expect((await as('iris-predictor')('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)).status).toBe(200);
    expect((await as('iris-predictor')('POST', '/api/2.0/mlflow/runs/create', { experiment_id: iris })).status).toBe(403);
    expect((await as('iris-predictor')('POST', '/api/2.0/mlflow/runs/log-metric', { run_id: runId, key: 'x', value: 1, timestamp: 0 })).status).toBe(403);

    expect((await as('serve-iris')('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${iris}`)).status).toBe(403);
    expect((await as('serve-iris')('GET', `/api/2.0/mlflow/runs/get?run_id=${runId}`)).status).toBe(403);
    // EDIT on iris-predictions for the predictor: its own experiment to log to.
    expect((await as('iris-predictor')('POST', '/api/2.0/mlflow/runs/create', { experiment_id: await experimentId('iris-predictions') })).status).toBe(200);
  });

  test('a grant removed from the config is revoked by the next sync; a grant MLflow made itself is left alone', async () => {
    // The trainer creates an experiment of its own: MLflow makes it that experiment's MANAGE owner.
    const own = await as('iris-trainer')('POST', '/api/2.0/mlflow/experiments/create', { name: 'trainer-scratch' });
    expect(own.status).toBe(200);
    const ownId = own.json().experiment_id;

    const out = await syncOk(devVariant((d) => delete d.clients[1].permissions.experiments.iris));
    expect(out).toMatch(/^migrate: revoked READ of 'iris-predictor' on experiment 'iris' \(id \d+\) \(no longer configured\)$/m);
    expect((await as('iris-predictor')('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${await experimentId('iris')}`)).status).toBe(403);
    expect((await as('iris-trainer')('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${ownId}`)).status).toBe(200);
    expect((await as('iris-trainer')('POST', '/api/2.0/mlflow/experiments/update', { experiment_id: ownId, new_name: 'trainer-scratch-2' })).status).toBe(200);

    // And back: the sync with dev's grants gives it again.
    await syncOk(devVariant());
    expect((await as('iris-predictor')('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${await experimentId('iris')}`)).status).toBe(200);
  }, 120_000);

  test("a rotated password (a new value in Secret Manager) works at the next sync, and the old one no longer", async () => {
    const secretId = devVariant().clients[0].user.passwordSecret;
    const old = pw('iris-trainer');
    const rotated = 'rotated-Pa55word-for-iris-trainer';
    secretValues = { ...secretValues, [secretId]: rotated };
    rotatedPasswords.push(rotated);
    const out = await syncOk(devVariant());
    expect(out).toContain("migrate: client user 'iris-trainer': password reset to the configured one");
    expect(out).not.toContain(rotated);
    const iris = await experimentId('iris');
    expect((await call('iris-trainer', rotated, 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${iris}`)).status).toBe(200);
    expect((await call('iris-trainer', old, 'GET', `/api/2.0/mlflow/experiments/get?experiment_id=${iris}`)).status).toBe(401);
  }, 120_000);

  describe('the serving user follows the alias: READ on the experiment of the version it points at, no more', () => {
    let v1: { version: string; experimentId: string; artifactLocation: string };
    let v2: { version: string; experimentId: string; artifactLocation: string };

    /** The version's MLmodel through the server's artifact proxy, as the serving user: the status. */
    const download = async (v: typeof v1) => {
      const artifactPath = v.artifactLocation.replace(/^mlflow-artifacts:\//, '');
      return (await as('serve-iris')('GET', `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}/MLmodel`)).status;
    };
    const logVersion = (experiment: string) => {
      const python = PYTHON!;
      const r = spawnSync(python, [MODELS, experiment, 'iris'], {
        encoding: 'utf8',
        timeout: 180_000,
        env: {
          PATH: `${path.dirname(python)}:/usr/bin:/bin`,
          HOME: pod.podRoot.dir,
          MLFLOW_TRACKING_URI: pod.server.url,
          MLFLOW_TRACKING_USERNAME: pod.credentials.adminUsername,
          MLFLOW_TRACKING_PASSWORD: pod.credentials.adminPassword,
          MLFLOW_DISABLE_TELEMETRY: 'true',
          PYTHONDONTWRITEBYTECODE: '1',
        },
      });
      if (r.status !== 0) throw new Error(`access_models.py failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const setAlias = async (version: string) =>
      expect((await admin('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris', alias: 'champion', version })).status).toBe(200);

    beforeAll(() => {
      v1 = logVersion('serving-a');
      v2 = logVersion('serving-b');
      expect(v1.experimentId).not.toBe(v2.experimentId);
    }, 300_000);

    test('@champion → v1: after the sync, v1 downloads and v2 answers 403', async () => {
      await setAlias(v1.version);
      const out = await syncOk(devVariant());
      expect(out).toContain(
        `migrate: serving user 'serve-iris': iris @champion -> version ${v1.version}, logged model ${v1.artifactLocation.split('/models/')[1].split('/')[0]}, experiment 'serving-a' (id ${v1.experimentId})`,
      );
      expect(await download(v1)).toBe(200);
      expect(await download(v2)).toBe(403);
      expect((await as('serve-iris')('GET', '/api/2.0/mlflow/registered-models/alias?name=iris&alias=champion')).status).toBe(200);
    }, 120_000);

    test('the alias moved to v2 (another experiment): after the sync, v2 downloads and v1 no longer', async () => {
      await setAlias(v2.version);
      expect(await download(v2)).toBe(403); // moved in the registry only: nothing changes until the sync
      const out = await syncOk(devVariant());
      expect(out).toMatch(new RegExp(`^migrate: revoked READ of 'serve-iris' on experiment 'serving-a' \\(id ${v1.experimentId}\\) \\(no longer configured\\)$`, 'm'));
      expect(await download(v2)).toBe(200);
      expect(await download(v1)).toBe(403);
    }, 120_000);

    test('a serving removed from the config: its user is deleted at the next sync', async () => {
      const out = await syncOk(devVariant((d) => delete d.serving));
      expect(out).toContain("migrate: user 'serve-iris': deleted (no longer a client or serving), with its grants");
      expect(await download(v2)).toBe(401);
    }, 120_000);
  });
});
