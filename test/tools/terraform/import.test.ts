/**
 * The Terraform contract and `npm run import-terraform -- --env <name> --outputs <file|->`, as a user runs it:
 * the contract outputs land in `config/<env>.yaml` with every other byte kept; every bad input is refused with
 * exit 1, a message naming the problem, and the config file byte-identical; bad flags exit 2 with the usage.
 * Every run works on copies of config/ in a temporary directory (`--config-dir`), never on the repository's.
 * Cases run the command in-process (`run` with captured streams); a few run it as a user does, in its own
 * node process (`npm run import-terraform` is `node --require tsx/cjs scripts/import-terraform.ts`).
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isScalar, parseDocument } from 'yaml';
import { loadEnvironmentFile, parseConfigDocument } from '../../../lib/config/config';
import { contractTable, TERRAFORM_CONTRACT, TERRAFORM_LIST_CONTRACT, type TerraformOutput } from '../../../tools/terraform/contract';
import { run } from '../../../scripts/import-terraform';
import { CONFIG_DIR, ROOT, RUN_TS } from '../../../tools/environments';

const SCRIPT = path.join('scripts', 'import-terraform.ts');
const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'terraform-output.json');
const DOCS = path.join(ROOT, 'docs', 'terraform-contract.md');

type Outputs = Record<string, TerraformOutput>;
const sample = (): Outputs => JSON.parse(fs.readFileSync(SAMPLE, 'utf8'));
const shipped = (env: string) => fs.readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the command in-process, `stdin` as its standard input. */
async function importTerraform(args: readonly string[], stdin?: string): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    readStdin: () => stdin ?? '',
  };
  const code = run(args, io);
  return { code, stdout, stderr };
}

