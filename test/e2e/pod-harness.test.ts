/**
 * The pod harness itself (test/support/pod-harness.ts), without starting anything: the ESO template subset it
 * implements and its refusals, the rendered Secrets of the shipped configs, and that a prepared container differs
 * from the synthesized one ONLY by the listed rewrites.
 */
import * as fs from 'fs';
import { find } from '../support/environments';
import {
  PodRoot,
  goQueryEscape,
  mlflowPython,
  prepareContainer,
  renderEsoTemplate,
  renderPod,
  renderSecrets,
  rewriteRules,
  selectContainer,
  testSecretValues,
} from '../support/pod-harness';

describe('ESO v2 templates: exactly the functions the project uses', () => {
  test('plain keys, urlquery (Go url.QueryEscape: space → +, reserved bytes %XX), replace (piped value last)', () => {
    const data = { user: 'a b+c/d%é', pw: '50%' };
    expect(renderEsoTemplate('{{ .user }}', data, 'x')).toBe('a b+c/d%é');
    expect(renderEsoTemplate('{{ .user | urlquery }}', data, 'x')).toBe('a+b%2Bc%2Fd%25%C3%A9');
    expect(renderEsoTemplate('{{ .pw | urlquery | replace "%" "%%" }}', data, 'x')).toBe('50%%25');
    expect(renderEsoTemplate('u={{.pw|replace "%" "%%"}};', data, 'x')).toBe('u=50%%;');
    expect(goQueryEscape('AZaz09-_.~ !*\'()')).toBe('AZaz09-_.~+%21%2A%27%28%29');
  });

  test('any other function fails loudly, naming where and what is implemented', () => {
    expect(() => renderEsoTemplate('{{ .pw | b64enc }}', { pw: 'x' }, 'ExternalSecret/e key k')).toThrow(
      'ExternalSecret/e key k: unsupported template function "b64enc" with 0 argument(s) (the harness implements: urlquery, replace)',
    );
    expect(() => renderEsoTemplate('{{ .pw | replace "a" }}', { pw: 'x' }, 'w')).toThrow(
      'w: unsupported template function "replace" with 1 argument(s) (the harness implements: urlquery, replace)',
    );
    expect(() => renderEsoTemplate('{{ upper .pw }}', { pw: 'x' }, 'w')).toThrow('w: unsupported template expression "upper .pw" (only .key, optionally piped)');
    expect(() => renderEsoTemplate('{{- .pw }}', { pw: 'x' }, 'w')).toThrow('w: unsupported template syntax {{- .pw }} (trim markers)');
    expect(() => renderEsoTemplate('{{ .missing }}', { pw: 'x' }, 'w')).toThrow('w: template key .missing has no value (keys: pw)');
  });

  test("dev's Secrets rendered from its ExternalSecrets with Secret Manager test values", () => {
    const { manifests } = renderPod('dev');
    const secrets = renderSecrets(manifests, {
      'mlflow-dev-db-user': 'u%1',
      'mlflow-dev-db-password': 'p w',
      'mlflow-dev-flask-secret-key': 'fk',
      'mlflow-dev-admin-username': 'admin',
      'mlflow-dev-admin-password': 'a%b',
      'mlflow-dev-metrics-password': 'mp',
      'mlflow-dev-smoke-password': 'sp',
    });
    expect(secrets.get('mlflow-database')).toEqual({ MLFLOW_BACKEND_STORE_URI: 'mysql+pymysql://u%251:p+w@127.0.0.1:3306/mlflow' });
    expect(secrets.get('mlflow-auth')!.MLFLOW_FLASK_SERVER_SECRET_KEY).toBe('fk');
    expect(secrets.get('mlflow-auth')!['basic_auth.ini']).toContain('database_uri = mysql+pymysql://u%%251:p+w@127.0.0.1:3306/mlflow\n');
    expect(secrets.get('mlflow-auth')!['basic_auth.ini']).toContain('admin_password = a%%b\n');
    expect(secrets.get('mlflow-metrics-auth')).toEqual({ username: 'metrics-scraper', password: 'mp' });
    expect(secrets.get('mlflow-smoke-auth')).toEqual({ username: 'smoke-test', password: 'sp' });
  });

  test('a Secret Manager id without a test value fails, naming it', () => {
    const { manifests } = renderPod('dev');
    expect(() => renderSecrets(manifests, {})).toThrow('ExternalSecret/mlflow-database: no test value for Secret Manager secret "mlflow-dev-db-user"');
  });
});

