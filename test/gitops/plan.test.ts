/** gitOpsPlan and the cluster-kind allow-list: what an environment's GitOps side derives from its config. */
import { CERT_MANAGER, EXTERNAL_SECRETS } from '../../lib/gitops/addons';
import { clusterKindsOf } from '../../lib/gitops/gitops';
import { configFrom, planOf, rawConfig, shippedConfig } from '../../tools/environments';

function plan(mutate: (doc: any) => void) {
  const doc = rawConfig('dev');
  mutate(doc);
  return planOf(configFrom('dev', doc));
}

test('dev: both add-ons, a staging ClusterIssuer on the GKE class, HPA-managed server, and its served model in an Application of its own', () => {
  expect(planOf(shippedConfig('dev'))).toEqual({
    environment: 'dev',
    project: 'mlflow-dev',
    gitops: rawConfig('dev').gitops,
    namespace: 'mlflow',
    distPath: 'dist/dev',
    addons: [EXTERNAL_SECRETS, CERT_MANAGER],
    clusterIssuer: { name: 'letsencrypt-staging', email: 'platform-team@example.com', server: 'staging', ingressClass: 'gce' },
    autoscaledDeployments: ['mlflow'],
    clients: [
      { name: 'iris-trainer', namespace: 'ml-training' },
      { name: 'iris-predictor', namespace: 'ml-apps' },
    ],
    servedDeployments: ['serve-iris'],
  });
});

test('the ACME server defaults to production', () => {
  expect(plan((d) => delete d.gitops.addons.acmeServer)?.clusterIssuer?.server).toBe('production');
});

test('no ClusterIssuer without an Ingress, or without cert-manager', () => {
  expect(plan((d) => (d.exposure = { mode: 'none' }))?.clusterIssuer).toBeUndefined();
  expect(plan((d) => (d.gitops.addons.certManager = false))?.clusterIssuer).toBeUndefined();
});

test('add-ons each on their own; none without an addons section', () => {
  expect(plan((d) => (d.gitops.addons.externalSecrets = false))?.addons).toEqual([CERT_MANAGER]);
  expect(plan((d) => delete d.gitops.addons)?.addons).toEqual([]);
});

test('prod: no add-ons section, so no add-ons and no ClusterIssuer; HPA-managed', () => {
  expect(planOf(shippedConfig('prod'))).toEqual({
    environment: 'prod',
    project: 'mlflow-prod',
    gitops: rawConfig('prod').gitops,
    namespace: 'mlflow',
    distPath: 'dist/prod',
    addons: [],
    clusterIssuer: undefined,
    autoscaledDeployments: ['mlflow'],
    clients: [],
    servedDeployments: [],
  });
});

test('a fixed replica count (local, deployed by Argo CD): not HPA-managed', () => {
  const doc = rawConfig('local');
  doc.gitops = { repoURL: 'https://github.com/example-org/mlflow-gitops.git', targetRevision: 'main', destinationServer: 'https://kubernetes.default.svc' };
  expect(planOf(configFrom('local', doc))).toMatchObject({ environment: 'local', addons: [], clusterIssuer: undefined, autoscaledDeployments: [] });
});

test('cert-manager alone: the add-on and the ClusterIssuer, its server as configured', () => {
  const p = plan((d) => ((d.gitops.addons.externalSecrets = false), (d.gitops.addons.acmeServer = 'production')));
  expect(p?.addons).toEqual([CERT_MANAGER]);
  expect(p?.clusterIssuer).toEqual({ name: 'letsencrypt-staging', email: 'platform-team@example.com', server: 'production', ingressClass: 'gce' });
});

test('no gitops section: no plan', () => {
  expect(planOf(shippedConfig('local'))).toBeUndefined();
});

test('cluster-scoped kinds of rendered objects: core and grouped, deduplicated, sorted; namespaced kinds ignored', () => {
  expect(
    clusterKindsOf([
      { apiVersion: 'v1', kind: 'Namespace' },
      { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer' },
      { apiVersion: 'v1', kind: 'Namespace' },
      { apiVersion: 'apps/v1', kind: 'Deployment' },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' },
    ]),
  ).toEqual([
    { group: '', kind: 'Namespace' },
    { group: 'cert-manager.io', kind: 'ClusterIssuer' },
    { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
  ]);
});
