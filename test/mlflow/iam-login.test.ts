/**
 * `database.login: iam` end to end through the constructs: dev and prod as shipped, switched to IAM database login
 * (no config/ file: the shipped environments keep password login). The Cloud SQL Auth Proxy logs in as the
 * Workload Identity service account (`--auto-iam-authn`), the backend URI names its IAM database user and carries
 * no password, the database ExternalSecret is gone, and the auth ExternalSecret no longer reads the database
 * secrets. Every object is checked against the Kubernetes and CRD schemas and Pod Security `restricted`, as synth
 * checks the shipped environments.
 */
import type { Server } from '../../lib/config/model';
import { validateManifest } from '../../tools/schema-validation';
import { mlflowManifests, policyProblems, renderEnvironment } from '../../lib/synth/synth';
import { containerNamed, find } from '../support/constructs';
import { configFrom, rawConfig } from '../../tools/environments';

function iamVariant(name: string): Server {
  const doc = rawConfig(name);
  doc.database.login = 'iam';
  delete doc.database.userSecret;
  delete doc.database.passwordSecret;
  return configFrom(name, doc);
}

const names = (ms: any[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
const podSpec = (ms: any[], kind: string, name: string) => find(ms, kind, name).spec.template.spec;
/** The remote Secret Manager ids an ExternalSecret reads, by template key. */
const remoteRefs = (es: any) => Object.fromEntries(es.spec.data.map((d: any) => [d.secretKey, d.remoteRef.key]));

describe.each([
  ['dev', 'mlflow-server', 'mlflow-dev'],
  ['prod', 'mlflow-server', 'mlflow-prod'],
])('%s with database.login iam', (name, iamUser, secretPrefix) => {
  // Rendered in beforeAll, not while jest collects the suite (tools/mutation/mutation-attribution.js).
  let password: any[];
  let iam: any[];
  beforeAll(() => {
    password = mlflowManifests(configFrom(name, rawConfig(name)));
    iam = mlflowManifests(iamVariant(name));
  });

  test('the database ExternalSecret is the only object gone; the auth, metrics and smoke ExternalSecrets stay', () => {
    expect(names(iam)).toEqual(names(password).filter((n) => n !== 'ExternalSecret/mlflow-database'));
    expect(names(password)).toContain('ExternalSecret/mlflow-database');
    expect(names(iam)).toEqual(expect.arrayContaining(['ExternalSecret/mlflow-auth', 'ExternalSecret/mlflow-metrics-auth', 'ExternalSecret/mlflow-smoke-auth']));
  });

  test.each([
    ['Deployment', 'mlflow', 'mlflow'],
    ['Job', 'mlflow-migrate', 'migrate'],
  ])('%s/%s: the proxy logs in with --auto-iam-authn; the backend URI is a plain value, the IAM user and no password', (kind, podName, container) => {
    const spec = podSpec(iam, kind, podName);
    expect(containerNamed(spec, 'cloud-sql-proxy').args).toEqual([
      `example-mlflow-${name}:europe-west1:mlflow-${name}`,
      '--address=127.0.0.1',
      '--port=3306',
      '--private-ip',
      '--auto-iam-authn',
      '--structured-logs',
      '--health-check',
      '--http-address=0.0.0.0',
      '--http-port=9801',
      '--exit-zero-on-sigterm',
    ]);
    const env = containerNamed(spec, container).env.find((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI');
    expect(env).toEqual({ name: 'MLFLOW_BACKEND_STORE_URI', value: `mysql+pymysql://${iamUser}@127.0.0.1:3306/mlflow` });
    // Password login, for contrast: the URI comes from the database Secret and the proxy has no IAM flag.
    const before = podSpec(password, kind, podName);
    expect(containerNamed(before, 'cloud-sql-proxy').args).not.toContain('--auto-iam-authn');
    expect(containerNamed(before, container).env.find((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI')).toEqual({
      name: 'MLFLOW_BACKEND_STORE_URI',
      valueFrom: { secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } },
    });
  });

  test("the auth ini's database_uri names the IAM user with no password, and its ExternalSecret reads no database secret", () => {
    const auth = find(iam, 'ExternalSecret', 'mlflow-auth');
    const ini: string = auth.spec.target.template.data['basic_auth.ini'];
    expect(ini.split('\n').filter((l) => l.startsWith('database_uri'))).toEqual([`database_uri = mysql+pymysql://${iamUser}@127.0.0.1:3306/mlflow`]);
    expect(remoteRefs(auth)).toEqual({
      flaskSecretKey: `${secretPrefix}-flask-secret-key`,
      adminUsername: `${secretPrefix}-admin-username`,
      adminPassword: `${secretPrefix}-admin-password`,
    });
    expect(remoteRefs(find(password, 'ExternalSecret', 'mlflow-auth'))).toMatchObject({ user: `${secretPrefix}-db-user`, password: `${secretPrefix}-db-password` });
  });

  test('no object names a database secret id', () => {
    const text = JSON.stringify(iam);
    expect(text).not.toContain(`${secretPrefix}-db-user`);
    expect(text).not.toContain(`${secretPrefix}-db-password`);
  });

  test('every object passes the Kubernetes and CRD schemas and Pod Security restricted; the whole environment renders', () => {
    expect(iam.flatMap((m) => validateManifest(m).map((p) => `${m.kind}/${m.metadata.name}: ${p}`))).toEqual([]);
    expect(policyProblems(iam)).toEqual([]);
    expect(() => renderEnvironment({ name, servers: [iamVariant(name)] })).not.toThrow();
  });
});

test("login 'password' written out renders exactly the shipped dev (the default)", () => {
  const doc = rawConfig('dev');
  doc.database.login = 'password';
  expect(mlflowManifests(configFrom('dev', doc))).toEqual(mlflowManifests(configFrom('dev', rawConfig('dev'))));
});

describe('Cloud SQL for PostgreSQL with database.login iam', () => {
  // Rendered in beforeAll, not while jest collects the suite (tools/mutation/mutation-attribution.js).
  let ms: any[];
  beforeAll(() => {
    const doc = rawConfig('dev');
    doc.database.engine = 'postgres';
    doc.database.login = 'iam';
    delete doc.database.userSecret;
    delete doc.database.passwordSecret;
    ms = mlflowManifests(configFrom('dev', doc));
  });

  test("the user is the email without '.gserviceaccount.com', percent-encoded, through the proxy on 5432 with --auto-iam-authn", () => {
    for (const [kind, name, container] of [['Deployment', 'mlflow', 'mlflow'], ['Job', 'mlflow-migrate', 'migrate']]) {
      const spec = podSpec(ms, kind, name);
      expect(containerNamed(spec, 'cloud-sql-proxy').args).toEqual(expect.arrayContaining(['--port=5432', '--auto-iam-authn']));
      expect(containerNamed(spec, container).env.find((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI')).toEqual({
        name: 'MLFLOW_BACKEND_STORE_URI',
        value: 'postgresql+psycopg2://mlflow-server%40example-mlflow-dev.iam@127.0.0.1:5432/mlflow',
      });
    }
    const ini: string = find(ms, 'ExternalSecret', 'mlflow-auth').spec.target.template.data['basic_auth.ini'];
    expect(ini).toContain('\ndatabase_uri = postgresql+psycopg2://mlflow-server%%40example-mlflow-dev.iam@127.0.0.1:5432/mlflow\n');
    expect(names(ms)).not.toContain('ExternalSecret/mlflow-database');
    expect(ms.flatMap((m) => validateManifest(m).map((p) => `${m.kind}/${m.metadata.name}: ${p}`))).toEqual([]);
    expect(policyProblems(ms)).toEqual([]);
  });
});