describe('rewrite rules', () => {
  const rules = rewriteRules({
    database: 'mlflow_t',
    ports: new Map([[5000, 41000]]),
    gcsRoot: '/r/gcs',
    mounts: new Map([
      ['/tmp', '/r/v/tmp'],
      ['/mlflow/data', '/r/v/data'],
    ]),
  });
  const apply = (s: string) => rules.reduce((acc, r) => r.apply(acc), s);

  test('database address, gs:// destination and mount paths; nothing else', () => {
    expect(apply('mysql+pymysql://u:p@127.0.0.1:3306/mlflow')).toBe('mysql+pymysql://u:p@127.0.0.1:33306/mlflow_t');
    expect(apply('gs://bucket-1/mlflow')).toBe('/r/gcs/bucket-1/mlflow');
    expect(apply('sqlite:////mlflow/data/mlflow.db')).toBe('sqlite:////r/v/data/mlflow.db');
    expect(apply('/tmp')).toBe('/r/v/tmp');
    expect(apply('/tmpfoo')).toBe('/tmpfoo');
    expect(apply('/opt/tmp/x')).toBe('/opt/tmp/x');
    expect(apply('mysql+pymysql://u:p@10.0.0.1:3306/mlflow')).toBe('mysql+pymysql://u:p@10.0.0.1:3306/mlflow');
    expect(rules.map((r) => r.name)).toEqual(['database-address', 'artifacts-gcs', 'port', 'mount-path']);
  });
});

(mlflowPython() ? describe : describe.skip)('a prepared container is the synthesized one, except for the listed rewrites', () => {
  const roots: PodRoot[] = [];
  afterAll(() => roots.forEach((r) => r.remove()));

  test.each(['dev', 'local'])('%s server: argv and env equal the rendered ones at every position no rewrite hit', async (env) => {
    const rendered = renderPod(env);
    const root = new PodRoot(`unit-${env}`);
    roots.push(root);
    const sel = { kind: 'Deployment', name: 'mlflow', container: 'mlflow' } as const;
    const p = await prepareContainer(rendered, sel, { pod: root, secretValues: testSecretValues(rendered.config).values, database: 'mlflow_unit' });
    const { container } = selectContainer(rendered.manifests, sel);
    const rewrittenArgv = new Set(p.rewrites.filter((r) => r.where.startsWith('argv[')).map((r) => Number(/\[(\d+)\]/.exec(r.where)![1])));
    container.command.forEach((a: string, i: number) => {
      if (!rewrittenArgv.has(i)) expect([i, p.argv[i]]).toEqual([i, a]);
    });
    expect(p.argv.length).toBe(container.command.length + (container.args?.length ?? 0));
    const rewrittenEnv = new Set(p.rewrites.filter((r) => r.where.startsWith('env ')).map((r) => r.where.slice(4)));
    for (const e of container.env) if (e.value !== undefined && !rewrittenEnv.has(e.name)) expect([e.name, p.env[e.name]]).toEqual([e.name, e.value]);
    expect(Object.keys(p.env).sort()).toEqual([...container.env.map((e: any) => e.name), 'PATH'].sort());
    expect(new Set(p.rewrites.map((r) => r.rule))).toEqual(new Set(env === 'dev' ? ['database-address', 'artifacts-gcs', 'port', 'mount-path'] : ['port', 'mount-path']));
    // Files at the (mapped) mount paths: the auth ini from the Secret, read-only.
    if (env === 'dev') {
      const ini = fs.readFileSync(p.env.MLFLOW_AUTH_CONFIG_PATH, 'utf8');
      expect(ini).toContain('database_uri = mysql+pymysql://mlflow_test:mlflow_test@127.0.0.1:33306/mlflow_unit\n');
      expect(find(rendered.manifests, 'Deployment', 'mlflow').spec.template.spec.volumes.find((v: any) => v.name === 'auth-config').secret.secretName).toBe('mlflow-auth');
    }
  });
});
