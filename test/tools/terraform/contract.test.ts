/**
 * The Terraform contract as functions (tools/terraform/contract.ts), without the command's file I/O: how the text of
 * `terraform output -json` is read, which outputs a config document requires (the login output deciding the
 * database secrets), how each output's type is checked, and how the values are written into the config text.
 * Every message is written out literally: it is what `npm run import-terraform` prints (test/tools/terraform/import.test.ts
 * runs the command itself).
 */
import * as fs from 'fs';
import * as path from 'path';
import { importTerraformOutputs, notGkeReason, parseTerraformOutputs, resolveContract, type TerraformOutput } from '../../../tools/terraform/contract';
import { CONFIG_DIR, ROOT } from '../../../tools/environments';

type Outputs = Record<string, TerraformOutput>;
const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'terraform-output.json');
const sample = (): Outputs => JSON.parse(fs.readFileSync(SAMPLE, 'utf8'));
const dev = () => fs.readFileSync(path.join(CONFIG_DIR, 'dev.yaml'), 'utf8');

/** The sample outputs with some entries changed (`undefined` removes one). */
function outputsWith(changes: Record<string, Partial<TerraformOutput> | undefined>): Outputs {
  const o = sample();
  for (const [name, change] of Object.entries(changes)) {
    if (change === undefined) delete o[name];
    else o[name] = { ...o[name], ...change };
  }
  return o;
}

const SHAPE =
  'expected the JSON printed by `terraform output -json`: an object mapping each output name to { "sensitive": bool, "type": …, "value": … }';

const text = (o: unknown) => JSON.stringify(o);

/** dev.yaml's text without its clients and serving sections (and their comments). */
const withoutLists = (t: string) => t.replace(/# In-cluster clients[\s\S]*?(?=^gitops:)/m, '');
/** Removes the list outputs (with {@link outputsWith}). */
const NO_LIST_OUTPUTS = { client_password_secret_ids: undefined, client_service_account_emails: undefined, serving_password_secret_ids: undefined };

describe('parseTerraformOutputs: the text of `terraform output -json`', () => {
  test('an object of { sensitive, type, value } entries is read as it is, null values included', () => {
    const outputs = {
      project_id: { sensitive: false, type: 'string', value: 'acme-ml-dev' },
      database_user_secret_id: { sensitive: false, type: 'string', value: null },
      authorized_networks: { sensitive: true, type: ['list', 'string'], value: ['10.0.0.0/8'] },
    };
    expect(parseTerraformOutputs('out.json', text(outputs))).toEqual({ outputs, problems: [] });
    expect(parseTerraformOutputs('out.json', '{}')).toEqual({ outputs: {}, problems: [] });
  });

  test('text that is not JSON: the parser error, then what was expected', () => {
    const r = parseTerraformOutputs('out.json', 'project_id = "acme-ml-dev"\n');
    expect(r.outputs).toBeUndefined();
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^out\.json: not JSON \(.+\); expected the JSON printed by `terraform output -json`: /);
    expect(r.problems[0].endsWith(`); ${SHAPE}`)).toBe(true);
  });

  test.each([
    ['null', 'null'],
    ['[]', 'an array'],
    ['[{"project_id":{"sensitive":false,"type":"string","value":"x"}}]', 'an array'],
    ['42', 'a number'],
    ['"acme-ml-dev"', 'a string'],
    ['true', 'a boolean'],
  ])('JSON that is not an object (%s): "found %s"', (json, found) => {
    expect(parseTerraformOutputs('out.json', json)).toEqual({ problems: [`out.json: found ${found}; ${SHAPE}`] });
  });

  test('a Terraform state file is named as such (it has terraform_version and outputs)', () => {
    const state = { version: 4, terraform_version: '1.11.4', serial: 3, outputs: { project_id: { value: 'acme-ml-dev', type: 'string' } } };
    expect(parseTerraformOutputs('stdin', text(state))).toEqual({
      problems: ['stdin: this is a Terraform state file, not output values; run `terraform output -json > FILE` and pass FILE'],
    });
  });

  test('only both keys make a state file: one of them alone is an output name like any other', () => {
    const entry = { sensitive: false, type: 'string', value: '1.11.4' };
    expect(parseTerraformOutputs('out.json', text({ terraform_version: entry })).problems).toEqual([]);
    expect(parseTerraformOutputs('out.json', text({ outputs: entry })).problems).toEqual([]);
    expect(parseTerraformOutputs('out.json', text({ terraform_version: '1.11.4' })).problems).toEqual([
      `out.json: output 'terraform_version' is "1.11.4"; ${SHAPE}`,
    ]);
  });

  test('every entry that is not { sensitive: bool, type, value } is named at once, with what it is', () => {
    const r = parseTerraformOutputs(
      'out.json',
      text({
        ok: { sensitive: false, type: 'string', value: 'fine' },
        plain: 'acme-ml-dev',
        nothing: null,
        list: [1, 2],
        sensitive_as_text: { sensitive: 'false', type: 'string', value: 'x' },
        sensitive_absent: { type: 'string', value: 'x' },
        no_type: { sensitive: false, value: 'x' },
        no_value: { sensitive: false, type: 'string' },
        number: 7,
      }),
    );
    expect(r.outputs).toBeUndefined();
    expect(r.problems).toEqual([
      `out.json: output 'plain' is "acme-ml-dev"; ${SHAPE}`,
      `out.json: output 'nothing' is null; ${SHAPE}`,
      `out.json: output 'list' is [1,2]; ${SHAPE}`,
      `out.json: output 'sensitive_as_text' is {"sensitive":"false","type":"string","value":"x"}; ${SHAPE}`,
      `out.json: output 'sensitive_absent' is {"type":"string","value":"x"}; ${SHAPE}`,
      `out.json: output 'no_type' is {"sensitive":false,"value":"x"}; ${SHAPE}`,
      `out.json: output 'no_value' is {"sensitive":false,"type":"string"}; ${SHAPE}`,
      `out.json: output 'number' is 7; ${SHAPE}`,
    ]);
  });

  test('a long entry is cut at 80 characters in the message; one of exactly 80 is shown whole', () => {
    const long = 'a'.repeat(100); // JSON: 102 characters
    const exact = 'b'.repeat(78); // JSON: 80 characters
    expect(parseTerraformOutputs('out.json', text({ long, exact })).problems).toEqual([
      `out.json: output 'long' is "${'a'.repeat(78)}…; ${SHAPE}`,
      `out.json: output 'exact' is "${exact}"; ${SHAPE}`,
    ]);
  });
});

