/**
 * Several MLflow servers in one environment (`instances:` in `config/<env>.yaml`; docs/configuration.md#several-mlflow-servers-per-environment,
 * docs/design.md#several-mlflow-servers-per-environment).
 *
 * The file's top level holds what the instances share — `gitops` (one root app, one AppProject, the add-ons) and
 * any other section as a default — and `instances` lists the servers, each with its `name`, its `namespace` and
 * the sections it sets itself. An instance's section replaces the top level's section of the same name as a
 * whole (no deep merge: what a server gets is always one section as written, in one place). Every section of
 * the environment schema can be set in either place except `gitops` (top level only) and `namespace` (instances
 * only), so a section or variant added to the schema flows into instances without an edit here.
 *
 * Every instance is validated as a single-server file's document — by the same schema and the same cross-field
 * guards — with each problem's path
 * pointing to where the field is written (`instances.1.database.pool`, or the top level's `server.resources…`
 * when the instance takes that section from there). Then the rules across instances: distinct names,
 * namespaces, hosts, databases and artifact locations, and the connection budget of every Cloud SQL instance
 * summed over the servers that share it.
 *
 * The loader (`config.ts`) calls {@link validateInstances} for a file with `instances` and resolves each instance
 * into one server of the environment (`model.ts`).
 */
import { z } from 'zod';
import { projectName, RESERVED_INSTANCE_NAMES } from '../names';
import { environmentSchema, type ConfigDocument } from './schema';
import { schemaProblems, type ConfigProblem } from './config';
import { crossFieldProblems, MAX_LABEL_VALUE } from './guards';
import { cloudSqlOf, connectionBudgetOf, hostsOf } from './model';
import type { ConnectionBudget } from './sizing';

// ---------------------------------------------------------------------------------------------------------
// Schema: composed from the environment schema's own sections (referenced, never copied)
// ---------------------------------------------------------------------------------------------------------

/** An instance name: an RFC 1123 label starting with a letter (a folder, part of an Application name and a label). */
const INSTANCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const { gitops: gitopsSection, namespace: namespaceField, ...sharedShape } = environmentSchema.shape;

/** Every section either level may set (all optional there; the merged instance must have the required ones). */
const sections: Record<string, z.ZodType> = Object.fromEntries(Object.entries(sharedShape).map(([k, v]) => [k, (v as z.ZodType).optional()]));

const instanceSchema = z.strictObject({
  name: z
    .string({ error: 'expected an instance name' })
    .regex(INSTANCE_NAME, { error: "expected an instance name: lowercase letters, digits and '-', starting with a letter (RFC 1123 label)" })
    .describe('The instance name: its folder under `dist/<env>/`, part of its Application name and of its `app.kubernetes.io/instance` label.'),
  namespace: namespaceField,
  ...sections,
  gitops: z
    .never({ error: 'shared by every instance: set gitops at the top level of the file, not in an instance' })
    .describe('Not allowed in an instance: gitops is shared by every instance, at the top level of the file.')
    .optional(),
}, { error: 'expected an instance: a mapping with its name, its namespace and the sections it sets itself' });

/** A file that declares `instances`. */
export const instancesSchema = z.strictObject({
  ...sections,
  gitops: gitopsSection,
  namespace: z
    .never({ error: "not used with 'instances': each instance sets its own namespace" })
    .describe("Not allowed with 'instances': each instance sets its own namespace.")
    .optional(),
  instances: z
    .array(instanceSchema, { error: 'expected a list of instances, each with a name and a namespace' })
    .min(1, { error: 'expected at least one instance' })
    .describe('The MLflow servers of this environment: each with its name, its namespace and the sections it sets itself.'),
});

type Schema = ConfigDocument;
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

/** One instance of a valid file: its name and its document (the top level's sections merged with its own). */
export interface InstanceDocument {
  readonly name: string;
  readonly config: ConfigDocument;
}

/** Validates a file with `instances` of environment `envName` (already checked by the loader): every problem, or the instances. */
export function validateInstances(file: string, envName: string, doc: Raw): { instances?: InstanceDocument[]; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
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
  if (located.length === rawInstances.length) problems.push(...acrossInstances(file, envName, top, located));
  if (problems.length > 0) return { problems };
  return { instances: located.map((i) => ({ name: i.name, config: i.config })), problems };
}

// ---------------------------------------------------------------------------------------------------------
// Rules across instances
// ---------------------------------------------------------------------------------------------------------

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
    const label = projectName(`${env}-${i.name}`);
    if (label.length > MAX_LABEL_VALUE) {
      at(
        i,
        'name',
        `too long: its label app.kubernetes.io/instance '${label}' has ${label.length} characters, at most ${MAX_LABEL_VALUE} are allowed ` +
          `(instance names of environment '${env}' have at most ${MAX_LABEL_VALUE - projectName(`${env}-`).length})`,
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
  const budget = connectionBudgetOf(i.config);
  return db && budget ? { budget, connectionName: db.instanceConnectionName } : undefined;
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
