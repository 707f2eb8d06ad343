/**
 * terraform/ (the module) and terraform/examples/<env> (its root modules) against the Terraform contract
 * (tools/terraform/contract.ts), without a Terraform CLI: the HCL is parsed with @cdktf/hcl2json (HashiCorp's HCL
 * parser compiled to wasm). Checked here: the outputs are exactly the contract (names, types, sensitivity; a
 * rename on either side fails), no output exposes a secret value, the security properties of the key resources,
 * and the outputs go through `import-terraform` into valid config files — the examples' into exactly the shipped
 * config/<env>.yaml; and `terraform fmt -check` where a CLI is on PATH. Not checked here (no provider can be
 * downloaded): `terraform validate`/`plan`, argument names against the google provider's schema, and what GCP does
 * with them.
 */
import { parse } from '@cdktf/hcl2json';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseEnvironmentText } from '../../lib/config/config';
import { iamDatabaseUser } from '../../lib/mlflow/database-access';
import { importTerraformOutputs, TERRAFORM_CONTRACT, TERRAFORM_LIST_CONTRACT, type TerraformOutput } from '../../tools/terraform/contract';
import { clientObjectName } from '../../lib/names';
import { CONFIG_DIR, find, render, ROOT, shippedConfig } from '../../tools/environments';
import { onceBeforeAll } from '../support/once';

const MODULE_DIR = path.join(ROOT, 'terraform');
const ENVIRONMENTS = ['dev', 'prod'] as const;
const exampleDir = (env: string) => path.join(MODULE_DIR, 'examples', env);

// ---------------------------------------------------------------------------------------------------------
// Reading HCL
// ---------------------------------------------------------------------------------------------------------

type Body = Record<string, any>;

/** One Terraform module: the blocks of every `*.tf` file of a directory, by kind. */
interface Module {
  readonly dir: string;
  /** `output` blocks, with the file each is in. */
  readonly outputs: ReadonlyMap<string, { readonly file: string; readonly body: Body }>;
  readonly variables: Readonly<Record<string, Body>>;
  readonly locals: Readonly<Record<string, unknown>>;
  /** `resources[type][name]` */
  readonly resources: Readonly<Record<string, Readonly<Record<string, Body>>>>;
  readonly modules: Readonly<Record<string, Body>>;
  readonly terraform: readonly Body[];
}

async function loadModule(dir: string): Promise<Module> {
  const outputs = new Map<string, { file: string; body: Body }>();
  const variables: Record<string, Body> = {};
  const locals: Record<string, unknown> = {};
  const resources: Record<string, Record<string, Body>> = {};
  const modules: Record<string, Body> = {};
  const terraform: Body[] = [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.tf')).sort();
  for (const file of files) {
    const hcl = await parse(file, fs.readFileSync(path.join(dir, file), 'utf8'));
    for (const [name, [body]] of Object.entries<Body[]>(hcl.output ?? {})) {
      if (outputs.has(name)) throw new Error(`${dir}: output '${name}' declared twice`);
      outputs.set(name, { file, body });
    }
    for (const [name, [body]] of Object.entries<Body[]>(hcl.variable ?? {})) variables[name] = body;
    for (const block of (hcl.locals ?? []) as Body[]) Object.assign(locals, block);
    for (const [type, byName] of Object.entries<Record<string, Body[]>>(hcl.resource ?? {})) {
      for (const [name, [body]] of Object.entries(byName)) (resources[type] ??= {})[name] = body;
    }
    for (const [name, [body]] of Object.entries<Body[]>(hcl.module ?? {})) modules[name] = body;
    terraform.push(...((hcl.terraform ?? []) as Body[]));
  }
  return { dir, outputs, variables, locals, resources, modules, terraform };
}

function resource(m: Module, type: string, name: string): Body {
  const r = m.resources[type]?.[name];
  if (!r) throw new Error(`${m.dir}: no resource ${type}.${name}`);
  return r;
}

/** The one nested block `key` of a body (hcl2json gives every block as a list). */
function block(body: Body, key: string): Body {
  const blocks = body[key] as Body[] | undefined;
  if (!blocks || blocks.length !== 1) throw new Error(`expected exactly one '${key}' block, found ${blocks?.length ?? 0}`);
  return blocks[0];
}

/** The expression inside `${…}` when a value is one whole interpolation. */
function expressionOf(value: unknown): string | undefined {
  return typeof value === 'string' ? /^\$\{([\s\S]*)\}$/.exec(value)?.[1] : undefined;
}

/** Where a path inside the module is, for messages: `resource.google_sql_user.mlflow.password`. */
function* stringsIn(value: unknown, at: string): Generator<{ at: string; text: string }> {
  if (typeof value === 'string') yield { at, text: value };
  else if (Array.isArray(value)) for (const v of value) yield* stringsIn(v, at);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) yield* stringsIn(v, `${at}.${k}`);
  }
}

/** Every string of the module with its place: resources, locals and outputs. */
function* moduleStrings(m: Module): Generator<{ at: string; text: string }> {
  for (const [type, byName] of Object.entries(m.resources)) {
    for (const [name, body] of Object.entries(byName)) yield* stringsIn(body, `resource.${type}.${name}`);
  }
  for (const [name, value] of Object.entries(m.locals)) yield* stringsIn(value, `local.${name}`);
  for (const [name, { body }] of m.outputs) yield* stringsIn(body.value, `output.${name}`);
}

// ---------------------------------------------------------------------------------------------------------
// The checks (pure: a module and a contract in, problems out)
// ---------------------------------------------------------------------------------------------------------

/**
 * The type an output states: Terraform outputs have no `type` argument, so the module wraps each value in
 * `tostring(…)`, `tonumber(…)` or `tomap(…)`. A root module re-exporting `module.<name>.<output>` has the module's type.
 */