/** The output names `resolveContract` reports missing for `doc` given `outputs`, in the order reported. */
function missing(doc: unknown, outputs: Outputs = {}): string[] {
  return resolveContract('out.json', doc, outputs).problems.map((p) => /^out\.json: missing output '([a-z_]+)' /.exec(p)?.[1] ?? p);
}

const ALWAYS = [
  'project_id',
  'region',
  'mlflow_service_account_email',
  'cloudsql_instance_connection_name',
  'database_name',
  'database_engine',
  'database_login',
  'cloudsql_max_connections',
];
const WITH_PASSWORD = [
  'project_id',
  'region',
  'mlflow_service_account_email',
  'cloudsql_instance_connection_name',
  'database_name',
  'database_engine',
  'database_login',
  'database_user_secret_id',
  'database_password_secret_id',
  'cloudsql_max_connections',
];

describe('resolveContract: which outputs a config document requires', () => {
  test('every missing output is named with its type, its field and, unless always required, why', () => {
    const doc = { database: { engine: 'mysql' }, artifacts: { store: 'gcs' }, auth: { enabled: true, metricsUsername: 'm', smokeUsername: 's' } };
    expect(resolveContract('out.json', doc, {})).toEqual({
      resolved: [],
      problems: [
        "out.json: missing output 'project_id' (string → gcp.projectId)",
        "out.json: missing output 'region' (string → gcp.region)",
        "out.json: missing output 'mlflow_service_account_email' (string → gcp.serviceAccountEmail)",
        "out.json: missing output 'cloudsql_instance_connection_name' (string → database.instanceConnectionName)",
        "out.json: missing output 'database_name' (string → database.name)",
        "out.json: missing output 'database_engine' (string → database.engine)",
        "out.json: missing output 'database_login' (string → database.login)",
        "out.json: missing output 'database_user_secret_id' (string → database.userSecret, required with database.login: password (the default; the database_login output decides))",
        "out.json: missing output 'database_password_secret_id' (string → database.passwordSecret, required with database.login: password (the default; the database_login output decides))",
        "out.json: missing output 'cloudsql_max_connections' (number → database.maxConnections)",
        "out.json: missing output 'artifact_bucket' (string → artifacts.bucket, required with artifacts.store: gcs)",
        "out.json: missing output 'flask_secret_key_secret_id' (string → auth.flaskSecretKeySecret, required with auth.enabled: true)",
        "out.json: missing output 'admin_username_secret_id' (string → auth.adminUsernameSecret, required with auth.enabled: true)",
        "out.json: missing output 'admin_password_secret_id' (string → auth.adminPasswordSecret, required with auth.enabled: true)",
        "out.json: missing output 'metrics_password_secret_id' (string → auth.metricsPasswordSecret, required with auth.enabled: true and auth.metricsUsername (or auth.metricsPasswordSecret) set)",
        "out.json: missing output 'smoke_password_secret_id' (string → auth.smokePasswordSecret, required with auth.enabled: true and auth.smokeUsername (or auth.smokePasswordSecret) set)",
      ],
    });
  });

  test('password login (absent or explicit) requires the database secret ids; IAM login does not', () => {
    expect(missing({ database: { engine: 'postgres' } })).toEqual(WITH_PASSWORD);
    expect(missing({ database: { engine: 'mysql', login: 'password' } })).toEqual(WITH_PASSWORD);
    expect(missing({ database: { engine: 'mysql', login: 'iam' } })).toEqual(ALWAYS);
    expect(missing({})).toEqual(WITH_PASSWORD);
  });

  test('the database_login output decides over the document: the login the import will leave', () => {
    const login = (value: unknown, extra: Partial<TerraformOutput> = {}): Outputs => ({ database_login: { sensitive: false, type: 'string', value, ...extra } });
    const without = (names: string[], name: string) => names.filter((n) => n !== name);
    // The document says iam, the output password: the secrets are required.
    expect(missing({ database: { engine: 'mysql', login: 'iam' } }, login('password'))).toEqual(without(WITH_PASSWORD, 'database_login'));
    // The document says password (by default), the output iam: they are not.
    expect(missing({ database: { engine: 'mysql' } }, login('iam'))).toEqual(without(ALWAYS, 'database_login'));
    // An output that is not a plain string decides nothing: the document's login (password by default) stands.
    expect(missing({ database: { engine: 'mysql' } }, login(null))).toEqual([
      ...WITH_PASSWORD.slice(0, 6),
      "out.json: output 'database_login' is null (string → database.login): the module has no value for it",
      ...WITH_PASSWORD.slice(7),
    ]);
    expect(missing({ database: { engine: 'mysql' } }, login(7, { type: 'number' }))).toEqual([
      ...WITH_PASSWORD.slice(0, 6),
      "out.json: output 'database_login' has the wrong type: expected a string (database.login), got type \"number\" with value 7",
      ...WITH_PASSWORD.slice(7),
    ]);
    const sensitive = missing({ database: { engine: 'mysql' } }, login('iam', { sensitive: true }));
    expect(sensitive.filter((p) => !p.includes('marked sensitive'))).toEqual(without(WITH_PASSWORD, 'database_login'));
    // No database section (or not a mapping) to set it in: nothing breaks, the default login stands.
    expect(missing({}, login('iam'))).toEqual(without(WITH_PASSWORD, 'database_login'));
    expect(missing({ database: null }, login('iam'))).toEqual(without(WITH_PASSWORD, 'database_login'));
    expect(missing({ database: 'mysql' }, login('iam'))).toEqual(without(WITH_PASSWORD, 'database_login'));
  });

  test('only the login decides: an output filling a field a requirement reads does not make itself required', () => {
    // auth.metricsPasswordSecret set would require metrics_password_secret_id; the output itself does not set it.
    const doc = { database: { engine: 'mysql', login: 'iam' }, auth: { enabled: true } };
    const outputs: Outputs = { metrics_password_secret_id: { sensitive: false, type: 'string', value: 'mlflow-dev-metrics-password' } };
    const r = resolveContract('out.json', doc, outputs);
    expect(r.resolved).toEqual([]);
    expect(missing(doc, outputs)).toEqual([...ALWAYS, 'flask_secret_key_secret_id', 'admin_username_secret_id', 'admin_password_secret_id']);
  });

  test('deciding does not change the caller\'s document', () => {
    const doc = { database: { engine: 'mysql', login: 'iam' } };
    resolveContract('out.json', doc, { database_login: { sensitive: false, type: 'string', value: 'password' } });
    expect(doc).toEqual({ database: { engine: 'mysql', login: 'iam' } });
  });

  test('artifact_bucket only with artifacts.store gcs', () => {
    const iam = { engine: 'mysql', login: 'iam' };
    expect(missing({ database: iam, artifacts: { store: 'gcs' } })).toEqual([...ALWAYS, 'artifact_bucket']);
    expect(missing({ database: iam, artifacts: { store: 'pvc' } })).toEqual(ALWAYS);
    expect(missing({ database: iam, artifacts: {} })).toEqual(ALWAYS);
  });

  test('the auth secret ids only with auth.enabled true; the metrics and smoke ones only with their user set', () => {
    const iam = { engine: 'mysql', login: 'iam' };
    const auth3 = ['flask_secret_key_secret_id', 'admin_username_secret_id', 'admin_password_secret_id'];
    expect(missing({ database: iam, auth: { enabled: true } })).toEqual([...ALWAYS, ...auth3]);
    expect(missing({ database: iam, auth: { enabled: true, metricsUsername: 'm' } })).toEqual([...ALWAYS, ...auth3, 'metrics_password_secret_id']);
    expect(missing({ database: iam, auth: { enabled: true, metricsPasswordSecret: 'mp' } })).toEqual([...ALWAYS, ...auth3, 'metrics_password_secret_id']);
    expect(missing({ database: iam, auth: { enabled: true, smokeUsername: 's' } })).toEqual([...ALWAYS, ...auth3, 'smoke_password_secret_id']);
    expect(missing({ database: iam, auth: { enabled: true, smokePasswordSecret: 'sp' } })).toEqual([...ALWAYS, ...auth3, 'smoke_password_secret_id']);
    // Disabled (or not the boolean true): none of them, even with the users set.
    const users = { metricsUsername: 'm', metricsPasswordSecret: 'mp', smokeUsername: 's', smokePasswordSecret: 'sp' };
    expect(missing({ database: iam, auth: { enabled: false, ...users } })).toEqual(ALWAYS);
    expect(missing({ database: iam, auth: { enabled: 'true', ...users } })).toEqual(ALWAYS);
    expect(missing({ database: iam, auth: users })).toEqual(ALWAYS);
  });
});

