/**
 * A client's side of the contract, as synth renders it: its credentials in its own namespace (a Workload Identity
 * ServiceAccount, a SecretStore reading Secret Manager as it, an ExternalSecret writing the tracking URI, user and
 * password), its own Argo CD Application under the environment's clients' AppProject, and the server's ingress
 * policy admitting it. Expectations are dev's config facts (config/dev.yaml), written out.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { validateEnvironment } from '../../lib/config/config';
import { renderEnvironment } from '../../lib/synth/synth';
import { find, render, ROOT, shippedConfig } from '../../tools/environments';

const DEV = [
  {
    client: 'iris-trainer',
    namespace: 'ml-training',
    email: 'mlflow-dev-c-iris-trainer@example-mlflow-dev.iam.gserviceaccount.com',
    passwordSecret: 'mlflow-dev-client-iris-trainer-password',
    pods: { 'app.kubernetes.io/name': 'iris-trainer' } as Record<string, string> | undefined,
  },
  {
    client: 'iris-predictor',
    namespace: 'ml-apps',
    email: 'mlflow-dev-c-iris-predictor@example-mlflow-dev.iam.gserviceaccount.com',
    passwordSecret: 'mlflow-dev-client-iris-predictor-password',
    pods: undefined,
  },
];

let dev: ReturnType<typeof render>;
beforeAll(() => {
  dev = render(shippedConfig('dev'));
});

describe.each(DEV)('dev client $client', (c) => {
  const name = `mlflow-dev-${c.client}`;
  const objects = () => dev.byPath[`clients/mlflow/${c.client}`];

  test('exactly a ServiceAccount, a SecretStore and an ExternalSecret, all in the client namespace: no Namespace, no Secret', () => {
    expect(objects().map((m) => `${m.kind}/${m.metadata.namespace}/${m.metadata.name}`).sort()).toEqual([
      `ExternalSecret/${c.namespace}/${name}`,
      `SecretStore/${c.namespace}/${name}`,
      `ServiceAccount/${c.namespace}/${name}`,
    ]);
  });

  test("the ServiceAccount impersonates the client's Google service account, and mounts no API token", () => {
    const sa = find(objects(), 'ServiceAccount', name);
    expect(sa.metadata.annotations['iam.gke.io/gcp-service-account']).toBe(c.email);
    expect(sa.automountServiceAccountToken).toBe(false);
  });

  test("the SecretStore reads the server project's Secret Manager as that ServiceAccount (Workload Identity, no key)", () => {
    const store = find(objects(), 'SecretStore', name);
    expect(store.spec.provider).toEqual({ gcpsm: { projectID: 'example-mlflow-dev', auth: { workloadIdentity: { serviceAccountRef: { name } } } } });
  });

  test("the ExternalSecret: the server's Service URL and the user name inline, the password from the client's secret", () => {
    const es = find(objects(), 'ExternalSecret', name);
    expect(es.spec.secretStoreRef).toEqual({ kind: 'SecretStore', name });
    expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: c.passwordSecret } }]);
    expect(es.spec.target.name).toBe(name);
    expect(es.spec.target.template.data).toEqual({
      MLFLOW_TRACKING_URI: 'http://mlflow.mlflow.svc.cluster.local:5000',
      MLFLOW_TRACKING_USERNAME: c.client,
      MLFLOW_TRACKING_PASSWORD: '{{ .password }}',
    });
  });

  test('the store before the ExternalSecret, the ServiceAccount before both (sync waves)', () => {
    const wave = (kind: string) => Number(find(objects(), kind, name).metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave('ServiceAccount')).toBeLessThan(wave('SecretStore'));
    expect(wave('SecretStore')).toBeLessThan(wave('ExternalSecret'));
  });

  test('its own Application: the client folder, into the client namespace, which it does not create, in the clients project', () => {
    const app = find(dev.byPath.apps, 'Application', `mlflow-dev-client-${c.client}`);
    expect(app.spec.project).toBe('mlflow-dev-clients');
    expect(app.spec.source).toEqual({ repoURL: 'https://github.com/example-org/mlflow-gitops.git', targetRevision: 'main', path: `dist/dev/clients/mlflow/${c.client}` });
    expect(app.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: c.namespace });
    expect(app.spec.syncPolicy.syncOptions).toContain('CreateNamespace=false');
    // Beside the server's Application, after the operators': the credentials need ESO's CRDs, not a running server.
    const wave = (a: any) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(wave(app)).toBe(wave(find(dev.byPath.apps, 'Application', 'mlflow-dev')));
    expect(wave(app)).toBeGreaterThan(wave(find(dev.byPath.apps, 'Application', 'mlflow-dev-external-secrets')));
  });

  test("the server's ingress policy admits the client namespace (and only its selected pods) on the server port", () => {
    const policy = find(dev.byPath.mlflow, 'NetworkPolicy', 'mlflow-server-ingress');
    const [rule] = policy.spec.ingress;
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 5000 }]);
    const peer = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': c.namespace } }, ...(c.pods ? { podSelector: { matchLabels: c.pods } } : {}) };
    expect(rule.from).toContainEqual(peer);
  });

  test('the committed dist/ holds the same objects', () => {
    const dir = path.join(ROOT, 'dist', 'dev', 'clients', 'mlflow', c.client);
    const committed = fs.readdirSync(dir).map((f) => yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(committed).toEqual(expect.arrayContaining(objects()));
    expect(committed).toHaveLength(objects().length);
  });
});

test("the clients' AppProject: exactly the client namespaces, exactly the credentials' kinds, nothing cluster-wide", () => {
  const project = find(dev.byPath.argocd, 'AppProject', 'mlflow-dev-clients');
  expect(project.spec.destinations).toEqual([
    { server: 'https://kubernetes.default.svc', namespace: 'ml-training' },
    { server: 'https://kubernetes.default.svc', namespace: 'ml-apps' },
  ]);
  expect(project.spec.sourceRepos).toEqual(['https://github.com/example-org/mlflow-gitops.git']);
  expect(project.spec.clusterResourceWhitelist).toEqual([]);
  expect(project.spec.namespaceResourceWhitelist).toEqual([
    { group: '', kind: 'ServiceAccount' },
    { group: 'external-secrets.io', kind: 'ExternalSecret' },
    { group: 'external-secrets.io', kind: 'SecretStore' },
  ]);
  // The server's project does not reach the client namespaces.
  const server = find(dev.byPath.argocd, 'AppProject', 'mlflow-dev');
  expect(server.spec.destinations.map((d: any) => d.namespace)).not.toContain('ml-training');
  expect(server.spec.destinations.map((d: any) => d.namespace)).not.toContain('ml-apps');
});

test("an environment without clients has no clients' AppProject and no clients folder", () => {
  const out = renderEnvironment({ name: 'prod', servers: [shippedConfig('prod')] });
  expect(out.bootstrap.map((f) => f.path)).not.toContain('appproject-mlflow-prod-clients.yaml');
  expect(out.dist.filter((f) => f.path.startsWith('clients/'))).toEqual([]);
});

test("two clients in one namespace: one project destination, each client's objects named apart", () => {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, 'config', 'dev.yaml'), 'utf8')) as any;
  doc.clients[1].namespace = 'ml-training';
  const r = validateEnvironment('config/dev.yaml', doc);
  const out = renderEnvironment(r.environment!);
  const project = yaml.load(out.bootstrap.find((f) => f.path === 'appproject-mlflow-dev-clients.yaml')!.content) as any;
  expect(project.spec.destinations.map((d: any) => d.namespace)).toEqual(['ml-training']);
  const names = out.dist.filter((f) => f.path.startsWith('clients/')).map((f) => f.path);
  expect(names).toContain('clients/mlflow/iris-trainer/serviceaccount-mlflow-dev-iris-trainer.yaml');
  expect(names).toContain('clients/mlflow/iris-predictor/serviceaccount-mlflow-dev-iris-predictor.yaml');
});

test("an instance's client: its folder under clients/<instance>/, its objects and Application named after the instance", () => {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml'), 'utf8')) as any;
  doc.instances[0].clients = [
    {
      name: 'trainer',
      namespace: 'ml-training',
      passwordSecret: 'mlflow-teams-team-a-client-trainer-password',
      serviceAccountEmail: 'mlflow-teams-team-a-c-trainer@example-mlflow-teams.iam.gserviceaccount.com',
    },
  ];
  const r = validateEnvironment('config/teams.yaml', doc);
  expect(r.problems).toEqual([]);
  const out = renderEnvironment(r.environment!);
  expect(out.dist.filter((f) => f.path.startsWith('clients/')).map((f) => f.path).sort()).toEqual([
    'clients/team-a/trainer/externalsecret-mlflow-teams-team-a-trainer.yaml',
    'clients/team-a/trainer/secretstore-mlflow-teams-team-a-trainer.yaml',
    'clients/team-a/trainer/serviceaccount-mlflow-teams-team-a-trainer.yaml',
  ]);
  const es = yaml.load(out.dist.find((f) => f.path.startsWith('clients/team-a/trainer/externalsecret'))!.content) as any;
  expect(es.spec.target.template.data.MLFLOW_TRACKING_URI).toBe('http://mlflow.mlflow-team-a.svc.cluster.local:5000');
  const app = yaml.load(out.dist.find((f) => f.path === 'apps/application-mlflow-teams-team-a-client-trainer.yaml')!.content) as any;
  expect(app.spec.source.path).toBe('dist/teams/clients/team-a/trainer');
  expect(app.spec.project).toBe('mlflow-teams-clients');
});
