/**
 * environmentPlan: the GitOps side of a whole environment from the plans of its servers — one server for a
 * single-server file, one per instance — with the add-ons and ClusterIssuers shared, each once.
 */
import { CERT_MANAGER, EXTERNAL_SECRETS } from '../../lib/gitops/addons';
import { environmentPlan, PlanError, type GitOpsPlan } from '../../lib/gitops/gitops';
import { configFrom, planOf, rawConfig, shippedConfig } from '../../tools/environments';

/** dev's plan as one server of environment `teams`, named `mlflow-teams-<instance>` in namespace `ns`. */
function server(instance: string, ns: string, mutate: (doc: any) => void = () => undefined): GitOpsPlan {
  const doc = rawConfig('dev');
  doc.namespace = ns;
  mutate(doc);
  const plan = planOf(configFrom(`teams-${instance}`, doc));
  if (!plan) throw new Error('no plan');
  return plan;
}

test('a single server: its Application is the environment project itself, on the mlflow folder', () => {
  const dev = planOf(shippedConfig('dev'));
  if (!dev) throw new Error('no plan');
  expect(environmentPlan('dev', [{ plan: dev, path: 'mlflow' }])).toEqual({
    environment: 'dev',
    project: 'mlflow-dev',
    gitops: dev.gitops,
    distPath: 'dist/dev',
    addons: [EXTERNAL_SECRETS, CERT_MANAGER],
    clusterIssuers: [dev.clusterIssuer],
    servers: [
      {
        name: 'mlflow-dev',
        path: 'mlflow',
        namespace: 'mlflow',
        autoscaledDeployments: ['mlflow'],
        clients: [
          { name: 'mlflow-dev-client-iris-trainer', path: 'clients/mlflow/iris-trainer', namespace: 'ml-training' },
          { name: 'mlflow-dev-client-iris-predictor', path: 'clients/mlflow/iris-predictor', namespace: 'ml-apps' },
        ],
        serving: { name: 'mlflow-dev-serving', path: 'serving/mlflow', autoscaledDeployments: ['serve-iris'] },
      },
    ],
  });
});

test("an instance's clients: their folders under clients/<instance>/, their Applications named after the instance", () => {
  const plan = environmentPlan('teams', [
    { plan: server('a', 'mlflow-a'), path: 'a' },
    { plan: server('b', 'mlflow-b'), path: 'b' },
  ]);
  expect(plan.servers.flatMap((s) => s.clients.map((c) => `${c.name} ${c.path} ${c.namespace}`))).toEqual([
    'mlflow-teams-a-client-iris-trainer clients/a/iris-trainer ml-training',
    'mlflow-teams-a-client-iris-predictor clients/a/iris-predictor ml-apps',
    'mlflow-teams-b-client-iris-trainer clients/b/iris-trainer ml-training',
    'mlflow-teams-b-client-iris-predictor clients/b/iris-predictor ml-apps',
  ]);
});

test("a client's Application may not take an instance's Application name", () => {
  const x = server('x', 'mlflow-x', (d) => ((d.clients = [{ ...d.clients[1], name: 'y' }]), delete d.serving));
  const xClientY = server('x-client-y', 'mlflow-xy', (d) => (delete d.clients, delete d.serving));
  expect(() => environmentPlan('teams', [{ plan: x, path: 'x' }, { plan: xClientY, path: 'x-client-y' }])).toThrow(
    new PlanError("two Applications would be named 'mlflow-teams-x-client-y': rename the instance, the client or the serving"),
  );
});

test("an instance's served models: their folder serving/<instance>/, their Application named after the instance; none without serving", () => {
  const plan = environmentPlan('teams', [
    { plan: server('a', 'mlflow-a'), path: 'a' },
    { plan: server('b', 'mlflow-b', (d) => delete d.serving), path: 'b' },
  ]);
  expect(plan.servers.map((s) => s.serving)).toEqual([{ name: 'mlflow-teams-a-serving', path: 'serving/a', autoscaledDeployments: ['serve-iris'] }, undefined]);
});

test("a served models' Application may not take an instance's Application name", () => {
  const x = server('x', 'mlflow-x');
  const xServing = server('x-serving', 'mlflow-xs', (d) => (delete d.clients, delete d.serving));
  expect(() => environmentPlan('teams', [{ plan: x, path: 'x' }, { plan: xServing, path: 'x-serving' }])).toThrow(
    new PlanError("two Applications would be named 'mlflow-teams-x-serving': rename the instance, the client or the serving"),
  );
});

test('several servers: one Application each in file order; add-ons and a ClusterIssuer they share appear once', () => {
  const plan = environmentPlan('teams', [
    { plan: server('b', 'mlflow-b'), path: 'b' },
    { plan: server('a', 'mlflow-a', (d) => (d.exposure.clusterIssuer = 'letsencrypt-other')), path: 'a' },
    { plan: server('c', 'mlflow-c'), path: 'c' },
  ]);
  expect(plan.project).toBe('mlflow-teams');
  expect(plan.distPath).toBe('dist/teams');
  expect(plan.servers.map((s) => `${s.name} ${s.path} ${s.namespace}`)).toEqual(['mlflow-teams-b b mlflow-b', 'mlflow-teams-a a mlflow-a', 'mlflow-teams-c c mlflow-c']);
  expect(plan.addons.map((a) => a.name)).toEqual(['external-secrets', 'cert-manager']);
  expect(plan.clusterIssuers.map((i) => i.name)).toEqual(['letsencrypt-staging', 'letsencrypt-other']);
});

test('a server without an Ingress asks for no ClusterIssuer', () => {
  const plan = environmentPlan('teams', [{ plan: server('a', 'mlflow-a', (d) => (d.exposure = { mode: 'none' })), path: 'a' }]);
  expect(plan.clusterIssuers).toEqual([]);
});

test('two servers deriving different settings for one ClusterIssuer are refused, naming both', () => {
  const a = server('a', 'mlflow-a');
  const b = server('b', 'mlflow-b', (d) => (d.exposure.className = 'gce-internal'));
  expect(() => environmentPlan('teams', [{ plan: a, path: 'a' }, { plan: b, path: 'b' }])).toThrow(
    new PlanError(
      `ClusterIssuer 'letsencrypt-staging' is shared by mlflow-teams-a (${JSON.stringify(a.clusterIssuer)}) and mlflow-teams-b (${JSON.stringify(b.clusterIssuer)}), ` +
        'which derive different settings for it: give their exposures different clusterIssuer names, or the same settings',
    ),
  );
});

test('no server: an internal error, not an empty plan', () => {
  expect(() => environmentPlan('teams', [])).toThrow('environment teams: no server to plan');
});
