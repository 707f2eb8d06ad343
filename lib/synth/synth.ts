/**
 * From validated configs to files: build each environment's charts, check every object against the project's
 * policies, render deterministic YAML, and write whole trees atomically (a temp dir, then a rename), so an
 * error leaves the previous output untouched.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import * as yaml from 'js-yaml';
import type { EnvironmentConfig } from '../config/config';
import { APP_PATHS, ApplicationsChart, BootstrapChart, ClusterIssuerChart, clusterKindsOf, gitOpsPlan, HealthCheckChart } from '../gitops/gitops';
import { MlflowChart } from '../mlflow/mlflow-chart';
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

/** The MLflow application's objects for one environment. */
export function mlflowManifests(config: EnvironmentConfig): Manifest[] {
  const app = new App();
  return manifestsOf(new MlflowChart(app, `mlflow-${config.name}`, { config }));
}

/** The output of one environment. */
export interface EnvironmentOutput {
  /** Files under `dist/<env>/`, one folder per Argo CD Application path (`mlflow/…`, `apps/…`, …). */
  readonly dist: RenderedFile[];
  /** Files under `argocd/<env>/`: what a person applies once (none without a `gitops` section). */
  readonly bootstrap: RenderedFile[];
}

/** Renders one environment: the MLflow app, and with `gitops` its Applications and bootstrap. */
export function renderEnvironment(config: EnvironmentConfig): EnvironmentOutput {
  const mlflow = mlflowManifests(config);
  const problems = policyProblems(mlflow);
  if (problems.length > 0) throw new SynthError(problems.map((p) => `${config.name}: ${p}`));
  const dist = filesOf(APP_PATHS.mlflow, mlflow);

  const plan = gitOpsPlan(config);
  if (!plan) return { dist, bootstrap: [] };
  const app = new App();
  const issuer = plan.clusterIssuer ? manifestsOf(new ClusterIssuerChart(app, 'cluster-issuer', plan.clusterIssuer)) : [];
  dist.push(...filesOf(APP_PATHS.clusterIssuer, issuer));
  dist.push(...filesOf(APP_PATHS.apps, manifestsOf(new ApplicationsChart(app, 'apps', plan))));
  const boot = manifestsOf(new BootstrapChart(app, 'bootstrap', { plan, renderedClusterKinds: clusterKindsOf([...mlflow, ...issuer]) }));
  const bootstrap = filesOf('', boot);
  bootstrap.push({ path: 'kustomization.yaml', content: toYaml(kustomization(bootstrap.map((f) => f.path))) });
  // Not in the kustomization: applied key by key (README), never by a server-side apply of the object.
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

/**
 * Replaces the directory `target` with exactly `files`, atomically as far as the file system allows: the new
 * tree is written next to it first, then swapped in by two renames. On any error before the swap, `target`
 * is untouched.
 */
export function replaceDirectory(target: string, files: readonly RenderedFile[]): void {
  const parent = path.dirname(path.resolve(target));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, '.synth-tmp-'));
  try {
    const fresh = path.join(staging, 'new');
    for (const f of files) {
      const p = path.join(fresh, f.path);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, f.content);
    }
    fs.mkdirSync(fresh, { recursive: true });
    const old = path.join(staging, 'old');
    if (fs.existsSync(target)) fs.renameSync(target, old);
    fs.renameSync(fresh, target);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
