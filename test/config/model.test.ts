/**
 * The resolved config model the loader hands to every construct: a file is a list of servers (one for a
 * single-server file, one per instance), each with its defaults applied, its sections narrowed to the variant in
 * force, and the values derived from them once (hosts, the connection budget, the Secret Manager project).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { formatProblem, validateEnvironment } from '../../lib/config/config';
import type { Environment, Server } from '../../lib/config/model';
import { rawConfig, ROOT } from '../../tools/environments';

function load(file: string, doc: unknown): Environment {
  const r = validateEnvironment(file, doc);
  if (!r.environment) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.environment;
}

const dev = (mutate: (d: any) => void = () => undefined): Server => {
  const doc = rawConfig('dev');
  mutate(doc);
  return load('config/dev.yaml', doc).servers[0];
};

/** The instances fixture as a document. */
function teams(): Record<string, any> {
  return yaml.load(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml'), 'utf8')) as Record<string, any>;
}

describe('defaults applied', () => {
  test('omitted database.login: password login, carrying the two secret ids it reads', () => {
    const s = dev((d) => delete d.database.login);
    expect(s.database).toMatchObject({ engine: 'mysql', login: 'password', userSecret: 'mlflow-dev-db-user', passwordSecret: 'mlflow-dev-db-password' });
  });

  test('omitted auth.credentialCacheTtlSeconds: 60; a given one is kept', () => {
    expect(dev((d) => delete d.auth.credentialCacheTtlSeconds).auth?.credentialCacheTtlSeconds).toBe(60);
    expect(dev((d) => (d.auth.credentialCacheTtlSeconds = 5)).auth?.credentialCacheTtlSeconds).toBe(5);
  });

  test('omitted gc.olderThanDays: 30', () => {
    expect(dev((d) => (d.gc = { schedule: '17 3 * * *' })).gc).toEqual({ schedule: '17 3 * * *', olderThanDays: 30 });
  });

  test('a gateway without className or drainingTimeoutSeconds: the global external class and 30 s', () => {
    const s = dev((d) => (d.exposure = { mode: 'gateway', hosts: ['mlflow.example.com'], certificate: { source: 'certificate-manager', mapName: 'm' }, backendTimeoutSeconds: 900 }));
    expect(s.exposure).toMatchObject({ mode: 'gateway', className: 'gke-l7-global-external-managed', drainingTimeoutSeconds: 30 });
  });
});

describe('narrowed to the variant in force', () => {
  test('IAM login: the database user derived from the service account, and no secret ids', () => {
    const s = dev((d) => {
      d.database.login = 'iam';
      delete d.database.userSecret;
      delete d.database.passwordSecret;
    });
    expect(s.database).toMatchObject({ login: 'iam', iamUser: 'mlflow-server' });
    expect(s.database).not.toHaveProperty('userSecret');
    expect(s.database).not.toHaveProperty('passwordSecret');
  });

  test("auth disabled: no auth at all; enabled: the features' users, each name with its password's secret id", () => {
    const off = dev((d) => {
      d.auth = { enabled: false };
      delete d.clients; // clients and served models need basic-auth
      delete d.serving;
    });
    expect(off.auth).toBeUndefined();
    const doc = rawConfig('dev');
    expect(dev().auth).toMatchObject({
      metricsUser: { username: doc.auth.metricsUsername, passwordSecret: doc.auth.metricsPasswordSecret },
      smokeUser: { username: doc.auth.smokeUsername, passwordSecret: doc.auth.smokePasswordSecret },
      secretProject: doc.gcp.projectId,
    });
    expect(dev().auth).not.toHaveProperty('metricsUsername');
  });

  test('metrics off: no metrics user, even when the file names one', () => {
    expect(dev((d) => (d.metrics = 'none')).auth?.metricsUser).toBeUndefined();
  });

  test('SQLite: the database carries the data volume it lives on', () => {
    const local = load('config/local.yaml', rawConfig('local')).servers[0];
    expect(local.database).toEqual({ engine: 'sqlite', volume: rawConfig('local').volume });
  });
});

describe('derived once', () => {
  test('hosts: the exposure\'s, or none', () => {
    expect(dev().hosts).toEqual(rawConfig('dev').exposure.hosts);
    expect(dev((d) => (d.exposure = { mode: 'none' })).hosts).toEqual([]);
  });

  test('the connection budget of a Cloud SQL server; none for SQLite', () => {
    const budget = dev().connectionBudget;
    expect(budget).toMatchObject({ maxConnections: rawConfig('dev').database.maxConnections, fits: true });
    expect(load('config/local.yaml', rawConfig('local')).servers[0].connectionBudget).toBeUndefined();
  });
});

describe('one shape for both file forms', () => {
  test('a single-server file is a list of one server, named after the file, in mlflow/', () => {
    const env = load('config/dev.yaml', rawConfig('dev'));
    expect(env.name).toBe('dev');
    expect(env.servers.map((s) => [s.name, s.path])).toEqual([['dev', 'mlflow']]);
  });

  test('an instances file: one server per instance, each resolved the same way as a single server', () => {
    const env = load('config/teams.yaml', teams());
    expect(env.name).toBe('teams');
    expect(env.servers.map((s) => [s.name, s.path])).toEqual([
      ['teams-team-a', 'team-a'],
      ['teams-team-b', 'team-b'],
    ]);
    // The same server written as a single-server file resolves to the same model, but for its name and folder.
    const { instances, ...top } = teams();
    const { name: _name, ...own } = instances[0];
    const single = load('config/teams.yaml', { ...top, ...own }).servers[0];
    expect({ ...env.servers[0], name: 'x', path: 'x' }).toEqual({ ...single, name: 'x', path: 'x' });
    expect(Object.keys(env.servers[0]).sort()).toEqual(Object.keys(single).sort());
  });
});
