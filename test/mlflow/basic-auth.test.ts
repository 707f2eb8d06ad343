/** BasicAuth in a test chart: what it adds to a container (docs/design.md#auth). */
import * as kplus from 'cdk8s-plus-28';
import { BasicAuth } from '../../lib/mlflow/basic-auth';
import { containerNamed, envOf, find, mountsOf, objectsOf, testChart, volumeNamed } from '../support/constructs';
import { MYSQL } from '../fixtures/database';

test('mounts the ini read-only, points MLflow at it, and passes the shared Flask key from the Secret', () => {
  const chart = testChart();
  const auth = new BasicAuth(chart, 'Auth', { secret: kplus.Secret.fromSecretName(chart, 'S', 'auth-secret') });
  const pod = new kplus.Pod(chart, 'Pod', { metadata: { name: 'p' } });
  auth.mountInto(pod.addContainer({ name: 'app', image: 'example/app:1' }));
  const spec = find(objectsOf(chart), 'Pod', 'p').spec;
  const app = containerNamed(spec, 'app');
  expect(mountsOf(app)).toEqual({ '/etc/mlflow/auth': { name: 'auth-config', readOnly: true } });
  expect(volumeNamed(spec, 'auth-config')).toEqual({ name: 'auth-config', secret: { secretName: 'auth-secret', items: [{ key: 'basic_auth.ini', path: 'basic_auth.ini' }] } });
  expect(envOf(app)).toEqual({
    MLFLOW_AUTH_CONFIG_PATH: '/etc/mlflow/auth/basic_auth.ini',
    MLFLOW_FLASK_SERVER_SECRET_KEY: { secretKeyRef: { name: 'auth-secret', key: 'MLFLOW_FLASK_SERVER_SECRET_KEY' } },
  });
  expect(auth.serverArgs).toEqual(['--app-name', 'basic-auth']);
});

test('the ini template: permission, MySQL database_uri through the proxy, admin credentials, every secret value %-doubled, the credential cache', () => {
  const ini = BasicAuth.iniTemplate(
    { enabled: true, flaskSecretKeySecret: 'k', adminUsernameSecret: 'u', adminPasswordSecret: 'p', defaultPermission: 'EDIT' },
    MYSQL,
  );
  expect(ini).toBe(
    '[mlflow]\n' +
      'default_permission = EDIT\n' +
      'database_uri = mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:3306/tracking\n' +
      'admin_username = {{ .adminUsername | replace "%" "%%" }}\n' +
      'admin_password = {{ .adminPassword | replace "%" "%%" }}\n' +
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n' +
      // credentialCacheTtlSeconds omitted: the 60 s default (configured values: test/config/basic-auth.test.ts).
      'auth_cache_ttl_seconds = 60\n',
  );
});

test("IAM login: the ini's database_uri names the IAM user as text, no password, every '%' doubled", () => {
  const auth = { enabled: true, flaskSecretKeySecret: 'k', adminUsernameSecret: 'u', adminPasswordSecret: 'p', defaultPermission: 'READ' } as const;
  const db = {
    engine: 'mysql',
    instanceConnectionName: 'proj-123456:europe-west1:db',
    privateIp: true,
    name: 'tracking',
    login: 'iam',
    pool: { size: 1, maxOverflow: 0, recycleSeconds: 60 },
    maxConnections: 10,
  } as const;
  const uriLine = (iamUser: string) => BasicAuth.iniTemplate(auth, db, iamUser).split('\n').filter((l) => l.startsWith('database_uri'));
  expect(uriLine('mlflow-server')).toEqual(['database_uri = mysql+pymysql://mlflow-server@127.0.0.1:3306/tracking']);
  // A PostgreSQL-style name keeps its '@' percent-encoded, and configparser reads '%%' as '%'.
  expect(uriLine('sa@proj-123456.iam')).toEqual(['database_uri = mysql+pymysql://sa%%40proj-123456.iam@127.0.0.1:3306/tracking']);
});