describe('resolveContract: the type and sensitivity of each output', () => {
  const doc = { database: { engine: 'mysql', login: 'iam' } };
  const base = (): Outputs => ({
    project_id: { sensitive: false, type: 'string', value: 'acme-ml-dev' },
    region: { sensitive: false, type: 'string', value: 'europe-west1' },
    mlflow_service_account_email: { sensitive: false, type: 'string', value: 'sa@acme-ml-dev.iam.gserviceaccount.com' },
    cloudsql_instance_connection_name: { sensitive: false, type: 'string', value: 'acme-ml-dev:europe-west1:mlflow' },
    database_name: { sensitive: false, type: 'string', value: 'mlflow' },
    database_engine: { sensitive: false, type: 'string', value: 'mysql' },
    database_login: { sensitive: false, type: 'string', value: 'iam' },
    cloudsql_max_connections: { sensitive: false, type: 'number', value: 800 },
    unrelated: { sensitive: true, type: 'string', value: 'hunter2' },
  });
  const resolve = (changes: Outputs) => resolveContract('out.json', doc, { ...base(), ...changes });
  const maxConnections = (entry: Partial<TerraformOutput>) => resolve({ cloudsql_max_connections: { sensitive: false, type: 'number', value: 0, ...entry } });

  test('valid outputs resolve to their values in contract order; outputs the contract does not list are ignored', () => {
    const r = resolve({});
    expect(r.problems).toEqual([]);
    expect(r.resolved.map(({ row, value }) => [row.output, value])).toEqual([
      ['project_id', 'acme-ml-dev'],
      ['region', 'europe-west1'],
      ['mlflow_service_account_email', 'sa@acme-ml-dev.iam.gserviceaccount.com'],
      ['cloudsql_instance_connection_name', 'acme-ml-dev:europe-west1:mlflow'],
      ['database_name', 'mlflow'],
      ['database_engine', 'mysql'],
      ['database_login', 'iam'],
      ['cloudsql_max_connections', 800],
    ]);
  });

  test('a number output: a Terraform number, or a string of digits written as a number', () => {
    const value = (entry: Partial<TerraformOutput>) => maxConnections(entry).resolved.find((r) => r.row.output === 'cloudsql_max_connections')?.value;
    expect(value({ type: 'number', value: 1200 })).toBe(1200);
    expect(value({ type: 'number', value: 0 })).toBe(0);
    expect(value({ type: 'string', value: '1200' })).toBe(1200);
    expect(value({ type: 'string', value: '0' })).toBe(0);
  });

  test.each<[string, Partial<TerraformOutput>, string]>([
    ['a string of no digits', { type: 'string', value: 'many' }, 'got type "string" with value "many"'],
    ['an empty string', { type: 'string', value: '' }, 'got type "string" with value ""'],
    ['digits then letters', { type: 'string', value: '12a' }, 'got type "string" with value "12a"'],
    ['letters then digits', { type: 'string', value: 'a12' }, 'got type "string" with value "a12"'],
    ['a decimal string', { type: 'string', value: '12.5' }, 'got type "string" with value "12.5"'],
    ['a negative string', { type: 'string', value: '-5' }, 'got type "string" with value "-5"'],
    ['a number typed as a string', { type: 'string', value: 800 }, 'got type "string" with value 800'],
    ['a string typed as a number', { type: 'number', value: '800' }, 'got type "number" with value "800"'],
    ['a list of numbers', { type: ['list', 'number'], value: [800] }, 'got type ["list","number"] with value [800]'],
    ['a bool', { type: 'bool', value: true }, 'got type "bool" with value true'],
    ['no type at all', { type: undefined, value: 800 }, 'got type undefined with value 800'],
  ])('a number output refused: %s', (_, entry, got) => {
    const r = maxConnections(entry);
    expect(r.problems).toEqual([
      `out.json: output 'cloudsql_max_connections' has the wrong type: expected a number or a string of digits (database.maxConnections), ${got}`,
    ]);
    expect(r.resolved.map((x) => x.row.output)).not.toContain('cloudsql_max_connections');
  });

  test.each<[string, Partial<TerraformOutput>, string]>([
    ['a number', { type: 'number', value: 7 }, 'got type "number" with value 7'],
    ['a number value typed as a string', { type: 'string', value: 7 }, 'got type "string" with value 7'],
    ['a string value typed as a list', { type: ['list', 'string'], value: 'mlflow' }, 'got type ["list","string"] with value "mlflow"'],
    ['a list', { type: ['list', 'string'], value: ['mlflow'] }, 'got type ["list","string"] with value ["mlflow"]'],
    ['an object', { type: ['object', { a: 'string' }], value: { a: 'b' } }, 'got type ["object",{"a":"string"}] with value {"a":"b"}'],
  ])('a string output refused: %s', (_, entry, got) => {
    const r = resolve({ database_name: { sensitive: false, type: 'string', value: '', ...entry } });
    expect(r.problems).toEqual([`out.json: output 'database_name' has the wrong type: expected a string (database.name), ${got}`]);
  });

  test('a null value is refused for string and number outputs alike', () => {
    const r = resolve({
      database_name: { sensitive: false, type: 'string', value: null },
      cloudsql_max_connections: { sensitive: false, type: 'number', value: null },
    });
    expect(r.problems).toEqual([
      "out.json: output 'database_name' is null (string → database.name): the module has no value for it",
      "out.json: output 'cloudsql_max_connections' is null (number → database.maxConnections): the module has no value for it",
    ]);
  });

  test('a sensitive output is refused with why, whatever its value (null or a number included), and the value is not shown', () => {
    const message = (name: string) =>
      `out.json: output '${name}' is marked sensitive: this project reads only identifiers (names, ids, emails) and commits them to config/; ` +
      'a sensitive output means the module puts secret material there (a password or key instead of its Secret Manager secret id) ' +
      'or marks an identifier sensitive needlessly. Output the identifier with sensitive = false; secret values belong in Secret Manager only';
    const r = resolve({
      region: { sensitive: true, type: 'string', value: 'Zq8pW3rT' },
      database_name: { sensitive: true, type: 'string', value: null },
      cloudsql_max_connections: { sensitive: true, type: 'number', value: 800 },
    });
    expect(r.problems).toEqual([message('region'), message('database_name'), message('cloudsql_max_connections')]);
    expect(r.resolved.map((x) => x.row.output)).toEqual(['project_id', 'mlflow_service_account_email', 'cloudsql_instance_connection_name', 'database_engine', 'database_login']);
  });

  test('a long value is cut at 80 characters in the message', () => {
    const r = resolve({ database_name: { sensitive: false, type: ['list', 'string'], value: ['x'.repeat(100)] } });
    expect(r.problems).toEqual([
      `out.json: output 'database_name' has the wrong type: expected a string (database.name), got type ["list","string"] with value ["${'x'.repeat(77)}…`,
    ]);
  });

  test('an output name the contract lists but only on the prototype chain is still missing', () => {
    const inherited = Object.create({ project_id: { sensitive: false, type: 'string', value: 'acme' } }) as Outputs;
    expect(resolveContract('out.json', doc, inherited).problems[0]).toBe("out.json: missing output 'project_id' (string → gcp.projectId)");
  });
});

