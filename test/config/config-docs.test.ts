/**
 * The generated config reference and JSON Schema (`npm run docs:config`): committed as generated, shipped configs
 * valid against the JSON Schema, and the JSON Schema agreeing with the loader on valid and invalid files of both
 * shapes, except for the rules docs/config.md names as the loader's alone.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import * as yaml from 'js-yaml';
import { configFilesIn, formatProblem, validateEnvironment, ConfigError } from '../../lib/config/config';
import { loadRepositoryEnvironments } from '../../lib/config/environment-files';
import { generatedFiles } from '../../scripts/config-docs';
import { CONFIG_DIR, rawConfig, ROOT, RUN_TS } from '../../tools/environments';

const SCHEMA_FILE = path.join(ROOT, 'schemas', 'config.schema.json');
const TEAMS = path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml');

const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);
const validateJson = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));

const teams = (): Record<string, any> => yaml.load(fs.readFileSync(TEAMS, 'utf8')) as Record<string, any>;

function variant<T>(doc: T, mutate: (doc: any) => void): T {
  mutate(doc);
  return doc;
}

/** Whether the JSON Schema accepts `doc`, and whether the loader (zod and the guards) does, as `config/<env>.yaml`. */
function verdicts(doc: unknown, file = 'config/check.yaml') {
  return { jsonSchema: validateJson(doc) as boolean, loader: validateEnvironment(file, doc).problems.map(formatProblem) };
}

