/** GitOps (issue: Argo CD project, app-of-apps, sync waves, bootstrap). */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { CLUSTER_SCOPED_KINDS, clusterKindsOf } from '../../lib/gitops/gitops';
import { CERT_MANAGER, EXTERNAL_SECRETS } from '../../lib/gitops/addons';
import { waveDiagram } from '../../tools/wave-diagram';
import { configFrom, find, ofKind, rawConfig, render, shippedConfig, ROOT } from '../../tools/environments';

const wave = (m: any) => Number(m.metadata.annotations['argocd.argoproj.io/sync-wave']);
const envs = ['dev', 'prod'];

function applicationsOf(r: ReturnType<typeof render>) {
  return [...r.byPath.apps, ...ofKind(r.byPath.argocd, 'Application')];
}

describe.each(envs)('%s', (env) => {
  // Rendered in beforeAll, not while jest collects the suite: `npm run mutate` attributes it to each test
  // (tools/mutation/mutation-attribution.js).
  let r: ReturnType<typeof render>;
  let apps: any[];
  let project: any;
  beforeAll(() => {
    r = render(shippedConfig(env));
    apps = applicationsOf(r);
    project = find(r.byPath.argocd, 'AppProject', `mlflow-${env}`);
  });

  test("every Application's source.path exists in the committed tree and holds manifests", () => {
    for (const a of apps.filter((x) => x.spec.source.path)) {
      const dir = path.join(ROOT, a.spec.source.path);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml'));
      expect({ app: a.metadata.name, files: files.length > 0 }).toEqual({ app: a.metadata.name, files: true });
      for (const f of files) expect((yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')) as any).kind).toBeDefined();
    }
  });

  test('no two Applications own the same object', () => {
    const owner = new Map<string, string>();
    for (const a of apps.filter((x) => x.spec.source.path)) {
      const dir = a.spec.source.path.slice(`dist/${env}/`.length);
      for (const m of r.byPath[dir]) {
        const key = `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
        expect({ key, owner: owner.get(key) }).toEqual({ key, owner: undefined });
        owner.set(key, a.metadata.name);
      }
    }
  });

  test("every Application: automated prune + self-heal, retry with backoff, SSA, prune last, in the project (a client's in the clients' project)", () => {
    for (const a of apps) {
      expect(a.spec.project).toBe(a.spec.source.path?.startsWith(`dist/${env}/clients/`) ? `mlflow-${env}-clients` : `mlflow-${env}`);
      expect(a.spec.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
      expect(a.spec.syncPolicy.retry.limit).toBeGreaterThan(0);
      expect(a.spec.syncPolicy.retry.backoff).toEqual({ duration: '10s', factor: 2, maxDuration: '5m0s' });
      expect(a.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['ServerSideApply=true', 'PruneLast=true']));
      expect(a.metadata.annotations['argocd.argoproj.io/sync-wave']).toMatch(/^-?\d+$/);
    }
  });

  test('the MLflow app: owns its Namespace (CreateNamespace=false) and ignores HPA-managed replicas', () => {
    const a = find(apps, 'Application', `mlflow-${env}`);
    expect(a.spec.source.path).toBe(`dist/${env}/mlflow`);
    expect(a.spec.syncPolicy.syncOptions).toEqual(
      expect.arrayContaining(['CreateNamespace=false', 'RespectIgnoreDifferences=true']),
    );
    // Every Deployment an HPA scales in this Application: the server's (the served models' are in their own).
    const scaled = ofKind(r.byPath.mlflow, 'HorizontalPodAutoscaler').map((h: any) => h.spec.scaleTargetRef.name);
    expect(scaled).toEqual(['mlflow']);
    expect(a.spec.ignoreDifferences).toEqual(scaled.map((name: string) => ({ group: 'apps', kind: 'Deployment', name, namespace: 'mlflow', jsonPointers: ['/spec/replicas'] })));
    for (const name of scaled) expect(find(r.byPath.mlflow, 'Deployment', name).spec.replicas).toBeUndefined();
  });

  test("the served models' app (dev only): its folder, the server's namespace and project, after the server, ignoring its HPA-managed replicas", () => {
    const serving = apps.filter((m: any) => m.metadata.name === `mlflow-${env}-serving`);
    if (env !== 'dev') {
      expect(serving).toEqual([]);
      return;
    }
    const [a] = serving;
    expect(a.spec.source.path).toBe('dist/dev/serving/mlflow');
    expect(a.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'mlflow' });
    expect(a.spec.project).toBe('mlflow-dev');
    expect(a.spec.syncPolicy.syncOptions).toEqual(expect.arrayContaining(['CreateNamespace=false', 'RespectIgnoreDifferences=true']));
    expect(Number(a.metadata.annotations['argocd.argoproj.io/sync-wave'])).toBeGreaterThan(Number(find(apps, 'Application', 'mlflow-dev').metadata.annotations['argocd.argoproj.io/sync-wave']));
    const scaled = ofKind(r.byPath['serving/mlflow'], 'HorizontalPodAutoscaler').map((h: any) => h.spec.scaleTargetRef.name);
    expect(scaled).toEqual(['serve-iris']);
    expect(a.spec.ignoreDifferences).toEqual([{ group: 'apps', kind: 'Deployment', name: 'serve-iris', namespace: 'mlflow', jsonPointers: ['/spec/replicas'] }]);
  });

  test('the root app: app-of-apps over dist/<env>/apps, no cascade finalizer', () => {
    const root = find(r.byPath.argocd, 'Application', `mlflow-${env}-root`);
    expect(root.spec.source.path).toBe(`dist/${env}/apps`);
    expect(root.spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
    expect(root.metadata.finalizers).toBeUndefined();
  });

  test('the AppProject admits exactly the destinations its Applications use', () => {
    const used = new Set(apps.filter((a) => a.spec.project === project.metadata.name).map((a) => `${a.spec.destination.server}|${a.spec.destination.namespace}`));
    const allowed = new Set(project.spec.destinations.map((d: any) => `${d.server}|${d.namespace}`));
    expect([...allowed].sort()).toEqual([...used].sort());
    expect(project.spec.destinations.some((d: any) => d.namespace === '*' || d.server === '*')).toBe(false);
  });

  test('the AppProject admits exactly the source repositories the Applications use', () => {
    expect([...project.spec.sourceRepos].sort()).toEqual([...new Set(apps.map((a) => a.spec.source.repoURL))].sort());
  });

  test('the AppProject allows exactly the cluster-scoped kinds rendered or created by the add-on charts', () => {
    const rendered = clusterKindsOf(r.all.filter((m) => m.metadata.namespace !== 'argocd'));
    const addons = apps.filter((a) => a.spec.source.chart).flatMap((a) => [EXTERNAL_SECRETS, CERT_MANAGER].find((x) => x.chart === a.spec.source.chart)!.clusterKinds);
    const expected = new Set([...rendered, ...addons].map((k) => `${k.group}/${k.kind}`));
    const allowed = project.spec.clusterResourceWhitelist.map((k: any) => `${k.group}/${k.kind}`);
    expect(allowed.sort()).toEqual([...expected].sort());
    expect(allowed).not.toContain('*/*');
  });
});

test('the AppProject of dev: the root app writes the child Applications into argocd in-cluster; MLflow and the add-ons go to the configured server', () => {
  const destinations = (r: ReturnType<typeof render>) => find(r.byPath.argocd, 'AppProject', 'mlflow-dev').spec.destinations;
  expect(destinations(render(shippedConfig('dev')))).toEqual([
    { server: 'https://kubernetes.default.svc', namespace: 'argocd' },
    { server: 'https://kubernetes.default.svc', namespace: 'mlflow' },
    { server: 'https://kubernetes.default.svc', namespace: 'external-secrets' },
    { server: 'https://kubernetes.default.svc', namespace: 'cert-manager' },
  ]);
  // Another cluster for the workloads: Argo CD and its Applications stay where Argo CD runs.
  const doc = rawConfig('dev');
  doc.gitops.destinationServer = 'https://mlflow-cluster.example.com';
  const r = render(configFrom('dev', doc));
  expect(destinations(r)).toEqual([
    { server: 'https://kubernetes.default.svc', namespace: 'argocd' },
    { server: 'https://mlflow-cluster.example.com', namespace: 'mlflow' },
    { server: 'https://mlflow-cluster.example.com', namespace: 'external-secrets' },
    { server: 'https://mlflow-cluster.example.com', namespace: 'cert-manager' },
  ]);
  expect(find(r.byPath.argocd, 'Application', 'mlflow-dev-root').spec.destination).toEqual({ server: 'https://kubernetes.default.svc', namespace: 'argocd' });
  expect(find(r.byPath.apps, 'Application', 'mlflow-dev').spec.destination).toEqual({ server: 'https://mlflow-cluster.example.com', namespace: 'mlflow' });
});

test('wave order: add-ons < ClusterIssuer < MLflow', () => {
  const apps = render(shippedConfig('dev')).byPath.apps;
  const w = (name: string) => wave(find(apps, 'Application', name));
  expect(w('mlflow-dev-external-secrets')).toBeLessThan(w('mlflow-dev-cluster-issuer'));
  expect(w('mlflow-dev-cert-manager')).toBeLessThan(w('mlflow-dev-cluster-issuer'));
  expect(w('mlflow-dev-cluster-issuer')).toBeLessThan(w('mlflow-dev'));
});

test('add-ons are upstream charts at pinned versions matching the CRDs we validate against', () => {
  const apps = render(shippedConfig('dev')).byPath.apps;
  const eso = find(apps, 'Application', 'mlflow-dev-external-secrets').spec.source;
  const cm = find(apps, 'Application', 'mlflow-dev-cert-manager').spec.source;
  expect([eso.repoURL, eso.chart, eso.targetRevision]).toEqual(['https://charts.external-secrets.io', 'external-secrets', '2.9.0']);
  expect([cm.repoURL, cm.chart, cm.targetRevision]).toEqual(['https://charts.jetstack.io', 'cert-manager', 'v1.21.1']);
  const readme = fs.readFileSync(path.join(ROOT, 'schemas', 'crds', 'README.md'), 'utf8');
  expect(readme).toContain('| external-secrets | github.com/external-secrets/external-secrets | v2.9.0');
  expect(readme).toContain('| cert-manager | github.com/cert-manager/cert-manager | v1.21.1');
});

test('ClusterIssuer: ACME HTTP-01 through the GKE ingress class, with the configured server', () => {
  const ci = find(render(shippedConfig('dev')).byPath['cluster-issuer'], 'ClusterIssuer', 'letsencrypt-staging');
  expect(ci.spec.acme).toEqual({
    server: 'https://acme-staging-v02.api.letsencrypt.org/directory',
    email: 'platform-team@example.com',
    privateKeySecretRef: { name: 'letsencrypt-staging-account-key' },
    solvers: [{ http01: { ingress: { class: 'gce' } } }],
  });
});

test('add-ons off (prod): no add-on Applications, and the project shrinks to what MLflow needs', () => {
  const r = render(shippedConfig('prod'));
  expect(r.byPath.apps.map((a) => a.metadata.name)).toEqual(['mlflow-prod']);
  const project = find(r.byPath.argocd, 'AppProject', 'mlflow-prod');
  expect(project.spec.clusterResourceWhitelist).toEqual([{ group: '', kind: 'Namespace' }]);
  expect(project.spec.sourceRepos).toEqual(['https://github.com/example-org/mlflow-gitops.git']);
});

test('an environment without gitops (local) renders no Argo CD objects', () => {
  const r = render(shippedConfig('local'));
  expect(Object.keys(r.byPath)).toEqual(['mlflow']);
});

test('the argocd-cm patch carries only the Application health check', () => {
  const cm = find(render(shippedConfig('dev')).byPath.argocd, 'ConfigMap', 'argocd-cm');
  expect(Object.keys(cm.data)).toEqual(['resource.customizations.health.argoproj.io_Application']);
  expect(cm.data['resource.customizations.health.argoproj.io_Application']).toContain('hs.status = obj.status.health.status');
  expect(cm.immutable).toBeUndefined();
});

test('the cluster-scoped kind table agrees with the CRD files', () => {
  const dir = path.join(ROOT, 'schemas', 'crds');
  for (const group of fs.readdirSync(dir).filter((d) => fs.statSync(path.join(dir, d)).isDirectory())) {
    for (const f of fs.readdirSync(path.join(dir, group))) {
      const crd = yaml.load(fs.readFileSync(path.join(dir, group, f), 'utf8')) as any;
      if (CLUSTER_SCOPED_KINDS.has(crd.spec.names.kind)) expect({ f, scope: crd.spec.scope }).toEqual({ f, scope: 'Cluster' });
      else expect({ f, scope: crd.spec.scope }).toEqual({ f, scope: 'Namespaced' });
    }
  }
});

test('the wave diagram of docs/deploying.md is the generated one', () => {
  const r = render(shippedConfig('dev'));
  const diagram = waveDiagram('dev', r.byPath.apps, r.byPath.mlflow, r.byPath['serving/mlflow']);
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'deploying.md'), 'utf8');
  const m = /<!-- waves:begin -->\n```text\n([\s\S]*?)\n```\n<!-- waves:end -->/.exec(readme);
  expect(m?.[1]).toBe(diagram);
});

test('a variant without cert-manager drops its Application, its destination and its kinds', () => {
  const doc = rawConfig('dev');
  doc.gitops.addons.certManager = false;
  const r = render(configFrom('dev', doc));
  const project = find(r.byPath.argocd, 'AppProject', 'mlflow-dev');
  expect(r.byPath.apps.map((a) => a.metadata.name).sort()).toEqual([
    'mlflow-dev',
    'mlflow-dev-client-iris-predictor',
    'mlflow-dev-client-iris-trainer',
    'mlflow-dev-external-secrets',
    'mlflow-dev-serving',
  ]);
  expect(project.spec.destinations.map((d: any) => d.namespace)).not.toContain('cert-manager');
  expect(project.spec.clusterResourceWhitelist.map((k: any) => k.kind)).not.toContain('MutatingWebhookConfiguration');
});