/** Runs the command as `npm run import-terraform` does, in a node process from the repository root. */
function importTerraformProcess(args: readonly string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...RUN_TS, SCRIPT, ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

const sandboxes: string[] = [];
afterAll(() => sandboxes.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A temporary `config/` holding the given files, and an outputs file (JSON of an object, or raw text). */
function sandbox(configs: Record<string, string>, outputs: Outputs | string = sample()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-terraform-'));
  sandboxes.push(dir);
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir);
  for (const [env, text] of Object.entries(configs)) fs.writeFileSync(path.join(configDir, `${env}.yaml`), text);
  const outputsFile = path.join(dir, 'outputs.json');
  fs.writeFileSync(outputsFile, typeof outputs === 'string' ? outputs : JSON.stringify(outputs, null, 2));
  const config = (env: string) => path.join(configDir, `${env}.yaml`);
  /** Every file of the sandbox's config/ with its bytes (a leftover temporary file would show here). */
  const files = () => Object.fromEntries(fs.readdirSync(configDir).sort().map((f) => [f, fs.readFileSync(path.join(configDir, f), 'utf8')]));
  const args = (env: string, outputsArg: string) => ['--env', env, '--outputs', outputsArg, '--config-dir', configDir];
  const run = (env: string, stdin?: string, outputsArg = outputsFile) => importTerraform(args(env, outputsArg), stdin);
  /** The same, in its own node process. */
  const runProcess = (env: string, stdin?: string, outputsArg = outputsFile) => importTerraformProcess(args(env, outputsArg), stdin);
  return { configDir, outputsFile, config, files, run, runProcess };
}

/** dev.yaml's text without its clients and serving sections (and their comments). */
const withoutLists = (t: string) => t.replace(/# In-cluster clients[\s\S]*?(?=^gitops:)/m, '');
/** Removes the list outputs (with {@link outputsWith}): for a config without clients or served models. */
const NO_LIST_OUTPUTS = { client_password_secret_ids: undefined, client_service_account_emails: undefined, serving_password_secret_ids: undefined };

/** The sample outputs with some entries changed (`undefined` removes one). */
function outputsWith(changes: Record<string, Partial<TerraformOutput> | undefined>): Outputs {
  const o = sample();
  for (const [name, change] of Object.entries(changes)) {
    if (change === undefined) delete o[name];
    else o[name] = { ...o[name], ...change };
  }
  return o;
}

/** Runs a case that must be refused: exit 1, "nothing was written", each expected text, config/ untouched. */
async function expectRefused(sb: ReturnType<typeof sandbox>, env: string, expected: readonly string[], stdin?: string): Promise<Run> {
  const before = sb.files();
  const r = await sb.run(env, stdin);
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain('nothing was written');
  for (const text of expected) expect(r.stderr).toContain(text);
  expect(sb.files()).toEqual(before);
  return r;
}

// ---------------------------------------------------------------------------------------------------------

describe('the contract: one table, which the docs, the sample and the shipped configs agree with', () => {
  test('docs/terraform-contract.md carries the table generated from TERRAFORM_CONTRACT', () => {
    const docs = fs.readFileSync(DOCS, 'utf8');
    const block = /<!-- contract-table:start[^>]*-->\n([\s\S]*?)\n<!-- contract-table:end -->/.exec(docs);
    expect(block).not.toBeNull();
    // On failure, paste contractTable() (the expected value below) between the markers.
    expect(block![1]).toBe(contractTable());
  });

  test('the docs list exactly the contract outputs, in the table and in the HCL sketch, none sensitive', () => {
    const docs = fs.readFileSync(DOCS, 'utf8');
    const names = [...TERRAFORM_CONTRACT, ...TERRAFORM_LIST_CONTRACT].map((r) => r.output);
    const outputsSection = /^## Outputs\n([\s\S]*?)^## /m.exec(docs)![1];
    const tableRows = [...outputsSection.matchAll(/^\| `([a-z0-9_]+)` \|/gm)].map((m) => m[1]);
    const hcl = [...docs.matchAll(/^```hcl\n([\s\S]*?)^```$/gm)].map((m) => m[1]).join('');
    const hclOutputs = [...hcl.matchAll(/^output "([a-z0-9_]+)" \{/gm)].map((m) => m[1]);
    expect(tableRows).toEqual(names);
    expect(hclOutputs).toEqual(names);
    expect(hcl).not.toMatch(/sensitive\s*=\s*true/);
  });

  test('output names are unique and every config field is written by exactly one output', () => {
    expect(new Set(TERRAFORM_CONTRACT.map((r) => r.output)).size).toBe(TERRAFORM_CONTRACT.length);
    expect(new Set(TERRAFORM_CONTRACT.map((r) => r.path.join('.'))).size).toBe(TERRAFORM_CONTRACT.length);
  });

  test('the sample `terraform output -json` has every contract output with its documented example, plus outputs the contract ignores', () => {
    const o = sample();
    for (const r of TERRAFORM_CONTRACT) {
      expect({ output: r.output, entry: o[r.output] }).toEqual({ output: r.output, entry: { sensitive: false, type: r.type, value: r.example } });
    }
    // The list outputs: dev's clients and served model, by name.
    for (const r of TERRAFORM_LIST_CONTRACT) {
      expect({ output: r.output, type: o[r.output].type, sensitive: o[r.output].sensitive }).toEqual({ output: r.output, type: ['map', 'string'], sensitive: false });
    }
    expect(Object.keys(o.client_password_secret_ids.value as object)).toEqual(['iris-trainer', 'iris-predictor']);
    expect(Object.keys(o.serving_password_secret_ids.value as object)).toEqual(['iris']);
    const extra = Object.keys(o).filter((n) => ![...TERRAFORM_CONTRACT, ...TERRAFORM_LIST_CONTRACT].some((r) => r.output === n));
    expect(extra.length).toBeGreaterThan(0);
    expect(extra.some((n) => o[n].sensitive)).toBe(true);
  });

  test.each(['dev', 'prod'])('in config/%s.yaml, the fields marked # (terraform) are exactly the contract fields', (env) => {
    const text = shipped(env);
    const doc = parseDocument(text);
    // A field whose absence means the output's usual value (database.login: password) may be absent.
    const present = TERRAFORM_CONTRACT.filter((r) => !(r.type === 'string' && r.absentMeans !== undefined && !doc.hasIn(r.path)));
    expect(TERRAFORM_CONTRACT.filter((r) => !present.includes(r)).map((r) => r.output)).toEqual(['database_login']);
    for (const r of present) {
      const node = doc.getIn(r.path, true);
      expect({ field: r.path.join('.'), comment: isScalar(node) ? node.comment : undefined }).toEqual({
        field: r.path.join('.'),
        comment: expect.stringContaining('(terraform)'),
      });
    }
    // And in each client and served model, the fields the list outputs write.
    const listFields = TERRAFORM_LIST_CONTRACT.flatMap((r) => {
      const entries = (doc.get(r.list) as { items?: unknown[] } | undefined)?.items ?? [];
      return entries.map((_, i) => [r.list, i, r.field]);
    });
    for (const at of listFields) {
      const node = doc.getIn(at, true);
      expect({ field: at.join('.'), comment: isScalar(node) ? node.comment : undefined }).toEqual({ field: at.join('.'), comment: expect.stringContaining('(terraform)') });
    }
    expect(text.split('\n').filter((l) => l.includes('# (terraform)'))).toHaveLength(present.length + listFields.length);
  });
});

describe('import-terraform updates the Terraform values and nothing else', () => {
  test.concurrent('config/dev.yaml: the changed values are replaced in place, comments and every other byte kept, the result valid', async () => {
    const sb = sandbox({ dev: shipped('dev'), prod: shipped('prod') });
    const r = await sb.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    // Each changed field, `path: old → new`; unchanged ones (region, database name, secret ids) are not listed.
    expect(r.stdout.trim().split('\n').slice(1)).toEqual([
      '  gcp.projectId: example-mlflow-dev → acme-ml-dev',
      '  gcp.serviceAccountEmail: mlflow-server@example-mlflow-dev.iam.gserviceaccount.com → mlflow-server@acme-ml-dev.iam.gserviceaccount.com',
      '  database.instanceConnectionName: example-mlflow-dev:europe-west1:mlflow-dev → acme-ml-dev:europe-west1:mlflow-dev',
      '  database.maxConnections: 400 → 800',
      '  artifacts.bucket: example-mlflow-dev-artifacts → acme-ml-dev-mlflow-artifacts',
    ]);
    expect(r.stdout).toMatch(/dev\.yaml: 5 fields updated from .*outputs\.json \(19 checked\):/);
    const expected = shipped('dev')
      .replace('  projectId: example-mlflow-dev # (terraform)\n', '  projectId: acme-ml-dev # (terraform)\n')
      .replace(
        '  serviceAccountEmail: mlflow-server@example-mlflow-dev.iam.gserviceaccount.com # (terraform)\n',
        '  serviceAccountEmail: mlflow-server@acme-ml-dev.iam.gserviceaccount.com # (terraform)\n',
      )
      .replace(
        '  instanceConnectionName: example-mlflow-dev:europe-west1:mlflow-dev # (terraform)\n',
        '  instanceConnectionName: acme-ml-dev:europe-west1:mlflow-dev # (terraform)\n',
      )
      .replace("  maxConnections: 400 # (terraform) the instance's max_connections flag\n", "  maxConnections: 800 # (terraform) the instance's max_connections flag\n")
      .replace('  bucket: example-mlflow-dev-artifacts # (terraform)\n', '  bucket: acme-ml-dev-mlflow-artifacts # (terraform)\n');
    expect(expected).not.toBe(shipped('dev'));
    // Only dev.yaml changed, to exactly those bytes; no temporary file left behind.
    expect(sb.files()).toEqual({ 'dev.yaml': expected, 'prod.yaml': shipped('prod') });
    expect(loadEnvironmentFile(sb.config('dev')).problems).toEqual([]);
    // The document as written: the contract's fields are the file's.
    const config = parseConfigDocument(sb.config('dev'), fs.readFileSync(sb.config('dev'), 'utf8')).doc;
    for (const row of TERRAFORM_CONTRACT) {
      const [section, field] = row.path;
      // database.login 'password' stays absent (what its absence means).
      const value = (config as any)[section][field] ?? (row.type === 'string' ? row.absentMeans : undefined);
      expect({ field: row.path.join('.'), value }).toEqual({ field: row.path.join('.'), value: row.example });
    }
  });

  test.concurrent('a second run reports "already up to date" and does not rewrite the file', async () => {
    const sb = sandbox({ dev: shipped('dev') });
    expect((await sb.run('dev')).code).toBe(0);
    const before = fs.statSync(sb.config('dev'));
    const text = fs.readFileSync(sb.config('dev'), 'utf8');
    const r = await sb.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('already up to date');
    expect(r.stdout).toContain('not rewritten');
    const after = fs.statSync(sb.config('dev'));
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
    expect(fs.readFileSync(sb.config('dev'), 'utf8')).toBe(text);
  });

  test.concurrent('--outputs - reads `terraform output -json` from stdin (in its own process, as a user runs it)', async () => {
    const sb = sandbox({ prod: shipped('prod') });
    const r = await sb.runProcess('prod', JSON.stringify(outputsWith(NO_LIST_OUTPUTS)), '-');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('updated from stdin');
    expect(r.stdout).toContain('  gcp.projectId: example-mlflow-prod → acme-ml-dev\n');
    expect(loadEnvironmentFile(sb.config('prod')).environment?.servers[0].gcp?.projectId).toBe('acme-ml-dev');
  });

  test.concurrent('--outputs - reads stdin in-process too: the injected reader, not a file named -', async () => {
    const sb = sandbox({ prod: shipped('prod') });
    const r = await sb.run('prod', JSON.stringify(outputsWith({ ...NO_LIST_OUTPUTS, project_id: { value: 'acme-ml-stdin' } })), '-');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('  gcp.projectId: example-mlflow-prod → acme-ml-stdin\n');
    expect(loadEnvironmentFile(sb.config('prod')).environment?.servers[0].gcp?.projectId).toBe('acme-ml-stdin');
  });

  test.concurrent('cloudsql_max_connections may be a string of digits (a database_flags value): a number is written', async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ cloudsql_max_connections: { type: 'string', value: '1200' } }));
    const r = await sb.run('dev');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  database.maxConnections: 400 → 1200\n');
    expect(fs.readFileSync(sb.config('dev'), 'utf8')).toContain("  maxConnections: 1200 # (terraform) the instance's max_connections flag\n");
    expect(loadEnvironmentFile(sb.config('dev')).environment?.servers[0].database).toMatchObject({ maxConnections: 1200 });
  });

  test.concurrent('an absent field is added at the end of its section, an empty one filled in place; quoted values stay quoted', async () => {
    const edited = shipped('dev')
      .replace('  metricsPasswordSecret: mlflow-dev-metrics-password # (terraform)\n', '')
      .replace('  name: mlflow # (terraform)\n', '  name: # (terraform)\n')
      .replace('  projectId: example-mlflow-dev # (terraform)\n', '  projectId: "example-mlflow-dev" # (terraform)\n');
    const sb = sandbox({ dev: edited });
    const r = await sb.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('  auth.metricsPasswordSecret: (absent) → mlflow-dev-metrics-password\n');
    expect(r.stdout).toContain('  database.name: null → mlflow\n');
    expect(r.stdout).not.toContain('re-serialized');
    const text = fs.readFileSync(sb.config('dev'), 'utf8');
    expect(text).toContain('  name: mlflow # (terraform)\n');
    expect(text).toContain('  projectId: "acme-ml-dev" # (terraform)\n');
    expect(text).toContain('  metricsUsername: metrics-scraper\n  metricsPasswordSecret: mlflow-dev-metrics-password\nmetrics: gmp\n');
    expect(text).toContain('  hosts: [mlflow.dev.example.com]\n'); // untouched flow collection
    expect(loadEnvironmentFile(sb.config('dev')).problems).toEqual([]);
  });

  test.concurrent('with auth.enabled: false the auth secret ids are neither required nor written', async () => {
    // Clients and served models need basic-auth: without it, none (and no list outputs).
    const noAuth = withoutLists(shipped('dev')).replace(/^auth:\n(?: {2}.*\n)+/m, 'auth:\n  enabled: false\n');
    expect(noAuth).toContain('auth:\n  enabled: false\nmetrics: gmp\n');
    const outputs = outputsWith({
      ...NO_LIST_OUTPUTS,
      flask_secret_key_secret_id: undefined,
      admin_username_secret_id: undefined,
      admin_password_secret_id: { sensitive: true }, // not needed, so not inspected
      metrics_password_secret_id: undefined,
    });
    const sb = sandbox({ dev: noAuth }, outputs);
    const r = await sb.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('(11 checked)');
    expect(fs.readFileSync(sb.config('dev'), 'utf8')).toContain('auth:\n  enabled: false\nmetrics: gmp\n');
    expect(loadEnvironmentFile(sb.config('dev')).problems).toEqual([]);
  });
});