describe('the generated files', () => {
  test.each(Object.keys(generatedFiles()))('%s is as npm run docs:config writes it', (file) => {
    const committed = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const fresh = generatedFiles()[file];
    if (committed !== fresh) throw new Error(`${file} differs from a fresh generation: run npm run docs:config and commit the result`);
  });

  test('npm run docs:config refuses an argument with exit code 2, writing nothing', () => {
    const r = spawnSync(process.execPath, [...RUN_TS, path.join(ROOT, 'scripts', 'config-docs.ts'), 'docs/other.md'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^docs:config: takes no arguments\n\nUsage: npm run docs:config\n/);
  });

  test('the reference lists every field of both shapes with its default, range and description', () => {
    const reference = generatedFiles()['docs/config.md'];
    expect(reference).toContain('| `auth.credentialCacheTtlSeconds` | `enabled: true` | integer | no | `60` | 0 to 600 | Seconds each server worker caches');
    expect(reference).toContain("| `database.login` | `engine: \"mysql\"` or `engine: \"postgres\"` | string | no | `password` | `password`, `iam` |");
    expect(reference).toContain('| `exposure.className` | `mode: "gateway"` | string | no | `gke-l7-global-external-managed` |');
    expect(reference).toContain('| `gc.olderThanDays` |  | integer | no | `30` | 1 to 3650 |');
    expect(reference).toContain('| `instances` |  | list of object | yes |  | at least 1 item |');
    expect(reference).toContain('| `instances[].name` |  | string | yes |  | pattern');
    expect(reference).toContain("| `instances[].gitops` |  | not allowed | no |  |  | Not allowed in an instance");
  });
});

describe('the shipped configs', () => {
  test.each(configFilesIn(CONFIG_DIR).map((f) => path.basename(f)))('%s names the JSON Schema on its first line and is valid against it', (name) => {
    const text = fs.readFileSync(path.join(CONFIG_DIR, name), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/config.schema.json');
    // The modeline is relative to the file: config/ → schemas/.
    expect(fs.existsSync(path.resolve(CONFIG_DIR, '../schemas/config.schema.json'))).toBe(true);
    expect(validateJson(yaml.load(text))).toBe(true);
  });
});

describe('the JSON Schema and the loader agree', () => {
  const valid: Array<[string, () => unknown]> = [
    ['local', () => rawConfig('local')],
    ['dev', () => rawConfig('dev')],
    ['prod', () => rawConfig('prod')],
    ['instances: two servers', teams],
    ['postgres with IAM login', () => variant(rawConfig('dev'), (d) => { d.database.engine = 'postgres'; d.database.login = 'iam'; delete d.database.userSecret; delete d.database.passwordSecret; })],
    ['gc with its defaults', () => variant(rawConfig('dev'), (d) => { d.gc = { schedule: '17 3 * * *' }; })],
  ];
  test.each(valid)('both accept %s', (_name, doc) => {
    expect(verdicts(doc())).toEqual({ jsonSchema: true, loader: [] });
  });

  const invalid: Array<[string, () => unknown]> = [
    ['an unknown field', () => variant(rawConfig('local'), (d) => { d.replicas = 2; })],
    ['a missing section', () => variant(rawConfig('local'), (d) => { delete d.auth; })],
    ['a value outside its set', () => variant(rawConfig('local'), (d) => { d.metrics = 'grafana'; })],
    ['a number out of range', () => variant(rawConfig('local'), (d) => { d.server.workers = 0; })],
    ['a pattern mismatch', () => variant(rawConfig('local'), (d) => { d.image.repository = 'ghcr.io/mlflow/mlflow:latest'; })],
    ['an unknown variant', () => variant(rawConfig('local'), (d) => { d.database = { engine: 'oracle' }; })],
    ['a field of another variant', () => variant(rawConfig('local'), (d) => { d.database.login = 'password'; })],
    ['instances: a namespace at the top level', () => variant(teams(), (d) => { d.namespace = 'mlflow'; })],
    ['instances: gitops in an instance', () => variant(teams(), (d) => { d.instances[0].gitops = d.gitops; })],
    ['instances: an empty list', () => variant(teams(), (d) => { d.instances = []; })],
    ['instances: an instance without a name', () => variant(teams(), (d) => { delete d.instances[0].name; })],
  ];
  test.each(invalid)('both refuse %s', (_name, doc) => {
    const v = verdicts(doc());
    expect(v.jsonSchema).toBe(false);
    expect(v.loader).not.toEqual([]);
  });

  // The rules of docs/config.md's list (RULES_ONLY_ZOD): the JSON Schema cannot state them.
  const loaderOnly: Array<[string, () => unknown, string]> = [
    ['across fields: autoscaling with SQLite', () => variant(rawConfig('local'), (d) => { d.server.autoscaling = { minReplicas: 1, maxReplicas: 2, targetCpuUtilizationPercent: 70 }; }), 'server.autoscaling: must be omitted with SQLite'],
    ['across fields: gc with SQLite', () => variant(rawConfig('local'), (d) => { d.gc = { schedule: '17 3 * * *' }; }), 'gc: needs a database server'],
    ['across fields: Cloud SQL without gcp', () => variant(rawConfig('dev'), (d) => { delete d.gcp; }), "needs the 'gcp' section"],
    ['limits below the requests', () => variant(rawConfig('local'), (d) => { d.server.resources.limits.memory = '256Mi'; }), 'expected limits.memory (256Mi) ≥ requests.memory (512Mi)'],
    ['minReplicas above maxReplicas', () => variant(rawConfig('dev'), (d) => { d.server.autoscaling.minReplicas = 3; d.server.autoscaling.maxReplicas = 2; }), 'expected minReplicas (3) ≤ maxReplicas (2)'],
    ["image.tag 'latest'", () => variant(rawConfig('local'), (d) => { d.image.tag = 'latest'; }), "'latest' is not allowed"],
    ['a host given twice', () => variant(rawConfig('dev'), (d) => { d.exposure.hosts = [d.exposure.hosts[0], d.exposure.hosts[0]]; }), 'expected distinct host names'],
    ['a bad cron schedule', () => variant(rawConfig('dev'), (d) => { d.gc = { schedule: '61 * * * *' }; }), 'gc.schedule'],
    ["clients: a client in the server's namespace", () => variant(rawConfig('dev'), (d) => { d.clients[0].namespace = d.namespace; }), "clients.0.namespace: is the server's own namespace"],
    ['serving: both alias and version', () => variant(rawConfig('dev'), (d) => { d.serving[0].version = 2; }), 'serving.0.version: set alias or version, not both'],
    ['serving: a name too long for serve-<name>', () => variant(rawConfig('dev'), (d) => { d.serving[0].name = 'm'.repeat(58); }), 'use a name of at most 57'],
    ['serving: limits below the requests', () => variant(rawConfig('dev'), (d) => { d.serving[0].resources.limits.memory = '256Mi'; }), 'serving.0.resources.limits.memory: expected limits.memory (256Mi) ≥ requests.memory (512Mi)'],
    ['clients: a model name MLflow refuses as a permission key', () => variant(rawConfig('dev'), (d) => { d.clients[0].permissions.models = { 'team/iris': 'READ' }; }), "MLflow refuses a registered model name with '/' or ':'"],
    ['instances: two instances of one name', () => variant(teams(), (d) => { d.instances[1].name = d.instances[0].name; }), 'instances.1.name'],
    ['instances: an instance missing a required section', () => variant(teams(), (d) => { delete d.auth; for (const i of d.instances) delete i.auth; }), 'auth'],
  ];
  test.each(loaderOnly)('the JSON Schema accepts and the loader refuses %s', (_name, doc, problem) => {
    const v = verdicts(doc());
    expect(v.jsonSchema).toBe(true);
    expect(v.loader.join('\n')).toContain(problem);
  });

  test('across files: two environments on one host pass the JSON Schema each, and the loader refuses the pair', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-docs-'));
    try {
      fs.copyFileSync(path.join(CONFIG_DIR, 'dev.yaml'), path.join(dir, 'dev.yaml'));
      fs.copyFileSync(path.join(CONFIG_DIR, 'dev.yaml'), path.join(dir, 'staging.yaml'));
      for (const f of configFilesIn(dir)) expect(validateJson(yaml.load(fs.readFileSync(f, 'utf8')))).toBe(true);
      expect(() => loadRepositoryEnvironments(configFilesIn(dir))).toThrow(ConfigError);
      expect(() => loadRepositoryEnvironments(configFilesIn(dir))).toThrow(/is also served by/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
