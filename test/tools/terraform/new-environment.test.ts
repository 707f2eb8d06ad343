/**
 * `npm run import-terraform` starting a new environment (`--from <env> --host <name>`): the file is created from
 * an existing environment's, every field of the Terraform contract from the outputs (none keeps the source's
 * value), the host given, and the result synthesizes beside the environment it came from.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadEnvironmentFile, parseConfigDocument } from '../../../lib/config/config';
import { TERRAFORM_CONTRACT, TERRAFORM_LIST_CONTRACT, type TerraformOutput } from '../../../tools/terraform/contract';
import { run as synth } from '../../../main';
import { run } from '../../../scripts/import-terraform';
import { ROOT } from '../../../tools/environments';

const SAMPLE = path.join(ROOT, 'test', 'fixtures', 'terraform-output.json');
/** The sample outputs (written for dev) as a new environment's Terraform would print them. */
const stagingOutputs = (): Record<string, TerraformOutput> => {
  const outputs = JSON.parse(fs.readFileSync(SAMPLE, 'utf8').replace(/dev/g, 'staging'));
  // A new environment starts without clients or served models: its module lists none yet.
  for (const row of TERRAFORM_LIST_CONTRACT) outputs[row.output] = { sensitive: false, type: ['map', 'string'], value: {} };
  return outputs;
};

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A scratch repository: the shipped config/ and an outputs file. */
function repository(outputs = stagingOutputs()) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-new-'));
  scratch.push(root);
  const configDir = path.join(root, 'config');
  fs.cpSync(path.join(ROOT, 'config'), configDir, { recursive: true });
  const outputsFile = path.join(root, 'outputs.json');
  fs.writeFileSync(outputsFile, JSON.stringify(outputs));
  return { root, configDir, outputsFile, staging: path.join(configDir, 'staging.yaml') };
}

