/**
 * A model served by registry alias, on the REAL MLflow release of the image: dev as synthesized (tools/pod-harness/:
 * the migration Job, the server and the `serve-iris` Deployment's container with their exact argv, env and files,
 * Secrets rendered from the ExternalSecret templates, on the test MariaDB), with two changes stated:
 * `auth.defaultPermission: NO_PERMISSIONS` (so a missing grant shows) and `server.workers: 1`.
 *
 * Two versions of `iris` are registered in two experiments (v1 answers the iris class, v2 a constant 42); `@champion`
 * → v1. The serving user gets what the migration Job grants it (test/support/grants.ts: READ on the model and on the
 * experiment of the version served), the serving container starts, answers /invocations and logs v1. Then the alias
 * moves to v2, logged in the other experiment: without the grant the container fails at start with the message that
 * names the promotion; with it (what the sync after a promotion grants) the restarted container answers as v2.
 * Before that, while @champion → v1, the example prediction API (examples/prediction-api/app.py) runs as a process with
 * a client's environment: as dev's `iris-predictor` with its configured grants, and as a user without any (403).
 */
import { spawn, spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { ROOT, configFrom, rawConfig } from '../../tools/environments';
import { mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';
import { renderSecrets } from '../../tools/pod-harness/secrets';
import { PodRoot, prepareContainer, renderPod, type PreparedContainer } from '../../tools/pod-harness/container';
import { freePort, runToCompletion, sleep } from '../../tools/pod-harness/process';
import { basicAuth, httpRequest } from '../../tools/pod-harness/http';
import { startContainerServer, startPod, type StartedPod } from '../../tools/pod-harness/pod';
import { grantLikeTheMigrationJob } from '../support/grants';
import { PROMOTION_ANNOTATION } from '../../lib/names';

const PYTHON = mlflowPython();
const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const SERVE = { kind: 'Deployment', name: 'serve-iris', container: 'serve' } as const;
const SAMPLE = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });

