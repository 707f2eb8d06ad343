/**
 * Secrets as the pod sees them: the ExternalSecret templates (ESO template engine v2, exactly the functions the
 * project uses) rendered with test values standing in for GCP Secret Manager.
 */
import type { Server } from '../../lib/config/model';
import type { Manifest } from '../../lib/synth/synth';
import { testDatabaseServer } from './test-servers';

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
    userPasswords: Object.fromEntries([...config.clients.map((c) => c.user), ...config.serving.map((s) => s.user)].map((u) => [u.username, rnd()])),
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
    for (const u of [...config.clients.map((c) => c.user), ...config.serving.map((s) => s.user)]) {
      const password = credentials.userPasswords[u.username];
      if (password === undefined) throw new Error(`no test password for the MLflow user ${u.username}`);
      v[u.passwordSecret] = password;
    }
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
  /** The clients' and served models' MLflow users: username → password. */
  readonly userPasswords: Readonly<Record<string, string>>;
}
