/**
 * Runs a container of the SYNTHESIZED objects for real: its exact argv (`command` + `args`, `$(VAR)` expanded as the
 * kubelet does) and env (`value`, `secretKeyRef`, `configMapKeyRef`, `fieldRef` of the pod's name/namespace), with its
 * ConfigMap and Secret volumes written as files and its emptyDir/PVC volumes as directories. Secrets are rendered from
 * the ExternalSecret templates (ESO template engine v2) with test values standing in for GCP Secret Manager.
 *
 * What is NOT the pod is changed only by the rewrites of {@link rewriteRules} — the one place that lists them — and
 * every rewrite that hit is recorded in {@link PreparedContainer.rewrites} and printed when the container starts:
 *   1. database address: the Cloud SQL proxy address (`127.0.0.1:3306/<db>`, PostgreSQL `127.0.0.1:5432/<db>`) → the
 *      test MariaDB (PostgreSQL) and a test database;
 *   2. artifacts: `gs://bucket/prefix` → a local folder (no google-cloud-storage and no network here);
 *   3. port: `--port <containerPort>` → a free loopback port (several servers run at once);
 *   4. mount paths: every volume's mountPath → `<pod root>/volumes/<volume name>` (a per-run temp dir): no
 *      root-owned system paths, no collision between pods of different environments mounting the same path
 *      (dev and prod both mount /etc/mlflow/auth), and two containers of one pod share a volume exactly when they
 *      mount the same volume, whatever the paths (local's init container and server both see `data`).
 *   5. only where a caller passes `serverUrl` (a client container such as a smoke-test Job): the Service's in-cluster
 *      URLs → the started server's loopback URL (there is no cluster DNS here);
 *   6. only where a caller asks (the benchmark toggling the auth ini's credential cache): one named edit of one
 *      rendered Secret file (`PrepareOptions.secretFileRewrite`), recorded and printed like the others.
 * Plus, not a rewrite of the spec but of the image: the venv's bin/ first on PATH (the image has `mlflow` there).
 *
 * Process model: run as root (as on the build machines), each container gets its own PID namespace (`unshare
 * --pid --fork`) and runs as the container's `runAsUser`/`runAsGroup` with no capabilities and no-new-privs
 * (`setpriv`, as `capabilities.drop: [ALL]` and `allowPrivilegeEscalation: false`), so the command is PID 1 with the
 * kernel's init semantics — a SIGTERM to a PID 1 that installed no handler is ignored, as in the pod — and killing
 * the namespace's init kills every process in it. Not as root: a plain process group as the current user (said
 * in the printed plan). Either way the process group is killed by pid in `stop()` and at exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { Server } from '../../lib/config/model';
import type { Manifest } from '../../lib/synth/synth';
import { ROOT, find, render, shippedConfig } from './environments';

// ---------------------------------------------------------------------------------------------------------------
// Test parts: the venv with the real MLflow, the test MariaDB and the test PostgreSQL.

/** The venv python written by scripts/test-mlflow.sh, or `undefined` when MLflow was not prepared. */
export function mlflowPython(): string | undefined {
  const file = path.join(ROOT, '.mlflow-python');
  if (!fs.existsSync(file)) return undefined;
  const p = fs.readFileSync(file, 'utf8').trim();
  return p && fs.existsSync(p) ? p : undefined;
}

/** The venv python, or a loud error saying how to prepare it. */
export function requireMlflowPython(): string {
  const p = mlflowPython();
  if (!p) throw new Error('no real MLflow venv: run `bash scripts/test-mlflow.sh` (writes .mlflow-python)');
  return p;
}

