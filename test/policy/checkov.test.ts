/** Checkov skips as constructs render them: numbered annotations Checkov can read, and only where they apply. */
import * as kplus from 'cdk8s-plus-28';
import { skipCheck, skipSecretEnvCheck, skipTagPinnedImageChecks } from '../../lib/policy/checkov';
import { objectsOf, testChart } from '../support/constructs';

function job(env: Record<string, kplus.EnvValue> = {}, image = 'ghcr.io/mlflow/mlflow:v3.17.0-full') {
  const chart = testChart();
  const j = new kplus.Job(chart, 'Job', { metadata: { name: 'task' } });
  j.addContainer({ name: 'main', image, envVariables: env });
  return { chart, job: j, annotations: () => objectsOf(chart).find((o) => o.kind === 'Job')!.metadata.annotations ?? {} };
}

test('skips are numbered per object, check id and reason joined by =', () => {
  const { job: j, annotations } = job();
  skipCheck(j, 'CKV_K8S_8', 'no probe: a one-shot task');
  skipCheck(j, 'CKV_K8S_9', 'no probe: a one-shot task');
  expect(annotations()).toEqual({
    'checkov.io/skip1': 'CKV_K8S_8=no probe: a one-shot task',
    'checkov.io/skip2': 'CKV_K8S_9=no probe: a one-shot task',
  });
});

test.each([
  ['CKV_GCP_6', 'why', "Job/task: 'CKV_GCP_6' is not a Checkov Kubernetes check id (CKV_K8S_<number>)"],
  ['CKV_K8S_8', '  ', 'Job/task: the skip of CKV_K8S_8 needs a reason in words'],
  ['CKV_K8S_8', 'a=b', "Job/task: the reason for skipping CKV_K8S_8 contains '=' or a line break, which Checkov cannot read: 'a=b'"],
  ['CKV_K8S_8', 'one\ntwo', "Job/task: the reason for skipping CKV_K8S_8 contains '=' or a line break, which Checkov cannot read: 'one\ntwo'"],
])('a skip of %j with reason %j is refused', (check, reason, message) => {
  const { job: j } = job();
  expect(() => skipCheck(j, check as any, reason)).toThrow(message);
});

test('the same check twice on one object is refused', () => {
  const { job: j } = job();
  skipCheck(j, 'CKV_K8S_8', 'first');
  expect(() => skipCheck(j, 'CKV_K8S_8', 'second')).toThrow('Job/task: CKV_K8S_8 is already skipped on this object');
});

test('the image checks are skipped for a tag-pinned image only', () => {
  const tagged = job();
  skipTagPinnedImageChecks(tagged.job, 'ghcr.io/mlflow/mlflow:v3.17.0-full');
  expect(Object.values(tagged.annotations()).map((v) => String(v).split('=')[0])).toEqual(['CKV_K8S_43', 'CKV_K8S_15']);

  const image = `ghcr.io/mlflow/mlflow:v3.17.0-full@sha256:${'a'.repeat(64)}`;
  const pinned = job({}, image);
  skipTagPinnedImageChecks(pinned.job, image);
  expect(pinned.annotations()).toEqual({});
});

test('the Secret-variable check is skipped naming every Secret variable of every container, and not at all without one', () => {
  const { chart, job: j, annotations } = job({ PLAIN: kplus.EnvValue.fromValue('x') });
  j.containers[0].env.addVariable('TOKEN', kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'T', 'token'), key: 'token' }));
  j.addInitContainer({ name: 'init', image: 'busybox:1.36', envVariables: { KEY: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'K', 'k'), key: 'k' }) } });
  skipSecretEnvCheck(j, 'the tool reads them only from its environment');
  expect(annotations()).toEqual({ 'checkov.io/skip1': 'CKV_K8S_35=KEY, TOKEN from Secrets: the tool reads them only from its environment' });

  const plain = job({ PLAIN: kplus.EnvValue.fromValue('x') });
  skipSecretEnvCheck(plain.job, 'unused');
  expect(plain.annotations()).toEqual({});
});
