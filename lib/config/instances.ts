/**
 * Several MLflow servers in one environment (`instances:` in `config/<env>.yaml`; README "Several MLflow servers
 * per environment", docs/design.md#several-mlflow-servers-per-environment).
 *
 * The file's top level holds what the instances share — `gitops` (one root app, one AppProject, the add-ons) and
 * any other section as a default — and `instances` lists the servers, each with its `name`, its `namespace` and
 * the sections it sets itself. An instance's section replaces the top level's section of the same name as a
 * whole (no deep merge: what a server gets is always one section as written, in one place). Every section of
 * the environment schema can be set in either place except `gitops` (top level only) and `namespace` (instances
 * only), so a section or variant added to the schema flows into instances without an edit here.
 *
 * Normalisation: every instance becomes one {@link EnvironmentConfig} — the shape every construct receives for
 * a single-server file — validated by the same schema and the same cross-field guards, with each problem's path
 * pointing to where the field is written (`instances.1.database.pool`, or the top level's `server.resources…`
 * when the instance takes that section from there). Then the rules across instances: distinct names,
 * namespaces, hosts, databases and artifact locations, and the connection budget of every Cloud SQL instance
 * summed over the servers that share it.
 *
 * A file without `instances` is exactly a single-server file, validated by {@link validateEnvironment}.
 */
import * as fs from 'fs';
import { z } from 'zod';
import {
  ConfigError,
  crossFieldProblems,
  environmentNameOf,
  environmentSchema,
  parseConfigDocument,
  schemaProblems,
  validateEnvironment,
  type ConfigProblem,
  type EnvironmentConfig,
} from './config';
import { GC_CONNECTIONS, connectionBudget, type ConnectionBudget } from './sizing';

/** One MLflow server of an environment that declares `instances`. */
export interface Instance {
  /** The instance's name: its folder `dist/<env>/<instance>/` and its Application `mlflow-<env>-<instance>`. */
  readonly name: string;
  /**
   * Its typed config, as a single-server environment's. `config.name` is `<env>-<instance>`, the value of the
   * `app.kubernetes.io/instance` label (`mlflow-<env>-<instance>`) that tells the servers apart.
   */
  readonly config: EnvironmentConfig;
}

/**
 * One validated config file: a single server (`config`, today's layout `dist/<env>/mlflow/`), or several
 * (`instances`, one folder and one Argo CD Application each).
 */
export type Environment =
  | { readonly name: string; readonly config: EnvironmentConfig; readonly instances?: undefined }
  | { readonly name: string; readonly instances: readonly Instance[]; readonly config?: undefined };

/** The server configs of an environment: its one config, or one per instance. */
export function serverConfigs(env: Environment): readonly EnvironmentConfig[] {
  return env.instances === undefined ? [env.config] : env.instances.map((i) => i.config);
}

// ---------------------------------------------------------------------------------------------------------
// Schema: composed from the environment schema's own sections (referenced, never copied)
// ---------------------------------------------------------------------------------------------------------

/** An instance name: an RFC 1123 label starting with a letter (a folder, part of an Application name and a label). */
const INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Names an instance may not take: the folders and Argo CD Applications `dist/<env>/` already has (the root app's
 * `apps`, `cluster-issuer`; Applications `mlflow-<env>-root`, `-external-secrets`, `-cert-manager`, `-cluster-issuer`).
 */
export const RESERVED_INSTANCE_NAMES: readonly string[] = ['apps', 'cert-manager', 'cluster-issuer', 'external-secrets', 'root'];

/** Longest `app.kubernetes.io/instance` label value (a Kubernetes label value is at most 63 characters). */
const MAX_LABEL_VALUE = 63;

const { gitops: gitopsSection, namespace: namespaceField, ...sharedShape } = environmentSchema.shape;

/** Every section either level may set (all optional there; the merged instance must have the required ones). */
const sections: Record<string, z.ZodType> = Object.fromEntries(Object.entries(sharedShape).map(([k, v]) => [k, (v as z.ZodType).optional()]));

const instanceSchema = z.strictObject({
  name: z
    .string({ error: 'expected an instance name' })
    .regex(INSTANCE_NAME, { error: "expected an instance name: lowercase letters, digits and '-', starting with a letter (RFC 1123 label)" }),
  namespace: namespaceField,
  ...sections,
  gitops: z.undefined({ error: 'shared by every instance: set gitops at the top level of the file, not in an instance' }).optional(),
}, { error: 'expected an instance: a mapping with its name, its namespace and the sections it sets itself' });

