/**
 * The pod harness itself (tools/pod-harness/), without starting anything: the ESO template subset it
 * implements and its refusals, the rendered Secrets of the shipped configs, and that a prepared container differs
 * from the synthesized one ONLY by the listed rewrites.
 */
import * as fs from 'fs';
import { find } from '../../tools/environments';
import { mlflowPython } from '../../tools/pod-harness/test-servers';
import { goQueryEscape, renderEsoTemplate, renderSecrets, testSecretValues } from '../../tools/pod-harness/secrets';
import { proxyAddress, rewriteRules } from '../../tools/pod-harness/rewrites';
import { PodRoot, prepareContainer, renderPod, selectContainer, serviceUrls } from '../../tools/pod-harness/container';

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
      'mlflow-dev-client-iris-trainer-password': 'tp',
      'mlflow-dev-client-iris-predictor-password': 'pp',
      'mlflow-dev-serving-iris-password': 'ip',
    });
    expect(secrets.get('mlflow-database')).toEqual({ MLFLOW_BACKEND_STORE_URI: 'mysql+pymysql://u%251:p%20w@127.0.0.1:3306/mlflow' });
    expect(secrets.get('mlflow-auth')!.MLFLOW_FLASK_SERVER_SECRET_KEY).toBe('fk');
    expect(secrets.get('mlflow-auth')!['basic_auth.ini']).toContain('database_uri = mysql+pymysql://u%%251:p%%20w@127.0.0.1:3306/mlflow\n');
    expect(secrets.get('mlflow-auth')!['basic_auth.ini']).toContain('admin_password = a%%b\n');
    expect(secrets.get('mlflow-metrics-auth')).toEqual({ username: 'metrics-scraper', password: 'mp' });
    expect(secrets.get('mlflow-smoke-auth')).toEqual({ username: 'smoke-test', password: 'sp' });
    expect(secrets.get('serve-iris-auth')).toEqual({ username: 'serve-iris', password: 'ip' });
    expect(secrets.get('mlflow-user-passwords')).toEqual({ 'iris-trainer': 'tp', 'iris-predictor': 'pp', 'serve-iris': 'ip' });
  });

  test('a Secret Manager id without a test value fails, naming it', () => {
    const { manifests } = renderPod('dev');
    expect(() => renderSecrets(manifests, {})).toThrow('ExternalSecret/mlflow-database: no test value for Secret Manager secret "mlflow-dev-db-user"');
  });
});