function statedType(body: Body): 'string' | 'number' | 'map' | undefined {
  const fn = /^(tostring|tonumber|tomap)\(/.exec(expressionOf(body.value) ?? '')?.[1];
  return fn === 'tostring' ? 'string' : fn === 'tonumber' ? 'number' : fn === 'tomap' ? 'map' : undefined;
}

/** One output of the contract as the module states it: its name, its type, and the config field it fills. */
interface ContractRow {
  readonly output: string;
  readonly type: 'string' | 'number' | 'map';
  readonly field: string;
}

/** Every output of the contract: the scalar ones, then the maps keyed by client or serving name. */
const CONTRACT: readonly ContractRow[] = [
  ...TERRAFORM_CONTRACT.map((r) => ({ output: r.output, type: r.type, field: r.path.join('.') })),
  ...TERRAFORM_LIST_CONTRACT.map((r) => ({ output: r.output, type: 'map' as const, field: `${r.list}[].${r.field}` })),
];

/**
 * Problems between a module's outputs and the contract, both directions. Every contract output must be there
 * with its type and `sensitive = false` (the import refuses sensitive outputs); nothing else may be.
 * `typeOf` gives an output's type (the module's own statement, or for a root module the module's).
 */
function contractProblems(
  where: string,
  outputs: Module['outputs'],
  contract: readonly ContractRow[],
  typeOf: (name: string, body: Body) => string | undefined = (_, body) => statedType(body),
): string[] {
  const problems: string[] = [];
  for (const row of contract) {
    const o = outputs.get(row.output);
    if (!o) {
      problems.push(`${where}: contract output '${row.output}' (${row.field}) is missing`);
      continue;
    }
    const type = typeOf(row.output, o.body);
    if (type === undefined) problems.push(`${where}/${o.file}: output '${row.output}' does not state its type: wrap its value in to${row.type}()`);
    else if (type !== row.type) problems.push(`${where}/${o.file}: output '${row.output}' is a ${type}, the contract says ${row.type}`);
    if (o.body.sensitive !== false) problems.push(`${where}/${o.file}: output '${row.output}' must say sensitive = false (an identifier, committed to config/)`);
  }
  for (const [name, o] of outputs) {
    if (!contract.some((r) => r.output === name)) problems.push(`${where}/${o.file}: output '${name}' is not in the contract (tools/terraform/contract.ts)`);
  }
  return problems;
}

/**
 * Problems of a root module (terraform/examples/<env>): `terraform output -json` prints the root module's outputs,
 * so each must re-export the module's output of the same name, unchanged, and the set must be the contract.
 */
function rootModuleProblems(where: string, root: Module, mod: Module): string[] {
  const problems: string[] = [];
  const reexported = (name: string, body: Body) => expressionOf(body.value) === `module.mlflow.${name}`;
  for (const [name, { file, body }] of root.outputs) {
    if (!reexported(name, body)) problems.push(`${where}/${file}: output '${name}' must be exactly module.mlflow.${name}, found ${JSON.stringify(body.value)}`);
  }
  const typeOf = (name: string, body: Body) => (reexported(name, body) ? statedType(mod.outputs.get(name)?.body ?? {}) : undefined);
  return [...problems, ...contractProblems(where, root.outputs, CONTRACT, typeOf).filter((p) => !p.includes('does not state its type'))];
}

/** References that hold secret material: generated passwords, secret versions, the SQL user's password. */
const SECRET_REFERENCE = /\b(random_password\.|google_secret_manager_secret_version\.|google_sql_user\.[a-z0-9_]+(\[[^\]]*\])?\.password\b|local\.secret_values\b|\.secret_data\b|\.result\b)/;

