/**
 * From validated configs to files: build each environment's charts, check every object against the project's
 * policies, render deterministic YAML, and write whole trees atomically (a temp dir, then a rename), so an
 * error leaves the previous output untouched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as yaml from 'js-yaml';
import type { Environment, Server } from '../config/model';
import { APP_PATHS, clientAppName, clientPath, projectName, servingAppName, servingPath } from '../names';
import { ClientChart } from '../clients/client-chart';
import {
  ApplicationsChart,
  BootstrapChart,
  ClusterIssuerChart,
  clusterKindsOf,
  environmentPlan,
  gitOpsPlan,
  type GitOpsPlan,
  HealthCheckChart,
  PlanError,
} from '../gitops/gitops';
import { MlflowChart, type ServerWorkloads } from '../mlflow/mlflow-chart';
import { ServingChart } from '../mlflow/serving-chart';
import { containerResourceViolations, podSecurityViolations } from '../policy/pod-security';

/** A Kubernetes object as rendered. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

/** One output file, path relative to the output root. */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

/** Thrown when synthesized objects break a policy (restricted Pod Security, resources) or a construct validation. */
export class SynthError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'SynthError';
  }
}

/** Deterministic YAML: insertion order (constructs define it), no anchors, no line folding. */
export function toYaml(obj: unknown): string {
  return yaml.dump(obj, { noRefs: true, lineWidth: -1 });
}

/** `Deployment/mlflow` → `deployment-mlflow.yaml`. */
export function fileNameOf(m: Manifest): string {
  return `${m.kind.toLowerCase()}-${m.metadata.name}.yaml`;
}

/** The objects of a chart, after running every construct validation in it. */
export function manifestsOf(chart: Chart): Manifest[] {
  const errors = chart.node.findAll().flatMap((c) => c.node.validate().map((e) => `${c.node.path}: ${e}`));
  if (errors.length > 0) throw new SynthError(errors);
  return chart.toJson() as Manifest[];
}

/** Policy problems of a set of objects: Pod Security `restricted` and requests/limits on every container. */
export function policyProblems(manifests: readonly Manifest[]): string[] {
  return manifests.flatMap((m) => [...podSecurityViolations(m), ...containerResourceViolations(m)]);
}

/** The MLflow application of one server: its objects, and what the GitOps side needs of them. */
function renderServer(server: Server): { manifests: Manifest[]; workloads: ServerWorkloads } {
  const chart = new MlflowChart(new App(), projectName(server.name), { config: server });
  return { manifests: manifestsOf(chart), workloads: chart.workloads };
}

/** The MLflow application's objects of one server. */
export function mlflowManifests(server: Server): Manifest[] {
  return renderServer(server).manifests;
}

/** The objects of a server's served models' Application (none when it serves no model: no Application either). */
export function servingManifests(server: Server): Manifest[] {
  return server.serving.length > 0 ? manifestsOf(new ServingChart(new App(), servingAppName(server.name), { config: server })) : [];
}

/** The objects one client's Application writes into its namespace. */
export function clientManifests(server: Server, client: Server['clients'][number]): Manifest[] {
  return manifestsOf(new ClientChart(new App(), clientAppName(server.name, client.name), { server, client }));
}

/** The kinds among objects, each once (group from the apiVersion). */
function kindsOf(manifests: readonly Manifest[]): Array<{ group: string; kind: string }> {
  const seen = new Map<string, { group: string; kind: string }>();
  for (const m of manifests) {
    const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
    seen.set(`${group}/${m.kind}`, { group, kind: m.kind });
  }
  return [...seen.values()];
}

/** The output of one environment. */
export interface EnvironmentOutput {
  /**
   * Files under `dist/<env>/`, one folder per Argo CD Application path: `mlflow/…` (or one folder per instance,
   * `<instance>/…`), `serving/<server folder>/…`, `clients/<server folder>/<client>/…`, `apps/…`, `cluster-issuer/…`.
   */
  readonly dist: RenderedFile[];
  /** Files under `argocd/<env>/`: what a person applies once (none without a `gitops` section). */
  readonly bootstrap: RenderedFile[];
}

/**
 * Renders an environment: each server's MLflow app in its folder (`mlflow/` for a single-server file, `<instance>/`
 * for each of several instances), and with `gitops` the Applications, the ClusterIssuers and the bootstrap they share.
 */
