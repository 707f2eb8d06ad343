/**
 * Every credential from Secret Manager through ESO v1, in a test chart: the one SecretStore, and the ExternalSecret
 * each feature creates through it (the database, basic-auth, the metrics scraper, the smoke user), templated into
 * the Secrets the pods read; nothing secret in the output (docs/design.md#database-and-proxy, #auth).
 */
import * as kplus from 'cdk8s-plus-28';
import type { CloudSqlDatabase, Credentials, ResolvedAuth } from '../../lib/config/model';
import { BasicAuth } from '../../lib/mlflow/basic-auth';
import { DatabaseAccess } from '../../lib/mlflow/database-access';
import { Metrics } from '../../lib/mlflow/metrics';
import { SmokeUser } from '../../lib/mlflow/smoke-test';
import { find, objectsOf, ofKind, testChart } from '../support/constructs';
import { render, shippedConfigs } from '../../tools/environments';
import { AUTH, IAM_DATABASE, MYSQL_DATABASE as MYSQL } from '../support/resolved';
import { servingName } from '../../lib/names';

interface Features {
  readonly database: CloudSqlDatabase;
  readonly auth?: ResolvedAuth;
  readonly metricsUser?: Credentials;
  readonly smokeUser?: Credentials;
}

/** The features of one server in a test chart, each creating its own credential. */
function build(props: Features) {
  const chart = testChart();
  const serviceAccount = new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'app-ksa' } });
  const database = new DatabaseAccess(chart, 'Database', { engine: 'cloud-sql', database: props.database, serviceAccount });
  const auth = props.auth ? new BasicAuth(chart, 'Auth', { auth: { ...props.auth, database: props.database }, serviceAccount }) : undefined;
  const metrics = props.metricsUser
    ? new Metrics(chart, 'Metrics', { mode: 'gmp', selectorLabels: { app: 'x' }, portName: 'http', user: { credentials: props.metricsUser, secretProject: 'proj-123456', serviceAccount } })
    : undefined;
  const smoke = props.smokeUser ? new SmokeUser(chart, 'Smoke', { credentials: props.smokeUser, secretProject: 'proj-123456', serviceAccount }) : undefined;
  return { database, auth, metrics, smoke, objects: objectsOf(chart) };
}

test('a namespaced SecretStore for Secret Manager, authenticating as the given KSA', () => {
  const store = find(build({ database: MYSQL }).objects, 'SecretStore', 'gcp-secret-manager');
  expect(store.apiVersion).toBe('external-secrets.io/v1');
  expect(store.spec).toEqual({ provider: { gcpsm: { projectID: 'proj-123456', auth: { workloadIdentity: { serviceAccountRef: { name: 'app-ksa' } } } } } });
});

test('database only: the backend URI Secret (credentials percent-encoded, through the proxy on loopback), nothing else', () => {
  const { objects } = build({ database: MYSQL });
  expect(ofKind(objects, 'ExternalSecret').map((e) => e.metadata.name)).toEqual(['mlflow-database']);
  const es = find(objects, 'ExternalSecret', 'mlflow-database');
  expect(es.apiVersion).toBe('external-secrets.io/v1');
  expect(es.spec).toEqual({
    refreshInterval: '1h0m0s',
    secretStoreRef: { kind: 'SecretStore', name: 'gcp-secret-manager' },
    target: {
      name: 'mlflow-database',
      creationPolicy: 'Owner',
      deletionPolicy: 'Retain',
      template: {
        engineVersion: 'v2',
        type: 'Opaque',
        data: { MLFLOW_BACKEND_STORE_URI: 'mysql+pymysql://{{ .user | urlquery | replace "+" "%20" }}:{{ .password | urlquery | replace "+" "%20" }}@127.0.0.1:3306/tracking' },
      },
    },
    data: [
      { secretKey: 'user', remoteRef: { key: 'db-user' } },
      { secretKey: 'password', remoteRef: { key: 'db-password' } },
    ],
  });
  expect(ofKind(objects, 'SecretStore').map((e) => e.metadata.name)).toEqual(['gcp-secret-manager']);
});