/** A file that declares `instances`. */
export const instancesSchema = z.strictObject({
  ...sections,
  gitops: gitopsSection,
  namespace: z.undefined({ error: "not used with 'instances': each instance sets its own namespace" }).optional(),
  instances: z.array(instanceSchema, { error: 'expected a list of instances, each with a name and a namespace' }).min(1, { error: 'expected at least one instance' }),
});

type Schema = z.infer<typeof environmentSchema>;
type Raw = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------
// Where a field of an instance is written
// ---------------------------------------------------------------------------------------------------------

/** An instance's entry in the file. */
interface Entry {
  readonly index: number;
  readonly name: string;
  /** The instance's own entry, as written. */
  readonly raw: Raw;
}

/** An instance whose effective config is valid on its own. */
interface Located extends Entry {
  readonly config: Schema;
}

/**
 * The file path of `field` (dotted, relative to the instance's effective config): inside the instance's entry,
 * or at the top level when the instance takes that section from there (`inheritedBy` names the section).
 */
function locate(top: Raw, i: Entry, field: string): { path: string; inheritedBy?: string } {
  const section = field.split('.')[0];
  if (!Object.hasOwn(i.raw, section) && Object.hasOwn(top, section)) return { path: field, inheritedBy: section };
  return { path: `instances.${i.index}.${field}` };
}

/** A problem about `field` of instance `i`, at the place the field is written. */
function problemAt(file: string, top: Raw, i: Located, field: string, message: string): ConfigProblem {
  const where = locate(top, i, field);
  const prefix = where.inheritedBy !== undefined ? `instance '${i.name}' (which takes '${where.inheritedBy}' from the top level): ` : '';
  return { file, path: where.path, message: `${prefix}${message}` };
}

/** The file path of `field` of instance `i`, as shown inside a message. */
function pathOf(top: Raw, i: Located, field: string): string {
  return locate(top, i, field).path;
}

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

/** Validates a parsed config document: several instances when it has `instances`, else a single server. */
export function validateEnvironmentDocument(file: string, doc: Record<string, unknown>): { environment?: Environment; problems: ConfigProblem[] } {
  if (!Object.hasOwn(doc, 'instances')) {
    const r = validateEnvironment(file, doc);
    return r.config ? { environment: { name: r.config.name, config: r.config }, problems: [] } : { problems: r.problems };
  }
  return validateInstances(file, doc);
}