describe('rewrite rules', () => {
  const rules = rewriteRules({
    database: 'mlflow_t',
    proxyAddress: '127.0.0.1:3306',
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

  test("the database address is the rendered Cloud SQL proxy's (--address, --port of its sidecar)", () => {
    expect(proxyAddress(renderPod('dev').manifests)).toBe('127.0.0.1:3306');
    expect(proxyAddress(renderPod('local').manifests)).toBeUndefined();
    const manifests = structuredClone(renderPod('dev').manifests) as any[];
    const job = find(manifests, 'Job', 'mlflow-migrate').spec.template.spec;
    const proxy = job.initContainers.find((c: any) => c.name === 'cloud-sql-proxy');
    proxy.args = proxy.args.map((a: string) => (a === '--port=3306' ? '--port=3307' : a));
    expect(() => proxyAddress(manifests)).toThrow('Cloud SQL proxies listen on different addresses: 127.0.0.1:3306, 127.0.0.1:3307');
  });

  test("the Service's in-cluster URLs → the started server, only when a client asks for it", () => {
    const urls = serviceUrls(renderPod('dev').manifests);
    expect(urls).toEqual([
      'http://mlflow:5000',
      'http://mlflow.mlflow:5000',
      'http://mlflow.mlflow.svc:5000',
      'http://mlflow.mlflow.svc.cluster.local:5000',
    ]);
    const [svc] = rewriteRules({ ports: new Map(), gcsRoot: '/g', mounts: new Map(), service: { urls, to: 'http://127.0.0.1:41000' } }).filter(
      (r) => r.name === 'service-address',
    );
    expect(svc.apply('http://mlflow.mlflow.svc.cluster.local:5000')).toBe('http://127.0.0.1:41000');
    expect(svc.apply('http://mlflow:5000/api')).toBe('http://127.0.0.1:41000/api');
    expect(svc.apply('http://mlflow:50001')).toBe('http://mlflow:50001');
    expect(svc.apply('https://mlflow.dev.example.com')).toBe('https://mlflow.dev.example.com');
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

(mlflowPython() ? describe : describe.skip)('what the harness cannot reproduce fails loudly, naming the container', () => {
  const roots: PodRoot[] = [];
  afterAll(() => roots.forEach((r) => r.remove()));
  const SERVER = { kind: 'Deployment', name: 'mlflow', container: 'mlflow' } as const;
  const WHERE = 'Deployment/mlflow container mlflow';

  /** local's objects with the server container (or its pod) changed by `edit`. */
  async function prepareEdited(edit: (container: any, pod: any) => void) {
    const rendered = renderPod('local');
    const manifests = structuredClone(rendered.manifests) as any[];
    const pod = find(manifests, 'Deployment', 'mlflow').spec.template.spec;
    edit(pod.containers.find((c: any) => c.name === 'mlflow'), pod);
    const root = new PodRoot('unit-guard');
    roots.push(root);
    return prepareContainer({ config: rendered.config, manifests }, SERVER, { pod: root, secretValues: {} });
  }

  test.each([
    ['an envFrom of another kind', (c: any) => (c.envFrom = [{ volumeRef: { name: 'x' } }]), `${WHERE}: envFrom {"volumeRef":{"name":"x"}}: only secretRef and configMapRef are supported by the harness`],
    ['an envFrom Secret no ExternalSecret renders', (c: any) => (c.envFrom = [{ secretRef: { name: 'x' } }]), `${WHERE}: envFrom Secret/x is not rendered`],
    ['a fieldRef other than name/namespace', (c: any) => c.env.push({ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }), `${WHERE}: env IP: fieldRef status.podIP is not supported by the harness`],
    ['a Secret no ExternalSecret renders', (c: any) => c.env.push({ name: 'S', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }), `${WHERE}: env S: Secret nope key k is not rendered`],
    ['a subPath mount', (c: any) => (c.volumeMounts[0].subPath = 'x'), `${WHERE}: volumeMount tmp uses subPath (not supported by the harness)`],
    [
      'a hostPath volume',
      (_c: any, p: any) => {
        const tmp = p.volumes.find((v: any) => v.name === 'tmp');
        delete tmp.emptyDir;
        tmp.hostPath = { path: '/x' };
      },
      `${WHERE}: volume tmp of an unsupported type (hostPath)`,
    ],
    ['a PATH set by the container', (c: any) => c.env.push({ name: 'PATH', value: '/x' }), `${WHERE}: the container sets PATH; the harness prepends the venv's bin/ to it`],
    ['no command', (c: any) => delete c.command, `${WHERE}: no command/args (the image's entrypoint is not known to the harness)`],
  ])('%s', async (_what, edit, message) => {
    await expect(prepareEdited(edit)).rejects.toThrow(message);
  });

  test('a secret file rewrite of a key the Secret lacks', async () => {
    const rendered = renderPod('dev');
    const root = new PodRoot('unit-guard');
    roots.push(root);
    const secretFileRewrite = { secret: 'mlflow-auth', key: 'nope.ini', description: 'bench: x', apply: (x: string) => x };
    await expect(prepareContainer(rendered, SERVER, { pod: root, secretValues: testSecretValues(rendered.config).values, secretFileRewrite })).rejects.toThrow(
      `${WHERE}: secret file rewrite "bench: x": Secret mlflow-auth has no key nope.ini`,
    );
  });

  test('two volumes at one mount path', async () => {
    await expect(prepareEdited((c) => c.volumeMounts.push({ name: 'data', mountPath: '/tmp' }))).rejects.toThrow(`${WHERE}: two volumes at /tmp`);
  });

  // Only as root does the harness switch users.
  (process.getuid?.() === 0 ? test : test.skip)('a pod without runAsUser is not run as root', async () => {
    await expect(
      prepareEdited((c, p) => {
        delete c.securityContext.runAsUser;
        delete p.securityContext.runAsUser;
      }),
    ).rejects.toThrow(`${WHERE}: no runAsUser; the harness will not run a container as root`);
  });
});
