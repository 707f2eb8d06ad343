/**
 * Several MLflow servers per environment: the `instances` form of a config file, its normalisation to one
 * config per server, the existing guards run per instance (paths where the field is written), and the rules
 * across instances — each with its exact message. Built from test/fixtures/instances/teams.yaml, changed per test.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { formatProblem, validateEnvironment } from '../../lib/config/config';
import { hostsOf, type Environment } from '../../lib/config/model';
import { APP_PATHS, RESERVED_INSTANCE_NAMES } from '../../lib/names';
import { CERT_MANAGER, EXTERNAL_SECRETS } from '../../lib/gitops/addons';
import { rawConfig, ROOT } from '../../tools/environments';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml');
const FILE = 'config/teams.yaml';

function teams(): Record<string, any> {
  return yaml.load(fs.readFileSync(FIXTURE, 'utf8')) as Record<string, any>;
}

function validate(mutate: (doc: any) => void = () => undefined, file = FILE) {
  const doc = teams();
  mutate(doc);
  return validateEnvironment(file, doc);
}

/** The problems of a variant, as synth prints them. */
function problems(mutate: (doc: any) => void): string[] {
  const r = validate(mutate);
  expect(r.environment).toBeUndefined();
  return r.problems.map(formatProblem);
}

function valid(mutate: (doc: any) => void = () => undefined): Environment {
  const r = validate(mutate);
  if (!r.environment) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.environment;
}

test("the example of docs/configuration.md is this fixture, and valid", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const m = /<!-- instances-example:begin -->\n```yaml\n([\s\S]*?)```\n<!-- instances-example:end -->/.exec(readme);
  if (!m) throw new Error('docs/configuration.md has no instances-example block');
  const example = yaml.load(m[1], { schema: yaml.CORE_SCHEMA });
  expect(example).toEqual(teams());
  expect(validateEnvironment(FILE, example as Record<string, unknown>).problems).toEqual([]);
});

describe('normalisation', () => {
  test('each instance becomes one server config, in the order of the file, named <env>-<instance>', () => {
    const env = valid();
    expect(env.name).toBe('teams');
    expect(env.servers.map((s) => [s.path, s.name, s.namespace])).toEqual([
      ['team-a', 'teams-team-a', 'mlflow-team-a'],
      ['team-b', 'teams-team-b', 'mlflow-team-b'],
    ]);
    expect(valid((d) => d.instances.reverse()).servers.map((s) => s.path)).toEqual(['team-b', 'team-a']);
  });

  test("an instance's section replaces the top level's as a whole; the others come from the top level", () => {
    const [a, b] = valid().servers;
    const top = teams();
    expect(a.server).toEqual(top.server);
    expect(b.server).toEqual(top.instances[1].server);
    for (const c of [a, b]) {
      expect(c.gcp).toEqual(top.gcp);
      expect(c.image).toEqual(top.image);
      expect(c.gitops).toEqual(top.gitops);
      expect(c.metrics).toBe('gmp');
    }
    expect([a.database, b.database].map((d) => (d.engine === 'mysql' ? d.name : d.engine))).toEqual(['mlflow_team_a', 'mlflow_team_b']);
  });

  test('a config without instances is a list of one server, named after the environment, in the folder mlflow/', () => {
    const r = validateEnvironment('config/dev.yaml', rawConfig('dev'));
    expect(r.problems).toEqual([]);
    expect(r.environment?.name).toBe('dev');
    expect(r.environment?.servers.map((s) => [s.path, s.name, s.namespace])).toEqual([[APP_PATHS.mlflow, 'dev', 'mlflow']]);
  });

  test('a single-server config keeps its own problems and messages', () => {
    const dev = rawConfig('dev');
    dev.server.workers = 3;
    const r = validateEnvironment('config/dev.yaml', dev);
    expect(r.problems.map((p) => p.path)).toEqual(['server.resources.limits.memory', 'database.pool']);
  });
});