describe('notGkeReason: imports only into a Cloud SQL environment', () => {
  const tail =
    "Terraform outputs are imported only into environments with database.engine 'mysql' or 'postgres' (Cloud SQL, GCS, Secret Manager)";
  test('mysql and postgres are GKE environments', () => {
    expect(notGkeReason({ database: { engine: 'mysql' } })).toBeUndefined();
    expect(notGkeReason({ database: { engine: 'postgres' } })).toBeUndefined();
  });
  test('anything else is refused, naming the engine found and whether there is a gcp section', () => {
    expect(notGkeReason({ database: { engine: 'sqlite' } })).toBe(`is not a GKE environment (database.engine "sqlite", no 'gcp' section): ${tail}`);
    expect(notGkeReason({ gcp: { projectId: 'p' }, database: { engine: 'sqlite' } })).toBe(
      `is not a GKE environment (database.engine "sqlite", a 'gcp' section): ${tail}`,
    );
    expect(notGkeReason({ gcp: {} })).toBe(`is not a GKE environment (no database.engine, a 'gcp' section): ${tail}`);
    expect(notGkeReason({ database: { engine: 5 } })).toBe(`is not a GKE environment (database.engine 5, no 'gcp' section): ${tail}`);
    expect(notGkeReason(null)).toBe(`is not a GKE environment (no database.engine, no 'gcp' section): ${tail}`);
    expect(notGkeReason({ database: 'mysql' })).toBe(`is not a GKE environment (no database.engine, no 'gcp' section): ${tail}`);
  });
});

