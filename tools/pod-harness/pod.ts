/**
 * Runs a container of the SYNTHESIZED objects for real: its exact argv (`command` + `args`, `$(VAR)` expanded as the
 * kubelet does) and env (`value`, `secretKeyRef`, `configMapKeyRef`, `fieldRef` of the pod's name/namespace), with its
 * ConfigMap and Secret volumes written as files and its emptyDir/PVC volumes as directories. Secrets are rendered from
 * the ExternalSecret templates (ESO template engine v2) with test values standing in for GCP Secret Manager.
 *
 * The parts, by concern: the test servers (./test-servers.ts), Secrets (./secrets.ts), what differs from the pod
 * (./rewrites.ts), the container as rendered (./container.ts), processes (./process.ts), HTTP and probes (./http.ts).
 */
import type { Server } from '../../lib/config/model';
import { PodRoot, prepareContainer, renderPod, type ContainerSelector, type PrepareOptions, type PreparedContainer, type RenderedPod } from './container';
import { probeOnce, probesOf } from './http';
import { runContainer, runToCompletion, sleep, type RunningContainer } from './process';
import { testSecretValues, type SecretManagerValues, type TestCredentials } from './secrets';
import { cloudSqlEngine, createTestDatabase, setCloudSqlFlags } from './test-servers';

/** A running server container and how to reach it. */
export interface StartedServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly running: RunningContainer;
  /** Milliseconds from spawn until the startup probe passed. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/**
 * Starts a prepared server container and waits until its startup probe passes (polling every 100 ms, bounded by
 * the probe's own `failureThreshold × periodSeconds`). Fails with the output when the process exits first.
 */
export async function startContainerServer(p: PreparedContainer): Promise<StartedServer> {
  const started = Date.now();
  const running = runContainer(p);
  const startup = probesOf(p).find((x) => x.kind === 'startupProbe') ?? probesOf(p)[0];
  if (!startup) throw new Error(`${p.selector.container} has no httpGet probe to wait for`);
  const deadline = started + startup.failureThreshold * startup.periodSeconds * 1000;
  let exitedCode: number | undefined;
  void running.exited.then((c) => (exitedCode = c));
  for (;;) {
    if (exitedCode !== undefined) throw new Error(`${p.selector.container} exited ${exitedCode} before its startup probe passed; output:\n${running.output()}`);
    if ((await probeOnce(startup)).ok) break;
    if (Date.now() > deadline) {
      await running.stop();
      throw new Error(`startup probe ${startup.path} did not pass within ${deadline - started} ms; output:\n${running.output()}`);
    }
    await sleep(100);
  }
  const port = startup.port;
  return { url: `http://127.0.0.1:${port}`, port, pid: running.pid, running, startMs: Date.now() - started, stop: () => running.stop() };
}

/** What {@link startPod} needs besides the environment. */
export interface StartPodOptions {
  /** Secret Manager test values; default {@link testSecretValues} of the config. */
  readonly secrets?: { values: SecretManagerValues; credentials: TestCredentials };
  /** Area for the test database name (`mlflow_<area>_<random>`). @default 'harness' */
  readonly area?: string;
  readonly secretFileRewrite?: PrepareOptions['secretFileRewrite'];
  /**
   * Use this (already created) database instead of a fresh one; the caller drops it.
   * @default - a fresh `mlflow_<area>_<random>`, dropped by `stop()`
   */
  readonly database?: { readonly name: string; drop(): void };
  /**
   * Run the migration container first.
   * @default true
   */
  readonly migrate?: boolean;
}

/** A whole environment as it runs: migration first (Job, or init container), then the server. */
export interface StartedPod {
  readonly rendered: RenderedPod;
  readonly server: StartedServer;
  readonly serverContainer: PreparedContainer;
  readonly credentials: TestCredentials;
  readonly secretValues: SecretManagerValues;
  readonly migration: { readonly code: number; readonly output: string; readonly ms: number };
  readonly database?: { readonly name: string; drop(): void };
  readonly podRoot: PodRoot;
  /** Runs the migration container once more (a fresh pod for the Job; the same pod's volumes for an init container). */
  migrateAgain(): Promise<{ code: number; output: string; ms: number }>;
  /** Stops the server, drops the database, removes the pod's files. */
  stop(): Promise<void>;
}

/** Where the migration runs: the Job's container if there is a Job, else the server pod's init container `migrate`. */
export function migrationSelector(rendered: RenderedPod): ContainerSelector {
  return rendered.manifests.some((m) => m.kind === 'Job' && m.metadata.name === 'mlflow-migrate')
    ? { kind: 'Job', name: 'mlflow-migrate', container: 'migrate' }
    : { kind: 'Deployment', name: 'mlflow', container: 'migrate' };
}

export const SERVER: ContainerSelector = { kind: 'Deployment', name: 'mlflow', container: 'mlflow' };

/** Runs the migration of an environment then its server, as synthesized; `stop()` undoes everything. */
export async function startPod(env: string | Server, opts: StartPodOptions = {}): Promise<StartedPod> {
  const rendered = renderPod(env);
  const config = rendered.config;
  const secrets = opts.secrets ?? testSecretValues(config);
  const engine = cloudSqlEngine(config);
  if (engine === 'mysql') setCloudSqlFlags();
  const database = engine ? (opts.database ?? createTestDatabase(opts.area ?? 'harness', engine)) : undefined;
  const podRoot = new PodRoot(config.name);
  const jobRoots: PodRoot[] = [];
  let server: StartedServer | undefined;
  try {
    const migSel = migrationSelector(rendered);
    const migrateOnce = async () => {
      // A Job's pod is a new pod each time; an init container runs in the server's pod (its volumes).
      const root = migSel.kind === 'Job' ? new PodRoot(`${config.name}-job`) : podRoot;
      if (root !== podRoot) jobRoots.push(root);
      const prepared = await prepareContainer(rendered, migSel, { pod: root, secretValues: secrets.values, database: database?.name });
      return runToCompletion(prepared, 120_000);
    };
    const migration = (opts.migrate ?? true) ? await migrateOnce() : { code: 0, output: '(migration not run: StartPodOptions.migrate false)', ms: 0 };
    if (migration.code !== 0) throw new Error(`migration exited ${migration.code}; output:\n${migration.output}`);
    const serverContainer = await prepareContainer(rendered, SERVER, {
      pod: podRoot,
      secretValues: secrets.values,
      database: database?.name,
      secretFileRewrite: opts.secretFileRewrite,
    });
    server = await startContainerServer(serverContainer);
    const s = server;
    return {
      rendered,
      server: s,
      serverContainer,
      credentials: secrets.credentials,
      secretValues: secrets.values,
      migration,
      database,
      podRoot,
      migrateAgain: migrateOnce,
      stop: async () => {
        await s.stop();
        cleanup();
      },
    };
  } catch (e) {
    await server?.stop();
    cleanup();
    throw e;
  }
  function cleanup() {
    if (!opts.database) database?.drop();
    for (const r of [podRoot, ...jobRoots]) r.remove();
  }
}

/**
 * Shortcut for other suites: start `envName`'s pod and return `{ url, pid, stop() }` plus the admin credentials.
 */
export async function startServer(envName: string, opts: StartPodOptions = {}): Promise<{ url: string; pid: number; stop(): Promise<void>; pod: StartedPod }> {
  const pod = await startPod(envName, opts);
  return { url: pod.server.url, pid: pod.server.pid, stop: () => pod.stop(), pod };
}
