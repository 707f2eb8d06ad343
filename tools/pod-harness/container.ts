/**
 * From synthesized objects to a runnable container: its exact argv (`command` + `args`, `$(VAR)` expanded as the
 * kubelet does) and env (`value`, `secretKeyRef`, `configMapKeyRef`, `fieldRef` of the pod's name/namespace), with its
 * ConfigMap and Secret volumes written as files and its emptyDir/PVC volumes as directories, through the rewrites of
 * ./rewrites.ts only.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import type { Manifest } from '../../lib/synth/synth';
import { SERVER_NAME, servingPath } from '../../lib/names';
import { find, render, shippedConfig } from '../environments';
import { freePort } from './process';
import { proxyAddress, rewrite, rewriteArgv, rewriteRules, type AppliedRewrite, type RewriteRule } from './rewrites';
import { renderSecrets, type SecretManagerValues } from './secrets';
import { cloudSqlEngine, requireMlflowPython } from './test-servers';

/** Which container: the workload (kind + name) and the container's name (init containers included). */
export interface ContainerSelector {
  readonly kind: 'Deployment' | 'Job' | 'CronJob';
  readonly name: string;
  readonly container: string;
}

/** The synthesized objects of one server's namespace (its Application's and its served models'), with its config. */
export interface RenderedPod {
  readonly config: Server;
  readonly manifests: readonly Manifest[];
}

/** Synthesizes a shipped environment (or a given config) in memory, exactly as `npm run synth` does. */
export function renderPod(env: string | Server): RenderedPod {
  const config = typeof env === 'string' ? shippedConfig(env) : env;
  const byPath = render(config).byPath;
  return { config, manifests: [...byPath.mlflow, ...(byPath[servingPath('mlflow')] ?? [])] };
}

/** The pod template of a workload: `spec.template`, or a CronJob's `spec.jobTemplate.spec.template`. */
export function podTemplateOf(workload: any): any {
  return workload.kind === 'CronJob' ? workload.spec?.jobTemplate?.spec?.template : workload.spec?.template;
}

/** The workload and container objects selected, as rendered. */
export function selectContainer(manifests: readonly Manifest[], sel: ContainerSelector): { workload: any; pod: any; container: any; init: boolean } {
  const workload = find(manifests, sel.kind, sel.name);
  const pod = podTemplateOf(workload).spec;
  const inits = (pod.initContainers ?? []).filter((c: any) => c.name === sel.container);
  const mains = (pod.containers ?? []).filter((c: any) => c.name === sel.container);
  if (inits.length + mains.length !== 1) throw new Error(`${sel.kind}/${sel.name} has ${inits.length + mains.length} containers named ${sel.container}`);
  return { workload, pod, container: inits[0] ?? mains[0], init: inits.length === 1 };
}

/** Everything needed to run one container, plus what was changed. */
export interface PreparedContainer {
  readonly selector: ContainerSelector;
  readonly container: any;
  readonly pod: any;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Container port → host port. */
  readonly ports: ReadonlyMap<number, number>;
  /** Container mountPath → local directory. */
  readonly mounts: ReadonlyMap<string, string>;
  readonly rewrites: readonly AppliedRewrite[];
  readonly rules: readonly RewriteRule[];
  /** uid/gid it runs as (`undefined`: the current user, when not root). */
  readonly uid?: number;
  readonly gid?: number;
}

/** One pod's local state: its root directory and volumes, shared by the containers prepared in it. */
export class PodRoot {
  readonly dir: string;
  private readonly volumes = new Map<string, string>();