describe('importTerraformOutputs: the config text written', () => {
  const imp = (configText: string, outputs: Outputs = sample()) =>
    importTerraformOutputs({ configFile: 'dev.yaml', configText, outputsSource: 'out.json', outputs });
  const RESERIALIZED =
    'the YAML library re-serialized dev.yaml (a section was absent or a value not a one-line scalar): comments are kept, but spacing inside flow collections ({ } and [ ]) may have been normalized';
  const ok = (r: ReturnType<typeof imp>) => {
    if (!r.ok) throw new Error(`refused: ${r.problems.join('; ')}`);
    return r;
  };

  test('the changes are listed with the field, the output, the old and the new value; the rest are checked only', () => {
    const r = ok(imp(dev()));
    expect(r.checked).toBe(19);
    expect(r.notes).toEqual([]);
    expect(r.changes).toEqual([
      { path: 'gcp.projectId', output: 'project_id', from: 'example-mlflow-dev', to: 'acme-ml-dev' },
      { path: 'gcp.serviceAccountEmail', output: 'mlflow_service_account_email', from: 'mlflow-server@example-mlflow-dev.iam.gserviceaccount.com', to: 'mlflow-server@acme-ml-dev.iam.gserviceaccount.com' },
      { path: 'database.instanceConnectionName', output: 'cloudsql_instance_connection_name', from: 'example-mlflow-dev:europe-west1:mlflow-dev', to: 'acme-ml-dev:europe-west1:mlflow-dev' },
      { path: 'database.maxConnections', output: 'cloudsql_max_connections', from: 400, to: 800 },
      { path: 'artifacts.bucket', output: 'artifact_bucket', from: 'example-mlflow-dev-artifacts', to: 'acme-ml-dev-mlflow-artifacts' },
    ]);
  });

  test('up to date: the very same text, no change, no note', () => {
    const once = ok(imp(dev())).text;
    expect(ok(imp(once))).toEqual({ ok: true, text: once, changes: [], checked: 19, notes: [] });
  });

  test('up to date but invalid elsewhere: refused with the problem, not reported up to date', () => {
    const once = ok(imp(dev())).text;
    const broken = once.replace(/^  workers: 2$/m, '  workers: 0');
    expect(broken).not.toBe(once);
    expect(imp(broken)).toEqual({ ok: false, problems: ['dev.yaml: server.workers: expected a worker count from 1 to 16 (got 0)'] });
  });

  test('up to date but a Terraform-set field invalid: the problem names its output', () => {
    const outputs = sample();
    outputs.cloudsql_max_connections = { ...outputs.cloudsql_max_connections, value: 5 };
    const once = dev().replace("maxConnections: 400 # (terraform)", "maxConnections: 5 # (terraform)");
    expect(imp(once, outputs)).toEqual({
      ok: false,
      problems: ["dev.yaml: database.maxConnections: expected a connection count from 10 to 100000 (got 5) (from Terraform output 'cloudsql_max_connections')"],
    });
  });

  test('database_login password into a config whose login is iam is a change; into one without the field it is none', () => {
    const iam = dev()
      .replace('  userSecret: mlflow-dev-db-user # (terraform)\n', '')
      .replace('  passwordSecret: mlflow-dev-db-password # (terraform)\n', '')
      .replace('  engine: mysql # (terraform)\n', '  engine: mysql # (terraform)\n  login: iam # (terraform)\n');
    const r = ok(imp(iam));
    expect(r.changes.filter((c) => c.path.startsWith('database.') && c.path !== 'database.instanceConnectionName' && c.path !== 'database.maxConnections')).toEqual([
      { path: 'database.login', output: 'database_login', from: 'iam', to: 'password' },
      { path: 'database.userSecret', output: 'database_user_secret_id', from: undefined, to: 'mlflow-dev-db-user' },
      { path: 'database.passwordSecret', output: 'database_password_secret_id', from: undefined, to: 'mlflow-dev-db-password' },
    ]);
    // Replaced in place; the two absent fields added at the end of the section, in contract order.
    expect(r.text).toContain(
      '  login: password # (terraform)\n' +
        '  instanceConnectionName: acme-ml-dev:europe-west1:mlflow-dev # (terraform)\n' +
        '  privateIp: true\n  name: mlflow # (terraform)\n' +
        '  pool: { size: 5, maxOverflow: 5, recycleSeconds: 1800 }\n' +
        "  maxConnections: 800 # (terraform) the instance's max_connections flag\n" +
        '  userSecret: mlflow-dev-db-user\n  passwordSecret: mlflow-dev-db-password\nartifacts:\n',
    );
    expect(r.notes).toEqual([]);
    expect(ok(imp(dev())).changes.map((c) => c.path)).not.toContain('database.login');
  });

  test('database_login iam into a config without the field: written (it is not what the absence means)', () => {
    const iamOutputs = outputsWith({ database_login: { value: 'iam' }, database_user_secret_id: { value: null }, database_password_secret_id: { value: null } });
    const noSecrets = dev()
      .replace('  userSecret: mlflow-dev-db-user # (terraform)\n', '')
      .replace('  passwordSecret: mlflow-dev-db-password # (terraform)\n', '');
    const r = ok(imp(noSecrets, iamOutputs));
    expect(r.changes.find((c) => c.path === 'database.login')).toEqual({ path: 'database.login', output: 'database_login', from: undefined, to: 'iam' });
    expect(r.text).toContain("  maxConnections: 800 # (terraform) the instance's max_connections flag\n  login: iam\nartifacts:\n");
  });

  test('an absent field is inserted at the indentation of its section', () => {
    // Without the lists, whose entries' indentation doubling would break.
    const wide = withoutLists(dev())
      .replace(/^( +)/gm, '$1$1')
      .replace('    metricsPasswordSecret: mlflow-dev-metrics-password # (terraform)\n', '');
    const r = ok(imp(wide, outputsWith(NO_LIST_OUTPUTS)));
    expect(r.notes).toEqual([]);
    expect(r.text).toContain('    metricsUsername: metrics-scraper\n    metricsPasswordSecret: mlflow-dev-metrics-password\nmetrics: gmp\n');
  });

  test('quoting is kept (double and single); a value plain YAML would misread is quoted', () => {
    const quoted = dev()
      .replace('  projectId: example-mlflow-dev # (terraform)\n', '  projectId: "example-mlflow-dev" # (terraform)\n')
      .replace('  region: europe-west1 # (terraform)\n', "  region: 'europe-west9' # (terraform)\n");
    const r = ok(imp(quoted, outputsWith({ database_name: { value: 'true' } })));
    expect(r.notes).toEqual([]);
    expect(r.text).toContain('  projectId: "acme-ml-dev" # (terraform)\n');
    expect(r.text).toContain("  region: 'europe-west1' # (terraform)\n");
    expect(r.text).toContain('  name: "true" # (terraform)\n');
    expect(r.text).toContain('  hosts: [mlflow.dev.example.com]\n');
  });

  test.each([
    ['a block scalar', '  projectId: |-\n    example-mlflow-dev\n'],
    ['a folded block scalar', '  projectId: >-\n    example-mlflow-dev\n'],
    ['a tagged value', '  projectId: !!str example-mlflow-dev\n'],
    ['an anchored value', '  projectId: &project example-mlflow-dev\n'],
  ])('a value that is %s is written by the YAML library, with a note', (_, line) => {
    const r = ok(imp(dev().replace('  projectId: example-mlflow-dev # (terraform)\n', line)));
    expect(r.notes).toEqual([RESERIALIZED]);
    expect(r.changes[0]).toEqual({ path: 'gcp.projectId', output: 'project_id', from: 'example-mlflow-dev', to: 'acme-ml-dev' });
    expect(r.text).toMatch(/\n {2}projectId: (\|-\n {4}|>-\n {4}|!!str |&project )?acme-ml-dev\n/);
    expect(r.text).toContain('  maxConnections: 800 # (terraform)');
  });

  test('a field absent from a flow-mapping section is written by the YAML library, with a note; present ones in place', () => {
    const flow = dev().replace(
      /^gcp:\n(?: {2}.*\n)+/m,
      'gcp: { projectId: example-mlflow-dev, serviceAccountEmail: mlflow-server@example-mlflow-dev.iam.gserviceaccount.com }\n',
    );
    const r = ok(imp(flow));
    expect(r.notes).toEqual([RESERIALIZED]);
    expect(r.changes[1]).toEqual({ path: 'gcp.region', output: 'region', from: undefined, to: 'europe-west1' });
    expect(r.text).toContain(
      'gcp:\n  {\n    projectId: acme-ml-dev,\n    serviceAccountEmail: mlflow-server@acme-ml-dev.iam.gserviceaccount.com,\n    region: europe-west1\n  }\nnamespace: mlflow\n',
    );
    const inPlace = ok(imp(dev().replace(/^gcp:\n(?: {2}.*\n)+/m, 'gcp: { projectId: example-mlflow-dev, region: europe-west1, serviceAccountEmail: x@example-mlflow-dev.iam.gserviceaccount.com }\n')));
    expect(inPlace.notes).toEqual([]);
    expect(inPlace.text).toContain('gcp: { projectId: acme-ml-dev, region: europe-west1, serviceAccountEmail: mlflow-server@acme-ml-dev.iam.gserviceaccount.com }\n');
  });

  test('an absent section is added by the YAML library, with a note', () => {
    const r = ok(imp(dev().replace(/^gcp:\n(?: {2}.*\n)+/m, '')));
    expect(r.notes).toEqual([RESERIALIZED]);
    expect(r.text.endsWith('gcp:\n  projectId: acme-ml-dev\n  region: europe-west1\n  serviceAccountEmail: mlflow-server@acme-ml-dev.iam.gserviceaccount.com\n')).toBe(true);
  });

  test('the last section of a file without a final newline: a value replaced in place; an absent field by the YAML library', () => {
    const auth = /^auth:\n(?: {2}.*\n)+/m.exec(dev())![0];
    const authLast = (dev().replace(auth, '') + auth).trimEnd();
    expect(authLast.endsWith('\n  metricsPasswordSecret: mlflow-dev-metrics-password # (terraform)')).toBe(true);
    const r = ok(imp(authLast, outputsWith({ metrics_password_secret_id: { value: 'mlflow-dev-metrics-password-2' } })));
    expect(r.notes).toEqual([]);
    expect(r.text.endsWith('\n  metricsUsername: metrics-scraper\n  metricsPasswordSecret: mlflow-dev-metrics-password-2 # (terraform)')).toBe(true);
    const absent = authLast.replace('\n  metricsPasswordSecret: mlflow-dev-metrics-password # (terraform)', '');
    const a = ok(imp(absent));
    expect(a.notes).toEqual([RESERIALIZED]);
    expect(a.changes.find((c) => c.path === 'auth.metricsPasswordSecret')).toEqual({
      path: 'auth.metricsPasswordSecret',
      output: 'metrics_password_secret_id',
      from: undefined,
      to: 'mlflow-dev-metrics-password',
    });
    expect(a.text.endsWith('\n  metricsUsername: metrics-scraper\n  metricsPasswordSecret: mlflow-dev-metrics-password\n')).toBe(true);
  });

  test('refused: not YAML, not a mapping, not GKE, a section that is a scalar', () => {
    const bad = imp(dev().replace('namespace: mlflow\n', 'namespace: [mlflow\n'));
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.problems.every((p) => p.startsWith('dev.yaml: malformed YAML: '))).toBe(true);
    for (const t of ['- a\n- b\n', 'hello\n', '']) {
      expect(imp(t)).toEqual({ ok: false, problems: ['dev.yaml: expected a YAML mapping at the top level'] });
    }
    expect(imp('namespace: mlflow\n')).toEqual({
      ok: false,
      problems: [
        "dev.yaml is not a GKE environment (no database.engine, no 'gcp' section): Terraform outputs are imported only into environments with database.engine 'mysql' or 'postgres' (Cloud SQL, GCS, Secret Manager)",
      ],
    });
    expect(imp(dev().replace(/^gcp:\n(?: {2}.*\n)+/m, 'gcp: hello\n'))).toEqual({
      ok: false,
      problems: ['dev.yaml: cannot write the Terraform values: Expected YAML collection at gcp. Remaining path: projectId'],
    });
  });

  test('refused by the schema: a problem from an output names it, another does not', () => {
    const r = imp(dev().replace('namespace: mlflow\n', 'namespace: Bad_NS\n'), outputsWith({ project_id: { value: 'Acme_ML' } }));
    expect(r).toEqual({
      ok: false,
      problems: [
        `dev.yaml: gcp.projectId: expected a GCP project id (6-30 chars: lowercase letters, digits, hyphens) (got "Acme_ML") (from Terraform output 'project_id')`,
        'dev.yaml: namespace: expected a namespace name (RFC 1123 label) (got "Bad_NS")',
      ],
    });
  });

  test('a refused output stops the import before the schema: its problems only', () => {
    expect(imp(dev(), outputsWith({ region: undefined }))).toEqual({ ok: false, problems: ["out.json: missing output 'region' (string → gcp.region)"] });
  });
});