describe('the shape of the instances form', () => {
  test('gitops only at the top level, namespace only in instances', () => {
    expect(
      problems((d) => {
        d.namespace = 'mlflow';
        d.instances[1].gitops = d.gitops;
      }),
    ).toEqual([
      `${FILE}: namespace: not used with 'instances': each instance sets its own namespace (got "mlflow")`,
      // A long value is echoed as its first 120 characters and its length.
      `${FILE}: instances.1.gitops: shared by every instance: set gitops at the top level of the file, not in an instance (got ${JSON.stringify(teams().gitops).slice(0, 120)}… (255 characters))`,
    ]);
  });

  test('every instance needs a name and a namespace; instance names are RFC 1123 labels starting with a letter', () => {
    expect(
      problems((d) => {
        delete d.instances[0].namespace;
        d.instances[1].name = '1team';
      }),
    ).toEqual([
      `${FILE}: instances.0.namespace: required: expected a string: a namespace name (RFC 1123 label)`,
      `${FILE}: instances.1.name: expected an instance name: lowercase letters, digits and '-', starting with a letter (RFC 1123 label) (got "1team")`,
    ]);
  });

  test('a field error inside an instance names its path there; unknown fields are refused', () => {
    expect(
      problems((d) => {
        d.instances[1].database.pool.size = 0;
        d.instances[0].databse = {};
      }),
    ).toEqual([
      `${FILE}: instances.0: unknown field 'databse': remove or fix the spelling`,
      `${FILE}: instances.1.database.pool.size: expected a pool size from 1 to 100 (got 0)`,
    ]);
  });

  test('an empty list, and a list that is not one', () => {
    expect(problems((d) => (d.instances = []))).toEqual([`${FILE}: instances: expected at least one instance (got [])`]);
    expect(problems((d) => (d.instances = { a: {} }))).toEqual([
      `${FILE}: instances: expected a list of instances, each with a name and a namespace (got {"a":{}})`,
    ]);
  });

  test('a section set neither in the instance nor at the top level', () => {
    expect(problems((d) => delete d.instances[1].auth)).toEqual([
      `${FILE}: instances.1.auth: required in every instance: set 'auth' in instance 'team-b' or at the top level (shared by the instances)`,
    ]);
  });
});

describe('the per-server guards, run for every instance', () => {
  test("a guard on an instance's own section points into the instance", () => {
    expect(problems((d) => (d.instances[1].server.workers = 2))).toEqual([
      `${FILE}: instances.1.server.resources.limits.memory: memory limit 1Gi (1024 MiB) is below the measured footprint of 2 workers: ` +
        'parent 256 + supervisors 32 + workers 2 × 608 MiB = 1504 MiB; raise the limit to at least 1504Mi or lower server.workers',
    ]);
  });

  test('a guard on an inherited section points to the top level and names the instances that take it', () => {
    expect(problems((d) => (d.server.workers = 3))).toEqual([
      `${FILE}: server.resources.limits.memory: instance 'team-a' (which takes 'server' from the top level): memory limit 1536Mi (1536 MiB) is below ` +
        'the measured footprint of 3 workers: parent 256 + supervisors 32 + workers 3 × 608 MiB = 2112 MiB; raise the limit to at least 2112Mi or lower server.workers',
    ]);
    expect(
      problems((d) => {
        d.server.workers = 3;
        delete d.instances[1].server;
      }),
    ).toContain(
      `${FILE}: server.resources.limits.memory: instances 'team-a', 'team-b' (which take 'server' from the top level): memory limit 1536Mi (1536 MiB) is below ` +
        'the measured footprint of 3 workers: parent 256 + supervisors 32 + workers 3 × 608 MiB = 2112 MiB; raise the limit to at least 2112Mi or lower server.workers',
    );
  });

  test("one server's own connection budget, at its pool", () => {
    expect(problems((d) => (d.instances[0].database.pool.size = 30))).toContain(
      `${FILE}: instances.0.database.pool: connection budget exceeded: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × stores 3 × ` +
        '(pool.size 30 + pool.maxOverflow 5)) = 852 connections, but max_connections 600 − headroom 60 leaves 540; lower the pool, workers or maxReplicas, ' +
        'or raise database.maxConnections',
    );
  });
});

