/**
 * The rewrites: the ONE place that lists what differs from the pod when the harness runs it.
 *
 * What is NOT the pod is changed only by the rewrites of {@link rewriteRules} — the one place that lists them — and
 * every rewrite that hit is recorded in {@link PreparedContainer.rewrites} and printed when the container starts:
 *   1. database address: the Cloud SQL proxy address (`127.0.0.1:3306/<db>`, PostgreSQL `127.0.0.1:5432/<db>`) → the
 *      test MariaDB (PostgreSQL) and a test database;
 *   2. artifacts: `gs://bucket/prefix` → a local folder (no google-cloud-storage and no network here);
 *   3. port: `--port <containerPort>`, and an env `PORT` of a declared containerPort, → a free loopback port (several
 *      servers run at once);
 *   4. mount paths: every volume's mountPath → `<pod root>/volumes/<volume name>` (a per-run temp dir): no
 *      root-owned system paths, no collision between pods of different environments mounting the same path
 *      (dev and prod both mount /etc/mlflow/auth), and two containers of one pod share a volume exactly when they
 *      mount the same volume, whatever the paths (local's init container and server both see `data`).
 *   5. only where a caller passes `serverUrl` (a client container such as a smoke-test Job): the Service's in-cluster
 *      URLs → the started server's loopback URL (there is no cluster DNS here);
 *   6. only where a caller asks (the benchmark toggling the auth ini's credential cache): one named edit of one
 *      rendered Secret file (`PrepareOptions.secretFileRewrite`), recorded and printed like the others.
 */
import * as path from 'path';
import type { Manifest } from '../../lib/synth/synth';
import { podTemplateOf } from './container';
import { testDatabaseServer, type CloudSqlEngine } from './test-servers';

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
    description: `--port <containerPort> (and env PORT) → a free loopback port (${[...t.ports].map(([c, h]) => `${c}→${h}`).join(', ')})`,
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
export function rewrite(rules: readonly RewriteRule[], s: string, where: string, log: AppliedRewrite[], only?: RewriteRule['name'][]): string {
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
export function rewriteArgv(rules: readonly RewriteRule[], argv: readonly string[], ports: ReadonlyMap<number, number>, log: AppliedRewrite[]): string[] {
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
