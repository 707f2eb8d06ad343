/**
 * The Terraform contract: which `terraform output -json` values this project reads, where each one goes in
 * `config/<env>.yaml`, and when it is required. {@link TERRAFORM_CONTRACT} is the single table the import
 * command (`scripts/import-terraform.ts`) and the documentation (`docs/terraform-contract.md`, checked by
 * `test/tools/terraform/import.test.ts`) derive from.
 *
 * Everything here is pure (text in, text out): the script does the file I/O, the atomic write and the exit
 * codes. The updated document is validated with the same schema as every config file ({@link parseEnvironmentText}).
 */
import { isDeepStrictEqual } from 'util';
import { isMap, isScalar, parseDocument, stringify, type Scalar } from 'yaml';
import { formatProblem, parseEnvironmentText } from '../../lib/config/config';
import type { ConfigDocument } from '../../lib/config/schema';

// ---------------------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------------------

type KeysOf<T> = T extends unknown ? keyof T & string : never;
type At<T, K extends string> = T extends unknown ? (K extends keyof T ? NonNullable<T[K]> : never) : never;
/** `[section, field]` paths of a config document ({@link ConfigDocument}) whose value is a `V` (union members included). */
type FieldPath<V, T = ConfigDocument> = {
  [A in KeysOf<T>]: At<T, A> extends readonly unknown[]
    ? never
    : At<T, A> extends object
      ? { [B in KeysOf<At<T, A>>]: At<At<T, A>, B> extends V ? readonly [A, B] : never }[KeysOf<At<T, A>>]
      : never;
}[KeysOf<T>];

/** When an output is required, decided on the config document being updated. */
export interface Requirement {
  /** Markdown, for the documentation table. */
  readonly describe: string;
  readonly applies: (doc: unknown) => boolean;
}

/**
 * Every requirement assumes a GKE environment (`database.engine` `mysql` or `postgres`); the command refuses any
 * other. Requirements are decided on the document as the import will leave it: the outputs of rows marked
 * `decides` ({@link StringOutput.decides}, the login) are applied first.
 */
export const REQUIRED_WHEN = {
  always: { describe: 'always', applies: () => true },
  passwordLogin: {
    describe: "`database.login: password` (the default; the `database_login` output decides)",
    applies: (doc) => (valueAt(doc, ['database', 'login']) ?? 'password') === 'password',
  },
  gcsArtifacts: {
    describe: '`artifacts.store: gcs`',
    applies: (doc) => valueAt(doc, ['artifacts', 'store']) === 'gcs',
  },
  auth: {
    describe: '`auth.enabled: true`',
    applies: (doc) => valueAt(doc, ['auth', 'enabled']) === true,
  },
  metricsUser: {
    describe: '`auth.enabled: true` and `auth.metricsUsername` (or `auth.metricsPasswordSecret`) set',
    applies: (doc) =>
      valueAt(doc, ['auth', 'enabled']) === true &&
      (valueAt(doc, ['auth', 'metricsUsername']) !== undefined || valueAt(doc, ['auth', 'metricsPasswordSecret']) !== undefined),
  },
  smokeUser: {
    describe: '`auth.enabled: true` and `auth.smokeUsername` (or `auth.smokePasswordSecret`) set',
    applies: (doc) =>
      valueAt(doc, ['auth', 'enabled']) === true &&
      (valueAt(doc, ['auth', 'smokeUsername']) !== undefined || valueAt(doc, ['auth', 'smokePasswordSecret']) !== undefined),
  },
} as const satisfies Record<string, Requirement>;

interface Row {
  /** The Terraform output name. */
  readonly output: string;
  readonly requiredWhen: Requirement;
  /** What the module puts there (Markdown). */
  readonly meaning: string;
}
/** A string output, written as is. */
export interface StringOutput extends Row {
  readonly type: 'string';
  readonly path: FieldPath<string>;
  readonly example: string;
  /**
   * What an absent config field means (its schema default): an output equal to it leaves the absent field absent,
   * so a config written before the field existed stays byte-for-byte as it is.
   * @default - none: the value is always written
   */
  readonly absentMeans?: string;
  /**
   * The value decides which other outputs are required (the login decides the database secrets): it is applied to
   * the document before any requirement is evaluated.
   * @default false
   */
  readonly decides?: boolean;
}
/**
 * A number output. Terraform `number` is accepted, and so is a `string` of digits: Cloud SQL's
 * `settings.database_flags[].value` is a string, so a module may output the flag value as it is.
 */