describe('the login decides which database outputs are read', () => {
  /** config/dev.yaml switched to IAM login: `login: iam`, no database secrets. */
  const iamDev = () => {
    const text = shipped('dev')
      .replace('  userSecret: mlflow-dev-db-user # (terraform)\n', '')
      .replace('  passwordSecret: mlflow-dev-db-password # (terraform)\n', '');
    return text.replace('  engine: mysql # (terraform)\n', '  engine: mysql # (terraform)\n  login: iam # (terraform)\n');
  };
  const iamOutputs = () =>
    outputsWith({
      database_login: { value: 'iam' },
      database_user_secret_id: { value: null },
      database_password_secret_id: { value: null },
    });

  test.concurrent("iam outputs into an iam config: the database secret ids (null) are not read; the rest is imported", async () => {
    const sb = sandbox({ dev: iamDev() }, iamOutputs());
    const r = await sb.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('(17 checked)');
    expect(r.stdout).not.toContain('database.login');
    const written = fs.readFileSync(sb.config('dev'), 'utf8');
    expect(written).toContain('  login: iam # (terraform)\n');
    expect(written).not.toContain('Secret: mlflow-dev-db-');
    expect(loadEnvironmentFile(sb.config('dev')).problems).toEqual([]);
  });

  test.concurrent('iam outputs into a password config: login set, then the two database secret fields refused by name', async () => {
    const sb = sandbox({ dev: shipped('dev') }, iamOutputs());
    const refused = "not used with database.login 'iam' (the proxy logs in as the service account, with no password): remove it";
    await expectRefused(sb, 'dev', [`dev.yaml: database.userSecret: ${refused}`, `dev.yaml: database.passwordSecret: ${refused}`]);
  });

  test.concurrent('password outputs into an iam config: login set back to password, the database secret ids required and added', async () => {
    const sb = sandbox({ dev: iamDev() }, outputsWith({ database_user_secret_id: undefined }));
    await expectRefused(sb, 'dev', [
      "outputs.json: missing output 'database_user_secret_id' (string → database.userSecret, required with database.login: password (the default; the database_login output decides))",
    ]);
    const ok = sandbox({ dev: iamDev() });
    const r = await ok.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('  database.login: iam → password\n');
    expect(r.stdout).toContain('  database.userSecret: (absent) → mlflow-dev-db-user\n');
    expect(r.stdout).toContain('  database.passwordSecret: (absent) → mlflow-dev-db-password\n');
    expect(loadEnvironmentFile(ok.config('dev')).problems).toEqual([]);
  });

  test.concurrent("database_login 'password' leaves a config without the field as it is; an engine the schema does not know is refused", async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ database_engine: { value: 'oracle' } }));
    await expectRefused(sb, 'dev', ["dev.yaml: database.engine: expected database.engine 'mysql' or 'postgres' (Cloud SQL) or 'sqlite' (file on the data volume) (got \"oracle\") (from Terraform output 'database_engine')"]);
    const same = sandbox({ dev: shipped('dev') }, outputsWith({ project_id: { value: 'example-mlflow-dev' }, mlflow_service_account_email: { value: 'mlflow-server@example-mlflow-dev.iam.gserviceaccount.com' }, cloudsql_instance_connection_name: { value: 'example-mlflow-dev:europe-west1:mlflow-dev' }, cloudsql_max_connections: { value: 400 }, artifact_bucket: { value: 'example-mlflow-dev-artifacts' } }));
    const r = await same.run('dev');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('already up to date');
    expect(fs.readFileSync(same.config('dev'), 'utf8')).toBe(shipped('dev'));
  });
});