describe('rules across instances', () => {
  test('duplicate instance names', () => {
    expect(
      problems((d) => {
        d.instances[1].name = 'team-a';
      }),
    ).toEqual([`${FILE}: instances.1.name: duplicate instance name 'team-a': instances.0 has it already (each instance is one folder dist/teams/<name>/ and one Application)`]);
  });

  test('the names of shared folders and Applications are reserved', () => {
    expect(problems((d) => (d.instances[0].name = 'apps'))).toEqual([
      `${FILE}: instances.0.name: 'apps' is reserved: dist/teams/ has a shared folder or Application of that name (reserved: apps, cert-manager, clients, cluster-issuer, external-secrets, root, serving)`,
    ]);
    expect(problems((d) => (d.instances[0].name = 'clients'))).toEqual([
      `${FILE}: instances.0.name: 'clients' is reserved: dist/teams/ has a shared folder or Application of that name (reserved: apps, cert-manager, clients, cluster-issuer, external-secrets, root, serving)`,
    ]);
    // The list covers every folder and Application name synth gives an environment besides the servers'.
    const shared = [...Object.values(APP_PATHS).filter((p) => p !== APP_PATHS.mlflow), EXTERNAL_SECRETS.name, CERT_MANAGER.name, 'root'];
    expect([...RESERVED_INSTANCE_NAMES].sort()).toEqual([...new Set(shared)].sort());
  });

  test('an instance name that makes the instance label longer than 63 characters', () => {
    const name = `t${'x'.repeat(50)}`; // mlflow-teams- (13) + 51 = 64
    expect(problems((d) => (d.instances[1].name = name))).toEqual([
      `${FILE}: instances.1.name: too long: its label app.kubernetes.io/instance 'mlflow-teams-${name}' has 64 characters, at most 63 are allowed ` +
        "(instance names of environment 'teams' have at most 50)",
    ]);
    expect(validate((d) => (d.instances[1].name = name.slice(1))).problems).toEqual([]);
  });

  test('two instances on one namespace', () => {
    expect(problems((d) => (d.instances[1].namespace = 'mlflow-team-a'))).toEqual([
      `${FILE}: instances.1.namespace: namespace 'mlflow-team-a' is already used by instance 'team-a' (instances.0): each instance needs its own namespace (the servers' objects have the same names)`,
    ]);
  });

  test('one host served by two instances', () => {
    expect(problems((d) => d.instances[1].exposure.hosts.push('mlflow-a.teams.example.com'))).toEqual([
      `${FILE}: instances.1.exposure.hosts.1: host 'mlflow-a.teams.example.com' is already served by instance 'team-a' (instances.0.exposure.hosts.0): a host routes to one server`,
    ]);
  });

  test('an exposure at the top level shared by two instances serves its hosts twice', () => {
    expect(
      problems((d) => {
        d.exposure = d.instances[0].exposure;
        delete d.instances[0].exposure;
        delete d.instances[1].exposure;
      }),
    ).toEqual([
      `${FILE}: exposure.hosts.0: instance 'team-b' (which takes 'exposure' from the top level): host 'mlflow-a.teams.example.com' is already served by instance 'team-a' (exposure.hosts.0): a host routes to one server`,
    ]);
  });

  test('hosts are read from any exposure mode that has them', () => {
    expect(hostsOf({ mode: 'none' })).toEqual([]);
    expect(hostsOf(teams().instances[0].exposure)).toEqual(['mlflow-a.teams.example.com']);
    // A variant added later (a Gateway, say) counts as soon as it carries `hosts`.
    expect(hostsOf({ mode: 'gateway', hosts: ['g.example.com'] } as never)).toEqual(['g.example.com']);
  });

  test('two instances on one database of one Cloud SQL instance; the same name on another instance is fine', () => {
    expect(problems((d) => (d.instances[1].database.name = 'mlflow_team_a'))).toEqual([
      `${FILE}: instances.1.database.name: database 'mlflow_team_a' on Cloud SQL instance 'example-mlflow-teams:europe-west1:mlflow-shared' is already used by ` +
        "instance 'team-a' (instances.0.database.name): each server needs its own database (its schema, users and runs)",
    ]);
    expect(
      validate((d) => {
        d.instances[1].database.name = 'mlflow_team_a';
        d.instances[1].database.instanceConnectionName = 'example-mlflow-teams:europe-west1:mlflow-b';
      }).problems,
    ).toEqual([]);
  });

  test('artifact locations: the same, inside another, containing another; neighbours by name are fine', () => {
    const at = (prefix: string) => problems((d) => (d.instances[1].artifacts.prefix = prefix));
    const tail = "each instance needs its own bucket, or a prefix that neither contains nor lies inside another's";
    expect(at('team-a')).toEqual([
      `${FILE}: instances.1.artifacts.prefix: gs://example-mlflow-teams-artifacts/team-a is also the artifact location of instance 'team-a' ` +
        `(gs://example-mlflow-teams-artifacts/team-a, instances.0.artifacts.prefix): ${tail}`,
    ]);
    expect(at('team-a/b')).toEqual([
      `${FILE}: instances.1.artifacts.prefix: gs://example-mlflow-teams-artifacts/team-a/b lies inside the artifact location of instance 'team-a' ` +
        `(gs://example-mlflow-teams-artifacts/team-a, instances.0.artifacts.prefix): ${tail}`,
    ]);
    expect(
      problems((d) => {
        d.instances[0].artifacts.prefix = 'teams/a';
        d.instances[1].artifacts.prefix = 'teams';
      }),
    ).toEqual([
      `${FILE}: instances.1.artifacts.prefix: gs://example-mlflow-teams-artifacts/teams contains the artifact location of instance 'team-a' ` +
        `(gs://example-mlflow-teams-artifacts/teams/a, instances.0.artifacts.prefix): ${tail}`,
    ]);
    expect(validate((d) => (d.instances[1].artifacts.prefix = 'team-a2')).problems).toEqual([]);
    expect(validate((d) => (d.instances[1].artifacts = { ...d.instances[0].artifacts, bucket: 'example-mlflow-teams-b' })).problems).toEqual([]);
  });

  test('the connection budget of a shared Cloud SQL instance is summed over the instances on it', () => {
    // team-a: (3 + 1) × (3 + 2 × 3 × 10) = 252; team-b: (2 + 1) × (3 + 1 × 3 × 10) = 99; 351 of 600 − 60 = 540.
    expect(validate().problems).toEqual([]);
    const lowered = (max: number) => (d: any) => d.instances.forEach((i: any) => (i.database.maxConnections = max));
    // 389 − 39 = 350: each fits alone (252, 99), together 351 do not.
    expect(problems(lowered(389))).toEqual([
      `${FILE}: instances: connection budget of Cloud SQL instance 'example-mlflow-teams:europe-west1:mlflow-shared' exceeded by the instances sharing it: ` +
        "'team-a' (maxReplicas 3 + surge 1) × 63 = 252 (instances.0.database.pool) + 'team-b' (maxReplicas 2 + surge 1) × 33 = 99 (instances.1.database.pool) " +
        '= 351 connections, but max_connections 389 − headroom 39 leaves 350; lower the pools, workers or maxReplicas of these instances, ' +
        'give one of them its own Cloud SQL instance, or raise max_connections',
    ]);
    // At the boundary: 351 of 390 − 39 = 351 fits.
    expect(validate(lowered(390)).problems).toEqual([]);
    // On different Cloud SQL instances nothing is summed.
    expect(
      validate((d) => {
        lowered(389)(d);
        d.instances[1].database.instanceConnectionName = 'example-mlflow-teams:europe-west1:mlflow-b';
      }).problems,
    ).toEqual([]);
  });

  test("an instance's garbage-collection CronJob counts in the shared budget (it may run during a rollout)", () => {
    const lowered = (max: number) => (d: any) => d.instances.forEach((i: any) => (i.database.maxConnections = max));
    // 390 − 39 = 351 fits 252 + 99 exactly (above); team-b's gc pod adds 2: 353 do not.
    const withGc = (d: any) => {
      lowered(390)(d);
      d.instances[1].gc = { schedule: '17 3 * * *' };
    };
    expect(problems(withGc)).toEqual([
      `${FILE}: instances: connection budget of Cloud SQL instance 'example-mlflow-teams:europe-west1:mlflow-shared' exceeded by the instances sharing it: ` +
        "'team-a' (maxReplicas 3 + surge 1) × 63 = 252 (instances.0.database.pool) + 'team-b' (maxReplicas 2 + surge 1) × 33 + gc 2 = 101 (instances.1.database.pool) " +
        '= 353 connections, but max_connections 390 − headroom 39 leaves 351; lower the pools, workers or maxReplicas of these instances, ' +
        'give one of them its own Cloud SQL instance, or raise max_connections',
    ]);
    // 393 − 40 = 353: fits again.
    expect(
      validate((d) => {
        withGc(d);
        lowered(393)(d);
      }).problems,
    ).toEqual([]);
  });

  test('instances sharing a Cloud SQL instance must agree on its max_connections', () => {
    expect(problems((d) => (d.instances[1].database.maxConnections = 900))).toEqual([
      `${FILE}: instances.1.database.maxConnections: Cloud SQL instance 'example-mlflow-teams:europe-west1:mlflow-shared' has one max_connections, ` +
        "but this says 900 and instance 'team-a' (instances.0.database.maxConnections) says 600: set the instance's value in both",
    ]);
  });
});