export function renderEnvironment(env: Environment): EnvironmentOutput {
  const environment = env.name;
  const servers = env.servers;
  const dist: RenderedFile[] = [];
  const mlflow: Manifest[] = [];
  const clients: Manifest[] = [];
  const planned: Array<{ plan: GitOpsPlan; path: string }> = [];
  for (const s of servers) {
    const { manifests: objects, workloads } = renderServer(s);
    const problems = policyProblems(objects);
    if (problems.length > 0) throw new SynthError(problems.map((p) => `${s.name}: ${p}`));
    dist.push(...filesOf(s.path, objects));
    mlflow.push(...objects);
    const served = servingManifests(s);
    const servedProblems = policyProblems(served);
    if (servedProblems.length > 0) throw new SynthError(servedProblems.map((p) => `${s.name}: ${p}`));
    dist.push(...filesOf(servingPath(s.path), served));
    mlflow.push(...served);
    for (const client of s.clients) {
      // No pods: nothing for the Pod Security and resource policies to check.
      const own = clientManifests(s, client);
      dist.push(...filesOf(clientPath(s.path, client.name), own));
      clients.push(...own);
    }
    // `gitops` is one section of the file: every server has it, or none.
    const p = gitOpsPlan(s, workloads);
    if (p !== undefined) planned.push({ plan: p, path: s.path });
  }

  if (planned.length === 0) return { dist, bootstrap: [] };
  let plan;
  try {
    plan = environmentPlan(environment, planned);
  } catch (e) {
    if (e instanceof PlanError) throw new SynthError([`${environment}: ${e.message}`]);
    throw e;
  }
  const app = new App();
  const issuer = plan.clusterIssuers.length > 0 ? manifestsOf(new ClusterIssuerChart(app, 'cluster-issuer', plan.clusterIssuers)) : [];
  dist.push(...filesOf(APP_PATHS.clusterIssuer, issuer));
  dist.push(...filesOf(APP_PATHS.apps, manifestsOf(new ApplicationsChart(app, 'apps', plan))));
  const boot = manifestsOf(
    new BootstrapChart(app, 'bootstrap', { plan, renderedClusterKinds: clusterKindsOf([...mlflow, ...issuer]), renderedClientKinds: kindsOf(clients) }),
  );
  const bootstrap = filesOf('', boot);
  bootstrap.push({ path: 'kustomization.yaml', content: toYaml(kustomization(bootstrap.map((f) => f.path))) });
  // Not in the kustomization: applied key by key (docs/deploying.md), never by a server-side apply of the object.
  for (const m of manifestsOf(new HealthCheckChart(app, 'argocd-cm'))) bootstrap.push({ path: HEALTH_CHECK_FILE, content: toYaml(m) });
  return { dist, bootstrap };
}

/** The argocd-cm health-check fragment under `argocd/<env>/`. */
export const HEALTH_CHECK_FILE = 'argocd-cm-health.patch.yaml';

/** `kubectl apply --server-side -k argocd/<env>` entry point. */
function kustomization(resources: readonly string[]) {
  return { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...resources] };
}