  constructor(label: string) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `pod-${label}-`));
    fs.chmodSync(this.dir, 0o755);
  }

  /** The directory of a volume, created on first use. */
  volumeDir(name: string): string {
    let d = this.volumes.get(name);
    if (!d) {
      d = path.join(this.dir, 'volumes', name);
      fs.mkdirSync(d, { recursive: true });
      this.volumes.set(name, d);
    }
    return d;
  }

  get gcsRoot(): string {
    return path.join(this.dir, 'gcs');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Options of {@link prepareContainer}. */
export interface PrepareOptions {
  readonly pod: PodRoot;
  /** Secret Manager test values (for the ExternalSecrets). */
  readonly secretValues: SecretManagerValues;
  /** Test database name (MySQL configs). */
  readonly database?: string;
  /** Host ports for container ports (default: fresh free ports for every declared container port and `--port`). */
  readonly ports?: ReadonlyMap<number, number>;
  /**
   * Extra rewrite of a Secret's rendered file (e.g. the bench toggling the auth ini's cache). Listed with the rest.
   * @default - none
   */
  readonly secretFileRewrite?: { readonly secret: string; readonly key: string; readonly description: string; readonly apply: (s: string) => string };
  /**
   * The started server's loopback URL: the rendered Service's in-cluster URLs in argv/env are rewritten to it
   * (rule `service-address`), for clients run from the synthesized objects (a smoke-test Job).
   * @default - no service rewrite
   */
  readonly serverUrl?: string;
}

const DEFAULT_MODE = 0o644;

/** Builds a container's argv, env and files, applying only the listed rewrites. */
export async function prepareContainer(rendered: RenderedPod, sel: ContainerSelector, opts: PrepareOptions): Promise<PreparedContainer> {
  const { pod, container } = selectContainer(rendered.manifests, sel);
  const where = `${sel.kind}/${sel.name} container ${sel.container}`;
  const log: AppliedRewrite[] = [];
  // The database address is rewritten wherever a Secret carries it (the URI env and the auth ini's database_uri).
  const proxy = proxyAddress(rendered.manifests);
  const engine = cloudSqlEngine(rendered.config);
  const dbRules = opts.database ? rewriteRules({ database: opts.database, proxyAddress: proxy, engine, ports: new Map(), gcsRoot: '', mounts: new Map() }) : [];
  const secrets = new Map<string, Record<string, string>>();
  for (const [name, data] of renderSecrets(rendered.manifests, opts.secretValues)) {
    secrets.set(name, Object.fromEntries(Object.entries(data).map(([k, v]) => [k, rewrite(dbRules, v, `Secret/${name}[${k}]`, log, ['database-address'])])));
  }
  const configMaps = new Map<string, Record<string, string>>(
    (rendered.manifests.filter((m) => m.kind === 'ConfigMap') as any[]).map((c) => [c.metadata.name, c.data ?? {}]),
  );

  // Ports: declared container ports plus the `--port` value.
  const argvRaw: string[] = [...(container.command ?? []), ...(container.args ?? [])];
  if (argvRaw.length === 0) throw new Error(`${where}: no command/args (the image's entrypoint is not known to the harness)`);
  let ports = opts.ports;
  if (!ports) {
    const declared = new Set<number>((container.ports ?? []).map((p: any) => p.containerPort as number));
    const i = argvRaw.indexOf('--port');
    if (i >= 0) declared.add(Number(argvRaw[i + 1]));
    const m = new Map<number, number>();
    for (const p of declared) m.set(p, await freePort());
    ports = m;
  }

  // Volumes → directories.
  const sc = { ...(pod.securityContext ?? {}), ...(container.securityContext ?? {}) };
  const asRoot = process.getuid?.() === 0;
  const uid: number | undefined = asRoot ? sc.runAsUser : undefined;
  const gid: number | undefined = asRoot ? (sc.runAsGroup ?? sc.runAsUser) : undefined;
  const fsGroup: number | undefined = asRoot ? pod.securityContext?.fsGroup : undefined;
  if (asRoot && uid === undefined) throw new Error(`${where}: no runAsUser; the harness will not run a container as root`);
  const mounts = new Map<string, string>();
  const volumes = new Map<string, any>((pod.volumes ?? []).map((v: any) => [v.name, v]));
  for (const vm of container.volumeMounts ?? []) {
    if (vm.subPath || vm.subPathExpr) throw new Error(`${where}: volumeMount ${vm.name} uses subPath (not supported by the harness)`);
    const v = volumes.get(vm.name);
    if (!v) throw new Error(`${where}: volumeMount ${vm.name} has no volume`);
    const dir = opts.pod.volumeDir(v.name);
    const writeFiles = (files: Record<string, string>, items: any[] | undefined, mode: number | undefined, src: string) => {
      const chosen = items ?? Object.keys(files).map((k) => ({ key: k, path: k }));
      for (const it of chosen) {
        if (!(it.key in files)) throw new Error(`${where}: ${src} has no key ${it.key}`);
        const f = path.join(dir, it.path);
        fs.mkdirSync(path.dirname(f), { recursive: true });
        fs.writeFileSync(f, files[it.key], { mode: it.mode ?? mode ?? DEFAULT_MODE });
        fs.chmodSync(f, it.mode ?? mode ?? DEFAULT_MODE);
        if (fsGroup !== undefined) fs.chownSync(f, 0, fsGroup);
      }
    };
    if (v.secret) {
      let files = secrets.get(v.secret.secretName);
      if (!files) throw new Error(`${where}: Secret ${v.secret.secretName} is not rendered by any ExternalSecret`);
      const fr = opts.secretFileRewrite;
      if (fr && fr.secret === v.secret.secretName) {
        if (!(fr.key in files)) throw new Error(`${where}: secret file rewrite "${fr.description}": Secret ${fr.secret} has no key ${fr.key}`);
        const to = fr.apply(files[fr.key]);
        log.push({ rule: 'secret-file', where: `Secret/${fr.secret}[${fr.key}] (${fr.description})`, from: files[fr.key], to });
        files = { ...files, [fr.key]: to };
      }
      writeFiles(files, v.secret.items, v.secret.defaultMode, `Secret/${v.secret.secretName}`);
    } else if (v.configMap) {
      const files = configMaps.get(v.configMap.name);
      if (!files) throw new Error(`${where}: ConfigMap ${v.configMap.name} is not rendered`);
      writeFiles(files, v.configMap.items, v.configMap.defaultMode, `ConfigMap/${v.configMap.name}`);
    } else if (v.emptyDir || v.persistentVolumeClaim) {
      if (uid !== undefined) fs.chownSync(dir, uid, fsGroup ?? gid ?? uid);
      fs.chmodSync(dir, 0o770);
    } else {
      throw new Error(`${where}: volume ${v.name} of an unsupported type (${Object.keys(v).filter((k) => k !== 'name').join(', ')})`);
    }
    if (vm.readOnly && (v.secret || v.configMap)) fs.chmodSync(dir, 0o555);
    if (mounts.has(vm.mountPath)) throw new Error(`${where}: two volumes at ${vm.mountPath}`);
    mounts.set(vm.mountPath, dir);
  }
  fs.mkdirSync(opts.pod.gcsRoot, { recursive: true });
  if (uid !== undefined) fs.chownSync(opts.pod.gcsRoot, uid, gid ?? uid);

  const rules = rewriteRules({ database: opts.database, proxyAddress: proxy, engine, ports, gcsRoot: opts.pod.gcsRoot, mounts, service: opts.serverUrl ? { urls: serviceUrls(rendered.manifests), to: opts.serverUrl } : undefined });

  // Env: envFrom first, then env in order, as the kubelet builds it (an env entry overrides an envFrom key; later
  // entries may refer to earlier ones with $(VAR)).
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const ref = from.secretRef ?? from.configMapRef;
    const src = from.secretRef ? `Secret/${ref.name}` : `ConfigMap/${ref?.name}`;
    if (!ref) throw new Error(`${where}: envFrom ${JSON.stringify(from)}: only secretRef and configMapRef are supported by the harness`);
    const data = from.secretRef ? secrets.get(ref.name) : configMaps.get(ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new Error(`${where}: envFrom ${src} is not rendered`);
    }
    for (const [k, v] of Object.entries(data)) {
      const name = `${from.prefix ?? ''}${k}`;
      env[name] = rewrite(rules, v, `env ${name} (envFrom ${src})`, log, ['artifacts-gcs', 'mount-path', 'service-address']);
    }
  }
  for (const e of container.env ?? []) {
    let value: string;
    if (e.value !== undefined) value = expandVars(String(e.value), env);
    else if (e.valueFrom?.secretKeyRef) {
      const r = e.valueFrom.secretKeyRef;
      const s = secrets.get(r.name);
      if (!s || !(r.key in s)) {
        if (r.optional) continue;
        throw new Error(`${where}: env ${e.name}: Secret ${r.name} key ${r.key} is not rendered`);
      }
      value = s[r.key];
    } else if (e.valueFrom?.configMapKeyRef) {
      const r = e.valueFrom.configMapKeyRef;
      const c = configMaps.get(r.name);
      if (!c || !(r.key in c)) {
        if (r.optional) continue;
        throw new Error(`${where}: env ${e.name}: ConfigMap ${r.name} key ${r.key} is not rendered`);
      }
      value = c[r.key];
    } else if (e.valueFrom?.fieldRef) {
      const f = e.valueFrom.fieldRef.fieldPath;
      if (f === 'metadata.namespace') value = rendered.config.namespace;
      else if (f === 'metadata.name') value = `${sel.name}-harness`;
      else throw new Error(`${where}: env ${e.name}: fieldRef ${f} is not supported by the harness`);
    } else throw new Error(`${where}: env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
    // A listening port given as PORT (a declared containerPort) → its host port, like `--port` in argv.
    if (e.name === 'PORT' && e.value !== undefined && ports.has(Number(value))) {
      const to = String(ports.get(Number(value)));
      log.push({ rule: 'port', where: 'env PORT', from: value, to });
      value = to;
    }
    // (database addresses in Secret values were rewritten above, and are logged there)
    env[e.name] = rewrite(rules, value, `env ${e.name}`, log, e.value !== undefined ? ['database-address', 'artifacts-gcs', 'mount-path', 'service-address'] : ['artifacts-gcs', 'mount-path', 'service-address']);
  }
  if (env.PATH !== undefined) throw new Error(`${where}: the container sets PATH; the harness prepends the venv's bin/ to it`);
  const python = requireMlflowPython();
  env.PATH = `${path.dirname(python)}:/usr/local/bin:/usr/bin:/bin`;

  const argv = rewriteArgv(rules, argvRaw.map((a) => expandVars(a, env)), ports, log);
  return { selector: sel, container, pod, argv, env, ports, mounts, rewrites: log, rules, uid, gid };
}

/** In-cluster URLs of the server's Service ports: `http://<name>[.<ns>[.svc[.cluster.local]]]:<port>` (not a served model's). */
export function serviceUrls(manifests: readonly Manifest[]): string[] {
  return (manifests.filter((m) => m.kind === 'Service' && m.metadata.name === SERVER_NAME) as any[]).flatMap((svc) => {
    const n = svc.metadata.name;
    const ns = svc.metadata.namespace;
    return (svc.spec.ports as any[]).flatMap((p) => [n, `${n}.${ns}`, `${n}.${ns}.svc`, `${n}.${ns}.svc.cluster.local`].map((h) => `http://${h}:${p.port}`));
  });
}

/** `$(VAR)` → the value of an earlier env var; `$$(` → `$(`; unknown references stay as they are (kubelet rules). */
function expandVars(s: string, env: Readonly<Record<string, string>>): string {
  return s.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name?: string) => (name === undefined ? '$(' : (env[name] ?? all)));
}