/** Outputs whose value reaches secret material, directly or through locals. */
function secretExposures(m: Module): string[] {
  const expand = (text: string, seen: Set<string>): string =>
    text.replace(/\blocal\.([a-z0-9_]+)\b/g, (ref, name: string) => {
      if (SECRET_REFERENCE.test(ref) || seen.has(name) || !(name in m.locals)) return ref;
      return `${ref} (= ${expand(JSON.stringify(m.locals[name]), new Set([...seen, name]))})`;
    });
  const problems: string[] = [];
  for (const [name, { file, body }] of m.outputs) {
    const text = expand(JSON.stringify(body.value), new Set());
    const hit = SECRET_REFERENCE.exec(text);
    if (hit) problems.push(`${path.basename(m.dir)}/${file}: output '${name}' exposes secret material (${hit[1]}): output the secret id instead`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluating the outputs of an example, as GCP would compute them
// ---------------------------------------------------------------------------------------------------------

/** A reference to an instance a resource's for_each does not create. */
class MissingInstance extends Error {}

/**
 * A deliberately small evaluator for the forms the module's outputs use: `var.*`, `local.*` (and `local.x["k"]`),
 * arguments of a resource (with `each.*` of a `for_each` map), `${…}` templates, `tostring`/`tonumber`,
 * `try(REF, null)`, `merge(A, B)`, `local.x[var.y]`, and the two attributes GCP computes. Anything else throws: extend it when the module grows a new form.
 */
class Evaluator {
  private static readonly COMPUTED: Record<string, (arg: (name: string) => unknown) => unknown> = {
    // `project:region:instance`
    'google_sql_database_instance.connection_name': (arg) => `${arg('project')}:${arg('region')}:${arg('name')}`,
    // `<account_id>@<project>.iam.gserviceaccount.com`
    'google_service_account.email': (arg) => `${arg('account_id')}@${arg('project')}.iam.gserviceaccount.com`,
  };

  constructor(
    private readonly m: Module,
    private readonly args: Readonly<Record<string, unknown>>,
  ) {}

  value(v: unknown, each?: { key: string; value: unknown }): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x, each));
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, each)]));
    if (typeof v !== 'string') return v;
    const whole = expressionOf(v);
    if (whole !== undefined && !/\$\{/.test(whole)) return this.expr(whole.trim(), each);
    return v.replace(/\$\{([^}]*)\}/g, (_, e: string) => String(this.expr(e.trim(), each)));
  }

  private expr(e: string, each?: { key: string; value: unknown }): unknown {
    // tomap(X): the map as it is; toset(var.x): a set of strings, which for_each keys by the strings themselves.
    const asMap = /^tomap\(([\s\S]*)\)$/.exec(e);
    if (asMap) return this.expr(asMap[1].trim(), each);
    const asSet = /^toset\((var\.[a-z0-9_]+)\)$/.exec(e);
    if (asSet) return Object.fromEntries((this.expr(asSet[1], each) as string[]).map((x) => [x, x]));
    // { for k, r in TYPE.NAME : k => r.ATTR }: an attribute of every instance of a for_each resource, by key.
    const forEach = /^\{\s*for ([a-z_]+), ([a-z_]+) in ([a-z0-9_]+)\.([a-z0-9_]+)\s*:\s*\1 => \2\.([a-z0-9_]+)\s*\}$/.exec(e);
    if (forEach) {
      const [, , , type, name, attr] = forEach;
      const keys = Object.keys(this.value(resource(this.m, type, name).for_each) as object);
      return Object.fromEntries(keys.map((k) => [k, this.expr(`${type}.${name}["${k}"].${attr}`)]));
    }
    const eachAttr = /^each\.value\.([a-z0-9_]+)$/.exec(e);
    if (eachAttr && each) return (each.value as Record<string, unknown>)[eachAttr[1]];
    const call = /^(tostring|tonumber)\(([\s\S]*)\)$/.exec(e);
    if (call) {
      const v = this.expr(call[2].trim(), each);
      if (v === null) return null; // Terraform converts null to a null of the type
      return call[1] === 'tostring' ? String(v) : Number(v);
    }
    // try(REF, null): null where REF names an instance a for_each does not have (e.g. a database secret with IAM login).
    const tried = /^try\(([^,]+), null\)$/.exec(e);
    if (tried) {
      try {
        return this.expr(tried[1].trim(), each);
      } catch (err) {
        if (err instanceof MissingInstance) return null;
        throw err;
      }
    }
    // merge(A, B) of two references.
    const merged = /^merge\(([^,()]+), ([^,()]+)\)$/.exec(e);
    if (merged) return { ...(this.expr(merged[1].trim(), each) as object), ...(this.expr(merged[2].trim(), each) as object) };
    // local.x[var.y]: a local map indexed by a variable.
    const indexed = /^local\.([a-z0-9_]+)\[(var\.[a-z0-9_]+)\]$/.exec(e);
    if (indexed) {
      const map = this.value(this.m.locals[indexed[1]], each) as Record<string, unknown>;
      const key = String(this.expr(indexed[2], each));
      if (!Object.hasOwn(map, key)) throw new Error(`local.${indexed[1]} has no key "${key}"`);
      return map[key];
    }
    if (e === 'each.key' && each) return each.key;
    if (e === 'each.value' && each) return each.value;
    let m = /^var\.([a-z0-9_]+)$/.exec(e);
    if (m) {
      if (Object.hasOwn(this.args, m[1])) return this.args[m[1]];
      const decl = this.m.variables[m[1]];
      if (decl && 'default' in decl) return decl.default;
      throw new Error(`${this.m.dir}: variable '${m[1]}' has no value and no default`);
    }
    m = /^local\.([a-z0-9_]+)(?:\["([^"]+)"\])?$/.exec(e);
    if (m) {
      const local = this.value(this.m.locals[m[1]], each);
      return m[2] === undefined ? local : this.value((local as Record<string, unknown>)[m[2]], each);
    }
    m = /^([a-z0-9_]+)\.([a-z0-9_]+)(?:\["([^"]+)"\])?\.([a-z0-9_]+)$/.exec(e);
    if (m) {
      const [, type, name, key, attr] = m;
      const body = resource(this.m, type, name);
      let instance: { key: string; value: unknown } | undefined;
      if (key !== undefined) {
        const forEach = this.value(body.for_each) as Record<string, unknown>;
        if (!Object.hasOwn(forEach, key)) throw new MissingInstance(`${type}.${name} has no instance "${key}"`);
        instance = { key, value: forEach[key] };
      }
      const arg = (a: string) => {
        if (!(a in body)) throw new Error(`${type}.${name} does not set '${a}'`);
        return this.value(body[a], instance);
      };
      const computed = Evaluator.COMPUTED[`${type}.${attr}`];
      return computed ? computed(arg) : arg(attr);
    }
    throw new Error(`cannot evaluate '${e}': extend the test's evaluator`);
  }
}

/**
 * `terraform output -json` of an example root module: its module call's arguments evaluated through the
 * module's outputs. Types are Terraform's JSON type names.
 */