describe('the list outputs: clients and served models, matched by name', () => {
  const imp = (configText: string, outputs: Outputs) => importTerraformOutputs({ configFile: 'dev.yaml', configText, outputsSource: 'out.json', outputs });
  const map = (value: unknown, type: unknown = ['map', 'string']): Partial<TerraformOutput> => ({ sensitive: false, type, value });
  const trainerEmail = 'mlflow-dev-c-iris-trainer@example-mlflow-dev.iam.gserviceaccount.com';
  const predictorEmail = 'mlflow-dev-c-iris-predictor@example-mlflow-dev.iam.gserviceaccount.com';

  test("each value goes into the entry of its name, in place, whatever the map's order", () => {
    const r = imp(
      dev(),
      outputsWith({
        client_password_secret_ids: map({ 'iris-predictor': 'predictor-v2', 'iris-trainer': 'mlflow-dev-client-iris-trainer-password' }),
        serving_password_secret_ids: map({ iris: 'iris-v2' }),
      }),
    );
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.changes.filter((c) => /^(clients|serving)\./.test(c.path))).toEqual([
      { path: 'clients.1.passwordSecret', output: 'client_password_secret_ids', from: 'mlflow-dev-client-iris-predictor-password', to: 'predictor-v2' },
      { path: 'serving.0.passwordSecret', output: 'serving_password_secret_ids', from: 'mlflow-dev-serving-iris-password', to: 'iris-v2' },
    ]);
    expect(r.notes).toEqual([]);
    expect(r.text).toContain('    passwordSecret: predictor-v2 # (terraform)\n');
    expect(r.text).toContain('    passwordSecret: iris-v2 # (terraform)\n');
  });

  test('an absent field of an entry is added at the end of that entry', () => {
    const text = dev().replace(`    serviceAccountEmail: ${trainerEmail} # (terraform)\n`, '');
    const r = imp(text, sample());
    if (!r.ok) throw new Error(r.problems.join('\n'));
    expect(r.changes).toContainEqual({ path: 'clients.0.serviceAccountEmail', output: 'client_service_account_emails', from: undefined, to: trainerEmail });
    expect(r.notes).toEqual([]);
    expect(r.text).toContain(`      models: { iris: EDIT }\n    serviceAccountEmail: ${trainerEmail}\n  - name: iris-predictor\n`);
  });

  test('an entry on one side only is refused, naming it and what to do; every problem at once', () => {
    const r = imp(
      dev(),
      outputsWith({
        client_password_secret_ids: map({ 'iris-trainer': 'a', 'iris-scorer': 'b' }),
        client_service_account_emails: map({ 'iris-trainer': trainerEmail, 'iris-predictor': predictorEmail }),
      }),
    );
    expect(r).toEqual({
      ok: false,
      problems: [
        "out.json: output 'client_password_secret_ids' has an entry for 'iris-scorer', but the config's clients has none of that name: add it to clients, or remove it from the module's clients variable",
        "out.json: output 'client_password_secret_ids' has no entry for clients.1 'iris-predictor': add it to the module's clients variable, or remove it from the config",
      ],
    });
  });

  test('required when the config lists entries; a map of another type refused', () => {
    expect(imp(dev(), outputsWith({ client_service_account_emails: undefined, serving_password_secret_ids: map(['iris'], ['list', 'string']) }))).toEqual({
      ok: false,
      problems: [
        "out.json: missing output 'client_service_account_emails' (map(string) → clients[].serviceAccountEmail, required with clients listed)",
        'out.json: output \'serving_password_secret_ids\' has the wrong type: expected a map of strings keyed by serving[].name (serving[].passwordSecret), got type ["list","string"] with value ["iris"]',
      ],
    });
    expect(imp(dev(), outputsWith({ serving_password_secret_ids: { sensitive: true } }))).toEqual({
      ok: false,
      problems: ["out.json: output 'serving_password_secret_ids' is marked sensitive: this project reads only identifiers; output the passwordSecret map with sensitive = false"],
    });
  });

  test('a config without clients or served models: the outputs absent, or empty maps (of any type Terraform gives an empty map), are fine', () => {
    const prod = fs.readFileSync(path.join(CONFIG_DIR, 'prod.yaml'), 'utf8');
    const none = { client_password_secret_ids: undefined, client_service_account_emails: undefined, serving_password_secret_ids: undefined };
    expect(imp(prod, outputsWith(none)).ok).toBe(true);
    const empty = outputsWith({
      client_password_secret_ids: map({}, ['map', 'dynamic']),
      client_service_account_emails: map({}, ['object', {}]),
      serving_password_secret_ids: map({}),
    });
    const r = imp(prod, empty);
    expect(r.ok && r.changes.filter((c) => /^(clients|serving)/.test(c.path))).toEqual([]);
  });
});