/** The rewrites of a prepared container, one per line, for the test log. */
export function describeRewrites(p: PreparedContainer): string {
  const who = p.uid === undefined ? `as the current user (uid ${process.getuid?.()}; not root: no setpriv, no PID namespace)` : `as uid ${p.uid} gid ${p.gid} (setpriv) in its own PID namespace`;
  const lines = [`${p.selector.kind}/${p.selector.name} container ${p.selector.container}, run ${who}; rewrites:`];
  for (const r of p.rewrites) {
    const secretish = /PASSWORD|SECRET|URI|\.ini/i.test(r.where);
    const show = (x: string) => (secretish ? redact(x) : x);
    if (r.from.includes('\n') || r.to.includes('\n')) {
      // A file: only the lines that changed.
      const a = r.from.split('\n');
      const b = r.to.split('\n');
      const changed = [...a.filter((l) => !b.includes(l)).map((l) => `- ${l}`), ...b.filter((l) => !a.includes(l)).map((l) => `+ ${l}`)];
      lines.push(`  [${r.rule}] ${r.where}:${changed.length ? '' : ' (unchanged)'}`, ...changed.map((l) => `      ${show(l)}`));
    } else lines.push(`  [${r.rule}] ${r.where}: ${show(r.from)} → ${show(r.to)}`);
  }
  lines.push(`  PATH=${p.env.PATH} (the venv's bin/ first: the image has mlflow on PATH)`);
  return lines.join('\n');
}

/** Hides user:password in URIs and password values in ini lines. */
function redact(s: string): string {
  return s.replace(/(\/\/)[^:@/\s]+:[^@\s]+@/g, '$1***:***@').replace(/^(\s*admin_password\s*=).*$/gm, '$1 ***');
}