function exampleOutputs(example: Module, mod: Module): Record<string, TerraformOutput> {
  const call = example.modules.mlflow;
  const args = Object.fromEntries(Object.entries(call).filter(([k]) => k !== 'source'));
  const ev = new Evaluator(mod, args);
  const out: Record<string, TerraformOutput> = {};
  for (const [name, { body }] of example.outputs) {
    const inner = /^module\.mlflow\.([a-z0-9_]+)$/.exec(expressionOf(body.value) ?? '')?.[1];
    if (!inner) throw new Error(`examples: output '${name}' is not module.mlflow.<output>`);
    const value = ev.value(mod.outputs.get(inner)!.body.value);
    // A null has the output's stated type (`tostring(null)` is a null string); a tomap() of strings is a map(string).
    const stated = statedType(mod.outputs.get(inner)!.body);
    const type = stated === 'map' ? ['map', 'string'] : value === null ? stated : typeof value;
    out[name] = { sensitive: body.sensitive === true, type, value };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------

let mod: Module;
const examples: Record<string, Module> = {};
const sandboxes: string[] = [];

// Once per suite also under `npm run mutate` (test/support/once.ts).
onceBeforeAll(async () => {
  mod = await loadModule(MODULE_DIR);
  for (const env of ENVIRONMENTS) examples[env] = await loadModule(exampleDir(env));
});
afterAll(() => sandboxes.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A copy of terraform/ (no examples) with one file's text changed, parsed. */
async function mutatedModule(file: string, change: (text: string) => string): Promise<Module> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terraform-module-'));
  sandboxes.push(dir);
  for (const f of fs.readdirSync(MODULE_DIR).filter((x) => x.endsWith('.tf'))) {
    fs.copyFileSync(path.join(MODULE_DIR, f), path.join(dir, f));
  }
  const original = fs.readFileSync(path.join(dir, file), 'utf8');
  const changed = change(original);
  if (changed === original) throw new Error(`the mutation of ${file} changed nothing`);
  fs.writeFileSync(path.join(dir, file), changed);
  return loadModule(dir);
}

describe('the module outputs exactly the contract', () => {
  test('every contract output, with its type and sensitive = false, and nothing else', () => {
    expect(contractProblems('terraform', mod.outputs, CONTRACT)).toEqual([]);
    expect([...mod.outputs.keys()].sort()).toEqual(CONTRACT.map((r) => r.output).sort());
  });

  test('an output renamed in the module fails, in both directions', async () => {
    const renamed = await mutatedModule('outputs.tf', (t) => t.replace('output "artifact_bucket" {', 'output "artifact_bucket_name" {'));
    expect(contractProblems('terraform', renamed.outputs, CONTRACT)).toEqual([
      "terraform: contract output 'artifact_bucket' (artifacts.bucket) is missing",
      "terraform/outputs.tf: output 'artifact_bucket_name' is not in the contract (tools/terraform/contract.ts)",
    ]);
  });

  test('an output renamed in the contract fails, in both directions', () => {
    const contract = CONTRACT.map((r) => (r.output === 'database_name' ? { ...r, output: 'cloudsql_database_name' } : r));
    expect(contractProblems('terraform', mod.outputs, contract)).toEqual([
      "terraform: contract output 'cloudsql_database_name' (database.name) is missing",
      "terraform/outputs.tf: output 'database_name' is not in the contract (tools/terraform/contract.ts)",
    ]);
  });

  test('a wrong or unstated type and a sensitive output fail', async () => {
    const changed = await mutatedModule('outputs.tf', (t) =>
      t
        .replace('value       = tonumber(var.max_connections)', 'value       = tostring(var.max_connections)')
        .replace('value       = tostring(var.project_id)', 'value       = var.project_id')
        .replace(/(output "region" \{[\s\S]*?sensitive\s+= )false/, '$1true'),
    );
    expect(contractProblems('terraform', changed.outputs, CONTRACT)).toEqual([
      "terraform/outputs.tf: output 'project_id' does not state its type: wrap its value in tostring()",
      "terraform/outputs.tf: output 'region' must say sensitive = false (an identifier, committed to config/)",
      "terraform/outputs.tf: output 'cloudsql_max_connections' is a string, the contract says number",
    ]);
  });

  test.each(ENVIRONMENTS)('examples/%s re-exports every module output unchanged, and pins the provider builds', (env) => {
    const ex = examples[env];
    expect(ex.modules.mlflow.source).toBe('../..');
    expect(rootModuleProblems(`terraform/examples/${env}`, ex, mod)).toEqual([]);
    const providers = ex.terraform.flatMap((t) => t.required_providers ?? []).reduce((a: Body, p: Body) => ({ ...a, ...p }), {});
    expect(providers).toEqual({
      google: { source: 'hashicorp/google', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) },
      random: { source: 'hashicorp/random', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) },
    });
  });

  test('an example output renamed, or re-exporting another output, fails', () => {
    const ex = examples.dev;
    const outputs = new Map(ex.outputs);
    outputs.set('bucket', outputs.get('artifact_bucket')!);
    outputs.delete('artifact_bucket');
    outputs.set('region', { file: 'outputs.tf', body: { value: '${module.mlflow.project_id}', sensitive: false } });
    expect(rootModuleProblems('terraform/examples/dev', { ...ex, outputs }, mod)).toEqual([
      'terraform/examples/dev/outputs.tf: output \'region\' must be exactly module.mlflow.region, found "${module.mlflow.project_id}"',
      'terraform/examples/dev/outputs.tf: output \'bucket\' must be exactly module.mlflow.bucket, found "${module.mlflow.artifact_bucket}"',
      "terraform/examples/dev: contract output 'artifact_bucket' (artifacts.bucket) is missing",
      "terraform/examples/dev/outputs.tf: output 'bucket' is not in the contract (tools/terraform/contract.ts)",
    ]);
  });

  test('the module constrains Terraform and both providers to one major version', () => {
    const t = mod.terraform.find((b) => b.required_version)!;
    expect(t.required_version).toBe('>= 1.5.0, < 2.0.0');
    const providers = (t.required_providers as Body[]).reduce((a: Body, p: Body) => ({ ...a, ...p }), {});
    expect(providers).toEqual({
      google: { source: 'hashicorp/google', version: '>= 7.45.0, < 8.0.0' },
      random: { source: 'hashicorp/random', version: '>= 3.8.0, < 4.0.0' },
    });
    for (const env of ENVIRONMENTS) {
      const pinned = examples[env].terraform.flatMap((b) => b.required_providers ?? []).reduce((a: Body, p: Body) => ({ ...a, ...p }), {});
      expect({ env, google: pinned.google.version.split('.')[0], random: pinned.random.version.split('.')[0] }).toEqual({ env, google: '7', random: '3' });
    }
  });
});

/** The Terraform CLI, when this machine has one (it is not a project dependency: the other checks need none). */
const TERRAFORM = (process.env.PATH ?? '').split(path.delimiter).map((d) => path.join(d, 'terraform')).find((f) => fs.existsSync(f));

// `terraform fmt` is the one CLI check that needs no provider (validate and plan need the google provider, which
// cannot be downloaded here). CHECKPOINT_DISABLE: no version check over the network.
(TERRAFORM ? test : test.skip)(`terraform fmt -check: the HCL is in canonical form (${TERRAFORM ?? 'no terraform CLI on PATH: skipped'})`, () => {
  const r = spawnSync(TERRAFORM!, ['fmt', '-check', '-recursive', '-diff', MODULE_DIR], { encoding: 'utf8', env: { ...process.env, CHECKPOINT_DISABLE: '1' }, timeout: 30000 });
  // stdout lists each file not in canonical form, with the diff; stderr may carry CLI-configuration warnings.
  expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: '' });
});

/**
 * The first `locals` block of terraform/main.tf — the rules per engine and login (flags, version, the IAM database
 * user) — evaluated by the real Terraform CLI (`terraform console`: no provider, offline), in a scratch module that
 * declares the variables it reads and has the service account's email as a variable.
 */