describe('import-terraform refuses bad input: exit 1, every problem named, nothing written', () => {
  test.concurrent('the outputs file does not exist', async () => {
    const sb = sandbox({ dev: shipped('dev') });
    fs.rmSync(sb.outputsFile);
    await expectRefused(sb, 'dev', ['outputs.json: cannot read the Terraform outputs file', 'ENOENT']);
  });

  test.concurrent('the outputs file is unreadable (a directory)', async () => {
    const sb = sandbox({ dev: shipped('dev') });
    fs.rmSync(sb.outputsFile);
    fs.mkdirSync(sb.outputsFile);
    await expectRefused(sb, 'dev', ['outputs.json: cannot read the Terraform outputs file', 'EISDIR']);
  });

  test.concurrent('the outputs file is not JSON', async () => {
    const sb = sandbox({ dev: shipped('dev') }, 'project_id = "acme-ml-dev"\n');
    await expectRefused(sb, 'dev', ['outputs.json: not JSON', 'terraform output -json']);
  });

  test.concurrent('the outputs are plain values, not the { sensitive, type, value } entries of `terraform output -json`', async () => {
    const sb = sandbox({ dev: shipped('dev') }, JSON.stringify({ project_id: 'acme-ml-dev', region: 'europe-west1' }));
    await expectRefused(sb, 'dev', [
      `outputs.json: output 'project_id' is "acme-ml-dev"; expected the JSON printed by \`terraform output -json\``,
      `output 'region' is "europe-west1"`,
    ]);
  });

  test.concurrent('the outputs file is a Terraform state file', async () => {
    const state = { version: 4, terraform_version: '1.9.8', serial: 3, outputs: { project_id: { value: 'acme-ml-dev', type: 'string' } }, resources: [] };
    const sb = sandbox({ dev: shipped('dev') }, JSON.stringify(state));
    await expectRefused(sb, 'dev', ['outputs.json: this is a Terraform state file', 'terraform output -json']);
  });

  test.concurrent('every missing output is listed at once, with its field and why it is required', async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ project_id: undefined, cloudsql_max_connections: undefined, admin_password_secret_id: undefined, metrics_password_secret_id: undefined }));
    const r = await expectRefused(sb, 'dev', [
      "missing output 'project_id' (string → gcp.projectId)",
      "missing output 'cloudsql_max_connections' (number → database.maxConnections)",
      "missing output 'admin_password_secret_id' (string → auth.adminPasswordSecret, required with auth.enabled: true)",
      "missing output 'metrics_password_secret_id' (string → auth.metricsPasswordSecret, required with auth.enabled: true and auth.metricsUsername (or auth.metricsPasswordSecret) set)",
    ]);
    expect(r.stderr).toContain('(4 problems)');
  });

  test.concurrent('wrong types are refused, by the Terraform type and by the JSON value; null too', async () => {
    const sb = sandbox(
      { dev: shipped('dev') },
      outputsWith({
        region: { type: ['list', 'string'], value: ['europe-west1'] },
        database_name: { type: 'string', value: 42 },
        cloudsql_max_connections: { type: 'string', value: 'many' },
        artifact_bucket: { type: 'number', value: 7 },
        database_user_secret_id: { value: null },
      }),
    );
    const r = await expectRefused(sb, 'dev', [
      `output 'region' has the wrong type: expected a string (gcp.region), got type ["list","string"] with value ["europe-west1"]`,
      `output 'database_name' has the wrong type: expected a string (database.name), got type "string" with value 42`,
      `output 'cloudsql_max_connections' has the wrong type: expected a number or a string of digits (database.maxConnections), got type "string" with value "many"`,
      `output 'artifact_bucket' has the wrong type: expected a string (artifacts.bucket), got type "number" with value 7`,
      `output 'database_user_secret_id' is null`,
    ]);
    expect(r.stderr).toContain('(5 problems)');
  });

  test.concurrent('a sensitive output is refused: the module would be putting secret material where an identifier belongs', async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ database_password_secret_id: { sensitive: true, value: 'Zq8pW3rT' } }));
    const r = await expectRefused(sb, 'dev', ["output 'database_password_secret_id' is marked sensitive", 'secret material', 'Secret Manager secret id', 'sensitive = false']);
    expect(r.stderr).not.toContain('Zq8pW3rT');
  });

  test.concurrent('config/<env>.yaml does not exist: the environments that do are named', async () => {
    const sb = sandbox({ dev: shipped('dev'), prod: shipped('prod') });
    await expectRefused(sb, 'staging', ['staging.yaml does not exist (environments there: dev, prod)']);
  });

  test.concurrent('config/local.yaml is not a GKE environment', async () => {
    const sb = sandbox({ local: shipped('local') });
    await expectRefused(sb, 'local', ['local.yaml is not a GKE environment (database.engine "sqlite", no \'gcp\' section)']);
  });

  test.concurrent('a config file that is not valid YAML', async () => {
    const sb = sandbox({ dev: shipped('dev').replace('namespace: mlflow\n', 'namespace: [mlflow\n') });
    await expectRefused(sb, 'dev', ['dev.yaml: malformed YAML']);
  });

  test.concurrent('a value the schema rejects: the file, the field and the output it came from are named', async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ project_id: { value: 'Acme_ML' } }));
    const r = await expectRefused(sb, 'dev', [
      `dev.yaml: gcp.projectId: expected a GCP project id (6-30 chars: lowercase letters, digits, hyphens) (got "Acme_ML") (from Terraform output 'project_id')`,
    ]);
    expect(r.stderr).toContain(`${sb.config('dev')}: gcp.projectId`);
  });

  test.concurrent('a max_connections too small for the connection budget makes the file invalid', async () => {
    const sb = sandbox({ dev: shipped('dev') }, outputsWith({ cloudsql_max_connections: { value: 100 } }));
    await expectRefused(sb, 'dev', ['dev.yaml: database.pool: connection budget exceeded', 'max_connections 100']);
  });
});