test('auth: the Flask key and the ini (database_uri on MySQL, every % doubled for configparser)', () => {
  const { objects } = build({ database: MYSQL, auth: AUTH });
  const es = find(objects, 'ExternalSecret', 'mlflow-auth');
  expect(es.spec.data).toEqual([
    { secretKey: 'user', remoteRef: { key: 'db-user' } },
    { secretKey: 'password', remoteRef: { key: 'db-password' } },
    { secretKey: 'flaskSecretKey', remoteRef: { key: 'flask-key' } },
    { secretKey: 'adminUsername', remoteRef: { key: 'admin-user' } },
    { secretKey: 'adminPassword', remoteRef: { key: 'admin-password' } },
  ]);
  expect(es.spec.target.template.data).toEqual({
    MLFLOW_FLASK_SERVER_SECRET_KEY: '{{ .flaskSecretKey }}',
    'basic_auth.ini': [
      '[mlflow]',
      'default_permission = NO_PERMISSIONS',
      'database_uri = mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:3306/tracking',
      'admin_username = {{ .adminUsername | replace "%" "%%" }}',
      'admin_password = {{ .adminPassword | replace "%" "%%" }}',
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
      'auth_cache_ttl_seconds = 60',
      '',
    ].join('\n'),
  });
  // One store for every feature.
  expect(ofKind(objects, 'SecretStore').map((e) => e.metadata.name)).toEqual(['gcp-secret-manager']);
});

test('metrics credentials: the public user name literally, the password from Secret Manager', () => {
  const { metrics, objects } = build({ database: MYSQL, auth: AUTH, metricsUser: { username: 'scraper', passwordSecret: 'scrape-password' } });
  const es = find(objects, 'ExternalSecret', 'mlflow-metrics-auth');
  expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'scrape-password' } }]);
  expect(es.spec.target.template.data).toEqual({ username: 'scraper', password: '{{ .password }}' });
  expect(metrics?.scrapeUser?.secret.name).toBe('mlflow-metrics-auth');
});

test('smoke credentials: the public user name literally, the password from Secret Manager', () => {
  const { smoke, objects } = build({ database: MYSQL, auth: AUTH, smokeUser: { username: 'smoker', passwordSecret: 'smoke-password' } });
  const es = find(objects, 'ExternalSecret', 'mlflow-smoke-auth');
  expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'smoke-password' } }]);
  expect(es.spec.target.template.data).toEqual({ username: 'smoker', password: '{{ .password }}' });
  expect(smoke?.secret.name).toBe('mlflow-smoke-auth');
});

test('snapshot: database, auth and metrics credentials', () => {
  const objects = build({ database: MYSQL, auth: AUTH, metricsUser: { username: 'scraper', passwordSecret: 'scrape-password' } }).objects;
  expect(objects.filter((m) => m.apiVersion.startsWith('external-secrets.io/'))).toMatchSnapshot();
});

test('no Secret objects, no v1beta1, no literal credentials anywhere in any shipped environment', () => {
  for (const c of shippedConfigs()) {
    // Not the clients' ExternalSecrets, whose tracking URI and user name are inline (test/clients/client-chart.test.ts).
    const all = render(c).all.filter((m) => m.kind !== 'ExternalSecret' || m.metadata.namespace === c.namespace);
    expect(ofKind(all, 'Secret')).toEqual([]);
    for (const m of all) {
      expect(m.apiVersion).not.toBe('external-secrets.io/v1beta1');
      expect(JSON.stringify(m)).not.toMatch(/(mysql|postgresql)(\+\w+)?:\/\/[^{]/); // a URI with a literal user
    }
    // Every templated value comes from a Secret Manager reference, except the (public) names of the scrape, smoke and serving users.
    const users = ['mlflow-metrics-auth', 'mlflow-smoke-auth', ...c.serving.map((s) => `${servingName(s.name)}-auth`)];
    for (const es of ofKind(all, 'ExternalSecret')) {
      for (const [key, value] of Object.entries<string>(es.spec.target.template.data)) {
        if (users.includes(es.metadata.name) && key === 'username') continue;
        expect({ key, templated: /\{\{ \.\w+/.test(value) }).toEqual({ key, templated: true });
      }
    }
  }
});

describe('IAM database login', () => {
  test('no database Secret: the backend URI holds nothing secret', () => {
    const { objects } = build({ database: IAM_DATABASE });
    expect(ofKind(objects, 'ExternalSecret')).toEqual([]);
  });

  test('the auth Secret stays, reads no database secret, and its ini names the IAM user without a password', () => {
    const { objects } = build({ database: IAM_DATABASE, auth: AUTH });
    expect(ofKind(objects, 'ExternalSecret').map((e) => e.metadata.name)).toEqual(['mlflow-auth']);
    expect(find(objects, 'SecretStore', 'gcp-secret-manager').spec.provider.gcpsm.projectID).toBe('proj-123456');
    const es = find(objects, 'ExternalSecret', 'mlflow-auth');
    expect(es.spec.data).toEqual([
      { secretKey: 'flaskSecretKey', remoteRef: { key: 'flask-key' } },
      { secretKey: 'adminUsername', remoteRef: { key: 'admin-user' } },
      { secretKey: 'adminPassword', remoteRef: { key: 'admin-password' } },
    ]);
    expect(es.spec.target.template.data['basic_auth.ini']).toContain('\ndatabase_uri = mysql+pymysql://mlflow-server@127.0.0.1:3306/tracking\n');
  });
});