function evaluateEngineLocals(vars: Record<string, string | number>, email: string): any {
  const main = fs.readFileSync(path.join(MODULE_DIR, 'main.tf'), 'utf8');
  const locals = /^locals \{\n[\s\S]*?\n\}\n/m.exec(main)![0].replaceAll('google_service_account.mlflow.email', 'var.service_account_email');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'terraform-console-'));
  sandboxes.push(dir);
  const declared = ['environment', 'labels', 'database_engine', 'database_login', 'database_version', 'max_connections', 'service_account_email'];
  fs.writeFileSync(
    path.join(dir, 'main.tf'),
    declared.map((v) => `variable "${v}" {\n  default = null\n}\n`).join('') + locals,
  );
  const args = Object.entries({ environment: 'dev', labels: '{}', service_account_email: email, ...vars }).flatMap(([k, v]) => ['-var', `${k}=${v}`]);
  const r = spawnSync(TERRAFORM!, ['console', ...args], {
    cwd: dir,
    input: 'jsonencode({ flags = local.database_flags, version = local.database_version, users = local.iam_database_users, user = local.iam_database_user })\n',
    encoding: 'utf8',
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`terraform console failed (${r.status}): ${r.stderr}`);
  // The value is the last line (CLI-configuration warnings may come first).
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(JSON.parse(last));
}

(TERRAFORM ? describe : describe.skip)(`the engine and login rules, evaluated by terraform console (${TERRAFORM ?? 'no terraform CLI on PATH: skipped'})`, () => {
  const EMAIL = 'mlflow-server@example-mlflow-dev.iam.gserviceaccount.com';
  const MAX = { name: 'max_connections', value: '400' };
  test.each([
    ['mysql', 'password', 'MYSQL_8_0', [{ name: 'log_bin_trust_function_creators', value: 'on' }, MAX]],
    ['mysql', 'iam', 'MYSQL_8_0', [{ name: 'log_bin_trust_function_creators', value: 'on' }, MAX, { name: 'cloudsql_iam_authentication', value: 'on' }]],
    ['postgres', 'password', 'POSTGRES_16', [MAX]],
    ['postgres', 'iam', 'POSTGRES_16', [MAX, { name: 'cloudsql.iam_authentication', value: 'on' }]],
  ])('%s, %s login: version %s and exactly these flags', (engine, login, version, flags) => {
    const got = evaluateEngineLocals({ database_engine: engine, database_login: login, max_connections: 400 }, EMAIL);
    expect(got.version).toBe(version);
    expect(got.flags).toEqual(flags);
  });

  test("an explicit database_version is kept", () => {
    expect(evaluateEngineLocals({ database_engine: 'mysql', database_login: 'password', max_connections: 400, database_version: 'MYSQL_8_4' }, EMAIL).version).toBe('MYSQL_8_4');
  });

  test.each([
    [EMAIL, 'mlflow-server', 'mlflow-server@example-mlflow-dev.iam'],
    // PostgreSQL's longest: 28 + 1 + 30 + 4 = 63 characters.
    ['abcdefghijklmnopqrstuvwxyz01@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com', 'abcdefghijklmnopqrstuvwxyz01', 'abcdefghijklmnopqrstuvwxyz01@abcdefghijklmnopqrstuvwxyz0123.iam'],
  ])("the IAM database user of %s: the module's rule gives the manifests' name (iamDatabaseUser), per engine", (email, mysqlUser, postgresUser) => {
    const got = evaluateEngineLocals({ database_engine: 'mysql', database_login: 'iam', max_connections: 400 }, email);
    expect(got.users).toEqual({ mysql: mysqlUser, postgres: postgresUser });
    expect(got.user).toBe(mysqlUser);
    expect(got.users.mysql).toBe(iamDatabaseUser(email, 'mysql'));
    expect(got.users.postgres).toBe(iamDatabaseUser(email, 'postgres'));
    expect(evaluateEngineLocals({ database_engine: 'postgres', database_login: 'iam', max_connections: 400 }, email).user).toBe(postgresUser);
  });
});

describe('no output exposes a secret value', () => {
  test('no output of the module or of an example reaches a generated password or a secret version', () => {
    expect(secretExposures(mod)).toEqual([]);
    for (const env of ENVIRONMENTS) expect(secretExposures(examples[env])).toEqual([]);
  });

  test('an output of a generated password, directly or through a local, is caught', async () => {
    const direct = await mutatedModule('outputs.tf', (t) =>
      t.replace('tostring(try(google_secret_manager_secret.mlflow["db_password"].secret_id, null))', 'random_password.generated["db_password"].result'),
    );
    expect(secretExposures(direct)).toEqual([
      expect.stringMatching(/^terraform-module-\w+\/outputs\.tf: output 'database_password_secret_id' exposes secret material \(random_password\.\): output the secret id instead$/),
    ]);
    const viaLocal = await mutatedModule('outputs.tf', (t) =>
      t.replace('tostring(google_secret_manager_secret.mlflow["admin_password"].secret_id)', 'local.admin_password_value') +
      '\nlocals {\n  admin_password_value = local.secret_values["admin_password"]\n}\n',
    );
    expect(secretExposures(viaLocal)).toEqual([expect.stringContaining("output 'admin_password_secret_id' exposes secret material (local.secret_values)")]);
  });

  test('generated passwords are alphanumeric and go only into the SQL user and Secret Manager', () => {
    const generated = resource(mod, 'random_password', 'generated');
    expect(generated.special).toBe(false);
    // Lengths: at least 16 alphanumeric characters (≈ 95 bits) each; the database password with password login only.
    expect(generated.for_each).toBe('${local.password_lengths}');
    const lengths = (login?: string) => new Evaluator(mod, login ? { database_login: login } : {}).value(mod.locals.password_lengths);
    expect(lengths()).toEqual({ db_password: 32, flask_secret_key: 64, admin_password: 32, metrics_password: 32, smoke_password: 32 });
    expect(lengths('password')).toEqual(lengths());
    expect(lengths('iam')).toEqual({ flask_secret_key: 64, admin_password: 32, metrics_password: 32, smoke_password: 32 });
    // The clients' and served models' passwords: one each, the same kind.
    expect(mod.resources.random_password).toEqual({
      generated: generated,
      client: { for_each: '${var.clients}', length: 32, special: false },
      serving: { for_each: '${toset(var.serving)}', length: 32, special: false },
    });

    const uses = (pattern: RegExp) => [...moduleStrings(mod)].filter((s) => pattern.test(s.text)).map((s) => s.at);
    expect(uses(/random_password\./).sort()).toEqual([
      'local.secret_values.admin_password',
      'local.secret_values.db_password',
      'local.secret_values.flask_secret_key',
      'local.secret_values.metrics_password',
      'local.secret_values.smoke_password',
      'resource.google_secret_manager_secret_version.client.secret_data',
      'resource.google_secret_manager_secret_version.serving.secret_data',
      'resource.google_sql_user.mlflow.password',
    ]);
    expect(uses(/local\.secret_values\b/)).toEqual(['resource.google_secret_manager_secret_version.mlflow.secret_data']);
  });

  test('every secret has a version, and holds the value its id says', () => {
    const secrets = resource(mod, 'google_secret_manager_secret', 'mlflow');
    const versions = resource(mod, 'google_secret_manager_secret_version', 'mlflow');
    expect(secrets.for_each).toBe('${local.secret_ids}');
    expect(versions.for_each).toBe('${local.secret_ids}');
    const ids = (login: string) => new Evaluator(mod, { environment: 'dev', database_login: login }).value(mod.locals.secret_ids);
    expect(Object.keys(mod.locals.secret_values as Body).sort()).toEqual(Object.keys(ids('password') as Body).sort());
    expect(mod.locals.secret_values).toEqual({
      // null with IAM login (no built-in user, no generated database password): those secrets do not exist then.
      db_user: '${one(google_sql_user.mlflow[*].name)}',
      db_password: '${try(random_password.generated["db_password"].result, null)}',
      flask_secret_key: '${random_password.generated["flask_secret_key"].result}',
      admin_username: '${var.admin_username}',
      admin_password: '${random_password.generated["admin_password"].result}',
      metrics_password: '${random_password.generated["metrics_password"].result}',
      smoke_password: '${random_password.generated["smoke_password"].result}',
    });
    // The ids config/<env>.yaml names (each one granted to the GSA by the per-secret secretAccessor below).
    expect(ids('password')).toEqual({
      db_user: 'mlflow-dev-db-user',
      db_password: 'mlflow-dev-db-password',
      flask_secret_key: 'mlflow-dev-flask-secret-key',
      admin_username: 'mlflow-dev-admin-username',
      admin_password: 'mlflow-dev-admin-password',
      metrics_password: 'mlflow-dev-metrics-password',
      smoke_password: 'mlflow-dev-smoke-password',
    });
    // IAM login: no database user or password secret.
    expect(ids('iam')).toEqual({
      flask_secret_key: 'mlflow-dev-flask-secret-key',
      admin_username: 'mlflow-dev-admin-username',
      admin_password: 'mlflow-dev-admin-password',
      metrics_password: 'mlflow-dev-metrics-password',
      smoke_password: 'mlflow-dev-smoke-password',
    });
  });
});

