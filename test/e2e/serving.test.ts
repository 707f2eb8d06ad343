/**
 * The clients, the migration Job's users and grants and a model served by registry alias, together, on the REAL MLflow
 * release of the image: dev as synthesized (tools/pod-harness/: the migration Job, the server and the `serve-iris`
 * Deployment's container with their exact argv, env and files, Secrets rendered from the ExternalSecret templates, on
 * the test MariaDB), with two changes stated: `server.workers: 1`, and one more client, `reports` (READ on the
 * experiment `iris-predictions` only, no grant on the model). dev ships `auth.defaultPermission: NO_PERMISSIONS`, so
 * only a grant opens a door. Every user, password and grant comes from the migration Job's runs of the rendered
 * config: no step here creates a user or grants anything, and none uses the admin's credentials.
 *
 * The story, in order (each test continues the state the previous one left):
 * 1. The Job's first run creates the users and the experiments named in grants; the model does not exist yet, and a
 *    serving pod says so.
 * 2. The training client `iris-trainer`, with its own credentials, registers v1 (logged in `iris`) and v2 (logged in
 *    `iris-challengers`, an experiment it creates) of `iris` and points `@champion` at v1.
 * 3. The serving pod started before a sync saw the model fails naming `iris`; the next sync's Job grants it; it
 *    serves v1.
 * 4. The example prediction API's Deployment as client `iris-predictor`'s pod, with its client Secret: predicts as v1
 *    and logs it; the client `reports` reads that back, and gets 403 on the model.
 * 5. The trainer moves `@champion` to v2: a restarted serving pod fails until the promotion (`npm run promote`'s
 *    render, its Job) grants READ on `iris-challengers` and takes back `iris`; then it serves v2.
 * 6. The prediction API, which loads the model itself, cannot load v2 until its own config grants it READ on
 *    `iris-challengers`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as yaml from 'js-yaml';
import * as os from 'os';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import { PROMOTION_ANNOTATION } from '../../lib/names';
import { promoteText } from '../../tools/promote';
import { CONFIG_DIR, ROOT, configFrom, find, render } from '../../tools/environments';
import { PodRoot, prepareContainer, renderPod, serviceUrls, type PreparedContainer } from '../../tools/pod-harness/container';
import { basicAuth, httpRequest } from '../../tools/pod-harness/http';
import { migrationSelector, startContainerServer, startPod, type StartedPod } from '../../tools/pod-harness/pod';
import { runToCompletion } from '../../tools/pod-harness/process';
import { rewrite, rewriteRules, type AppliedRewrite } from '../../tools/pod-harness/rewrites';
import { renderSecrets } from '../../tools/pod-harness/secrets';
import { mlflowPython, mlflowVersion } from '../../tools/pod-harness/test-servers';

const PYTHON = mlflowPython();
const SKIP = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1' || process.env.MLFLOW_GITOPS_SKIP_MARIADB === '1';
const SERVE = { kind: 'Deployment', name: 'serve-iris', container: 'serve' } as const;
const API = { kind: 'Deployment', name: 'prediction-api', container: 'api' } as const;
const EXAMPLE = path.join(ROOT, 'examples', 'prediction-api');
const SAMPLE = JSON.stringify({ inputs: [[5.1, 3.5, 1.4, 0.2]] });
const DEV_YAML = path.join(CONFIG_DIR, 'dev.yaml');

/** The client added to dev for this suite: it may read the predictions log, and nothing of the model. */
const REPORTS = {
  name: 'reports',
  namespace: 'ml-reports',
  passwordSecret: 'mlflow-dev-client-reports-password',
  serviceAccountEmail: 'mlflow-dev-c-reports@example-mlflow-dev.iam.gserviceaccount.com',
  permissions: { experiments: { 'iris-predictions': 'READ' } },
};

/** dev from `text` (config/dev.yaml's, or `npm run promote`'s edit of it) with the suite's stated changes, then `change`. */
function dev(text = fs.readFileSync(DEV_YAML, 'utf8'), change: (doc: any) => void = () => undefined): Server {
  const doc = yaml.load(text) as any;
  doc.server.workers = 1;
  doc.clients.push(REPORTS);
  change(doc);
  return configFrom('dev', doc);
}

