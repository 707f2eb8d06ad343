/**
 * What `renderEnvironment` wires between the charts, and the YAML it writes, built inside each test:
 * the AppProject admits exactly the cluster-scoped kinds the environment renders; files land in one folder per
 * Argo CD Application path; YAML is one line per scalar, without anchors, in the constructs' key order.
 */
import * as path from 'path';
import * as yaml from 'js-yaml';
import { renderEnvironment, SynthError, toYaml } from '../../lib/synth/synth';
import { shippedEnvironment } from '../../tools/environments';

function appProject(env: string): any {
  const files = renderEnvironment(shippedEnvironment(env)).bootstrap.filter((f) => f.path === `appproject-mlflow-${env}.yaml`);
  expect(files).toHaveLength(1);
  return yaml.load(files[0].content);
}

describe('the AppProject admits the cluster-scoped kinds the environment renders', () => {
  test('dev (add-ons and a ClusterIssuer): the Namespace of the MLflow app and the ClusterIssuer of its own chart', () => {
    const kinds = appProject('dev').spec.clusterResourceWhitelist;
    expect(kinds).toEqual(expect.arrayContaining([{ group: '', kind: 'Namespace' }, { group: 'cert-manager.io', kind: 'ClusterIssuer' }]));
  });

  test('prod (no add-ons, so no ClusterIssuer chart): the Namespace, and no ClusterIssuer', () => {
    const kinds = appProject('prod').spec.clusterResourceWhitelist;
    expect(kinds).toContainEqual({ group: '', kind: 'Namespace' });
    expect(kinds).not.toContainEqual({ group: 'cert-manager.io', kind: 'ClusterIssuer' });
  });
});

test('dist files go to one folder per Application path; the bootstrap is flat, with its kustomization', () => {
  const dev = renderEnvironment(shippedEnvironment('dev'));
  expect([...new Set(dev.dist.map((f) => f.path.split('/')[0]))].sort()).toEqual(['apps', 'clients', 'cluster-issuer', 'mlflow', 'serving']);
  // The served models' folder is its server's folder's serving: serving/mlflow/.
  expect([...new Set(dev.dist.map((f) => path.posix.dirname(f.path)))].filter((d) => d.startsWith('serving'))).toEqual(['serving/mlflow']);
  // A client's folder is its server's folder's clients: clients/mlflow/<client>/.
  expect([...new Set(dev.dist.map((f) => path.posix.dirname(f.path)))].filter((d) => d.startsWith('clients')).sort()).toEqual([
    'clients/mlflow/iris-predictor',
    'clients/mlflow/iris-trainer',
  ]);
  expect(dev.dist.filter((f) => !f.path.startsWith('clients/') && !f.path.startsWith('serving/') && f.path.split('/').length !== 2)).toEqual([]);
  expect(dev.bootstrap.filter((f) => f.path.includes('/'))).toEqual([]);
  expect(dev.bootstrap.map((f) => f.path)).toContain('kustomization.yaml');
  const local = renderEnvironment(shippedEnvironment('local'));
  expect([...new Set(local.dist.map((f) => f.path.split('/')[0]))]).toEqual(['mlflow']);
});

test('a ClusterIssuer gets its folder and its Application only in an environment that asks for one', () => {
  const inFolder = (env: string, folder: string) => renderEnvironment(shippedEnvironment(env)).dist.map((f) => f.path).filter((p) => p.startsWith(`${folder}/`)).sort();
  // dev: cert-manager with an Ingress certificate from Let's Encrypt staging.
  expect(inFolder('dev', 'cluster-issuer')).toEqual(['cluster-issuer/clusterissuer-letsencrypt-staging.yaml']);
  expect(inFolder('dev', 'apps')).toEqual([
    'apps/application-mlflow-dev-cert-manager.yaml',
    'apps/application-mlflow-dev-client-iris-predictor.yaml',
    'apps/application-mlflow-dev-client-iris-trainer.yaml',
    'apps/application-mlflow-dev-cluster-issuer.yaml',
    'apps/application-mlflow-dev-external-secrets.yaml',
    'apps/application-mlflow-dev-serving.yaml',
    'apps/application-mlflow-dev.yaml',
  ]);
  // prod: its Ingress names letsencrypt-prod, but it has no cert-manager add-on (cert-manager and that issuer
  // come from outside this repository): no file under cluster-issuer/, no Application for it.
  expect(inFolder('prod', 'cluster-issuer')).toEqual([]);
  expect(inFolder('prod', 'apps')).toEqual(['apps/application-mlflow-prod.yaml']);
});

describe('toYaml', () => {
  test('a long string stays on one line (no folding at 80 columns)', () => {
    const long = 'x'.repeat(50) + ' ' + 'y'.repeat(50);
    expect(toYaml({ command: long })).toBe(`command: ${long}\n`);
  });

  test('an object used twice is written twice, without anchors or aliases', () => {
    const shared = { app: 'mlflow' };
    expect(toYaml({ a: shared, b: shared })).toBe('a:\n  app: mlflow\nb:\n  app: mlflow\n');
  });

  test('keys keep the order the constructs gave them', () => {
    expect(toYaml({ kind: 'Service', apiVersion: 'v1' })).toBe('kind: Service\napiVersion: v1\n');
  });
});

test('a SynthError names every problem, one per line', () => {
  const e = new SynthError(['dev: Deployment/mlflow: first', 'dev: Job/mlflow-migrate: second']);
  expect(e).toBeInstanceOf(Error);
  expect({ name: e.name, message: e.message, problems: e.problems }).toEqual({
    name: 'SynthError',
    message: 'dev: Deployment/mlflow: first\ndev: Job/mlflow-migrate: second',
    problems: ['dev: Deployment/mlflow: first', 'dev: Job/mlflow-migrate: second'],
  });
});
