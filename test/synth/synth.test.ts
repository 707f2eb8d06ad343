/**
 * The synth pipeline's gates: no output for an environment whose objects break Pod Security restricted or the
 * resources rule, or whose constructs report validation errors; one file per object.
 *
 * The broken constructs here are test doubles: DatabaseAccess.connect is wrapped to patch the pod it connects
 * (a privileged container, a container without limits), because every real construct renders compliant pods.
 */
import { ApiObject, JsonPatch } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-28';
import * as yaml from 'js-yaml';
import { DatabaseAccess } from '../../lib/mlflow/database-access';
import { SynthError, filesOf, manifestsOf, renderEnvironment, type Manifest } from '../../lib/synth/synth';
import { testChart } from '../support/constructs';
import { shippedEnvironment } from '../../tools/environments';

afterEach(() => jest.restoreAllMocks());

/** Makes every pod DatabaseAccess connects carry `patch` (a deliberately broken construct). */
function breakConnectedPods(patch: JsonPatch): void {
  const connect = DatabaseAccess.prototype.connect;
  jest.spyOn(DatabaseAccess.prototype, 'connect').mockImplementation(function (this: DatabaseAccess, pod: kplus.AbstractPod, container: kplus.Container) {
    connect.call(this, pod, container);
    ApiObject.of(pod).addJsonPatch(patch);
  });
}

function renderError(name: string): SynthError {
  try {
    renderEnvironment(shippedEnvironment(name));
  } catch (e) {
    return e as SynthError;
  }
  throw new Error('renderEnvironment did not throw');
}

describe('the Pod Security gate', () => {
  test('a privileged container stops the environment, naming environment, object and container', () => {
    breakConnectedPods(JsonPatch.replace('/spec/template/spec/containers/0/securityContext/privileged', true));
    const e = renderError('local');
    expect(e).toBeInstanceOf(SynthError);
    expect(e.message).toBe('local: Deployment/mlflow: container "mlflow": privileged must not be true');
  });

  test('a container without limits stops the environment', () => {
    breakConnectedPods(JsonPatch.remove('/spec/template/spec/containers/0/resources/limits'));
    expect(renderError('local').problems).toEqual([
      'local: Deployment/mlflow: container "mlflow": resources.limits.cpu is not set',
      'local: Deployment/mlflow: container "mlflow": resources.limits.memory is not set',
    ]);
  });

  test('the shipped environments pass it', () => {
    for (const name of ['dev', 'local', 'prod']) expect(() => renderEnvironment(shippedEnvironment(name))).not.toThrow();
  });
});

test('construct validation errors stop synth, each with the construct path', () => {
  const chart = testChart();
  chart.node.addValidation({ validate: () => ['the budget does not fit', 'a second problem'] });
  expect(() => manifestsOf(chart)).toThrow(new SynthError(['test: the budget does not fit', 'test: a second problem']));
});

test('one file per object, named kind-name.yaml; two objects with one file name are refused', () => {
  const cm = (name: string): Manifest => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
  expect(filesOf('mlflow', [cm('a'), cm('b')])).toEqual([
    { path: 'mlflow/configmap-a.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n' },
    { path: 'mlflow/configmap-b.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n' },
  ]);
  expect(() => filesOf('mlflow', [cm('a'), cm('a')])).toThrow(new SynthError(['two objects render to mlflow/configmap-a.yaml']));
});

test('an environment without gitops renders no bootstrap; one with gitops adds a kustomization of its Argo CD objects, and the argocd-cm fragment beside it', () => {
  expect(renderEnvironment(shippedEnvironment('local')).bootstrap).toEqual([]);
  const bootstrap = renderEnvironment(shippedEnvironment('prod')).bootstrap;
  const kustomization = yaml.load(bootstrap.find((f) => f.path === 'kustomization.yaml')!.content) as any;
  expect(kustomization).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
  // The argocd-cm fragment is applied key by key (docs/deploying.md), never through `kubectl apply --server-side -k`.
  expect(kustomization.resources.sort()).toEqual(['application-mlflow-prod-root.yaml', 'appproject-mlflow-prod.yaml']);
  expect(bootstrap.map((f) => f.path).sort()).toEqual(['application-mlflow-prod-root.yaml', 'appproject-mlflow-prod.yaml', 'argocd-cm-health.patch.yaml', 'kustomization.yaml']);
});
