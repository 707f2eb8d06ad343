/**
 * A throw-away, real Kubernetes API server for the test suite (what controller authors call "envtest"): etcd and
 * kube-apiserver on loopback, free ports, a temporary directory, PodSecurity admission on, the pinned CRDs of
 * `schemas/crds/` installed and Established. No controllers, scheduler or kubelet run: nothing becomes Ready,
 * no namespace is ever finalized by a controller, no garbage collector deletes dependents.
 *
 * One server per jest run: test/apiserver/setup.ts starts it (jest globalSetup of the `apiserver` project) and
 * publishes its state file in MLFLOW_GITOPS_APISERVER; test/apiserver/teardown.ts stops it by pid. A watchdog
 * process stops it too if jest itself dies without tearing down.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');
/** Environment variable naming the running server's state file (set by the jest globalSetup). */
export const STATE_ENV = 'MLFLOW_GITOPS_APISERVER';
/** The field manager of the set-up's own writes (CRDs). */
const SETUP_MANAGER = 'mlflow-gitops-test-setup';

/** What a started server is and how to reach it. */
export interface ApiServerState {
  readonly dir: string;
  readonly server: string;
  readonly token: string;
  readonly caFile: string;
  readonly kubeconfig: string;
  readonly kubectl: string;
  readonly kubeVersion: string;
  readonly pids: { readonly etcd: number; readonly apiserver: number; readonly watchdog: number };
  /**
   * Milliseconds from the first process start: /readyz answered ok; every CRD Established. And the CPU seconds
   * etcd and kube-apiserver had used by then (wall time depends on how busy the machine is; this does not).
   */
  readonly timings: { readonly readyMs: number; readonly crdsEstablishedMs: number; readonly crdCount: number; readonly cpuSeconds: number };
}

// --- starting and stopping -------------------------------------------------------------------------------------