/** `mlflow.__version__` of the venv (tests print it). */
export function mlflowVersion(python = requireMlflowPython()): string {
  const r = spawnSync(python, ['-c', 'import mlflow; print(mlflow.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`cannot import mlflow with ${python}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The test MariaDB of scripts/test-mariadb.sh. */
export const TEST_MARIADB = {
  host: process.env.MARIADB_HOST ?? '127.0.0.1',
  port: Number(process.env.MARIADB_PORT ?? '33306'),
  socket: process.env.MARIADB_SOCKET ?? '/tmp/mlflow-gitops-mariadb/mariadb.sock',
  user: 'mlflow_test',
  password: 'mlflow_test',
} as const;

/** The test PostgreSQL of scripts/test-postgres.sh (its test role owns the databases the harness creates). */
export const TEST_POSTGRES = {
  host: '127.0.0.1',
  port: Number(process.env.POSTGRES_PORT ?? '35432'),
  socketDir: process.env.POSTGRES_DIR ?? '/tmp/mlflow-gitops-postgres',
  user: 'mlflow_test',
  password: 'mlflow_test',
} as const;

/** The Cloud SQL engines, and the test server standing in for each. */
export type CloudSqlEngine = 'mysql' | 'postgres';
export function testDatabaseServer(engine: CloudSqlEngine): { readonly name: string; readonly host: string; readonly port: number; readonly user: string; readonly password: string } {
  return engine === 'postgres' ? { name: 'PostgreSQL', ...TEST_POSTGRES } : { name: 'MariaDB', ...TEST_MARIADB };
}

/** The Cloud SQL engine of a config, or undefined for SQLite. */
function cloudSqlEngine(config: Server): CloudSqlEngine | undefined {
  return config.database.engine === 'sqlite' ? undefined : config.database.engine;
}

/** Runs SQL as PostgreSQL's superuser over its socket; throws with PostgreSQL's message. */
export function postgresAdmin(statements: string, database = 'postgres'): string {
  const r = spawnSync(
    'psql',
    ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', TEST_POSTGRES.socketDir, '-p', String(TEST_POSTGRES.port), '-U', 'postgres', '-d', database, '-c', statements],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`psql: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Runs SQL as MariaDB's root over the socket; throws with MariaDB's message. */
export function mariadbRoot(statements: string, database?: string): string {
  const r = spawnSync(
    'mariadb',
    ['--no-defaults', `--socket=${TEST_MARIADB.socket}`, '-uroot', '-N', '-B', ...(database ? [database] : []), '-e', statements],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`mariadb: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * The instance flag the Terraform contract requires on Cloud SQL (`log_bin_trust_function_creators=on`), set on the
 * shared test MariaDB (whose start-up default is off, to show the failure). Returns the value it found. It is not
 * restored: the global is shared by suites running at the same time, and setting it back to off under another
 * suite's migration would fail that suite; a suite that needs it off sets it off itself.
 */
export function setCloudSqlFlags(): { readonly before: string } {
  const before = mariadbRoot('SELECT @@GLOBAL.log_bin_trust_function_creators').trim();
  mariadbRoot('SET GLOBAL log_bin_trust_function_creators = 1');
  return { before };
}

/**
 * A fresh, empty database `mlflow_<area>_<random>` on the test server of `engine` (MariaDB: the test user has ALL on
 * `mlflow\_%`; PostgreSQL: owned by the test role). Drop it with `drop()`.
 */
export function createTestDatabase(area: string, engine: CloudSqlEngine = 'mysql'): { readonly name: string; drop(): void } {
  const name = `mlflow_${area}_${Math.random().toString(36).slice(2, 10)}`;
  if (!/^mlflow_[a-z0-9_]+$/.test(name)) throw new Error(`bad test database name ${name}`);
  if (engine === 'postgres') {
    postgresAdmin(`CREATE DATABASE ${name} OWNER ${TEST_POSTGRES.user}`);
    return { name, drop: () => postgresAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
  }
  mariadbRoot(`CREATE DATABASE ${name}`);
  return { name, drop: () => mariadbRoot(`DROP DATABASE IF EXISTS ${name}`) };
}

// ---------------------------------------------------------------------------------------------------------------
// ExternalSecret templates (ESO engine v2): exactly the functions the project uses.

/** Template functions this harness implements; anything else fails loudly. */
export const TEMPLATE_FUNCTIONS = ['urlquery', 'replace'] as const;

/** Go's `url.QueryEscape` (what text/template's `urlquery` applies): unreserved bytes kept, space → `+`. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Splits a pipeline on `|` outside of string literals. */
function splitPipeline(action: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < action.length; i++) {
    const c = action[i];
    if (quoted && c === '\\') {
      cur += c + action[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === '|' && !quoted) {
      parts.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error(`unterminated string in {{${action}}}`);
  parts.push(cur.trim());
  return parts;
}

/** A command's words: identifiers and Go double-quoted string literals. */
function words(command: string, where: string): Array<{ ident?: string; literal?: string }> {
  const out: Array<{ ident?: string; literal?: string }> = [];
  const re = /\s*(?:("(?:[^"\\]|\\.)*")|([^\s"]+))/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(command)) && m[0].length > 0) {
    if (m[1] !== undefined) out.push({ literal: JSON.parse(m[1]) as string });
    else out.push({ ident: m[2] });
  }
  if (re.lastIndex !== 0 && re.lastIndex < command.trimEnd().length) throw new Error(`${where}: cannot parse "${command}"`);
  return out;
}

/**
 * Renders one ESO v2 template value. Supported: `{{ .key }}` and pipelines of `urlquery` and
 * `replace "old" "new"` (sprig: the piped value is the last argument). Missing keys and any other syntax or
 * function throw, naming `where`.
 */
export function renderEsoTemplate(template: string, data: Readonly<Record<string, string>>, where: string): string {
  return template.replace(/\{\{(.*?)\}\}/gs, (_all, inner: string) => {
    if (inner.startsWith('-') || inner.endsWith('-')) throw new Error(`${where}: unsupported template syntax {{${inner}}} (trim markers)`);
    const [head, ...fns] = splitPipeline(inner);
    const ref = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(head);
    if (!ref) throw new Error(`${where}: unsupported template expression "${head}" (only .key, optionally piped)`);
    if (!(ref[1] in data)) throw new Error(`${where}: template key .${ref[1]} has no value (keys: ${Object.keys(data).join(', ')})`);
    let value = data[ref[1]];
    for (const fn of fns) {
      const [name, ...args] = words(fn, where);
      if (!name?.ident) throw new Error(`${where}: cannot parse pipeline stage "${fn}"`);
      if (args.some((a) => a.literal === undefined)) throw new Error(`${where}: only string literal arguments are supported in "${fn}"`);
      const lits = args.map((a) => a.literal as string);
      if (name.ident === 'urlquery' && lits.length === 0) value = goQueryEscape(value);
      else if (name.ident === 'replace' && lits.length === 2) value = value.split(lits[0]).join(lits[1]);
      else
        throw new Error(
          `${where}: unsupported template function "${name.ident}" with ${lits.length} argument(s) (the harness implements: ${TEMPLATE_FUNCTIONS.join(', ')})`,
        );
    }
    return value;
  });
}

/** Secret Manager stand-in: secret id → value. */
export type SecretManagerValues = Readonly<Record<string, string>>;

/** Secret name → key → value, rendered from every ExternalSecret of `manifests`. */
export function renderSecrets(manifests: readonly Manifest[], remote: SecretManagerValues): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const es of manifests.filter((m) => m.kind === 'ExternalSecret') as any[]) {
    const where = `ExternalSecret/${es.metadata.name}`;
    const spec = es.spec;
    if (spec.dataFrom) throw new Error(`${where}: dataFrom is not supported by the harness`);
    const tpl = spec.target?.template;
    if (tpl && tpl.engineVersion !== 'v2') throw new Error(`${where}: template engine ${tpl.engineVersion} (the harness implements v2)`);
    if (tpl && (tpl.templateFrom || tpl.metadata)) throw new Error(`${where}: templateFrom/metadata are not supported by the harness`);
    const data: Record<string, string> = {};
    for (const d of spec.data ?? []) {
      if (d.remoteRef.property || d.remoteRef.version) throw new Error(`${where}: remoteRef property/version are not supported`);
      const v = remote[d.remoteRef.key];
      if (v === undefined) throw new Error(`${where}: no test value for Secret Manager secret "${d.remoteRef.key}"`);
      data[d.secretKey] = v;
    }
    const rendered = tpl?.data
      ? Object.fromEntries(Object.entries(tpl.data as Record<string, string>).map(([k, t]) => [k, renderEsoTemplate(t, data, `${where} key ${k}`)]))
      : data;
    out.set(spec.target?.name ?? es.metadata.name, rendered);
  }
  for (const s of manifests.filter((m) => m.kind === 'Secret') as any[]) {
    const d: Record<string, string> = { ...(s.stringData ?? {}) };
    for (const [k, v] of Object.entries((s.data ?? {}) as Record<string, string>)) d[k] = Buffer.from(v, 'base64').toString('utf8');
    out.set(s.metadata.name, d);
  }
  return out;
}

/**
 * Test values for every Secret Manager id the config names: the MariaDB test user, and for auth a Flask key,
 * admin and metrics credentials (fresh random letters and digits, as the Terraform contract generates them).
 */
export function testSecretValues(config: Server, overrides: Partial<TestCredentials> = {}): { values: SecretManagerValues; credentials: TestCredentials } {
  const rnd = () => Array.from({ length: 24 }, () => 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(Math.random() * 56)]).join('');
  const credentials: TestCredentials = {
    adminUsername: 'admin',
    adminPassword: rnd(),
    metricsPassword: rnd(),
    smokePassword: rnd(),
    flaskSecretKey: rnd(),
    ...overrides,
  };
  const v: Record<string, string> = {};
  if (config.database.engine !== 'sqlite' && config.database.login === 'password') {
    const server = testDatabaseServer(config.database.engine);
    v[config.database.userSecret] = server.user;
    v[config.database.passwordSecret] = server.password;
  }
  if (config.auth) {
    v[config.auth.flaskSecretKeySecret] = credentials.flaskSecretKey;
    v[config.auth.adminUsernameSecret] = credentials.adminUsername;
    v[config.auth.adminPasswordSecret] = credentials.adminPassword;
    if (config.auth.metricsUser) v[config.auth.metricsUser.passwordSecret] = credentials.metricsPassword;
    if (config.auth.smokeUser) v[config.auth.smokeUser.passwordSecret] = credentials.smokePassword;
  }
  return { values: v, credentials };
}

export interface TestCredentials {
  readonly adminUsername: string;
  readonly adminPassword: string;
  readonly metricsPassword: string;
  /** The smoke test user's password (`auth.smokePasswordSecret`). */
  readonly smokePassword: string;
  readonly flaskSecretKey: string;
}

// ---------------------------------------------------------------------------------------------------------------
// The rewrites: the ONE place that lists what differs from the pod.

/** One rewrite that was applied. */
export interface AppliedRewrite {
  readonly rule: RewriteRule['name'];
  readonly where: string;
  readonly from: string;
  readonly to: string;
}

/** A rewrite rule; `apply` returns the new string (or the same one). */
export interface RewriteRule {
  readonly name: 'database-address' | 'artifacts-gcs' | 'port' | 'mount-path' | 'service-address' | 'secret-file';
  readonly description: string;
  readonly apply: (s: string) => string;
}

/** Where the rewrites point. */
export interface RewriteTargets {
  /** Test database name; with `undefined` the database rewrite is off (SQLite configs). */
  readonly database?: string;
  /**
   * Where the pods reach the database: the Cloud SQL proxy's `host:port`, read from the rendered sidecar
   * ({@link proxyAddress}).
   * @default - no database rewrite
   */
  readonly proxyAddress?: string;
  /**
   * The engine the proxy stands for: which test server the database address is rewritten to.
   * @default 'mysql'
   */
  readonly engine?: CloudSqlEngine;
  /** Host port for each container port. */
  readonly ports: ReadonlyMap<number, number>;
  /** Local folder standing in for `gs://` (per bucket/prefix below it). */
  readonly gcsRoot: string;
  /** Container mountPath → local directory. */
  readonly mounts: ReadonlyMap<string, string>;
  /**
   * In-cluster URLs of the server's Service (`http://mlflow.mlflow.svc.cluster.local:5000`, shorter forms) → the
   * started server's loopback URL, for clients run by the harness (e.g. a smoke-test Job).
   * @default - no service rewrite
   */
  readonly service?: { readonly urls: readonly string[]; readonly to: string };
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Every rewrite the harness may apply. Nothing else about a container is changed. */
export function rewriteRules(t: RewriteTargets): RewriteRule[] {
  const rules: RewriteRule[] = [];
  if (t.database && t.proxyAddress) {
    const re = new RegExp(`@${escapeRe(t.proxyAddress)}/[A-Za-z][A-Za-z0-9_]*`, 'g');
    const server = testDatabaseServer(t.engine ?? 'mysql');
    rules.push({
      name: 'database-address',
      description: `Cloud SQL proxy ${t.proxyAddress}/<db> → test ${server.name} ${server.host}:${server.port}/${t.database}`,
      apply: (s) => s.replace(re, `@${server.host}:${server.port}/${t.database}`),
    });
  }
  rules.push({
    name: 'artifacts-gcs',
    description: `gs://<bucket>/<prefix> → ${t.gcsRoot}/<bucket>/<prefix> (no GCS client or network in tests)`,
    apply: (s) => s.replace(/^gs:\/\/([a-z0-9][a-z0-9._-]*)(\/.*)?$/, (_a, b: string, p?: string) => path.join(t.gcsRoot, b, p ?? '')),
  });
  rules.push({
    name: 'port',
    description: `--port <containerPort> → a free loopback port (${[...t.ports].map(([c, h]) => `${c}→${h}`).join(', ')})`,
    apply: (s) => s, // argv-aware: see rewriteArgv
  });
  if (t.service) {
    const svc = t.service;
    const urls = [...svc.urls].sort((a, b) => b.length - a.length);
    rules.push({
      name: 'service-address',
      description: `Service URL (${urls.join(', ')}) → ${svc.to}`,
      apply: (s) => {
        for (const u of urls) {
          const re = new RegExp(`${escapeRe(u)}(?=/|$|[^\\w.:-])`, 'g');
          if (re.test(s)) return s.replace(re, svc.to);
        }
        return s;
      },
    });
  }
  // Longest mount paths first, so that /a/b wins over /a. A path matches as a whole path segment sequence.
  const mounts = [...t.mounts].sort((a, b) => b[0].length - a[0].length);
  rules.push({
    name: 'mount-path',
    description: `volume mountPath → per-run directory (${mounts.map(([m, d]) => `${m}→${d}`).join(', ')})`,
    apply: (s) => {
      for (const [m, d] of mounts) {
        const re = new RegExp(`(?<![\\w.-])${escapeRe(m)}(?=/|$|[^\\w.-])`, 'g');
        if (re.test(s)) return s.replace(re, d);
      }
      return s;
    },
  });
  return rules;
}

/**
 * The address the Cloud SQL Auth Proxy sidecars listen on (`--address`, `--port` of every rendered
 * `cloud-sql-proxy` container), or `undefined` without one; two different addresses are refused.
 */
export function proxyAddress(manifests: readonly Manifest[]): string | undefined {
  const found = new Set<string>();
  for (const m of manifests as any[]) {
    const pod = podTemplateOf(m)?.spec;
    for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      if (!/cloud-sql-proxy/.test(c.image ?? '')) continue;
      const args: string[] = c.args ?? [];
      const flag = (name: string, dflt: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
      found.add(`${flag('address', '127.0.0.1')}:${flag('port', '5432')}`);
    }
  }
  if (found.size > 1) throw new Error(`Cloud SQL proxies listen on different addresses: ${[...found].join(', ')}`);
  return [...found][0];
}

/** Applies every rule to a string, recording hits. */
function rewrite(rules: readonly RewriteRule[], s: string, where: string, log: AppliedRewrite[], only?: RewriteRule['name'][]): string {
  let out = s;
  for (const r of rules) {
    if (only && !only.includes(r.name)) continue;
    const next = r.apply(out);
    if (next !== out) log.push({ rule: r.name, where, from: out, to: next });
    out = next;
  }
  return out;
}

/** argv: `--port N` / `--port=N` → the mapped port; every element through the string rules. */
function rewriteArgv(rules: readonly RewriteRule[], argv: readonly string[], ports: ReadonlyMap<number, number>, log: AppliedRewrite[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const portValue = (v: string) => {
      const host = ports.get(Number(v));
      if (host === undefined) throw new Error(`argv ${out[i]} ${v}: no container port ${v} declared`);
      return String(host);
    };
    if (out[i] === '--port' && i + 1 < out.length) {
      const to = portValue(out[i + 1]);
      log.push({ rule: 'port', where: `argv[${i + 1}]`, from: out[i + 1], to });
      out[i + 1] = to;
      i++;
      continue;
    }
    const eq = /^--port=(\d+)$/.exec(out[i]);
    if (eq) {
      const to = `--port=${portValue(eq[1])}`;
      log.push({ rule: 'port', where: `argv[${i}]`, from: out[i], to });
      out[i] = to;
      continue;
    }
    out[i] = rewrite(rules, out[i], `argv[${i}]`, log, ['artifacts-gcs', 'mount-path', 'database-address', 'service-address']);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// From synthesized objects to a runnable container.

/** Which container: the workload (kind + name) and the container's name (init containers included). */
export interface ContainerSelector {
  readonly kind: 'Deployment' | 'Job' | 'CronJob';
  readonly name: string;
  readonly container: string;
}

/** The synthesized objects of one environment, with its config. */
export interface RenderedPod {
  readonly config: Server;
  readonly manifests: readonly Manifest[];
}

/** Synthesizes a shipped environment (or a given config) in memory, exactly as `npm run synth` does. */
export function renderPod(env: string | Server): RenderedPod {
  const config = typeof env === 'string' ? shippedConfig(env) : env;
  return { config, manifests: render(config).byPath.mlflow };
}

/** The pod template of a workload: `spec.template`, or a CronJob's `spec.jobTemplate.spec.template`. */
function podTemplateOf(workload: any): any {
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

  // Env: in order, as the kubelet builds it (later entries may refer to earlier ones with $(VAR)).
  if (container.envFrom) throw new Error(`${where}: envFrom is not supported by the harness`);
  const env: Record<string, string> = {};
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
    // (database addresses in Secret values were rewritten above, and are logged there)
    env[e.name] = rewrite(rules, value, `env ${e.name}`, log, e.value !== undefined ? ['database-address', 'artifacts-gcs', 'mount-path', 'service-address'] : ['artifacts-gcs', 'mount-path', 'service-address']);
  }
  if (env.PATH !== undefined) throw new Error(`${where}: the container sets PATH; the harness prepends the venv's bin/ to it`);
  const python = requireMlflowPython();
  env.PATH = `${path.dirname(python)}:/usr/local/bin:/usr/bin:/bin`;

  const argv = rewriteArgv(rules, argvRaw.map((a) => expandVars(a, env)), ports, log);
  return { selector: sel, container, pod, argv, env, ports, mounts, rewrites: log, rules, uid, gid };
}

/** In-cluster URLs of every rendered Service port: `http://<name>[.<ns>[.svc[.cluster.local]]]:<port>`. */
export function serviceUrls(manifests: readonly Manifest[]): string[] {
  return (manifests.filter((m) => m.kind === 'Service') as any[]).flatMap((svc) => {
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

// ---------------------------------------------------------------------------------------------------------------
// Processes.

/** A free loopback TCP port (bound once, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every process group the harness started and has not yet seen exit; killed at exit whatever happened. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A started container. */
export interface RunningContainer {
  readonly prepared: PreparedContainer;
  /** pid of the process group leader (`unshare` as root — exec'd by setpriv, same pid — else the command itself). */
  readonly pid: number;
  /** Output so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or `128 + signal`) of the container's command. */
  readonly exited: Promise<number>;
  /** pid of the container's command (PID 1 of its namespace as root). */
  commandPid(): number;
  /** Sends `signal` to the container's command only, as the kubelet does at termination. */
  signal(signal: NodeJS.Signals): void;
  /** Kills the whole process group (SIGKILL) and waits for it; idempotent. */
  stop(): Promise<void>;
}

export interface RunOptions {
  /**
   * Do not print the container's plan (user, rewrites, PATH) when it starts.
   * @default false
   */
  readonly quiet?: boolean;
}

/** Starts a prepared container. */
export function runContainer(p: PreparedContainer, opts: RunOptions = {}): RunningContainer {
  if (p.container.workingDir) throw new Error(`${p.selector.container}: workingDir is not supported by the harness`);
  const cwd = '/';
  let cmd: string;
  let args: string[];
  if (p.uid !== undefined) {
    // Outer setpriv: the namespace dies with this process even when it is killed without running exit handlers
    // (parent-death signal on unshare; unshare's --kill-child takes the namespace's init with it).
    cmd = 'setpriv';
    args = ['--pdeathsig=SIGKILL', '--', 'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--', 'setpriv', '--pdeathsig=SIGKILL', `--reuid=${p.uid}`, `--regid=${p.gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--', ...p.argv];
    if (p.pod.securityContext?.fsGroup !== undefined) args.splice(args.indexOf('--clear-groups'), 1, `--groups=${p.pod.securityContext.fsGroup}`);
  } else {
    cmd = p.argv[0];
    args = p.argv.slice(1);
  }
  if (!opts.quiet) console.log(describeRewrites(p));
  const child: ChildProcess = spawn(cmd, args, { cwd, env: { ...p.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const pid = child.pid;
  live.add(pid);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, sig) => {
      live.delete(pid);
      resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0));
    });
    child.on('error', () => resolve(127));
  });
  const commandPid = () => {
    if (p.uid === undefined) return pid;
    // unshare --fork: its one child is the namespace's PID 1 (setpriv exec'd into the command).
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (kids.length !== 1) throw new Error(`unshare ${pid} has ${kids.length} children`);
    return Number(kids[0]);
  };
  let stopping: Promise<void> | undefined;
  return {
    prepared: p,
    pid,
    output: () => out,
    exited,
    commandPid,
    signal: (s) => process.kill(commandPid(), s),
    stop: () =>
      (stopping ??= (async () => {
        if (!live.has(pid)) return;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await Promise.race([exited, sleep(10_000)]);
      })()),
  };
}

/** A timer that does not keep the process alive (races against exits would otherwise hold jest open). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Runs a container to completion (bounded by `timeoutMs`), returning its exit code and output. */
export async function runToCompletion(p: PreparedContainer, timeoutMs: number): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  const c = runContainer(p);
  const code = await Promise.race([c.exited, sleep(timeoutMs).then(() => -1)]);
  if (code === -1) {
    await c.stop();
    throw new Error(`${p.selector.kind}/${p.selector.name} ${p.selector.container} did not finish in ${timeoutMs} ms; output:\n${c.output()}`);
  }
  return { code, output: c.output(), ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP on loopback.

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request to 127.0.0.1:`port` with full control of headers (Host included). */
export function httpRequest(
  port: number,
  reqPath: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: reqPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${reqPath}`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** An httpGet probe of the container, resolved against the mapped port. */
export interface Probe {
  readonly kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe';
  readonly path: string;
  readonly port: number;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutSeconds: number;
}

/** The container's httpGet probes, with ports mapped to the host (named ports resolved). */
export function probesOf(p: PreparedContainer): Probe[] {
  const out: Probe[] = [];
  for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
    const pr = p.container[kind];
    if (!pr) continue;
    if (!pr.httpGet) throw new Error(`${kind} of ${p.selector.container} is not httpGet (the harness probes httpGet only)`);
    if ((pr.httpGet.scheme ?? 'HTTP') !== 'HTTP') throw new Error(`${kind}: scheme ${pr.httpGet.scheme} not supported`);
    const cport =
      typeof pr.httpGet.port === 'number' ? pr.httpGet.port : (p.container.ports ?? []).find((x: any) => x.name === pr.httpGet.port)?.containerPort;
    const port = p.ports.get(cport);
    if (port === undefined) throw new Error(`${kind}: port ${pr.httpGet.port} is not mapped`);
    out.push({
      kind,
      path: pr.httpGet.path ?? '/',
      port,
      periodSeconds: pr.periodSeconds ?? 10,
      failureThreshold: pr.failureThreshold ?? 3,
      timeoutSeconds: pr.timeoutSeconds ?? 1,
    });
  }
  return out;
}

/** One probe attempt as the kubelet judges it: any 200–399 within timeoutSeconds is success. */
export async function probeOnce(pr: Probe): Promise<{ ok: boolean; status?: number; error?: string }> {
  try {
    const r = await httpRequest(pr.port, pr.path, { timeoutMs: pr.timeoutSeconds * 1000 });
    return { ok: r.status >= 200 && r.status < 400, status: r.status };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Whole pods.

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

/** Children pids of a process, recursively (from /proc). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let kids: string[] = [];
    try {
      for (const t of fs.readdirSync(`/proc/${p}/task`)) kids.push(...fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    } catch {
      return;
    }
    for (const k of kids) {
      out.push(Number(k));
      walk(Number(k));
    }
  };
  walk(pid);
  return out;
}

/** PSS and RSS of a process in KiB from /proc/<pid>/smaps_rollup, with its command line. */
export function memoryOf(pid: number): { pid: number; cmd: string; pssKiB: number; rssKiB: number } {
  const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm').exec(roll)?.[1] ?? NaN);
  const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  return { pid, cmd, pssKiB: field('Pss'), rssKiB: field('Rss') };
}

/** CPU time (user + system) a process has used so far, in milliseconds (/proc/<pid>/stat). */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');
