/**
 * The example prediction API's Deployment (examples/prediction-api/deployment.yaml) is a manifest a client team can
 * apply as it is: valid for Kubernetes 1.28, admitted by a `restricted` namespace, with requests and limits, and taking
 * its MLflow login whole from the client Secret. Its behaviour against the real server: test/e2e/serving.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { containerResourceViolations, podSecurityViolations } from '../../lib/policy/pod-security';
import { ROOT } from '../../tools/environments';
import { validateManifest } from '../../tools/schema-validation';

const deployment = yaml.load(fs.readFileSync(path.join(ROOT, 'examples', 'prediction-api', 'deployment.yaml'), 'utf8')) as any;

test('valid for Kubernetes 1.28, restricted Pod Security, requests and limits', () => {
  expect(validateManifest(deployment)).toEqual([]);
  expect(podSecurityViolations(deployment)).toEqual([]);
  expect(containerResourceViolations(deployment)).toEqual([]);
});

test("runs app.py in the client's namespace with the client Secret by envFrom, probed on /health", () => {
  expect(deployment.metadata.namespace).toBe('ml-apps');
  const c = deployment.spec.template.spec.containers[0];
  expect(c.command).toEqual(['python', '/app/app.py']);
  expect(c.envFrom).toEqual([{ secretRef: { name: 'mlflow-dev-iris-predictor' } }]);
  expect(c.readinessProbe.httpGet.path).toBe('/health');
});

test("the Secret it names is the one dev's client iris-predictor gets in that namespace (dist/)", () => {
  const dir = path.join(ROOT, 'dist', 'dev', 'clients', 'mlflow', 'iris-predictor');
  const externalSecrets = fs
    .readdirSync(dir)
    .map((f) => yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')) as any)
    .filter((o) => o.kind === 'ExternalSecret');
  expect(externalSecrets.map((o) => [o.metadata.namespace, o.spec.target.name])).toEqual([
    [deployment.metadata.namespace, deployment.spec.template.spec.containers[0].envFrom[0].secretRef.name],
  ]);
});