export interface NumberOutput extends Row {
  readonly type: 'number';
  readonly path: FieldPath<number>;
  readonly example: number;
}
export type ContractOutput = StringOutput | NumberOutput;

/** The outputs this project reads, in the order they are reported and documented. */
export const TERRAFORM_CONTRACT: readonly ContractOutput[] = [
  {
    output: 'project_id',
    type: 'string',
    path: ['gcp', 'projectId'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: 'GCP project of the cluster, the Cloud SQL instance, the bucket and the secrets',
    example: 'acme-ml-dev',
  },
  {
    output: 'region',
    type: 'string',
    path: ['gcp', 'region'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: 'Region of the Cloud SQL instance',
    example: 'europe-west1',
  },
  {
    output: 'mlflow_service_account_email',
    type: 'string',
    path: ['gcp', 'serviceAccountEmail'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: 'Google service account the `mlflow` Kubernetes service account impersonates (Workload Identity)',
    example: 'mlflow-server@acme-ml-dev.iam.gserviceaccount.com',
  },
  {
    output: 'cloudsql_instance_connection_name',
    type: 'string',
    path: ['database', 'instanceConnectionName'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: '`google_sql_database_instance.connection_name` (`project:region:instance`)',
    example: 'acme-ml-dev:europe-west1:mlflow-dev',
  },
  {
    output: 'database_name',
    type: 'string',
    path: ['database', 'name'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: 'The database MLflow owns',
    example: 'mlflow',
  },
  {
    output: 'database_engine',
    type: 'string',
    path: ['database', 'engine'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: 'The Cloud SQL engine: `mysql` or `postgres`',
    example: 'mysql',
  },
  {
    output: 'database_login',
    type: 'string',
    path: ['database', 'login'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning:
      'How MLflow logs in: `password` (the database secrets below) or `iam` (the proxy\'s IAM database login as the service account; no database secrets, the module outputs them as null). `password` is not written into a config without the field (its default)',
    example: 'password',
    absentMeans: 'password',
    decides: true,
  },
  {
    output: 'database_user_secret_id',
    type: 'string',
    path: ['database', 'userSecret'],
    requiredWhen: REQUIRED_WHEN.passwordLogin,
    meaning: 'Secret Manager secret id holding the database user name',
    example: 'mlflow-dev-db-user',
  },
  {
    output: 'database_password_secret_id',
    type: 'string',
    path: ['database', 'passwordSecret'],
    requiredWhen: REQUIRED_WHEN.passwordLogin,
    meaning: 'Secret Manager secret id holding the database password (any printable ASCII)',
    example: 'mlflow-dev-db-password',
  },
  {
    output: 'cloudsql_max_connections',
    type: 'number',
    path: ['database', 'maxConnections'],
    requiredWhen: REQUIRED_WHEN.always,
    meaning: "The instance's `max_connections` database flag (the connection budget is checked against it)",
    example: 800,
  },
  {
    output: 'artifact_bucket',
    type: 'string',
    path: ['artifacts', 'bucket'],
    requiredWhen: REQUIRED_WHEN.gcsArtifacts,
    meaning: 'GCS bucket name for artifacts (no `gs://`)',
    example: 'acme-ml-dev-mlflow-artifacts',
  },
  {
    output: 'flask_secret_key_secret_id',
    type: 'string',
    path: ['auth', 'flaskSecretKeySecret'],
    requiredWhen: REQUIRED_WHEN.auth,
    meaning: "Secret Manager secret id of basic-auth's Flask session key",
    example: 'mlflow-dev-flask-secret-key',
  },
  {
    output: 'admin_username_secret_id',
    type: 'string',
    path: ['auth', 'adminUsernameSecret'],
    requiredWhen: REQUIRED_WHEN.auth,
    meaning: 'Secret Manager secret id of the MLflow admin user name',
    example: 'mlflow-dev-admin-username',
  },
  {
    output: 'admin_password_secret_id',
    type: 'string',
    path: ['auth', 'adminPasswordSecret'],
    requiredWhen: REQUIRED_WHEN.auth,
    meaning: 'Secret Manager secret id of the MLflow admin password',
    example: 'mlflow-dev-admin-password',
  },
  {
    output: 'metrics_password_secret_id',
    type: 'string',
    path: ['auth', 'metricsPasswordSecret'],
    requiredWhen: REQUIRED_WHEN.metricsUser,
    meaning: "Secret Manager secret id of the metrics scraper's MLflow password",
    example: 'mlflow-dev-metrics-password',
  },
  {
    output: 'smoke_password_secret_id',
    type: 'string',
    path: ['auth', 'smokePasswordSecret'],
    requiredWhen: REQUIRED_WHEN.smokeUser,
    meaning: "Secret Manager secret id of the PostSync smoke test user's MLflow password",
    example: 'mlflow-dev-smoke-password',
  },
];

/** The config lists whose entries a Terraform output keyed by entry name fills ({@link ListOutput}). */
export type ContractList = 'clients' | 'serving';

/**
 * A `map(string)` output keyed by the names of a config list's entries (`clients[].name`, `serving[].name`): each
 * value goes into the entry of that name. The module and the config must list the same names: an entry on one side
 * only is refused, naming it.
 */
export interface ListOutput {
  readonly output: string;
  readonly list: ContractList;
  readonly field: 'passwordSecret' | 'serviceAccountEmail';
  /** What the module puts there (Markdown). */
  readonly meaning: string;
  readonly example: Readonly<Record<string, string>>;
}

/** The list outputs, in the order they are reported and documented (after {@link TERRAFORM_CONTRACT}). */
export const TERRAFORM_LIST_CONTRACT: readonly ListOutput[] = [
  {
    output: 'client_password_secret_ids',
    list: 'clients',
    field: 'passwordSecret',
    meaning: "Secret Manager secret id of each client's MLflow password (generated by the module)",
    example: { 'iris-trainer': 'mlflow-dev-client-iris-trainer-password' },
  },
  {
    output: 'client_service_account_emails',
    list: 'clients',
    field: 'serviceAccountEmail',
    meaning: "Google service account of each client: its namespace's Kubernetes service account impersonates it (Workload Identity), and it may read only that client's password",
    example: { 'iris-trainer': 'mlflow-dev-c-iris-trainer@acme-ml-dev.iam.gserviceaccount.com' },
  },
  {
    output: 'serving_password_secret_ids',
    list: 'serving',
    field: 'passwordSecret',
    meaning: "Secret Manager secret id of each served model's MLflow password (generated by the module; read by the server's service account)",
    example: { iris: 'mlflow-dev-serving-iris-password' },
  },
];

/** The documentation table (Markdown), generated from {@link TERRAFORM_CONTRACT} and {@link TERRAFORM_LIST_CONTRACT}. */
export function contractTable(): string {
  const type = (r: ContractOutput) => (r.type === 'number' ? '`number` (or a `string` of digits)' : '`string`');
  const example = (r: ContractOutput) => (r.type === 'number' ? `\`${r.example}\`` : `\`"${r.example}"\``);
  return [
    '| Output | Type | Config field | Required when | Example | What it is |',
    '| --- | --- | --- | --- | --- | --- |',
    ...TERRAFORM_CONTRACT.map(
      (r) => `| \`${r.output}\` | ${type(r)} | \`${r.path.join('.')}\` | ${r.requiredWhen.describe} | ${example(r)} | ${r.meaning} |`,
    ),
    ...TERRAFORM_LIST_CONTRACT.map(
      (r) =>
        `| \`${r.output}\` | \`map(string)\` by \`${r.list}[].name\` | \`${r.list}[].${r.field}\` | \`${r.list}\` lists an entry | \`${JSON.stringify(r.example)}\` | ${r.meaning} |`,
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// `terraform output -json`
// ---------------------------------------------------------------------------------------------------------

/** One entry of `terraform output -json`. */
export interface TerraformOutput {
  readonly sensitive: boolean;
  /** The output's type in Terraform's JSON type notation: `"string"`, `"number"`, `["list","string"]`, … */
  readonly type: unknown;
  readonly value: unknown;
}

const SHAPE = 'expected the JSON printed by `terraform output -json`: an object mapping each output name to { "sensitive": bool, "type": …, "value": … }';

/** Parses the text of `terraform output -json`; `source` names it in messages. */
export function parseTerraformOutputs(source: string, text: string): { outputs?: Record<string, TerraformOutput>; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`${source}: not JSON (${(e as Error).message}); ${SHAPE}`] };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { problems: [`${source}: found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : `a ${typeof json}`}; ${SHAPE}`] };
  }
  const obj = json as Record<string, unknown>;
  if ('terraform_version' in obj && 'outputs' in obj) {
    return { problems: [`${source}: this is a Terraform state file, not output values; run \`terraform output -json > FILE\` and pass FILE`] };
  }
  const problems: string[] = [];
  for (const [name, entry] of Object.entries(obj)) {
    const e = entry as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || Array.isArray(e) || typeof e.sensitive !== 'boolean' || !('type' in e) || !('value' in e)) {
      problems.push(`${source}: output '${name}' is ${brief(entry)}; ${SHAPE}`);
    }
  }
  if (problems.length > 0) return { problems };
  return { outputs: obj as Record<string, TerraformOutput>, problems };
}

/** A contract output found valid in the outputs file, with the value to write. */
export interface ResolvedOutput {
  readonly row: ContractOutput;
  readonly value: string | number;
}

/** A list output found valid: the value of each entry, by the entry's index in the config list. */
export interface ResolvedListOutput {
  readonly row: ListOutput;
  readonly values: ReadonlyArray<{ readonly index: number; readonly value: string }>;
}

/** `terraform output -json` types of a map of strings (an empty map may come as a map of any type, or an empty object). */
function isStringMap(o: TerraformOutput): o is TerraformOutput & { value: Record<string, string> } {
  const t = o.type;
  const typed = Array.isArray(t) && ((t[0] === 'map' && (t[1] === 'string' || t[1] === 'dynamic')) || t[0] === 'object');
  const v = o.value;
  return typed && v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

/**
 * The list outputs checked against the config's lists: an output is required when its list has an entry, and an
 * output present must name exactly the list's entries (by `name`). Every problem is reported at once.
 */
export function resolveListContract(
  source: string,
  doc: unknown,
  outputs: Readonly<Record<string, TerraformOutput>>,
): { resolved: ResolvedListOutput[]; problems: string[] } {
  const resolved: ResolvedListOutput[] = [];
  const problems: string[] = [];
  for (const row of TERRAFORM_LIST_CONTRACT) {
    const list = valueAt(doc, [row.list]);
    const entries = (Array.isArray(list) ? list : []).map((e: unknown, index) => ({ index, name: valueAt(e, ['name']) }));
    const target = `${row.list}[].${row.field}`;
    const o = Object.hasOwn(outputs, row.output) ? outputs[row.output] : undefined;
    if (o === undefined) {
      if (entries.length > 0) problems.push(`${source}: missing output '${row.output}' (map(string) → ${target}, required with ${row.list} listed)`);
      continue;
    }
    if (o.sensitive) {
      problems.push(`${source}: output '${row.output}' is marked sensitive: this project reads only identifiers; output the ${row.field} map with sensitive = false`);
      continue;
    }
    if (!isStringMap(o)) {
      problems.push(`${source}: output '${row.output}' has the wrong type: expected a map of strings keyed by ${row.list}[].name (${target}), got type ${brief(o.type)} with value ${brief(o.value)}`);
      continue;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const key of Object.keys(o.value)) {
      if (!names.has(key)) {
        problems.push(`${source}: output '${row.output}' has an entry for '${key}', but the config's ${row.list} has none of that name: add it to ${row.list}, or remove it from the module's ${row.list} variable`);
      }
    }
    const values: Array<{ index: number; value: string }> = [];
    for (const e of entries) {
      if (typeof e.name === 'string' && Object.hasOwn(o.value, e.name)) values.push({ index: e.index, value: o.value[e.name] });
      else problems.push(`${source}: output '${row.output}' has no entry for ${row.list}.${e.index} '${String(e.name)}': add it to the module's ${row.list} variable, or remove it from the config`);
    }
    resolved.push({ row, values });
  }
  return { resolved, problems };
}

/**
 * The contract outputs the config document needs, checked: every problem (missing, null, wrong type,
 * sensitive) is reported at once. Outputs the contract does not list, or the document does not need, are ignored.
 */
export function resolveContract(
  source: string,
  doc: unknown,
  outputs: Readonly<Record<string, TerraformOutput>>,
): { resolved: ResolvedOutput[]; problems: string[] } {
  const resolved: ResolvedOutput[] = [];
  const problems: string[] = [];
  const effective = withDecidingOutputs(doc, outputs);
  for (const row of TERRAFORM_CONTRACT) {
    if (!row.requiredWhen.applies(effective)) continue;
    const o = Object.hasOwn(outputs, row.output) ? outputs[row.output] : undefined;
    const target = `${row.type} → ${row.path.join('.')}`;
    const when = row.requiredWhen === REQUIRED_WHEN.always ? '' : `, required with ${row.requiredWhen.describe.replace(/`/g, '')}`;
    if (o === undefined) {
      problems.push(`${source}: missing output '${row.output}' (${target}${when})`);
      continue;
    }
    if (o.sensitive) {
      problems.push(
        `${source}: output '${row.output}' is marked sensitive: this project reads only identifiers (names, ids, emails) ` +
          `and commits them to config/; a sensitive output means the module puts secret material there (a password ` +
          `or key instead of its Secret Manager secret id) or marks an identifier sensitive needlessly. Output the ` +
          `identifier with sensitive = false; secret values belong in Secret Manager only`,
      );
      continue;
    }
    const got = `got type ${brief(o.type)} with value ${brief(o.value)}`;
    if (o.value === null) {
      problems.push(`${source}: output '${row.output}' is null (${target}): the module has no value for it`);
    } else if (row.type === 'string') {
      if (o.type === 'string' && typeof o.value === 'string') resolved.push({ row, value: o.value });
      else problems.push(`${source}: output '${row.output}' has the wrong type: expected a string (${row.path.join('.')}), ${got}`);
    } else if (o.type === 'number' && typeof o.value === 'number' && Number.isFinite(o.value)) {
      resolved.push({ row, value: o.value });
    } else if (o.type === 'string' && typeof o.value === 'string' && /^\d+$/.test(o.value)) {
      resolved.push({ row, value: Number(o.value) });
    } else {
      problems.push(`${source}: output '${row.output}' has the wrong type: expected a number or a string of digits (${row.path.join('.')}), ${got}`);
    }
  }
  return { resolved, problems };
}

/** `doc` with the string values of the deciding outputs ({@link StringOutput.decides}) set, as the import will set them. */
function withDecidingOutputs(doc: unknown, outputs: Readonly<Record<string, TerraformOutput>>): unknown {
  const copy = structuredClone(doc) as Record<string, Record<string, unknown>>;
  for (const row of TERRAFORM_CONTRACT) {
    if (row.type !== 'string' || !row.decides || !Object.hasOwn(outputs, row.output)) continue;
    const o = outputs[row.output];
    const section = copy[row.path[0]];
    if (!o.sensitive && typeof o.value === 'string' && section !== null && typeof section === 'object') section[row.path[1]] = o.value;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------------------
// Updating the config file
// ---------------------------------------------------------------------------------------------------------

/** One field the import changes. `from` is undefined when the field was absent. */
export interface FieldChange {
  readonly path: string;
  readonly output: string;
  readonly from: unknown;
  readonly to: string | number;
}

export type ImportResult =
  | { readonly ok: true; readonly text: string; readonly changes: FieldChange[]; readonly checked: number; readonly notes: string[] }
  | { readonly ok: false; readonly problems: string[] };

/** Why a document is not a GKE environment, or undefined when it is one (`database.engine` on Cloud SQL: `mysql` or `postgres`). */
export function notGkeReason(doc: unknown): string | undefined {
  const engine = valueAt(doc, ['database', 'engine']);
  if (engine === 'mysql' || engine === 'postgres') return undefined;
  const found = [
    engine === undefined ? 'no database.engine' : `database.engine ${JSON.stringify(engine)}`,
    valueAt(doc, ['gcp']) === undefined ? "no 'gcp' section" : "a 'gcp' section",
  ];
  return `is not a GKE environment (${found.join(', ')}): Terraform outputs are imported only into environments with database.engine 'mysql' or 'postgres' (Cloud SQL, GCS, Secret Manager)`;
}

/**
 * Applies the contract outputs to the text of a config file and validates the result. `configFile` names
 * the file in messages and gives the environment name; nothing is read or written here.
 */
export function importTerraformOutputs(args: {
  configFile: string;
  configText: string;
  outputsSource: string;
  outputs: Readonly<Record<string, TerraformOutput>>;
}): ImportResult {
  const { configFile, configText } = args;
  const doc = parseDocument(configText);
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => `${configFile}: malformed YAML: ${e.message}`) };
  }
  const before: unknown = doc.toJS();
  if (!isMap(doc.contents)) return { ok: false, problems: [`${configFile}: expected a YAML mapping at the top level`] };
  const notGke = notGkeReason(before);
  if (notGke) return { ok: false, problems: [`${configFile} ${notGke}`] };

  const { resolved, problems } = resolveContract(args.outputsSource, before, args.outputs);
  const lists = resolveListContract(args.outputsSource, before, args.outputs);
  problems.push(...lists.problems);
  if (problems.length > 0) return { ok: false, problems };

  const scalarChanges = resolved
    .map(({ row, value }) => ({ path: row.path.join('.'), output: row.output, from: valueAt(before, row.path), to: value, at: row.path as ReadonlyArray<string | number> }))
    .filter((c, i) => {
      const row = resolved[i].row;
      const absentAsDefault = c.from === undefined && row.type === 'string' && row.absentMeans !== undefined && row.absentMeans === c.to;
      return !isDeepStrictEqual(c.from, c.to) && !absentAsDefault;
    });
  const listChanges = lists.resolved.flatMap(({ row, values }) =>
    values.map(({ index, value }) => {
      const at = [row.list, index, row.field];
      return { path: at.join('.'), output: row.output, from: valueAt(before, at), to: value as string | number, at };
    }),
  );
  const changes = [...scalarChanges, ...listChanges.filter((c) => !isDeepStrictEqual(c.from, c.to))];

  // A fresh copy from the parsed document, not structuredClone: isDeepStrictEqual compares prototypes, and under
  // jest structuredClone's objects come from another realm than the YAML library's.
  const expected = doc.toJS() as Record<string, unknown>;
  for (const c of changes) setAt(expected, c.at, c.to);

  const notes: string[] = [];
  let text = editSource(configText, changes);
  if (text === undefined || !isDeepStrictEqual(parseDocument(text).toJS(), expected)) {
    // Not editable in place (a section is absent, a value is a block scalar, …): let the YAML library set the
    // values and re-serialize the document.
    const edited = parseDocument(configText);
    try {
      for (const c of changes) edited.setIn(c.at, c.to);
    } catch (e) {
      return { ok: false, problems: [`${configFile}: cannot write the Terraform values: ${(e as Error).message}`] };
    }
    text = edited.toString();
    if (!isDeepStrictEqual(parseDocument(text).toJS(), expected)) {
      throw new Error(`internal error: the updated ${configFile} does not read back as the intended values`);
    }
    notes.push(
      `the YAML library re-serialized ${configFile} (a section was absent or a value not a one-line scalar): ` +
        'comments are kept, but spacing inside flow collections ({ } and [ ]) may have been normalized',
    );
  }

  // Validate exactly the bytes that would be written, read the way the loader reads them.
  const fromOutput = new Map([...resolved.map((r): [string, string] => [r.row.path.join('.'), r.row.output]), ...listChanges.map((c): [string, string] => [c.path, c.output])]);
  const invalid = validationProblems(configFile, text, fromOutput);
  if (invalid.length > 0) return { ok: false, problems: invalid };
  return { ok: true, text, changes: changes.map(({ path, output, from, to }) => ({ path, output, from, to })), checked: resolved.length + lists.resolved.length, notes };
}

/** Sets the value at a path of plain objects and arrays (the path exists up to its last step). */
function setAt(root: Record<string, unknown>, at: ReadonlyArray<string | number>, value: unknown): void {
  let cur = root as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string | number, unknown>;
  cur[at[at.length - 1]] = value;
}

/** The problems of a config text as the loader reads it; a field a Terraform output sets names that output. */
function validationProblems(configFile: string, text: string, fromOutput: ReadonlyMap<string, string>): string[] {
  const validation = parseEnvironmentText(configFile, text);
  return validation.problems.map((p) => {
    const output = fromOutput.get(p.path);
    return formatProblem(p) + (output ? ` (from Terraform output '${output}')` : '');
  });
}

/**
 * Edits only the source text of the changed fields — a changed scalar is replaced in place, an absent field is
 * inserted as a new line at the end of its (block) section — so the rest of the file (comments, quoting,
 * flow-collection spacing) stays byte-identical. Undefined when that is not possible (a section is absent or a
 * flow mapping, a value is not a one-line scalar, …): the caller then falls back to the YAML serializer.
 */
function editSource(text: string, changes: readonly { at: ReadonlyArray<string | number>; to: string | number }[]): string | undefined {
  const doc = parseDocument(text);
  const edits: Array<{ start: number; end: number; text: string; order: number }> = [];
  for (const [order, c] of changes.entries()) {
    const node = doc.getIn(c.at, true);
    if (node === undefined) {
      const section = doc.getIn(c.at.slice(0, -1), true);
      if (!isMap(section) || section.flow || !section.range || section.items.length === 0) return undefined;
      const end = section.range[1];
      const firstKey = section.items[0].key;
      if (text[end - 1] !== '\n' || !isScalar(firstKey) || !firstKey.range) return undefined;
      const column = firstKey.range[0] - (text.lastIndexOf('\n', firstKey.range[0] - 1) + 1);
      const value = scalarSource(c.to, 'PLAIN');
      if (value === undefined) return undefined;
      edits.push({ start: end, end, text: `${' '.repeat(column)}${c.at[c.at.length - 1]}: ${value}\n`, order });
      continue;
    }
    if (!isScalar(node) || !node.range || node.tag !== undefined || node.anchor !== undefined) return undefined;
    if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') return undefined;
    const replacement = scalarSource(c.to, node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? node.type : 'PLAIN');
    if (replacement === undefined) return undefined;
    // An empty value (`name: # (terraform)`) starts where its comment does: keep them apart.
    const [start, end] = node.range;
    const separator = start === end && text[end] === '#' ? ' ' : '';
    edits.push({ start, end, text: replacement + separator, order });
  }
  // From the end of the file backwards, so earlier offsets stay valid; insertions at one place keep contract order.
  edits.sort((a, b) => b.start - a.start || b.order - a.order);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** A one-line YAML scalar for `value` in the given quoting style (quoted anyway when plain would misread). */
function scalarSource(value: string | number, style: Scalar.Type): string | undefined {
  const s = stringify(value, { defaultStringType: style, lineWidth: 0 }).replace(/\n$/, '');
  return s.includes('\n') ? undefined : s;
}

/** JSON of a value for a message, cut at 80 characters. */
function brief(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

function valueAt(doc: unknown, p: ReadonlyArray<string | number>): unknown {
  let cur: unknown = doc;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