/** Runs scripts/test-apiserver.sh (binaries: cached, verified, etcd installed when missing) and returns their paths. */
function prepareBinaries(): { etcd: string; apiserver: string; kubectl: string } {
  const out = execFileSync('bash', [path.join(ROOT, 'scripts', 'test-apiserver.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const value = (key: string) => {
    const line = out.split('\n').find((l) => l.startsWith(`${key}=`));
    if (!line) throw new Error(`scripts/test-apiserver.sh printed no ${key}=`);
    return line.slice(key.length + 1);
  };
  return { etcd: value('ETCD_BIN'), apiserver: value('KUBE_APISERVER_BIN'), kubectl: value('KUBECTL_BIN') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts etcd and kube-apiserver, installs the pinned CRDs and waits until they are Established. */
export async function startApiServer(): Promise<ApiServerState> {
  const bins = prepareBinaries();
  const t0 = Date.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-apiserver-'));
  const pki = path.join(dir, 'pki');
  fs.mkdirSync(pki);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  // EC keys: generated in milliseconds (RSA-2048 takes a noticeable part of a second on a busy machine).
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(pki, 'serving.key'), '-out', path.join(pki, 'serving.crt'));
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', path.join(pki, 'sa.key'));
  openssl('ec', '-in', path.join(pki, 'sa.key'), '-pubout', '-out', path.join(pki, 'sa.pub'));
  const token = crypto.randomBytes(24).toString('hex');
  fs.writeFileSync(path.join(pki, 'tokens.csv'), `${token},test-admin,test-admin,system:masters\n`, { mode: 0o600 });

  const [etcdClient, etcdPeer, securePort] = await distinctFreePorts(3);
  const logFd = (name: string) => fs.openSync(path.join(dir, name), 'a');
  const etcd = spawn(bins.etcd, [
    '--name', 'test', '--data-dir', path.join(dir, 'etcd'),
    '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
    '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
    '--initial-cluster', `test=http://127.0.0.1:${etcdPeer}`, '--log-level', 'warn',
  ], { detached: true, stdio: ['ignore', logFd('etcd.log'), logFd('etcd.log')] });
  const apiserver = spawn(bins.apiserver, [
    '--bind-address=127.0.0.1', `--secure-port=${securePort}`, `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    `--tls-cert-file=${path.join(pki, 'serving.crt')}`, `--tls-private-key-file=${path.join(pki, 'serving.key')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${path.join(pki, 'sa.pub')}`, `--service-account-signing-key-file=${path.join(pki, 'sa.key')}`,
    '--service-cluster-ip-range=10.96.0.0/16', '--authorization-mode=RBAC', `--token-auth-file=${path.join(pki, 'tokens.csv')}`,
    // PodSecurity judges workloads by their namespace's labels, as on GKE (where it is always on).
    '--enable-admission-plugins=NamespaceLifecycle,ServiceAccount,PodSecurity,LimitRanger,ResourceQuota',
    // Privileged containers allowed cluster-wide, as on GKE: Pod Security admission is what refuses them.
    '--allow-privileged=true',
    '--endpoint-reconciler-type=none', `--cert-dir=${pki}`,
  ], { detached: true, stdio: ['ignore', logFd('apiserver.log'), logFd('apiserver.log')] });
  etcd.unref();
  apiserver.unref();
  if (etcd.pid === undefined || apiserver.pid === undefined) throw new Error('could not start etcd or kube-apiserver');
  // Stops both if the jest process goes away without its globalTeardown (killed, crashed).
  const watchdog = spawn('sh', ['-c',
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill ${apiserver.pid} ${etcd.pid} 2>/dev/null; sleep 2; kill -9 ${apiserver.pid} ${etcd.pid} 2>/dev/null; rm -rf '${dir}'`,
  ], { detached: true, stdio: 'ignore' });
  watchdog.unref();

  const kubeVersion = execFileSync(bins.apiserver, ['--version'], { encoding: 'utf8' }).trim().replace(/^Kubernetes /, '');
  const state0 = {
    dir, server: `https://127.0.0.1:${securePort}`, token, caFile: path.join(pki, 'serving.crt'),
    kubeconfig: path.join(dir, 'kubeconfig'), kubectl: bins.kubectl, kubeVersion,
    pids: { etcd: etcd.pid, apiserver: apiserver.pid, watchdog: watchdog.pid ?? 0 },
  };
  const cleanupOnError = async (e: unknown): Promise<never> => {
    await stopApiServer(state0);
    throw e;
  };
  const kube = new Kube(state0.server, state0.token, fs.readFileSync(state0.caFile));
  try {
    // Ready: /readyz says ok (bounded: 60 s), failing fast with the log when a process exits.
    const deadline = Date.now() + 60_000;
    for (;;) {
      for (const [name, pid, log] of [['etcd', etcd.pid, 'etcd.log'], ['kube-apiserver', apiserver.pid, 'apiserver.log']] as const) {
        if (!alive(pid)) throw new Error(`${name} exited during start-up; last lines of ${path.join(dir, log)}:\n${tail(path.join(dir, log))}`);
      }
      const r = await kube.request('GET', '/readyz').catch(() => undefined);
      if (r?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`kube-apiserver not ready within 60 s; see ${path.join(dir, 'apiserver.log')}:\n${tail(path.join(dir, 'apiserver.log'))}`);
      await sleep(200);
    }
    const readyMs = Date.now() - t0;
    const crdCount = await installCrds(kube);
    const timings = { readyMs, crdsEstablishedMs: Date.now() - t0, crdCount, cpuSeconds: cpuSecondsOf(etcd.pid) + cpuSecondsOf(apiserver.pid) };
    fs.writeFileSync(state0.kubeconfig, kubeconfigOf(state0.server, state0.caFile, token), { mode: 0o600 });
    const state: ApiServerState = { ...state0, timings };
    fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify(state, null, 2));
    return state;
  } catch (e) {
    return cleanupOnError(e);
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let i = 0; ports.size < n && i < 20; i++) ports.add(await freePort());
  if (ports.size < n) throw new Error('could not find free loopback ports');
  return [...ports];
}

/** user + system CPU seconds of a running process (Linux /proc; 0 where unavailable). */
export function cpuSecondsOf(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the server's processes by pid (TERM, then KILL after 3 s: its data is thrown away) and removes its directory. */
export async function stopApiServer(state: Pick<ApiServerState, 'dir' | 'pids'>): Promise<void> {
  const pids = [state.pids.watchdog, state.pids.apiserver, state.pids.etcd].filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 3_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) process.kill(pid, 'SIGKILL');
  fs.rmSync(state.dir, { recursive: true, force: true });
}

function kubeconfigOf(server: string, caFile: string, token: string): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'envtest', cluster: { server, 'certificate-authority': caFile } }],
    users: [{ name: 'envtest', user: { token } }],
    contexts: [{ name: 'envtest', context: { cluster: 'envtest', user: 'envtest' } }],
    'current-context': 'envtest',
  });
}