function validateInstances(file: string, doc: Raw): { environment?: Environment; problems: ConfigProblem[] } {
  const env = environmentNameOf(file);
  const problems: ConfigProblem[] = env.problem ? [env.problem] : [];
  const parsed = instancesSchema.safeParse(doc);
  if (!parsed.success) return { problems: [...problems, ...schemaProblems(file, doc, parsed.error.issues)] };

  const { instances: rawInstances, ...top } = doc as Raw & { instances: Raw[] };
  const located: Located[] = [];
  // Problems of inherited sections, grouped: one message naming every instance that inherits the section.
  const inherited = new Map<string, { path: string; section: string; message: string; names: string[] }>();
  const add = (i: Entry, field: string, message: string, value?: unknown) => {
    const where = locate(top, i, field);
    if (where.inheritedBy === undefined) {
      problems.push({ file, path: where.path, message, ...(value !== undefined ? { value } : {}) });
      return;
    }
    const key = `${where.path}\n${message}`;
    const entry = inherited.get(key) ?? { path: where.path, section: where.inheritedBy, message, names: [] };
    entry.names.push(i.name);
    inherited.set(key, entry);
  };

  rawInstances.forEach((raw, index) => {
    const { name, ...own } = raw as Raw & { name: string };
    const merged = { ...top, ...own };
    const result = environmentSchema.safeParse(merged);
    if (!result.success) {
      for (const p of schemaProblems(file, merged, result.error.issues)) {
        const section = p.path.split('.')[0];
        const missing = p.value === undefined && !Object.hasOwn(merged, section);
        const message = missing ? `required in every instance: set '${section}' in instance '${name}' or at the top level (shared by the instances)` : p.message;
        add({ index, name, raw }, p.path, message, p.value);
      }
      return;
    }
    const i: Located = { index, name, raw, config: result.data };
    for (const g of crossFieldProblems(result.data)) add(i, g.path, g.message);
    located.push(i);
  });
  for (const e of inherited.values()) {
    const who = e.names.length === 1 ? `instance '${e.names[0]}'` : `instances ${e.names.map((n) => `'${n}'`).join(', ')}`;
    problems.push({ file, path: e.path, message: `${who} (which take${e.names.length === 1 ? 's' : ''} '${e.section}' from the top level): ${e.message}` });
  }
  if (located.length === rawInstances.length) problems.push(...acrossInstances(file, env.name, top, located));
  if (problems.length > 0) return { problems };
  return {
    environment: { name: env.name, instances: located.map((i) => ({ name: i.name, config: { name: `${env.name}-${i.name}`, ...i.config } })) },
    problems,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rules across instances
// ---------------------------------------------------------------------------------------------------------

/** The public host names of an exposure, whatever its mode (any variant with `hosts`). */
export function hostsOf(exposure: Schema['exposure']): readonly string[] {
  return 'hosts' in exposure && Array.isArray(exposure.hosts) ? exposure.hosts : [];
}

/** The Cloud SQL side of a database section (any engine variant that has an instance connection name). */
function cloudSqlOf(c: Schema) {
  return 'instanceConnectionName' in c.database ? c.database : undefined;
}

/** `a/b` lies inside `a` (path segments: `team` and `team-b` do not overlap). */
export function prefixesOverlap(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** The first earlier instance for which `same(earlier)` holds. */
function firstBefore(all: readonly Located[], j: number, same: (earlier: Located) => boolean): Located | undefined {
  return all.slice(0, j).find(same);
}

function acrossInstances(file: string, env: string, top: Raw, all: readonly Located[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const at = (i: Located, field: string, message: string) => out.push(problemAt(file, top, i, field, message));

  all.forEach((i, j) => {
    const twin = firstBefore(all, j, (e) => e.name === i.name);
    if (twin) at(i, 'name', `duplicate instance name '${i.name}': instances.${twin.index} has it already (each instance is one folder dist/${env}/<name>/ and one Application)`);
    if (RESERVED_INSTANCE_NAMES.includes(i.name)) {
      at(i, 'name', `'${i.name}' is reserved: dist/${env}/ has a shared folder or Application of that name (reserved: ${RESERVED_INSTANCE_NAMES.join(', ')})`);
    }
    const label = `mlflow-${env}-${i.name}`;
    if (label.length > MAX_LABEL_VALUE) {
      at(
        i,
        'name',
        `too long: its label app.kubernetes.io/instance '${label}' has ${label.length} characters, at most ${MAX_LABEL_VALUE} are allowed ` +
          `(instance names of environment '${env}' have at most ${MAX_LABEL_VALUE - `mlflow-${env}-`.length})`,
      );
    }

    const ns = firstBefore(all, j, (e) => e.config.namespace === i.config.namespace);
    if (ns) {
      at(i, 'namespace', `namespace '${i.config.namespace}' is already used by instance '${ns.name}' (instances.${ns.index}): each instance needs its own namespace (the servers' objects have the same names)`);
    }

    hostsOf(i.config.exposure).forEach((host, k) => {
      for (const e of all.slice(0, j)) {
        const m = hostsOf(e.config.exposure).indexOf(host);
        if (m >= 0) {
          at(i, `exposure.hosts.${k}`, `host '${host}' is already served by instance '${e.name}' (${pathOf(top, e, `exposure.hosts.${m}`)}): a host routes to one server`);
          break;
        }
      }
    });

    const db = cloudSqlOf(i.config);
    if (db) {
      const shared = firstBefore(all, j, (e) => {
        const o = cloudSqlOf(e.config);
        return o !== undefined && o.instanceConnectionName === db.instanceConnectionName && o.name === db.name;
      });
      if (shared) {
        at(
          i,
          'database.name',
          `database '${db.name}' on Cloud SQL instance '${db.instanceConnectionName}' is already used by instance '${shared.name}' (${pathOf(top, shared, 'database.name')}): ` +
            'each server needs its own database (its schema, users and runs)',
        );
      }
    }

    const a = i.config.artifacts;
    if ('bucket' in a && 'prefix' in a) {
      const where = `gs://${a.bucket}/${a.prefix}`;
      for (const e of all.slice(0, j)) {
        const o = e.config.artifacts;
        if (!('bucket' in o && 'prefix' in o) || o.bucket !== a.bucket || !prefixesOverlap(a.prefix, o.prefix)) continue;
        const other = `gs://${o.bucket}/${o.prefix}`;
        const how = a.prefix === o.prefix ? 'is also the artifact location of' : a.prefix.startsWith(`${o.prefix}/`) ? 'lies inside the artifact location of' : 'contains the artifact location of';
        at(
          i,
          'artifacts.prefix',
          `${where} ${how} instance '${e.name}' (${other}, ${pathOf(top, e, 'artifacts.prefix')}): each instance needs its own bucket, or a prefix that neither contains nor lies inside another's`,
        );
        break;
      }
    }
  });

  out.push(...sharedCloudSqlBudgets(file, top, all));
  return out;
}

/** One instance's share of a Cloud SQL instance: its worst-case connections by the per-server rule (lib/config/sizing.ts). */
function shareOf(i: Located): { budget: ConnectionBudget; connectionName: string } | undefined {
  const db = cloudSqlOf(i.config);
  const scaling = i.config.server.autoscaling;
  if (!db || !scaling) return undefined;
  const budget = connectionBudget({
    maxReplicas: scaling.maxReplicas,
    workers: i.config.server.workers,
    authEnabled: i.config.auth.enabled,
    poolSize: db.pool.size,
    maxOverflow: db.pool.maxOverflow,
    maxConnections: db.maxConnections,
    gcConnections: i.config.gc ? GC_CONNECTIONS : 0,
  });
  return { budget, connectionName: db.instanceConnectionName };
}

/**
 * The connection budget of every Cloud SQL instance that several servers share: the sum of their worst cases
 * must fit its `max_connections` minus the headroom, the same rule as for one server. One instance has one
 * `max_connections`, so the servers sharing it must state the same value.
 */
function sharedCloudSqlBudgets(file: string, top: Raw, all: readonly Located[]): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const groups = new Map<string, Array<{ i: Located; budget: ConnectionBudget }>>();
  for (const i of all) {
    const s = shareOf(i);
    if (!s) continue;
    const g = groups.get(s.connectionName) ?? [];
    g.push({ i, budget: s.budget });
    groups.set(s.connectionName, g);
  }
  for (const [connectionName, members] of groups) {
    if (members.length < 2) continue;
    const first = members[0];
    const disagreeing = members.filter((m) => m.budget.maxConnections !== first.budget.maxConnections);
    for (const m of disagreeing) {
      out.push(
        problemAt(
          file,
          top,
          m.i,
          'database.maxConnections',
          `Cloud SQL instance '${connectionName}' has one max_connections, but this says ${m.budget.maxConnections} and instance '${first.i.name}' ` +
            `(${pathOf(top, first.i, 'database.maxConnections')}) says ${first.budget.maxConnections}: set the instance's value in both`,
        ),
      );
    }
    if (disagreeing.length > 0) continue;
    const total = members.reduce((sum, m) => sum + m.budget.peak, 0);
    const { maxConnections, headroom, available } = first.budget;
    if (total <= available) continue;
    const shares = members.map(
      (m) =>
        `'${m.i.name}' (maxReplicas ${m.budget.maxReplicas} + surge ${m.budget.surge}) × ${m.budget.perPod}` +
        `${m.budget.gcConnections > 0 ? ` + gc ${m.budget.gcConnections}` : ''} = ${m.budget.peak} (${pathOf(top, m.i, 'database.pool')})`,
    );
    out.push({
      file,
      path: 'instances',
      message:
        `connection budget of Cloud SQL instance '${connectionName}' exceeded by the instances sharing it: ${shares.join(' + ')} = ${total} connections, ` +
        `but max_connections ${maxConnections} − headroom ${headroom} leaves ${available}; lower the pools, workers or maxReplicas of these instances, ` +
        'give one of them its own Cloud SQL instance, or raise max_connections',
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Loader
// ---------------------------------------------------------------------------------------------------------

/** Reads and validates one config file, single-server or with instances. */
export function loadEnvironmentDocument(file: string): { environment?: Environment; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return { problems: [{ file, path: '', message: `cannot read the file: ${(e as Error).message}` }] };
  }
  const r = parseConfigDocument(file, text);
  return r.doc === undefined ? { problems: r.problems } : validateEnvironmentDocument(file, r.doc);
}

/** Loads config files (single-server or with instances), collecting the problems of all of them. */
export function loadEnvironmentFiles(files: readonly string[]): Environment[] {
  const out: Environment[] = [];
  const problems: ConfigProblem[] = [];
  for (const f of files) {
    const r = loadEnvironmentDocument(f);
    problems.push(...r.problems);
    if (r.environment) out.push(r.environment);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