/** dev as `npm run promote -- dev iris` leaves it (config/dev.yaml with `serving[iris].promotion` raised), then `change`. */
function promoted(change: (doc: any) => void = () => undefined): Server {
  const r = promoteText('config/dev.yaml', fs.readFileSync(DEV_YAML, 'utf8'), 'iris');
  if (!r.ok) throw new Error(r.problem);
  return dev(r.text, change);
}

type User = { username: string; password: string };

(PYTHON && !SKIP ? describe : describe.skip)('clients, the Job\'s grants and iris@champion served, together on the real MLflow server (dev as synthesized)', () => {
  let pod: StartedPod;
  let model: { experiments: Record<string, string>; versions: Record<string, { experimentId: string; artifactLocation: string }> };
  const roots: PodRoot[] = [];
  const timings: string[] = [];
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await f();
    } finally {
      timings.push(`${what} ${Date.now() - t} ms`);
    }
  };

  /**
   * A client's environment as its pod gets it: the Secret its ExternalSecret renders in the client's namespace
   * (dist/dev/clients/mlflow/<client>/), the in-cluster tracking URI rewritten to the started server by the
   * harness's `service-address` rule, the only rewrite.
   */
  const clientEnv = (client: string): Record<string, string> => {
    const manifests = render(pod.rendered.config).byPath[`clients/mlflow/${client}`];
    const secret = renderSecrets(manifests, pod.secretValues).get(`mlflow-dev-${client}`);
    if (!secret) throw new Error(`dev renders no Secret mlflow-dev-${client} for client ${client}`);
    const rules = rewriteRules({ ports: new Map(), gcsRoot: '', mounts: new Map(), service: { urls: serviceUrls(pod.rendered.manifests), to: pod.server.url } });
    const log: AppliedRewrite[] = [];
    const env = Object.fromEntries(Object.entries(secret).map(([k, v]) => [k, rewrite(rules, v, `Secret/mlflow-dev-${client}[${k}]`, log, ['service-address'])]));
    expect(log.map((r) => `${r.where}: ${r.from} → ${r.to}`)).toEqual([`Secret/mlflow-dev-${client}[MLFLOW_TRACKING_URI]: http://mlflow.mlflow.svc.cluster.local:5000 → ${pod.server.url}`]);
    expect(Object.keys(env).sort()).toEqual(['MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME']);
    return env;
  };
  const userOf = (env: Record<string, string>): User => ({ username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD });
  const processEnv = (env: Record<string, string>) => ({ PATH: `${path.dirname(PYTHON!)}:/usr/bin:/bin`, HOME: os.tmpdir(), MLFLOW_DISABLE_TELEMETRY: 'true', PYTHONDONTWRITEBYTECODE: '1', ...env });

  /** A REST call to the server as `user`. */
  const as = (user: User) => async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${pod.server.url}${p}`, {
      method,
      headers: { Authorization: basicAuth(user.username, user.password), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, json: () => JSON.parse(text) };
  };

  /** The serving user, from the Secret `serve-iris-auth` its ExternalSecret renders in the server's namespace. */
  const servingUser = (): User => {
    const s = renderSecrets(pod.rendered.manifests, pod.secretValues).get('serve-iris-auth');
    if (!s) throw new Error('dev renders no serve-iris-auth Secret');
    return { username: s.username, password: s.password };
  };
  /** Status of the version's MLmodel through the server's artifact proxy, as the serving user. */
  const servingDownload = async (version: string) => {
    const artifactPath = model.versions[version].artifactLocation.replace(/^mlflow-artifacts:\//, '');
    return (await as(servingUser())('GET', `/api/2.0/mlflow-artifacts/artifacts/${artifactPath}/MLmodel`)).status;
  };

  /** The migration Job of `config`'s render, run against the pod's database: the Job of a sync. */
  const syncJob = async (config: Server) => {
    const rendered = renderPod(config);
    const root = new PodRoot('serving-job');
    roots.push(root);
    const prepared = await prepareContainer(rendered, migrationSelector(rendered), { pod: root, secretValues: pod.secretValues, database: pod.database!.name });
    const r = await runToCompletion(prepared, 120_000);
    if (r.code !== 0) throw new Error(`migration exited ${r.code}:\n${r.output}`);
    return r.output;
  };

  /** The serving container of `config`'s render, as a fresh pod of that Deployment would run it. */
  const servingContainer = async (config: Server): Promise<PreparedContainer> => {
    const root = new PodRoot('serve-iris');
    roots.push(root);
    const prepared = await prepareContainer(renderPod(config), SERVE, { pod: root, secretValues: pod.secretValues, serverUrl: pod.server.url });
    // The Deployment waits SERVE_WAIT_SECONDS for a grant a concurrent sync is making (test/scripts/serve.test.ts);
    // here every grant is made before the container starts, so a refusal is final at once.
    expect(prepared.env.SERVE_WAIT_SECONDS).toBe('180');
    return { ...prepared, env: { ...prepared.env, SERVE_WAIT_SECONDS: '0' } };
  };
  const servingFails = async (config: Server) => {
    const r = await timed('serving container start to exit 1', async () => runToCompletion(await servingContainer(config), 120_000));
    expect(r.code).toBe(1);
    return r.output;
  };
  /** Starts the serving container of `config`; checks its log line and its answer; SIGTERM; exit 0. */
  const servesAs = async (config: Server, version: string, prediction: number) => {
    const prepared = await servingContainer(config);
    const started = await timed(`serving container start to /ping (v${version})`, () => startContainerServer(prepared));
    try {
      expect(started.running.output()).toMatch(
        new RegExp(`serve: iris@champion → version ${version} \\(run [0-9a-f]{32}, experiment ${model.versions[version].experimentId}\\)`),
      );
      const answer = await httpRequest(started.port, '/invocations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: SAMPLE });
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({ predictions: [prediction] });
      // The kubelet's SIGTERM reaches the scoring server through the wrapper; the container exits 0.
      started.running.signal('SIGTERM');
      expect(await started.running.exited).toBe(0);
    } finally {
      await started.stop();
    }
  };

  /**
   * The example prediction API as `client`'s team deploys it: examples/prediction-api/deployment.yaml (for another
   * client than `iris-predictor`, with that client's namespace and Secret name, the one line its comment names), app.py
   * in the ConfigMap `kubectl create configmap` makes of it, beside the client's folder (dist/dev/clients/mlflow/<client>/,
   * whose ExternalSecret renders the Secret the container takes by envFrom), through the harness.
   */
  const predictionApiPod = async (client: string): Promise<PreparedContainer> => {
    const deployment = yaml.load(fs.readFileSync(path.join(EXAMPLE, 'deployment.yaml'), 'utf8')) as any;
    const namespace = pod.rendered.config.clients.find((c) => c.name === client)!.namespace;
    if (client !== 'iris-predictor') {
      deployment.metadata.namespace = namespace;
      deployment.spec.template.spec.containers[0].envFrom[0].secretRef.name = `mlflow-dev-${client}`;
    }
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'prediction-api', namespace }, data: { 'app.py': fs.readFileSync(path.join(EXAMPLE, 'app.py'), 'utf8') } };
    const manifests = [...pod.rendered.manifests, ...render(pod.rendered.config).byPath[`clients/mlflow/${client}`], deployment, configMap];
    const root = new PodRoot(`api-${client}`);
    roots.push(root);
    const prepared = await prepareContainer({ config: pod.rendered.config, manifests }, API, { pod: root, secretValues: pod.secretValues, serverUrl: pod.server.url });
    // What differs from the pod besides the mount paths: the Secret's in-cluster URI and the listening port.
    expect(prepared.rewrites.filter((r) => r.rule !== 'mount-path').map((r) => `${r.where}: ${r.from} → ${r.to}`)).toEqual([
      `env MLFLOW_TRACKING_URI (envFrom Secret/mlflow-dev-${client}): http://mlflow.mlflow.svc.cluster.local:5000 → ${pod.server.url}`,
      `env PORT: 8000 → ${prepared.ports.get(8000)}`,
    ]);
    expect(prepared.env.MLFLOW_TRACKING_USERNAME).toBe(client);
    return prepared;
  };
  /** The prediction API pod of `client`, up (its readiness probe on /health passed). */
  const predictionApi = async (client: string) => {
    const prepared = await predictionApiPod(client);
    return timed('prediction API start to /health', () => startContainerServer(prepared));
  };
  /** The prediction API pod of `client`, failing at start: its output. */
  const predictionApiFails = async (client: string) => {
    const prepared = await predictionApiPod(client);
    const r = await timed('prediction API start to exit 1', () => runToCompletion(prepared, 120_000));
    expect(r.code).toBe(1);
    return r.output;
  };

  /** One prediction from the API on `port`: its answer (prediction, model_version, run_id). */
  const predict = async (port: number) => {
    const body = JSON.stringify({ features: [5.1, 3.5, 1.4, 0.2] });
    const r = await httpRequest(port, '/predict', { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) }, body });
    expect(r.status).toBe(200);
    return JSON.parse(r.body);
  };

  beforeAll(async () => {
    console.log(`serving.test.ts: real MLflow ${mlflowVersion()} (${PYTHON})`);
    pod = await timed('server up (first migration Job + start)', () => startPod(dev(), { area: 'serving' }));
  }, 300_000);

  afterAll(async () => {
    console.log(`serving.test.ts timings:\n  ${timings.join('\n  ')}`);
    await pod?.stop();
    for (const r of roots) r.remove();
  }, 60_000);

  test('the first sync: dev ships NO_PERMISSIONS; the Job creates every client and serving user and the experiments named in grants; the model does not exist yet: logged, exit 0', async () => {
    expect(pod.rendered.config.auth?.defaultPermission).toBe('NO_PERMISSIONS');
    expect(pod.migration.code).toBe(0);
    const out = pod.migration.output;
    for (const line of [
      "migrate: client user 'iris-trainer': created (not admin)",
      "migrate: client user 'iris-predictor': created (not admin)",
      "migrate: client user 'reports': created (not admin)",
      "migrate: serving user 'serve-iris': created (not admin)",
      "migrate: serving user 'serve-iris': models:/iris@champion does not exist yet",
    ]) {
      expect(out).toContain(line);
    }
    expect(out).toMatch(/^migrate: experiment 'iris' did not exist: created \(id \d+, /m);
    expect(out).toMatch(/^migrate: experiment 'iris-predictions' did not exist: created \(id \d+, /m);
    // A serving pod that starts now: READ on a model that does not exist is a 403, and it says what to check.
    expect(await servingFails(dev())).toContain(
      "serve: ERROR: user 'serve-iris' may not read registered model 'iris' (403, which MLflow also answers for a model that does not exist): " +
        'check that the model is registered and named in serving[].model, and that the migration Job ran (it grants the serving user READ on the model)\n',
    );
  }, 180_000);

  test('the training client iris-trainer, with its own credentials: v1 in iris, v2 in iris-challengers (its own experiment), @champion → v1', async () => {
    const env = clientEnv('iris-trainer');
    expect(userOf(env).username).toBe('iris-trainer');
    const r = await timed('training client: train and register v1, v2, set @champion', async () =>
      spawnSync(PYTHON!, [path.join(__dirname, 'serving_models.py')], { encoding: 'utf8', timeout: 180_000, env: processEnv(env) }),
    );
    if (r.status !== 0) throw new Error(`serving_models.py exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    model = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(Object.keys(model.versions)).toEqual(['1', '2']);
    expect(model.versions['1'].experimentId).toBe(model.experiments.iris);
    expect(model.versions['2'].experimentId).toBe(model.experiments['iris-challengers']);
    const champion = await as(userOf(env))('GET', '/api/2.0/mlflow/registered-models/alias?name=iris&alias=champion');
    expect(champion.json().model_version.version).toBe('1');
  }, 240_000);

  test('the serving pod started before a sync saw the model fails naming experiment iris; the next sync grants it; it serves v1 and logs v1', async () => {
    expect(await servingFails(dev())).toContain(
      `serve: ERROR: user 'serve-iris' may not read experiment ${model.experiments.iris}, where iris version 1 was logged (403 from the artifact proxy): ` +
        'the sync grants the serving user READ on the experiment of the version it serves; run `npm run promote -- dev iris`, review and merge, ' +
        'and the next sync grants it before the pods roll\n',
    );
    const out = await timed('migration Job (sync)', () => pod.migrateAgain());
    expect(out.code).toBe(0);
    expect(out.output).toMatch(
      new RegExp(`^migrate: serving user 'serve-iris': iris @champion -> version 1, logged model m-[0-9a-f]+, experiment 'iris' \\(id ${model.experiments.iris}\\)$`, 'm'),
    );
    expect(out.output).toMatch(new RegExp(`^migrate: granted READ to 'serve-iris' on experiment 'iris' \\(id ${model.experiments.iris}\\)$`, 'm'));
    // MLflow made the trainer MANAGE on the model it created, on the very grant the config names EDIT: the config wins.
    expect(out.output).toContain("migrate: set 'iris-trainer' on model 'iris' to EDIT (was MANAGE)\n");
    await servesAs(dev(), '1', 0);
  }, 240_000);

  test('with v1 granted: an alias not set and a pinned version whose experiment is not granted exit 1 with what to check', async () => {
    expect(await servingFails(dev(undefined, (d) => (d.serving[0].alias = 'no-such-alias')))).toContain(
      `serve: ERROR: iris@no-such-alias does not exist at ${pod.server.url}: register the model (and set the alias), then promote it\n`,
    );
    const pinned = await servingFails(
      dev(undefined, (d) => {
        delete d.serving[0].alias;
        d.serving[0].version = 2;
      }),
    );
    expect(pinned).toContain('serve: iris (pinned) → version 2 (run ');
    expect(pinned).toContain(
      `serve: ERROR: user 'serve-iris' may not read experiment ${model.experiments['iris-challengers']}, where iris version 2 was logged (403 from the artifact proxy): ` +
        'the sync grants the serving user READ on the experiment of the version it serves; check that the migration Job of the last sync ran\n',
    );
  }, 180_000);

  describe('the example prediction API\'s Deployment as a client\'s pod, with the Secret its client ExternalSecret renders by envFrom', () => {
    test('as iris-predictor with the grants the Job gave it: predicts as v1 and logs inputs, output, inference time and version; reports reads them back', async () => {
      const api = await predictionApi('iris-predictor');
      try {
        expect(api.running.output()).toContain('prediction-api: iris@champion → version 1, listening on');
        const answer = await predict(api.port);
        expect([answer.prediction, answer.model_version]).toEqual([0, '1']);
        // Read back as the client `reports` (READ on iris-predictions): the run the API logged there.
        const reports = as(userOf(clientEnv('reports')));
        const run = (await reports('GET', `/api/2.0/mlflow/runs/get?run_id=${answer.run_id}`)).json().run;
        const experiment = await reports('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${run.info.experiment_id}`);
        expect(experiment.json().experiment.name).toBe('iris-predictions');
        const byKey = (xs: Array<{ key: string; value: unknown }>) => Object.fromEntries(xs.map((x) => [x.key, x.value]));
        expect(byKey(run.data.params)).toEqual({ inputs: '[5.1, 3.5, 1.4, 0.2]' });
        const metrics = byKey(run.data.metrics) as Record<string, number>;
        expect(metrics.prediction).toBe(0);
        expect(metrics.inference_time_ms).toBeGreaterThan(0);
        expect(byKey(run.data.tags)).toMatchObject({ model_name: 'iris', model_alias: 'champion', model_version: '1', 'mlflow.user': 'iris-predictor' });
      } finally {
        await api.stop();
      }
    }, 180_000);

    test('as reports, a client the Job created without a grant on the model: the API does not start, MLflow answers 403', async () => {
      expect(await predictionApiFails('reports')).toContain("/api/2.0/mlflow/registered-models/alias failed with error code 403 != 200. Response body: 'Permission denied'");
    }, 180_000);
  });

  describe('@champion moved to v2, logged in iris-challengers', () => {
    beforeAll(async () => {
      // The training client moves the alias in the registry (EDIT on the model): no config change yet.
      const moved = await as(userOf(clientEnv('iris-trainer')))('POST', '/api/2.0/mlflow/registered-models/alias', { name: 'iris', alias: 'champion', version: '2' });
      expect(moved.status).toBe(200);
    });

    test('a serving pod restarted before the promotion resolves v2 and fails naming iris-challengers and the promotion', async () => {
      const out = await servingFails(dev());
      expect(out).toContain('serve: iris@champion → version 2 (run ');
      expect(out).toContain(
        `serve: ERROR: user 'serve-iris' may not read experiment ${model.experiments['iris-challengers']}, where iris version 2 was logged (403 from the artifact proxy): ` +
          'the sync grants the serving user READ on the experiment of the version it serves; run `npm run promote -- dev iris`, review and merge, ' +
          'and the next sync grants it before the pods roll\n',
      );
    }, 180_000);

    test('the promotion: npm run promote\'s render rolls the pods (annotation), its Job grants iris-challengers and takes back iris; the new pod serves v2', async () => {
      const config = promoted();
      expect([dev().serving[0].target, config.serving[0].target]).toEqual([{ alias: 'champion', promotion: 0 }, { alias: 'champion', promotion: 1 }]);
      const template = (c: Server) => find(renderPod(c).manifests, 'Deployment', 'serve-iris').spec.template.metadata.annotations[PROMOTION_ANNOTATION];
      expect([template(dev()), template(config)]).toEqual(['0', '1']);

      const out = await timed('migration Job (promotion sync)', () => syncJob(config));
      expect(out).toMatch(new RegExp(`^migrate: granted READ to 'serve-iris' on experiment 'iris-challengers' \\(id ${model.experiments['iris-challengers']}\\)$`, 'm'));
      expect(out).toMatch(new RegExp(`^migrate: revoked READ of 'serve-iris' on experiment 'iris' \\(id ${model.experiments.iris}\\) \\(no longer configured\\)$`, 'm'));
      await servesAs(config, '2', 42);
      // What the serving user notices: v2's files download, v1's no longer (a rollback is a promotion too).
      expect([await servingDownload('2'), await servingDownload('1')]).toEqual([200, 403]);
    }, 240_000);

    test('iris-predictor loads the model itself: with READ on experiment iris only it cannot load v2 (the promotion grants the serving user, not clients); with READ on iris-challengers from its config and the Job, it predicts as v2', async () => {
      expect(await predictionApiFails('iris-predictor')).toContain(
        `prediction-api: ERROR: user 'iris-predictor' may not read experiment ${model.experiments['iris-challengers']}, where iris version 2 (@champion) was logged ` +
          '(403 from the artifact proxy): a client that loads the model itself needs READ on the experiment of every version the alias may point at, ' +
          'or it calls the served model instead\n',
      );
      // The first remedy, as config: READ on iris-challengers for the client, and the sync's Job grants it.
      const granted = promoted((d) => (d.clients.find((c: any) => c.name === 'iris-predictor').permissions.experiments['iris-challengers'] = 'READ'));
      const out = await timed('migration Job (client grant)', () => syncJob(granted));
      expect(out).toMatch(new RegExp(`^migrate: granted READ to 'iris-predictor' on experiment 'iris-challengers' \\(id ${model.experiments['iris-challengers']}\\)$`, 'm'));
      const v2 = await predictionApi('iris-predictor');
      try {
        expect(v2.running.output()).toContain('prediction-api: iris@champion → version 2, listening on');
        const answer = await predict(v2.port);
        expect([answer.prediction, answer.model_version]).toEqual([42, '2']);
      } finally {
        await v2.stop();
      }
    }, 240_000);
  });
});