(PYTHON && !SKIP ? describe : describe.skip)('serving iris@champion on the real MLflow server (dev as synthesized, NO_PERMISSIONS)', () => {
  let pod: StartedPod | undefined;
  let admin = { username: '', password: '' };
  let servingUser = { username: '', password: '' };
  let experiments: Record<string, string> = {};
  const roots: PodRoot[] = [];
  const timings: string[] = [];

  const doc = () => {
    const d = rawConfig('dev');
    d.server.workers = 1;
    d.auth.defaultPermission = 'NO_PERMISSIONS';
    return d;
  };

  /** The serving container of `promotion`'s render (and `change` to the entry), as a fresh pod would run it. */
  const servingContainer = async (promotion: number, change: (s: any) => void = () => undefined): Promise<PreparedContainer> => {
    const d = doc();
    d.serving[0].promotion = promotion;
    change(d.serving[0]);
    const rendered = renderPod(configFrom('dev', d));
    const root = new PodRoot('serve-iris');
    roots.push(root);
    return prepareContainer(rendered, SERVE, { pod: root, secretValues: pod!.secretValues, serverUrl: pod!.server.url });
  };

  beforeAll(async () => {
    console.log(`serving.test.ts: real MLflow ${mlflowVersion()} (${PYTHON})`);
    let t = Date.now();
    pod = await startPod(configFrom('dev', doc()), { area: 'serving' });
    timings.push(`server up (migration + start) ${Date.now() - t} ms`);
    admin = { username: pod.credentials.adminUsername, password: pod.credentials.adminPassword };
    const secret = renderSecrets(pod.rendered.manifests, pod.secretValues).get('serve-iris-auth');
    if (!secret) throw new Error('dev renders no serve-iris-auth Secret');
    servingUser = { username: secret.username, password: secret.password };

    t = Date.now();
    const r = spawnSync(PYTHON!, [path.join(__dirname, 'serving_models.py')], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { PATH: `${path.dirname(PYTHON!)}:/usr/bin:/bin`, HOME: os.tmpdir(), MLFLOW_TRACKING_URI: pod.server.url, MLFLOW_TRACKING_USERNAME: admin.username, MLFLOW_TRACKING_PASSWORD: admin.password, MLFLOW_DISABLE_TELEMETRY: 'true' },
    });
    if (r.status !== 0) throw new Error(`serving_models.py exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    experiments = JSON.parse(r.stdout.trim().split('\n').pop()!);
    timings.push(`train and register v1, v2 ${Date.now() - t} ms`);
  }, 300_000);

  afterAll(async () => {
    console.log(`serving.test.ts timings:\n  ${timings.join('\n  ')}`);
    await pod?.stop();
    for (const r of roots) r.remove();
  });

  // The example prediction API first, while @champion → v1 (logged in `iris`, which dev's iris-predictor may READ).
  /** examples/prediction-api/app.py as a process with a client's environment (the keys of the client Secret). */
  const predictionApi = async (user: { username: string; password: string }) => {
    const port = await freePort();
    const child = spawn(PYTHON!, [path.join(ROOT, 'examples', 'prediction-api', 'app.py')], {
      env: { PATH: `${path.dirname(PYTHON!)}:/usr/bin:/bin`, HOME: os.tmpdir(), MLFLOW_DISABLE_TELEMETRY: 'true', PORT: String(port), MLFLOW_TRACKING_URI: pod!.server.url, MLFLOW_TRACKING_USERNAME: user.username, MLFLOW_TRACKING_PASSWORD: user.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    let code: number | undefined;
    void exited.then((c) => (code = c));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (code !== undefined) return { port, output: () => output, code, stop: async () => undefined };
      const up = await httpRequest(port, '/health').catch(() => undefined);
      if (up?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the prediction API did not start; output:\n${output}`);
      await sleep(200);
    }
    return { port, output: () => output, code, stop: async () => void (child.kill('SIGKILL'), await exited) };
  };

  test('the example prediction API, as client iris-predictor with its configured grants: predicts as v1 and logs inputs, output, inference time and version', async () => {
    const client = configFrom('dev', doc()).clients.find((c) => c.name === 'iris-predictor')!;
    const user = { username: client.user.username, password: 'predictor-password-1' };
    await grantLikeTheMigrationJob(pod!.server.url, admin, { ...user, ...client.grants });
    const t = Date.now();
    const api = await predictionApi(user);
    timings.push(`prediction API start ${Date.now() - t} ms`);
    try {
      expect(api.output()).toContain('prediction-api: iris@champion → version 1, listening on');
      const body = JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] });
      const r = await httpRequest(api.port, '/predict', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }, body });
      expect(r.status).toBe(200);
      const answer = JSON.parse(r.body);
      expect([answer.prediction, answer.model_version]).toEqual([0, '1']);
      // Read back as the admin: the run the API logged in iris-predictions.
      const run = await (await fetch(`${pod!.server.url}/api/2.0/mlflow/runs/get?run_id=${answer.run_id}`, { headers: { Authorization: basicAuth(admin.username, admin.password) } })).json();
      const experiment = await (await fetch(`${pod!.server.url}/api/2.0/mlflow/experiments/get?experiment_id=${run.run.info.experiment_id}`, { headers: { Authorization: basicAuth(admin.username, admin.password) } })).json();
      expect(experiment.experiment.name).toBe('iris-predictions');
      const byKey = (xs: Array<{ key: string; value: unknown }>) => Object.fromEntries(xs.map((x) => [x.key, x.value]));
      expect(byKey(run.run.data.params)).toEqual({ inputs: '[5.1, 3.5, 1.4, 0.2]' });
      const metrics = byKey(run.run.data.metrics) as Record<string, number>;
      expect(metrics.prediction).toBe(0);
      expect(metrics.inference_time_ms).toBeGreaterThan(0);
      expect(byKey(run.run.data.tags)).toMatchObject({ model_name: 'iris', model_alias: 'champion', model_version: '1', 'mlflow.user': 'iris-predictor' });
    } finally {
      await api.stop();
    }
  }, 180_000);

  test('a client without permission on the model: the API does not start, MLflow answers 403', async () => {
    const user = { username: 'no-grants', password: 'no-grants-password-1' };
    await grantLikeTheMigrationJob(pod!.server.url, admin, { ...user, experiments: [], models: [] });
    const api = await predictionApi(user);
    expect(api.code).not.toBe(0);
    expect(api.output()).toContain("/api/2.0/mlflow/registered-models/alias failed with error code 403 != 200. Response body: 'Permission denied'");
  }, 180_000);

  test('the serving user is serve-iris, read from the Secret its ExternalSecret renders', () => {
    expect(servingUser.username).toBe('serve-iris');
  });

  test('a model not registered yet (its grant made, as the Job makes it), an alias not set, a pinned version without its grant: the container exits 1 with what to check', async () => {
    await grantLikeTheMigrationJob(pod!.server.url, admin, { ...servingUser, experiments: [], models: [{ name: 'not-registered', permission: 'READ' }] });
    const r = await runToCompletion(await servingContainer(0, (s) => (s.model = 'not-registered')), 120_000);
    expect(r.code).toBe(1);
    expect(r.output).toContain(
      "serve: ERROR: user 'serve-iris' may not read registered model 'not-registered' (403, which MLflow also answers for a model that does not exist): " +
        'check that the model is registered and named in serving[].model, and that the migration Job ran (it grants the serving user READ on the model)\n',
    );
    // A registered model without that alias.
    await grantLikeTheMigrationJob(pod!.server.url, admin, { ...servingUser, experiments: [], models: [{ name: 'iris', permission: 'READ' }] });
    const alias = await runToCompletion(await servingContainer(0, (s) => (s.alias = 'no-such-alias')), 120_000);
    expect(alias.code).toBe(1);
    expect(alias.output).toContain(`serve: ERROR: cannot resolve iris@no-such-alias at ${pod!.server.url}: INVALID_PARAMETER_VALUE: Registered model alias no-such-alias not found.\n`);
    // A pinned version whose experiment is not granted: no promotion to run, the Job grants it at each sync.
    const pinned = await runToCompletion(
      await servingContainer(0, (s) => {
        delete s.alias;
        delete s.promotion;
        s.version = 2;
      }),
      120_000,
    );
    expect(pinned.code).toBe(1);
    expect(pinned.output).toContain('serve: iris (pinned) → version 2 (run ');
    expect(pinned.output).toContain(
      `serve: ERROR: user 'serve-iris' may not read experiment ${experiments['iris-challengers']}, where iris version 2 was logged (403 from the artifact proxy): ` +
        'the sync grants the serving user READ on the experiment of the version it serves; check that the migration Job of the last sync ran\n',
    );
  }, 180_000);

  test('without READ on the experiment of the version, the container exits 1 naming user, experiment and promotion', async () => {
    // What the Job grants when @champion → v1 in iris, except the experiment: READ on the model only.
    await grantLikeTheMigrationJob(pod!.server.url, admin, { ...servingUser, experiments: [], models: [{ name: 'iris', permission: 'READ' }] });
    const r = await runToCompletion(await servingContainer(0), 120_000);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`serve: iris@champion → version 1 (run `);
    expect(r.output).toContain(
      `serve: ERROR: user 'serve-iris' may not read experiment ${experiments['iris']}, where iris version 1 was logged (403 from the artifact proxy): ` +
        'the sync grants the serving user READ on the experiment of the version it serves; run `npm run promote -- dev iris`, review and merge, ' +
        'and the next sync grants it before the pods roll',
    );
  }, 180_000);

  test('with the grants, it serves v1, logs it, and stops cleanly on SIGTERM; the alias moved to v2 (another experiment) fails until the promotion grants it, then v2 answers', async () => {
    await grantLikeTheMigrationJob(pod!.server.url, admin, {
      ...servingUser,
      experiments: [{ name: 'iris', permission: 'READ' }],
      models: [{ name: 'iris', permission: 'READ' }],
    });
    let t = Date.now();
    const v1 = await startContainerServer(await servingContainer(0));
    timings.push(`serving container start to /ping (v1) ${Date.now() - t} ms`);
    try {
      expect(v1.running.output()).toMatch(new RegExp(`serve: iris@champion → version 1 \\(run [0-9a-f]{32}, experiment ${experiments['iris']}\\)`));
      const answer = await httpRequest(v1.port, '/invocations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: SAMPLE });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ predictions: [0] });
      // The kubelet's SIGTERM reaches the scoring server through the wrapper; the container exits 0.
      v1.running.signal('SIGTERM');
      expect(await v1.running.exited).toBe(0);
    } finally {
      await v1.stop();
    }

    // Someone moves the alias in the registry to v2, logged in iris-challengers.
    const a = basicAuth(admin.username, admin.password);
    const moved = await fetch(`${pod!.server.url}/api/2.0/mlflow/registered-models/alias`, {
      method: 'POST',
      headers: { Authorization: a, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'iris', alias: 'champion', version: '2' }),
    });
    expect(moved.status).toBe(200);

    // A pod that restarts before the promotion's sync resolves v2 and fails on iris-challengers with the message.
    const early = await runToCompletion(await servingContainer(0), 120_000);
    expect(early.code).toBe(1);
    expect(early.output).toContain(`may not read experiment ${experiments['iris-challengers']}, where iris version 2 was logged`);

    // The promotion: the raised count changes the pod template (the rollout); the sync's Job grants READ on iris-challengers first.
    const promoted = await servingContainer(1);
    expect(podAnnotations(0)[PROMOTION_ANNOTATION]).toBe('0');
    expect(podAnnotations(1)[PROMOTION_ANNOTATION]).toBe('1');
    await grantLikeTheMigrationJob(pod!.server.url, admin, {
      ...servingUser,
      experiments: [{ name: 'iris-challengers', permission: 'READ' }],
      models: [{ name: 'iris', permission: 'READ' }],
    });
    t = Date.now();
    const v2 = await startContainerServer(promoted);
    timings.push(`serving container start to /ping (v2) ${Date.now() - t} ms`);
    try {
      expect(v2.running.output()).toMatch(new RegExp(`serve: iris@champion → version 2 \\(run [0-9a-f]{32}, experiment ${experiments['iris-challengers']}\\)`));
      const answer = await httpRequest(v2.port, '/invocations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: SAMPLE });
      expect(JSON.parse(answer.body)).toEqual({ predictions: [42] });
    } finally {
      await v2.stop();
    }
  }, 300_000);
});

/** The pod template annotations of serve-iris in dev's render with `promotion`. */
function podAnnotations(promotion: number): Record<string, string> {
  const d = rawConfig('dev');
  d.serving[0].promotion = promotion;
  const deployment = renderPod(configFrom('dev', d)).manifests.find((m: any) => m.kind === 'Deployment' && m.metadata.name === 'serve-iris') as any;
  return deployment.spec.template.metadata.annotations;
}
