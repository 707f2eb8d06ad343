/** ExternalSecrets: every credential from Secret Manager through ESO v1; nothing secret in the output. */
import { find, ofKind, render, shippedConfigs, shippedConfig } from './support/environments';

const dev = render(shippedConfig('dev')).byPath.mlflow;

test('a namespaced SecretStore for GCP Secret Manager, authenticating as the app KSA (Workload Identity)', () => {
  const s = find(dev, 'SecretStore', 'gcp-secret-manager');
  expect(s.apiVersion).toBe('external-secrets.io/v1');
  expect(s.spec.provider.gcpsm).toEqual({
    projectID: 'example-mlflow-dev',
    auth: { workloadIdentity: { serviceAccountRef: { name: 'mlflow' } } },
  });
});

test('backend URI: user and password percent-encoded, through the proxy on loopback', () => {
  const es = find(dev, 'ExternalSecret', 'mlflow-database');
  expect(es.apiVersion).toBe('external-secrets.io/v1');
  expect(es.spec.data).toEqual([
    { secretKey: 'user', remoteRef: { key: 'mlflow-dev-db-user' } },
    { secretKey: 'password', remoteRef: { key: 'mlflow-dev-db-password' } },
  ]);
  expect(es.spec.target.template.data).toEqual({
    MLFLOW_BACKEND_STORE_URI: 'mysql+pymysql://{{ .user | urlquery }}:{{ .password | urlquery }}@127.0.0.1:3306/mlflow',
  });
  expect(es.spec.target).toMatchObject({ name: 'mlflow-database', creationPolicy: 'Owner' });
  expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'gcp-secret-manager' });
});

test('refresh interval in Go normalized form (no perpetual Argo CD drift)', () => {
  for (const es of ofKind(dev, 'ExternalSecret')) expect(es.spec.refreshInterval).toBe('1h0m0s');
});

test('auth: Flask key and the ini, with database_uri in MySQL and % doubled', () => {
  const es = find(dev, 'ExternalSecret', 'mlflow-auth');
  expect(es.spec.data.map((d: any) => d.remoteRef.key)).toEqual([
    'mlflow-dev-db-user',
    'mlflow-dev-db-password',
    'mlflow-dev-flask-secret-key',
    'mlflow-dev-admin-username',
    'mlflow-dev-admin-password',
  ]);
  const t = es.spec.target.template.data;
  expect(t.MLFLOW_FLASK_SERVER_SECRET_KEY).toBe('{{ .flaskSecretKey }}');
  const ini = t['basic_auth.ini'].split('\n');
  expect(ini[0]).toBe('[mlflow]');
  expect(ini).toContain('default_permission = READ');
  expect(ini).toContain(
    'database_uri = mysql+pymysql://{{ .user | urlquery | replace "%" "%%" }}:{{ .password | urlquery | replace "%" "%%" }}@127.0.0.1:3306/mlflow',
  );
  expect(ini).toContain('admin_password = {{ .adminPassword | replace "%" "%%" }}');
});

test('metrics scrape credentials: literal user name, password from Secret Manager', () => {
  const es = find(dev, 'ExternalSecret', 'mlflow-metrics-auth');
  expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'mlflow-dev-metrics-password' } }]);
  expect(es.spec.target.template.data).toEqual({ username: 'metrics-scraper', password: '{{ .password }}' });
});

test('no Secret objects, no v1beta1, no literal credentials anywhere in any environment', () => {
  for (const c of shippedConfigs()) {
    const all = render(c).all;
    expect(ofKind(all, 'Secret')).toEqual([]);
    for (const m of all) {
      expect(m.apiVersion).not.toBe('external-secrets.io/v1beta1');
      expect(JSON.stringify(m)).not.toMatch(/(mysql|postgresql)(\+\w+)?:\/\/[^{]/); // a URI with a literal user
    }
    // Every templated value comes from a Secret Manager reference, except the scrape and smoke users' (public) names.
    for (const es of ofKind(all, 'ExternalSecret')) {
      for (const [key, value] of Object.entries<string>(es.spec.target.template.data)) {
        if (['mlflow-metrics-auth', 'mlflow-smoke-auth'].includes(es.metadata.name) && key === 'username') continue;
        expect({ key, templated: /\{\{ \.\w+/.test(value) }).toEqual({ key, templated: true });
      }
    }
  }
});