describe('security properties of the key resources', () => {
  test('Cloud SQL: deletion protection (Terraform and API), private IP only, TLS with client certificates, backups with point-in-time recovery, the flags of local.database_flags', () => {
    const instance = resource(mod, 'google_sql_database_instance', 'mlflow');
    expect(instance.deletion_protection).toBe(true);
    const settings = block(instance, 'settings');
    expect(settings.deletion_protection_enabled).toBe(true);
    expect(block(settings, 'ip_configuration')).toEqual({ ipv4_enabled: false, private_network: '${var.network_id}', ssl_mode: 'TRUSTED_CLIENT_CERTIFICATE_REQUIRED' });
    // MySQL: binary logs; PostgreSQL: point-in-time recovery from its write-ahead logs (the MySQL argument unset).
    expect(block(settings, 'backup_configuration')).toMatchObject({
      enabled: true,
      binary_log_enabled: '${local.mysql ? true : null}',
      point_in_time_recovery_enabled: '${local.mysql ? null : true}',
    });
    // Every flag comes from local.database_flags (its values per engine and login: the terraform console test below).
    expect(settings.database_flags).toBeUndefined();
    expect(settings.dynamic.database_flags).toEqual([
      { for_each: '${local.database_flags}', content: [{ name: '${database_flags.value.name}', value: '${database_flags.value.value}' }] },
    ]);
    expect(mod.outputs.get('cloudsql_max_connections')!.body.value).toBe('${tonumber(var.max_connections)}');
    expect(instance.database_version).toBe('${local.database_version}');
    expect(mod.variables.database_version.default).toBeNull();
    expect(mod.variables.database_engine.default).toBe('mysql');
    expect(mod.variables.database_login.default).toBe('password');
    expect(block(block(instance, 'lifecycle'), 'precondition').condition).toBe('${startswith(local.database_version, local.mysql ? "MYSQL_" : "POSTGRES_")}');
  });

  test('the database user by login: a built-in user with the generated password, or the service account as an IAM user', () => {
    expect(resource(mod, 'google_sql_user', 'mlflow')).toMatchObject({
      count: '${local.password_login ? 1 : 0}',
      host: '${local.mysql ? "%" : null}',
      password: '${random_password.generated["db_password"].result}',
    });
    expect(resource(mod, 'google_sql_user', 'mlflow_iam')).toEqual({
      count: '${local.iam_login ? 1 : 0}',
      project: '${var.project_id}',
      instance: '${google_sql_database_instance.mlflow.name}',
      // MySQL: the full email (Cloud SQL keeps the part before '@'); PostgreSQL: local.iam_database_user.
      name: '${local.mysql ? google_service_account.mlflow.email : local.iam_database_user}',
      type: 'CLOUD_IAM_SERVICE_ACCOUNT',
      database_roles: ['cloudsqlsuperuser'],
      lifecycle: [
        {
          precondition: [
            {
              condition: '${length(local.iam_database_user) <= (local.mysql ? 32 : 63)}',
              error_message:
                'The IAM database user ${local.iam_database_user} is longer than ${var.database_engine} accepts (32 characters on MySQL, 63 on PostgreSQL): choose a shorter service_account_id.',
            },
          ],
        },
      ],
    });
    expect(mod.locals.iam_database_users).toEqual({
      mysql: '${split("@", google_service_account.mlflow.email)[0]}',
      postgres: '${trimsuffix(google_service_account.mlflow.email, ".gserviceaccount.com")}',
    });
  });

  test('bucket: uniform access, public access prevention enforced, versioning, noncurrent versions expire', () => {
    const bucket = resource(mod, 'google_storage_bucket', 'artifacts');
    expect(bucket).toMatchObject({ uniform_bucket_level_access: true, public_access_prevention: 'enforced', force_destroy: false });
    expect(block(bucket, 'versioning')).toEqual({ enabled: true });
    const rules = (bucket.lifecycle_rule as Body[]).map((r) => ({ condition: block(r, 'condition'), action: block(r, 'action') }));
    expect(rules).toEqual([
      { condition: { days_since_noncurrent_time: '${var.noncurrent_version_retention_days}', with_state: 'ARCHIVED' }, action: { type: 'Delete' } },
      { condition: { num_newer_versions: '${var.noncurrent_versions_kept}', with_state: 'ARCHIVED' }, action: { type: 'Delete' } },
    ]);
  });

  test('IAM: nothing public, cloudsql.client (and with IAM login cloudsql.instanceUser) the only project roles, object access on the bucket only, secretAccessor per secret', () => {
    expect([...moduleStrings(mod)].filter((s) => /allUsers|allAuthenticatedUsers/.test(s.text))).toEqual([]);
    const types = Object.keys(mod.resources).filter((t) => /_iam_/.test(t)).sort();
    // *_iam_member only: a *_iam_binding or *_iam_policy would replace grants made outside this module.
    expect(types).toEqual([
      'google_project_iam_member',
      'google_secret_manager_secret_iam_member',
      'google_service_account_iam_member',
      'google_storage_bucket_iam_member',
    ]);
    const gsa = 'serviceAccount:${google_service_account.mlflow.email}';
    expect(mod.resources.google_project_iam_member).toEqual({
      mlflow_cloudsql_client: { project: '${var.project_id}', role: 'roles/cloudsql.client', member: gsa },
      // IAM database login only: cloudsql.instances.login.
      mlflow_cloudsql_instance_user: { count: '${local.iam_login ? 1 : 0}', project: '${var.project_id}', role: 'roles/cloudsql.instanceUser', member: gsa },
    });
    expect(mod.resources.google_storage_bucket_iam_member).toEqual({
      mlflow_artifacts: { bucket: '${google_storage_bucket.artifacts.name}', role: 'roles/storage.objectUser', member: gsa },
    });
    const perSecret = (secrets: string) => ({ for_each: `\${${secrets}}`, project: '${var.project_id}', secret_id: '${each.value.secret_id}', role: 'roles/secretmanager.secretAccessor', member: gsa });
    expect(mod.resources.google_secret_manager_secret_iam_member).toEqual({
      mlflow: perSecret('google_secret_manager_secret.mlflow'),
      // The migration Job creates the clients' and served models' users with these passwords.
      mlflow_client: perSecret('google_secret_manager_secret.client'),
      mlflow_serving: perSecret('google_secret_manager_secret.serving'),
      // A client's own service account: its one secret, nothing else.
      client: {
        for_each: '${var.clients}',
        project: '${var.project_id}',
        secret_id: '${google_secret_manager_secret.client[each.key].secret_id}',
        role: 'roles/secretmanager.secretAccessor',
        member: 'serviceAccount:${google_service_account.client[each.key].email}',
      },
    });
    // No key for any service account: Workload Identity only.
    expect(Object.keys(mod.resources)).not.toContain('google_service_account_key');
  });

  test('Workload Identity: the member is the Kubernetes service account the MLflow pods run as', () => {
    expect(mod.resources.google_service_account_iam_member).toEqual({
      mlflow_workload_identity: {
        service_account_id: '${google_service_account.mlflow.name}',
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:${var.project_id}.svc.id.goog[${var.namespace}/${var.kubernetes_service_account}]',
      },
      client_workload_identity: {
        for_each: '${var.clients}',
        service_account_id: '${google_service_account.client[each.key].name}',
        role: 'roles/iam.workloadIdentityUser',
        member: 'serviceAccount:${var.project_id}.svc.id.goog[${each.value.namespace}/${local.name}-${each.key}]',
      },
    });
    for (const env of ENVIRONMENTS) {
      const config = shippedConfig(env);
      const server = find(render(config).byPath.mlflow, 'Deployment', 'mlflow');
      const ex = examples[env].modules.mlflow;
      expect({ env, namespace: ex.namespace ?? mod.variables.namespace.default, ksa: ex.kubernetes_service_account ?? mod.variables.kubernetes_service_account.default }).toEqual({
        env,
        namespace: config.namespace,
        ksa: server.spec.template.spec.serviceAccountName,
      });
    }
  });
});

