/** ArgoApplication, ArgoProject and AcmeClusterIssuer in test charts: each prop on and off. */
import { ArgoApplication, ArgoProject } from '../../lib/gitops/argocd';
import { AcmeClusterIssuer } from '../../lib/gitops/cluster-issuer';
import { find, objectsOf, testChart } from '../support/constructs';

const GIT = { repoURL: 'https://git.example.com/r.git', targetRevision: 'main', path: 'dist/x/mlflow' };

function application(props: Partial<ConstructorParameters<typeof ArgoApplication>[2]> = {}) {
  const chart = testChart();
  new ArgoApplication(chart, 'App', {
    name: 'app',
    project: 'proj',
    source: GIT,
    destination: { server: 'https://cluster.example.com', namespace: 'team' },
    syncWave: -5,
    ...props,
  });
  return find(objectsOf(chart), 'Application', 'app');
}

describe('ArgoApplication', () => {
  test('defaults: in argocd, its wave, cascade finalizer, automated prune + self-heal, retry, SSA, prune last, no namespace creation', () => {
    expect(application()).toEqual({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: {
        name: 'app',
        namespace: 'argocd',
        annotations: { 'argocd.argoproj.io/sync-wave': '-5' },
        finalizers: ['resources-finalizer.argocd.argoproj.io'],
      },
      spec: {
        project: 'proj',
        source: { repoURL: 'https://git.example.com/r.git', targetRevision: 'main', path: 'dist/x/mlflow' },
        destination: { server: 'https://cluster.example.com', namespace: 'team' },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m0s' } },
          syncOptions: ['CreateNamespace=false', 'ServerSideApply=true', 'PruneLast=true'],
        },
      },
    });
  });

  test('cascadeDelete false: no finalizer (a root app)', () => {
    expect(application({ cascadeDelete: false }).metadata.finalizers).toBeUndefined();
  });

  test('createNamespace: Argo CD creates the destination namespace', () => {
    expect(application({ createNamespace: true }).spec.syncPolicy.syncOptions).toEqual(['CreateNamespace=true', 'ServerSideApply=true', 'PruneLast=true']);
  });

  test('HPA-managed Deployments: replicas ignored in diff and sync', () => {
    const app = application({ hpaManaged: [{ name: 'web', namespace: 'team' }, { name: 'api', namespace: 'team' }] });
    expect(app.spec.syncPolicy.syncOptions).toEqual(['CreateNamespace=false', 'ServerSideApply=true', 'PruneLast=true', 'RespectIgnoreDifferences=true']);
    expect(app.spec.ignoreDifferences).toEqual([
      { group: 'apps', kind: 'Deployment', name: 'web', namespace: 'team', jsonPointers: ['/spec/replicas'] },
      { group: 'apps', kind: 'Deployment', name: 'api', namespace: 'team', jsonPointers: ['/spec/replicas'] },
    ]);
  });

  test('a Helm chart source: chart, exact version, release name and values', () => {
    const app = application({
      source: { repoURL: 'https://charts.example.com', chart: 'thing', targetRevision: '1.2.3', releaseName: 'thing', values: { replicas: 2 } },
    });
    expect(app.spec.source).toEqual({ repoURL: 'https://charts.example.com', chart: 'thing', targetRevision: '1.2.3', helm: { releaseName: 'thing', valuesObject: { replicas: 2 } } });
  });
});

test('ArgoProject: only the given repositories, destinations and cluster-scoped kinds', () => {
  const chart = testChart();
  const project = new ArgoProject(chart, 'P', {
    name: 'proj',
    description: 'd',
    sourceRepos: ['https://git.example.com/r.git'],
    destinations: [{ server: 'https://cluster.example.com', namespace: 'team' }],
    clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
  });
  expect(project.name).toBe('proj');
  expect(find(objectsOf(chart), 'AppProject', 'proj')).toEqual({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: 'proj', namespace: 'argocd' },
    spec: {
      description: 'd',
      sourceRepos: ['https://git.example.com/r.git'],
      destinations: [{ server: 'https://cluster.example.com', namespace: 'team' }],
      clusterResourceWhitelist: [{ group: '', kind: 'Namespace' }],
    },
  });
});

describe('AcmeClusterIssuer', () => {
  const issuer = (server?: 'production' | 'staging') => {
    const chart = testChart();
    new AcmeClusterIssuer(chart, 'I', { name: 'le', email: 'ops@example.com', server, ingressClass: 'gce' });
    return find(objectsOf(chart), 'ClusterIssuer', 'le').spec.acme;
  };

  test('production by default, HTTP-01 through the ingress class, an account key per issuer', () => {
    expect(issuer()).toEqual({
      server: 'https://acme-v02.api.letsencrypt.org/directory',
      email: 'ops@example.com',
      privateKeySecretRef: { name: 'le-account-key' },
      solvers: [{ http01: { ingress: { class: 'gce' } } }],
    });
  });

  test('staging on request', () => {
    expect(issuer('staging').server).toBe('https://acme-staging-v02.api.letsencrypt.org/directory');
  });
});

test('snapshot: a Helm-sourced Application and an HPA-managed one', () => {
  expect([
    application({ source: { repoURL: 'https://charts.example.com', chart: 'thing', targetRevision: '1.2.3', releaseName: 'thing', values: {} }, createNamespace: true }),
    application({ hpaManaged: [{ name: 'web', namespace: 'team' }], cascadeDelete: false }),
  ]).toMatchSnapshot();
});