function importTerraform(args: readonly string[]) {
  let stdout = '';
  let stderr = '';
  const code = run(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

const HOST = 'mlflow.staging.example.com';

test('without --from, a missing file says how to start the environment', () => {
  const r = repository();
  const result = importTerraform(['--env', 'staging', '--outputs', r.outputsFile, '--config-dir', r.configDir]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    `${r.staging} does not exist (environments there: dev, local, prod); to start environment 'staging', add --from <an environment to copy> --host <its public host>\n`,
  );
});

describe('--from dev --host <name>', () => {
  const r = repository();
  let result: ReturnType<typeof importTerraform>;
  beforeAll(() => {
    result = importTerraform(['--env', 'staging', '--outputs', r.outputsFile, '--config-dir', r.configDir, '--from', 'dev', '--host', HOST]);
  });

  test('creates config/staging.yaml: exit 0, each field from the outputs listed', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')[0]).toBe(`${r.staging}: created from ${path.join(r.configDir, 'dev.yaml')}, 14 fields from ${r.outputsFile}:`);
    expect(result.stdout).toContain('  database.instanceConnectionName: acme-ml-staging:europe-west1:mlflow-staging\n');
    expect(result.stdout.endsWith('note: review the values Terraform does not set (copied: image, sizes, exposure, auth users, gitops), then run npm run synth\n')).toBe(true);
  });

  test('a valid environment: every contract field the outputs\' value, the host given, the rest copied from dev', () => {
    const loaded = loadEnvironmentFile(r.staging);
    expect(loaded.problems).toEqual([]);
    // The documents as written (the contract's fields are the file's, before defaults are applied).
    const documentOf = (file: string) => parseConfigDocument(file, fs.readFileSync(file, 'utf8')).doc as Record<string, Record<string, unknown>>;
    const staging = documentOf(r.staging);
    const dev = documentOf(path.join(r.configDir, 'dev.yaml'));
    const outputs = stagingOutputs();
    for (const row of TERRAFORM_CONTRACT) {
      if (!Object.hasOwn(outputs, row.output)) continue;
      // An output equal to the field's default (database.login: password) leaves the field absent.
      const value = staging[row.path[0]][row.path[1]] ?? (row.type === 'string' ? row.absentMeans : undefined);
      expect([row.output, value]).toEqual([row.output, outputs[row.output].value]);
    }
    expect(staging.exposure.hosts).toEqual([HOST]);
    expect(staging.image).toEqual(dev.image);
    expect(staging.server).toEqual(dev.server);
    expect(staging.gitops).toEqual(dev.gitops);
    // Nothing of dev's Terraform side (its project, database, bucket, secrets) is left.
    expect(fs.readFileSync(r.staging, 'utf8')).not.toMatch(/example-mlflow-dev|mlflow-dev-/);
    expect(fs.readFileSync(r.staging, 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\.\/schemas\/config\.schema\.json\n# Environment 'staging' on GKE, started from .*dev\.yaml by npm run import-terraform\.\n/);
  });

  test('it synthesizes beside dev: no shared host, database or artifact location', () => {
    const out = { stdout: '', stderr: '' };
    const code = synth([], { stdout: { write: (t: string) => (out.stdout += t) }, stderr: { write: (t: string) => (out.stderr += t) } }, r.root);
    expect(out.stderr).toBe('');
    expect(code).toBe(0);
    expect(out.stdout).toMatch(/^synthesized dev, local, prod, staging → /);
  });
});

describe('refused', () => {
  test('--from when the environment exists already: exit 1, the file untouched', () => {
    const r = repository();
    const prod = path.join(r.configDir, 'prod.yaml');
    const before = fs.readFileSync(prod, 'utf8');
    const result = importTerraform(['--env', 'prod', '--outputs', r.outputsFile, '--config-dir', r.configDir, '--from', 'dev', '--host', HOST]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${prod} exists already: --from starts a new environment; leave --from and --host out to update this one`);
    expect(fs.readFileSync(prod, 'utf8')).toBe(before);
  });

  test('an output missing: exit 1, no file created', () => {
    const outputs = stagingOutputs();
    delete outputs.database_user_secret_id;
    const r = repository(outputs);
    const result = importTerraform(['--env', 'staging', '--outputs', r.outputsFile, '--config-dir', r.configDir, '--from', 'dev', '--host', HOST]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${r.outputsFile}: missing output 'database_user_secret_id'`);
    expect(fs.existsSync(r.staging)).toBe(false);
  });

  test.each([
    ['the file to update', 'dev', []],
    ['the file --from copies', 'staging', ['--from', 'dev', '--host', HOST]],
  ])('an alias bomb in %s: exit 1 with the problem, no stack trace, nothing written', (_, env, extra) => {
    const r = repository();
    const dev = path.join(r.configDir, 'dev.yaml');
    const levels = ['    - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) levels.push(`    - &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
    fs.writeFileSync(dev, fs.readFileSync(dev, 'utf8').replace('  hosts: [mlflow.dev.example.com]\n', `  hosts:\n${levels.join('\n')}\n`));
    const before = fs.readFileSync(dev, 'utf8');
    const result = importTerraform(['--env', env, '--outputs', r.outputsFile, '--config-dir', r.configDir, ...extra]);
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'import-terraform refused (1 problem); nothing was written:\n' +
        `  ${dev}: the document expands to more than 10000 values (each YAML alias counts as a copy of what it refers to); ` +
        'a config has a few hundred: write the values out, or use fewer aliases\n',
    });
    expect(fs.readFileSync(dev, 'utf8')).toBe(before);
    expect(fs.existsSync(r.staging)).toBe(false);
  });

  test('--from without --host: a usage error, exit 2', () => {
    const r = repository();
    const result = importTerraform(['--env', 'staging', '--outputs', r.outputsFile, '--config-dir', r.configDir, '--from', 'dev']);
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith('import-terraform: --from and --host go together (a new environment needs its own public host)\n\nUsage:')).toBe(true);
  });

  test('--from an environment serving no host', () => {
    const r = repository();
    const result = importTerraform(['--env', 'staging', '--outputs', r.outputsFile, '--config-dir', r.configDir, '--from', 'local', '--host', HOST]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(r.configDir, 'local.yaml')} has no exposure.hosts (its exposure.mode serves no host): start from an environment that serves one`);
  });
});