test("Workload Identity of each client of examples/dev: the Kubernetes service account synth renders in the client's namespace", () => {
  const ex = examples.dev.modules.mlflow;
  const ev = new Evaluator(mod, Object.fromEntries(Object.entries(ex).filter(([k]) => k !== 'source')));
  const binding = resource(mod, 'google_service_account_iam_member', 'client_workload_identity');
  const config = shippedConfig('dev');
  expect(Object.keys(ex.clients).sort()).toEqual(config.clients.map((c) => c.name).sort());
  for (const client of config.clients) {
    const member = ev.value(binding.member, { key: client.name, value: ex.clients[client.name] });
    const ksa = find(render(config).byPath[`clients/mlflow/${client.name}`], 'ServiceAccount', clientObjectName(config.name, client.name));
    expect(member).toBe(`serviceAccount:example-mlflow-dev.svc.id.goog[${ksa.metadata.namespace}/${ksa.metadata.name}]`);
    expect(ksa.metadata.namespace).toBe(client.namespace);
  }
  // And the served models are the config's.
  expect(ex.serving).toEqual(config.serving.map((s) => s.name));
});

describe('the outputs go through import-terraform into a valid config', () => {
  test('outputs shaped like `terraform output -json`, built from the parsed outputs with sample values, import into config/dev.yaml and validate', () => {
    const configText = fs.readFileSync(path.join(CONFIG_DIR, 'dev.yaml'), 'utf8');
    const samples: Record<string, string | number> = {
      project_id: 'acme-ml-dev',
      region: 'us-central1',
      mlflow_service_account_email: 'mlflow-server@acme-ml-dev.iam.gserviceaccount.com',
      cloudsql_instance_connection_name: 'acme-ml-dev:us-central1:mlflow-dev',
      database_name: 'mlflow_tracking',
      database_engine: 'mysql',
      database_login: 'password',
      cloudsql_max_connections: 900,
      artifact_bucket: 'acme-ml-dev-artifacts',
    };
    // The maps, keyed by dev's clients and served model.
    const maps: Record<string, Record<string, string>> = {
      client_password_secret_ids: { 'iris-trainer': 'acme-trainer-password', 'iris-predictor': 'acme-predictor-password' },
      client_service_account_emails: { 'iris-trainer': 'trainer@acme-ml-dev.iam.gserviceaccount.com', 'iris-predictor': 'predictor@acme-ml-dev.iam.gserviceaccount.com' },
      serving_password_secret_ids: { iris: 'acme-iris-password' },
    };
    const outputs: Record<string, TerraformOutput> = {};
    for (const [name, { body }] of mod.outputs) {
      const type = statedType(body)!;
      if (type === 'map') outputs[name] = { sensitive: body.sensitive, type: ['map', 'string'], value: maps[name] };
      else outputs[name] = { sensitive: body.sensitive, type, value: samples[name] ?? `acme-${name.replace(/_secret_id$/, '').replace(/_/g, '-')}` };
    }
    const result = importTerraformOutputs({ configFile: 'config/dev.yaml', configText, outputsSource: 'outputs.json', outputs });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    // The engine is dev's already, and login 'password' is what the absent field means: neither is a change.
    const { database_engine: _engine, database_login: _login, ...changed } = samples;
    expect(result.changes.filter((c) => /^(clients|serving)\./.test(c.path)).map((c) => `${c.path} ${c.to}`)).toEqual([
      'clients.0.passwordSecret acme-trainer-password',
      'clients.1.passwordSecret acme-predictor-password',
      'clients.0.serviceAccountEmail trainer@acme-ml-dev.iam.gserviceaccount.com',
      'clients.1.serviceAccountEmail predictor@acme-ml-dev.iam.gserviceaccount.com',
      'serving.0.passwordSecret acme-iris-password',
    ]);
    expect(Object.fromEntries(result.changes.filter((c) => !/^(clients|serving)\./.test(c.path)).map((c) => [c.output, c.to]))).toEqual({
      ...changed,
      database_user_secret_id: 'acme-database-user',
      database_password_secret_id: 'acme-database-password',
      flask_secret_key_secret_id: 'acme-flask-secret-key',
      admin_username_secret_id: 'acme-admin-username',
      admin_password_secret_id: 'acme-admin-password',
      metrics_password_secret_id: 'acme-metrics-password',
      smoke_password_secret_id: 'acme-smoke-password',
    });
    const reparsed = parseEnvironmentText('config/dev.yaml', result.text);
    expect(reparsed.problems).toEqual([]);
    const database = reparsed.environment!.servers[0].database;
    expect(database.engine === 'mysql' && database.maxConnections).toBe(900);
  });

  test.each(ENVIRONMENTS)('examples/%s: its outputs, as GCP computes them, are exactly what its config file holds', (env) => {
    const outputs = exampleOutputs(examples[env], mod);
    expect(Object.keys(outputs).sort()).toEqual(CONTRACT.map((r) => r.output).sort());
    const configText = fs.readFileSync(path.join(CONFIG_DIR, `${env}.yaml`), 'utf8');
    const result = importTerraformOutputs({ configFile: `config/${env}.yaml`, configText, outputsSource: `examples/${env}`, outputs });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    // On failure: the example's module arguments and config/<env>.yaml disagree on the listed fields.
    expect(result.changes).toEqual([]);
    expect(result.checked).toBe(CONTRACT.length);
  });

  test('examples/dev with database_login = "iam": the database secret ids are null and not read; the IAM variant of config/dev.yaml is up to date, the shipped one is refused', () => {
    const ex = examples.dev;
    const iam: Module = { ...ex, modules: { mlflow: { ...ex.modules.mlflow, database_login: 'iam' } } };
    const outputs = exampleOutputs(iam, mod);
    expect(outputs.database_login).toEqual({ sensitive: false, type: 'string', value: 'iam' });
    expect(outputs.database_user_secret_id).toEqual({ sensitive: false, type: 'string', value: null });
    expect(outputs.database_password_secret_id).toEqual({ sensitive: false, type: 'string', value: null });
    const shippedText = fs.readFileSync(path.join(CONFIG_DIR, 'dev.yaml'), 'utf8');
    const iamText = shippedText
      .replace('  userSecret: mlflow-dev-db-user # (terraform)\n', '')
      .replace('  passwordSecret: mlflow-dev-db-password # (terraform)\n', '')
      .replace('  engine: mysql # (terraform)\n', '  engine: mysql # (terraform)\n  login: iam # (terraform)\n');
    const result = importTerraformOutputs({ configFile: 'config/dev.yaml', configText: iamText, outputsSource: 'examples/dev', outputs });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.changes).toEqual([]);
    expect(result.checked).toBe(CONTRACT.length - 2);
    const refused = importTerraformOutputs({ configFile: 'config/dev.yaml', configText: shippedText, outputsSource: 'examples/dev', outputs });
    const message = "not used with database.login 'iam' (the proxy logs in as the service account, with no password): remove it";
    expect(refused).toEqual({ ok: false, problems: [`config/dev.yaml: database.userSecret: ${message}`, `config/dev.yaml: database.passwordSecret: ${message}`] });
  });

  test('an example whose max_connections differs from its config file is caught, field by field', () => {
    const ex = examples.prod;
    const drifted: Module = { ...ex, modules: { mlflow: { ...ex.modules.mlflow, max_connections: 800, region: 'europe-west4' } } };
    const configText = fs.readFileSync(path.join(CONFIG_DIR, 'prod.yaml'), 'utf8');
    const result = importTerraformOutputs({ configFile: 'config/prod.yaml', configText, outputsSource: 'examples/prod', outputs: exampleOutputs(drifted, mod) });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    expect(result.changes.map((c) => `${c.path}: ${c.from} → ${c.to}`)).toEqual([
      'gcp.region: europe-west1 → europe-west4',
      'database.instanceConnectionName: example-mlflow-prod:europe-west1:mlflow-prod → example-mlflow-prod:europe-west4:mlflow-prod',
      'database.maxConnections: 1000 → 800',
    ]);
  });
});
