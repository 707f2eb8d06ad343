/** BasicAuth in a test chart: what it adds to a container (docs/design.md#auth). */
import * as kplus from 'cdk8s-plus-28';
import { BasicAuth } from '../../lib/mlflow/basic-auth';
import { containerNamed, envOf, find, mountsOf, objectsOf, testChart, volumeNamed } from '../support/constructs';
import { AUTH, IAM_DATABASE, MYSQL_DATABASE } from '../support/resolved';

test('mounts the ini read-only, points MLflow at it, and passes the shared Flask key from its Secret', () => {
  const chart = testChart();
  const auth = new BasicAuth(chart, 'Auth', { auth: AUTH, serviceAccount: new kplus.ServiceAccount(chart, 'Sa') });
  const pod = new kplus.Pod(chart, 'Pod', { metadata: { name: 'p' } });
  auth.mountInto(pod.addContainer({ name: 'app', image: 'example/app:1' }));
  const spec = find(objectsOf(chart), 'Pod', 'p').spec;
  const app = containerNamed(spec, 'app');
  expect(mountsOf(app)).toEqual({ '/etc/mlflow/auth': { name: 'auth-config', readOnly: true } });
  expect(volumeNamed(spec, 'auth-config')).toEqual({ name: 'auth-config', secret: { secretName: 'mlflow-auth', items: [{ key: 'basic_auth.ini', path: 'basic_auth.ini' }] } });
  expect(envOf(app)).toEqual({
    MLFLOW_AUTH_CONFIG_PATH: '/etc/mlflow/auth/basic_auth.ini',
    MLFLOW_FLASK_SERVER_SECRET_KEY: { secretKeyRef: { name: 'mlflow-auth', key: 'MLFLOW_FLASK_SERVER_SECRET_KEY' } },
  });
  expect(auth.serverArgs).toEqual(['--app-name', 'basic-auth']);
});

test('the ini template: permission, MySQL database_uri through the proxy, admin credentials, every secret value %-doubled, the credential cache', () => {
  const ini = BasicAuth.iniTemplate({ defaultPermission: 'EDIT', credentialCacheTtlSeconds: 45 }, MYSQL_DATABASE);
  expect(ini).toBe(
    '[mlflow]\n' +
      'default_permission = EDIT\n' +
      'database_uri = mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:3306/tracking\n' +
      'admin_username = {{ .adminUsername | replace "%" "%%" }}\n' +
      'admin_password = {{ .adminPassword | replace "%" "%%" }}\n' +
      'authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n' +
      // The default when omitted is applied by the config model (test/config/basic-auth.test.ts).
      'auth_cache_ttl_seconds = 45\n',
  );
});

test("IAM login: the ini's database_uri names the IAM user as text, no password, every '%' doubled", () => {
  const uriLine = (iamUser: string) =>
    BasicAuth.iniTemplate(AUTH, { ...IAM_DATABASE, iamUser })
      .split('\n')
      .filter((l) => l.startsWith('database_uri'));
  expect(uriLine('mlflow-server')).toEqual(['database_uri = mysql+pymysql://mlflow-server@127.0.0.1:3306/tracking']);
  // A PostgreSQL-style name keeps its '@' percent-encoded, and configparser reads '%%' as '%'.
  expect(uriLine('sa@proj-123456.iam')).toEqual(['database_uri = mysql+pymysql://sa%%40proj-123456.iam@127.0.0.1:3306/tracking']);
});
