/** Test helpers: the shipped environments, synthesized in memory, and objects picked by kind and name. */
import * as path from 'path';
import * as yaml from 'js-yaml';
import * as fs from 'fs';
import { configFilesIn, loadEnvironments, validateEnvironment } from '../lib/config/config';
import type { Environment, Server } from '../lib/config/model';
import { App } from 'cdk8s';
import { gitOpsPlan, type GitOpsPlan } from '../lib/gitops/gitops';
import { MlflowChart } from '../lib/mlflow/mlflow-chart';
import { renderEnvironment, type Manifest } from '../lib/synth/synth';

export const ROOT = path.resolve(__dirname, '..');
export const CONFIG_DIR = path.join(ROOT, 'config');
/** How the npm scripts run a TypeScript entry point: node with tsx's CommonJS hook (one process, unlike the tsx CLI). */
export const RUN_TS: readonly string[] = ['--require', 'tsx/cjs'];

/** Every shipped environment, resolved. */
export function shippedEnvironments(): Environment[] {
  return loadEnvironments(configFilesIn(CONFIG_DIR));
}

/** The server of every shipped (single-server) environment, resolved. */
export function shippedConfigs(): Server[] {
  return shippedEnvironments().flatMap((e) => e.servers);
}

/** One shipped environment, resolved. */
export function shippedEnvironment(name: string): Environment {
  const e = shippedEnvironments().find((x) => x.name === name);
  if (!e) throw new Error(`no config/${name}.yaml`);
  return e;
}

export function shippedConfig(name: string): Server {
  const c = shippedConfigs().find((x) => x.name === name);
  if (!c) throw new Error(`no config/${name}.yaml`);
  return c;
}

/** The raw document of a shipped config, to derive variants from. */
export function rawConfig(name: string): Record<string, any> {
  return yaml.load(fs.readFileSync(path.join(CONFIG_DIR, `${name}.yaml`), 'utf8')) as Record<string, any>;
}

/** Validates a single-server variant document as if it were `config/<name>.yaml`; its server, or throws with the problems. */
export function configFrom(name: string, doc: unknown): Server {
  const r = validateEnvironment(`config/${name}.yaml`, doc);
  if (!r.environment) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.environment.servers[0];
}

/** The GitOps plan of one server, from its config and its rendered chart (as synth derives it). */
export function planOf(config: Server): GitOpsPlan | undefined {
  return gitOpsPlan(config, new MlflowChart(new App(), 'plan', { config }).workloads);
}

/** Rendered objects of one environment, grouped by Argo CD Application path. */
export interface RenderedEnvironment {
  /** `mlflow`, `apps`, `cluster-issuer`, `clients/mlflow/<client>`, and `argocd` (the bootstrap). */
  readonly byPath: Record<string, Manifest[]>;
  readonly all: Manifest[];
}

/** Renders a single-server environment (its one server, as `configFrom` or `shippedConfig` give it). */
export function render(config: Server): RenderedEnvironment {
  const out = renderEnvironment({ name: config.name, servers: [config] });
  const byPath: Record<string, Manifest[]> = {};
  const add = (dir: string, content: string) => {
    const m = yaml.load(content) as Manifest;
    if (m.kind === 'Kustomization') return;
    (byPath[dir] ??= []).push(m);
  };
  for (const f of out.dist) add(path.posix.dirname(f.path), f.content);
  for (const f of out.bootstrap) add('argocd', f.content);
  return { byPath, all: Object.values(byPath).flat() };
}

/** The one object of `kind` named `name`; fails loudly when absent or ambiguous. */
export function find(manifests: readonly Manifest[], kind: string, name: string): any {
  const hits = manifests.filter((m) => m.kind === kind && m.metadata.name === name);
  if (hits.length !== 1) throw new Error(`expected exactly one ${kind}/${name}, found ${hits.length}`);
  return hits[0];
}

export function ofKind(manifests: readonly Manifest[], kind: string): any[] {
  return manifests.filter((m) => m.kind === kind);
}

/** Pod specs of every workload (Deployment, Job, …) with the owning object's name. */
export function podSpecs(manifests: readonly Manifest[]): Array<{ owner: string; spec: any }> {
  return manifests
    .filter((m: any) => m.spec?.template?.spec)
    .map((m: any) => ({ owner: `${m.kind}/${m.metadata.name}`, spec: m.spec.template.spec }));
}

/** Every container of a pod spec, init containers (and native sidecars) included. */
export function allContainers(spec: any): any[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

export function envOf(container: any): Record<string, any> {
  return Object.fromEntries((container.env ?? []).map((e: any) => [e.name, e.value ?? e.valueFrom]));
}
