/**
 * Properties of the whole output that no single construct test can show: every synthesized object valid
 * against its schema (Kubernetes 1.28 + the pinned CRDs, unknown fields rejected), every pod template passing
 * Pod Security restricted, no Secret anywhere, and two renders byte-identical. That the committed tree equals a
 * fresh synth is the drift check (test/synth/drift.test.ts, and .ci/run); the content of each object is specified
 * by the construct tests under test/mlflow and test/gitops.
 */
import * as yaml from 'js-yaml';
import { podSecurityViolations } from '../../lib/policy/pod-security';
import { validateManifest } from '../../tools/schema-validation';
import { renderEnvironment } from '../../lib/synth/synth';
import { shippedEnvironments } from '../../tools/environments';

/** Every output file of every shipped environment, keyed `dist/<env>/…` or `argocd/<env>/…`. */
function fresh(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const c of shippedEnvironments()) {
    const out = renderEnvironment(c);
    for (const f of out.dist) files[`dist/${c.name}/${f.path}`] = f.content;
    for (const f of out.bootstrap) files[`argocd/${c.name}/${f.path}`] = f.content;
  }
  return files;
}

const output = fresh();
const objects = Object.entries(output)
  .map(([file, content]) => ({ file, obj: yaml.load(content) as any }))
  .filter(({ obj }) => obj.kind !== 'Kustomization');

test('every synthesized object validates against its schema (Kubernetes 1.28 or its CRD), unknown fields included', () => {
  expect(objects.length).toBeGreaterThan(50);
  expect(objects.flatMap(({ file, obj }) => validateManifest(obj).map((e) => `${file}: ${e}`))).toEqual([]);
});

test('every pod template passes Pod Security restricted', () => {
  const pods = objects.filter(({ obj }) => ['Deployment', 'Job'].includes(obj.kind));
  expect(pods.length).toBeGreaterThanOrEqual(5);
  expect(objects.flatMap(({ obj }) => podSecurityViolations(obj))).toEqual([]);
});

test('no Secret at all anywhere in the output', () => {
  expect(objects.filter(({ obj }) => obj.kind === 'Secret')).toEqual([]);
});

test('two renders are byte-identical', () => {
  expect(fresh()).toEqual(output);
});