describe('usage errors exit 2: one line naming the problem, then the usage; nothing touched', () => {
  const USAGE_START = 'Usage: npm run import-terraform -- --env <name> --outputs <file|-> [--config-dir <dir>]\n';
  const cases: Array<[string, string[], string]> = [
    ['neither --env nor --outputs', [], '--env is required'],
    ['--outputs missing', ['--env', 'dev'], '--outputs is required'],
    ['--env missing', ['--outputs', SAMPLE], '--env is required'],
    ['an --env that is not an environment name', ['--env', 'Dev', '--outputs', SAMPLE], "--env 'Dev' is not an environment name: lowercase letter first, then letters, digits or '-' (max 30)"],
    // Synth refuses a longer file name: the import must not write a config no synth would read.
    ['an --env longer than an environment name', ['--env', `e${'x'.repeat(30)}`, '--outputs', SAMPLE], `--env 'e${'x'.repeat(30)}' is not an environment name: lowercase letter first, then letters, digits or '-' (max 30)`],
    ['a flag without its value, at the end', ['--env', 'dev', '--outputs'], '--outputs needs a value'],
    ['a flag without its value, before another flag', ['--outputs', '--env', 'dev'], '--outputs needs a value'],
    ['a flag with an empty inline value', ['--env=', '--outputs', SAMPLE], '--env needs a value'],
    ['an unknown flag', ['--env', 'dev', '--outputs', SAMPLE, '--force'], "unknown option '--force'"],
    ['an unknown short flag', ['-f', '--env', 'dev', '--outputs', SAMPLE], "unknown option '-f'"],
    ['a positional argument', ['dev', '--outputs', SAMPLE], "unexpected argument 'dev'"],
    ['a flag given twice', ['--env', 'dev', '--env', 'prod', '--outputs', SAMPLE], '--env given twice'],
    ['a value given to --help', ['--help=yes'], '--help takes no value'],
  ];
  test.concurrent.each(cases)('%s', async (_, args, message) => {
    // A scratch --config-dir: even a wrongly accepted command could not touch the repository's config/.
    const sb = sandbox({ dev: shipped('dev') });
    const before = sb.files();
    const r = await importTerraform([...args, '--config-dir', sb.configDir]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`import-terraform: ${message}\n\n${USAGE_START}`)).toBe(true);
    expect(r.stderr).toMatch(/Exit codes: 0 created, updated or already up to date, 1 refused \(nothing written\), 2 usage error\.\n$/);
    expect(sb.files()).toEqual(before);
  });

  test.concurrent('--env=<name> and --outputs=<file> inline values are accepted', async () => {
    const sb = sandbox({ dev: shipped('dev') });
    const r = await importTerraform([`--env=dev`, `--outputs=${sb.outputsFile}`, `--config-dir=${sb.configDir}`]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toContain('dev.yaml: 5 fields updated');
  });

  test.concurrent('in its own process: an unknown flag exits 2 with the one line and the usage, no stack trace', async () => {
    const sb = sandbox({ dev: shipped('dev') });
    const before = sb.files();
    const r = await importTerraformProcess(['--env', 'dev', '--outputs', SAMPLE, '--config-dir', sb.configDir, '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`import-terraform: unknown option '--force'\n\n${USAGE_START}`)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sb.files()).toEqual(before);
  });

  test.concurrent('--help and -h print the usage and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await importTerraform([flag]);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout.startsWith(USAGE_START)).toBe(true);
      expect(r.stdout).toContain('Exit codes: 0 created, updated or already up to date, 1 refused (nothing written), 2 usage error.');
    }
  });
});