/** Every CRD file under schemas/crds/, applied, then Established (bounded: 60 s). Returns how many. */
async function installCrds(kube: Kube): Promise<number> {
  const files = listYaml(path.join(ROOT, 'schemas', 'crds'));
  const crds = files.flatMap((f) => yaml.loadAll(fs.readFileSync(f, 'utf8')).filter((d): d is Obj => isObj(d) && d.kind === 'CustomResourceDefinition'));
  await Promise.all(crds.map((c) => kube.apply(c, { fieldManager: SETUP_MANAGER })));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const list = (await kube.request('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions')).body as { items: any[] };
    const waiting = crds
      .map((c) => c.metadata.name)
      .filter((n) => !list.items.some((i) => i.metadata.name === n && (i.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True')));
    if (waiting.length === 0) return crds.length;
    if (Date.now() > deadline) throw new Error(`CRDs not Established within 60 s: ${waiting.join(', ')}`);
    await sleep(200);
  }
}

function listYaml(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listYaml(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

/** The state of the server this jest run started (test/apiserver/setup.ts). */
export function runningApiServer(): ApiServerState {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) {
    throw new Error(`no test API server: ${STATE_ENV} is unset or stale. Run these suites through jest's apiserver project (npx jest test/apiserver).`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ApiServerState;
}

/** A client of the running server. */
export function connect(state: ApiServerState = runningApiServer()): Kube {
  return new Kube(state.server, state.token, fs.readFileSync(state.caFile));
}

/** Runs the pinned kubectl against the running server; never throws: returns exit code and output. */
export function kubectl(args: readonly string[], state: ApiServerState = runningApiServer()): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(state.kubectl, args, {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: state.kubeconfig },
    timeout: 30_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

// --- a small REST client ---------------------------------------------------------------------------------------

/** A Kubernetes object as read or written. */
export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: any }; [k: string]: any };

function isObj(d: unknown): d is Obj {
  return typeof d === 'object' && d !== null && 'kind' in d && 'apiVersion' in d;
}

/** `Deployment mlflow/mlflow`, `Namespace mlflow`. */
export function objectName(o: Pick<Obj, 'kind' | 'metadata'>): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** The API server refused a request; the message names the object, the HTTP status and every field cause. */
export class KubeError extends Error {
  constructor(
    message: string,
    public readonly status: number,
    public readonly reason: string,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export interface KubeResponse {
  readonly status: number;
  readonly body: any;
  /** The API server's `Warning:` headers (RFC 7234 code 299), decoded. */
  readonly warnings: string[];
}

/** Decodes `299 - "text"` warning headers (several may share one header line). */
export function parseWarnings(header: string | string[] | undefined): string[] {
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.flatMap((l) => [...l.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\(.)/g, '$1')));
}

/** Finalizers of Kubernetes' own controllers, which do not run here (they would remove them at once on an idle object). */
const CONTROLLER_FINALIZERS: readonly string[] = ['kubernetes.io/pvc-protection', 'kubernetes.io/pv-protection', 'foregroundDeletion', 'orphan'];

interface Resource {
  readonly plural: string;
  readonly namespaced: boolean;
}

/** Just enough of a Kubernetes client: discovery, server-side apply, get, merge patch, delete. */
export class Kube {
  private readonly agent: https.Agent;
  private readonly discovery = new Map<string, Promise<Map<string, Resource>>>();

  constructor(
    private readonly server: string,
    private readonly token: string,
    ca: Buffer,
  ) {
    this.agent = new https.Agent({ ca, keepAlive: true, maxSockets: 8 });
  }

  request(method: string, urlPath: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const url = new URL(urlPath, this.server);
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            Authorization: `Bearer ${this.token}`,
            Accept: 'application/json',
            ...(data !== undefined ? { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              /* plain text (e.g. /readyz) */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed, warnings: parseWarnings(res.headers.warning) });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 30 s`)));
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  /** The REST resource of a kind (from discovery; retried briefly, a new CRD's group can lag behind Established). */
  async resourceOf(apiVersion: string, kind: string): Promise<Resource> {
    for (let attempt = 0; ; attempt++) {
      let p = this.discovery.get(apiVersion);
      if (!p) {
        p = this.discover(apiVersion);
        this.discovery.set(apiVersion, p);
      }
      const r = (await p.catch(() => undefined))?.get(kind);
      if (r) return r;
      this.discovery.delete(apiVersion);
      if (attempt >= 20) throw new KubeError(`the API server serves no ${kind} in ${apiVersion}`, 404, 'NotFound');
      await sleep(250);
    }
  }

  private async discover(apiVersion: string): Promise<Map<string, Resource>> {
    const r = await this.request('GET', apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
    if (r.status !== 200) throw new Error(`discovery of ${apiVersion}: HTTP ${r.status}`);
    const map = new Map<string, Resource>();
    for (const res of r.body.resources as Array<{ name: string; kind: string; namespaced: boolean }>) {
      if (!res.name.includes('/')) map.set(res.kind, { plural: res.name, namespaced: res.namespaced });
    }
    return map;
  }

  /** The URL path of an object (`/apis/apps/v1/namespaces/mlflow/deployments/mlflow`). */
  async pathOf(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<string> {
    const r = await this.resourceOf(o.apiVersion, o.kind);
    const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
    if (r.namespaced && !o.metadata.namespace) throw new Error(`${objectName(o)}: a namespaced kind without metadata.namespace`);
    return `${base}${r.namespaced ? `/namespaces/${o.metadata.namespace}` : ''}/${r.plural}/${encodeURIComponent(o.metadata.name)}`;
  }

  /**
   * Server-side apply under `fieldManager`, with strict field validation (an unknown or duplicate field is an
   * error, as with `kubectl apply --validate=strict`). Throws {@link KubeError} on refusal; returns the live
   * object and the warnings the API server sent.
   */
  async apply(o: Obj, opts: { readonly fieldManager: string; readonly force?: boolean; readonly dryRun?: boolean }): Promise<{ object: Obj; warnings: string[] }> {
    const q = new URLSearchParams({ fieldManager: opts.fieldManager, fieldValidation: 'Strict' });
    if (opts.force) q.set('force', 'true');
    if (opts.dryRun) q.set('dryRun', 'All');
    const r = await this.request('PATCH', `${await this.pathOf(o)}?${q}`, o, 'application/apply-patch+yaml');
    if (r.status !== 200 && r.status !== 201) throw refusal(`apply ${objectName(o)} (field manager ${opts.fieldManager})`, r);
    return { object: r.body as Obj, warnings: r.warnings };
  }

  /** The live object, or undefined when it does not exist. */
  async get(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<Obj | undefined> {
    const r = await this.request('GET', await this.pathOf(o));
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw refusal(`get ${objectName(o)}`, r);
    return r.body as Obj;
  }

  /** JSON merge patch (RFC 7386) of an existing object. */
  async mergePatch(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>, patch: unknown, fieldManager: string): Promise<Obj> {
    const r = await this.request('PATCH', `${await this.pathOf(o)}?fieldManager=${encodeURIComponent(fieldManager)}`, patch, 'application/merge-patch+json');
    if (r.status !== 200) throw refusal(`patch ${objectName(o)}`, r);
    return r.body as Obj;
  }

  /**
   * Deletes an object (background propagation: there is no garbage collector to run a foreground deletion) and
   * waits until it is gone (bounded: 10 s). The finalizers Kubernetes' own controllers would remove here (e.g.
   * `kubernetes.io/pvc-protection` once no pod uses the claim) are removed as they would. An object that does not
   * exist is fine.
   */
  async delete(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
    const p = await this.pathOf(o);
    const r = await this.request('DELETE', p, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
    if (r.status === 404) return;
    if (r.status !== 200 && r.status !== 202) throw refusal(`delete ${objectName(o)}`, r);
    for (let i = 0; i < 50; i++) {
      const live = await this.request('GET', p);
      if (live.status === 404) return;
      const finalizers = (live.body?.metadata?.finalizers ?? []) as string[];
      if (finalizers.length > 0 && finalizers.every((f) => CONTROLLER_FINALIZERS.includes(f))) {
        await this.request('PATCH', p, { metadata: { finalizers: null } }, 'application/merge-patch+json');
        continue;
      }
      await sleep(200);
    }
    throw new Error(`${objectName(o)} still exists 10 s after its deletion (a finalizer nobody removes?)`);
  }

  /**
   * Deletes a namespace and finalizes it by hand: without kube-controller-manager nothing empties a namespace
   * and removes its `kubernetes` finalizer, so the caller deletes its objects first.
   */
  async deleteNamespace(name: string): Promise<void> {
    const p = `/api/v1/namespaces/${encodeURIComponent(name)}`;
    const r = await this.request('DELETE', p);
    if (r.status === 404) return;
    if (r.status !== 200 && r.status !== 202) throw refusal(`delete Namespace ${name}`, r);
    const live = (await this.request('GET', p)).body as Obj;
    if (live?.metadata) {
      const f = await this.request('PUT', `${p}/finalize`, { ...live, spec: { finalizers: [] } });
      if (f.status !== 200 && f.status !== 404) throw refusal(`finalize Namespace ${name}`, f);
    }
    for (let i = 0; i < 50; i++) {
      if ((await this.request('GET', p)).status === 404) return;
      await sleep(200);
    }
    throw new Error(`Namespace ${name} still exists 10 s after its deletion`);
  }

  /** Ends the client's keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

function refusal(what: string, r: KubeResponse): KubeError {
  const s = r.body ?? {};
  const causes = (s.details?.causes ?? []) as Array<{ field?: string; message?: string }>;
  const fields = causes.length > 0 ? `\n${causes.map((c) => `  - ${c.field ? `${c.field}: ` : ''}${c.message ?? ''}`).join('\n')}` : '';
  return new KubeError(`${what}: HTTP ${r.status} ${s.reason ?? ''}: ${s.message ?? JSON.stringify(s)}${fields}`, r.status, s.reason ?? '');
}