/** One file per object under `dir`, named by kind and name; refuses two objects with one file name. */
export function filesOf(dir: string, manifests: readonly Manifest[]): RenderedFile[] {
  const seen = new Set<string>();
  return manifests.map((m) => {
    const p = path.posix.join(dir, fileNameOf(m));
    if (seen.has(p)) throw new SynthError([`two objects render to ${p}`]);
    seen.add(p);
    return { path: p, content: toYaml(m) };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Writing: synth replaces only a directory it wrote itself (docs/synth.md)
// ---------------------------------------------------------------------------------------------------------

/**
 * The file synth writes at the top of every directory it replaces, listing the files it wrote there. It is
 * committed with `dist/` and `argocd/`, so a fresh clone's output is recognised as synth's own.
 */
export const SYNTH_MARKER = '.mlflow-gitops-synth';

const MARKER_HEADER = [
  '# Written by mlflow-gitops synth (npm run synth), which replaces this directory on every run.',
  '# Synth refuses to replace a directory holding files it did not write; the files it wrote are listed below.',
];

/** The marker line naming the one environment a `--config` synth wrote; a full synth's markers have none. */
const MARKER_ENVIRONMENT = '# environment: ';

/**
 * The marker file for a directory holding `files`: a header, the environment when `environment` is given (the
 * output of `--config <file> --out <dir>`), then the paths in code-unit order.
 */
export function synthMarker(files: readonly RenderedFile[], environment?: string): RenderedFile {
  const paths = files.map((f) => f.path).sort();
  const header = environment === undefined ? MARKER_HEADER : [...MARKER_HEADER, `${MARKER_ENVIRONMENT}${environment}`];
  return { path: SYNTH_MARKER, content: [...header, ...paths].join('\n') + '\n' };
}

/** Thrown when synth would replace a directory it may not (see `replaceRefusal`); nothing was touched. */
export class OutputDirectoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputDirectoryError';
  }
}

/** What a marker in `dir` says: the paths it lists and its environment line; undefined without a marker (a symbolic link is none). */
function markerOf(dir: string): { paths: string[]; environment?: string } | undefined {
  const file = path.join(dir, SYNTH_MARKER);
  if (!fs.existsSync(file) || !fs.lstatSync(file).isFile()) return undefined;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const environment = lines.find((l) => l.startsWith(MARKER_ENVIRONMENT))?.slice(MARKER_ENVIRONMENT.length);
  return { paths: lines.filter((l) => !l.startsWith('#')), ...(environment !== undefined ? { environment } : {}) };
}

/** The nearest directory above `target` that carries a marker, if any. */
function markedAncestor(target: string): string | undefined {
  let dir = path.dirname(path.resolve(target));
  for (;;) {
    if (markerOf(dir) !== undefined) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** What `dir` holds beyond `owned` files and their folders, as `a.txt`, `sub/`, `link (symbolic link)`. */
function foreignEntries(dir: string, owned: ReadonlySet<string>): string[] {
  const folders = new Set([...owned].flatMap((p) => p.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
  const foreign: string[] = [];
  const walk = (rel: string) => {
    // Sorted here, not left to the platform: Node lists names sorted on Linux, but that is not a promise.
    const entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory() && folders.has(p)) walk(p);
      else if (e.isFile() && owned.has(p)) continue;
      else foreign.push(e.isSymbolicLink() ? `${p} (symbolic link)` : e.isDirectory() ? `${p}/` : p);
    }
  };
  walk('');
  return foreign;
}

/**
 * Why synth may not replace `target` with `files`, or undefined when it may. It may replace a directory that
 * does not exist, is empty, or carries the marker and holds nothing but the files listed there or about to be
 * written again (a file another branch added, merged before the synth that lists it). Anything else — a
 * source folder, a user's own files, a symbolic link, a plain file — is refused, and so is a directory inside
 * one synth wrote (its files belong to that directory's marker). `environment` is the one environment a
 * `--config` synth writes: it may replace only a directory written for that same environment, never one that
 * holds every environment (a full synth's `dist/` or `argocd/`) or another environment's output. Without
 * `files` (not rendered yet), every file of a marked directory passes: an early check, to be repeated with the
 * files. Only reads.
 */
export function replaceRefusal(target: string, files?: readonly RenderedFile[], environment?: string): string | undefined {
  if (isSymbolicLink(target)) {
    return `refusing to replace ${target}: it is a symbolic link (to ${fs.readlinkSync(target)}); synth replaces only a real directory, so give the directory itself`;
  }
  const enclosing = markedAncestor(target);
  if (enclosing !== undefined) {
    const shown = path.isAbsolute(target) ? enclosing : path.relative(process.cwd(), enclosing) || '.'; // as the user wrote the target
    return (
      `refusing to write ${target}: it lies inside ${shown}, a directory synth writes as a whole ` +
      `(its ${SYNTH_MARKER} lists every file there, and the next synth would refuse to replace it); give a directory outside it`
    );
  }
  if (!fs.existsSync(target)) return undefined;
  if (!fs.statSync(target).isDirectory()) return `refusing to replace ${target}: it is a file, not a directory`;
  const marker = markerOf(target);
  if (marker !== undefined && environment !== undefined && marker.environment !== environment) {
    const holds =
      marker.environment === undefined
        ? 'it holds the output of every environment (npm run synth without --config writes it)'
        : `it holds the output of environment '${marker.environment}'`;
    return `refusing to replace ${target} with environment '${environment}' alone: ${holds}, which this would delete; give --out a directory of its own`;
  }
  let owned = new Set<string>();
  if (marker !== undefined) {
    if (files === undefined) return undefined;
    owned = new Set([SYNTH_MARKER, ...marker.paths, ...files.map((f) => f.path)]);
  }
  const foreign = foreignEntries(target, owned);
  if (foreign.length === 0) return undefined;
  const shown = foreign.length > 5 ? `${foreign.slice(0, 5).join(', ')} and ${foreign.length - 5} more` : foreign.join(', ');
  return (
    `refusing to replace ${target}: it holds files synth did not write (${shown}); ` +
    `synth replaces only an empty directory or one it wrote (marked by ${SYNTH_MARKER})`
  );
}

function isSymbolicLink(p: string): boolean {
  return fs.lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() === true;
}

/** Throws an `OutputDirectoryError` when synth may not replace `target` with `files` (see `replaceRefusal`). */
export function assertReplaceable(target: string, files?: readonly RenderedFile[], environment?: string): void {
  const refusal = replaceRefusal(target, files, environment);
  if (refusal !== undefined) throw new OutputDirectoryError(refusal);
}

/**
 * Replaces the directory `target` with exactly `files` and the marker listing them (naming `environment` when a
 * `--config` synth writes one environment), atomically as far as the file system allows: the new tree is written
 * next to it first, in a staging folder, then swapped in by two renames. Refuses (`OutputDirectoryError`,
 * nothing touched) a target synth may not replace. On any error before the swap, `target` is untouched; the
 * staging folder is removed on every path, a signal included (see {@link holdSignals}), and staging folders an
 * earlier, killed run left next to `target` are removed first (see {@link removeStaleStaging}).
 */
export function replaceDirectory(target: string, files: readonly RenderedFile[], environment?: string): void {
  assertReplaceable(target, files, environment);
  const parent = path.dirname(path.resolve(target));
  fs.mkdirSync(parent, { recursive: true });
  removeStaleStaging(parent);
  holdSignals();
  const staging = fs.mkdtempSync(path.join(parent, `${STAGING_PREFIX}${process.pid}-`));
  try {
    const fresh = path.join(staging, 'new');
    // The marker is always written, so `fresh` exists even when `files` is empty.
    for (const f of [...files, synthMarker(files, environment)]) {
      const p = path.join(fresh, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content);
    }
    const old = path.join(staging, 'old');
    const existed = fs.existsSync(target);
    if (existed) fs.renameSync(target, old);
    try {
      fs.renameSync(fresh, target);
    } catch (e) {
      if (existed) fs.renameSync(old, target);
      throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true });
  }
}

/** Staging folders are `.synth-tmp-<pid>-<random>`, next to the directory they replace. */
const STAGING_PREFIX = '.synth-tmp-';
const STAGING = /^\.synth-tmp-(\d+)-[A-Za-z0-9]{6}$/;
/** Written before staging folders carried the pid: `.synth-tmp-<random>`. */
const LEGACY_STAGING = /^\.synth-tmp-[A-Za-z0-9]{6}$/;
/** A legacy staging folder untouched for this long belongs to no running synth (a run takes seconds). */
const LEGACY_STALE_MS = 10 * 60 * 1000;

/**
 * Removes the staging folders in `parent` that a killed synth left behind: only folders whose name is a staging
 * folder's and that hold nothing but its `new/` and `old/` trees, and only when the process that made them is
 * gone (no process with its pid) — or, for a folder named before the pid was part of the name, when it has not
 * changed for ten minutes. Anything else of that name is left alone.
 */
export function removeStaleStaging(parent: string): void {
  for (const e of fs.readdirSync(parent, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const dir = path.join(parent, e.name);
    const pid = STAGING.exec(e.name)?.[1];
    const stale = pid !== undefined ? !processExists(Number(pid)) : LEGACY_STAGING.test(e.name) && Date.now() - fs.statSync(dir).mtimeMs > LEGACY_STALE_MS;
    if (!stale) continue;
    try {
      if (fs.readdirSync(dir).every((n) => n === 'new' || n === 'old')) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Not ours to remove after all (another user's, in a shared parent such as /tmp): left as it is.
    }
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // it exists, owned by someone else
  }
}

const HELD_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let holding = false;

/**
 * Holds SIGINT, SIGTERM and SIGHUP until the running synchronous work returns to the event loop: a Ctrl-C while
 * synth writes no longer kills it between creating and removing a staging folder. The write (every directory of
 * the run) completes, its staging folders are removed, and then the signal ends the process as it would have
 * (re-raised with the default action). Node runs signal listeners only from the event loop, so a listener
 * removed before the loop runs would swallow the signal: the listener stays until the next `setImmediate`.
 */
function holdSignals(): void {
  if (holding) return;
  holding = true;
  const received: NodeJS.Signals[] = [];
  const hold = (signal: NodeJS.Signals) => received.push(signal);
  for (const s of HELD_SIGNALS) process.on(s, hold);
  setImmediate(() => {
    for (const s of HELD_SIGNALS) process.removeListener(s, hold);
    holding = false;
    if (received.length > 0) process.kill(process.pid, received[0]);
  });
}
