/**
 * The MLflow release the real-MLflow suites run (scripts/mlflow-release.ts, installed by scripts/test-mlflow.sh):
 * the release of the image every shipped environment pins, one release for all of them, and the venv the suites
 * use has exactly that release.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { validateEnvironment } from '../../lib/config/config';
import type { Environment } from '../../lib/config/model';
import { mlflowReleaseOf, releaseOfTag, shippedMlflowRelease } from '../../scripts/mlflow-release';
import { ROOT, rawConfig } from '../../tools/environments';
import { mlflowPython } from '../../tools/pod-harness/test-servers';

const SKIP_MLFLOW = process.env.MLFLOW_GITOPS_SKIP_MLFLOW === '1';
const TEAMS = yaml.load(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml'), 'utf8')) as Record<string, any>;

function environment(file: string, doc: Record<string, any>): Environment {
  const r = validateEnvironment(file, doc);
  if (!r.environment) throw new Error(JSON.stringify(r.problems));
  return r.environment;
}

function withTag(doc: Record<string, any>, tag: string): Record<string, any> {
  return { ...doc, image: { ...doc.image, tag } };
}

describe('the release of an image', () => {
  test.each([
    ['v3.17.0-full', '3.17.0'],
    ['v3.17.0', '3.17.0'],
    ['3.18.1', '3.18.1'],
    ['v3.17.0-full-py3.11', '3.17.0'],
  ])('tag %s → MLflow %s', (tag, release) => {
    expect(releaseOfTag(tag)).toBe(release);
  });
});

describe('one release for every shipped server', () => {
  test('single-server files and a file with instances that agree: their release', () => {
    const envs = [environment('config/dev.yaml', withTag(rawConfig('dev'), 'v3.18.0-full')), environment('config/teams.yaml', withTag(TEAMS, 'v3.18.0'))];
    expect(mlflowReleaseOf(envs)).toBe('3.18.0');
  });

  test('a Renovate bump of every file moves the release (what the test venv installs)', () => {
    const bumped = ['dev', 'prod', 'local'].map((e) => environment(`config/${e}.yaml`, withTag(rawConfig(e), 'v3.19.2-full')));
    expect(mlflowReleaseOf(bumped)).toBe('3.19.2');
  });

  test('files that differ: refused, naming every server and its tag', () => {
    const envs = [environment('config/dev.yaml', withTag(rawConfig('dev'), 'v3.18.0-full')), environment('config/prod.yaml', withTag(rawConfig('prod'), 'v3.16.2-full'))];
    expect(() => mlflowReleaseOf(envs)).toThrow(
      'the shipped environments pin different MLflow releases (3.16.2, 3.18.0):\n' +
        '  config/dev.yaml: image.tag v3.18.0-full (MLflow 3.18.0)\n' +
        '  config/prod.yaml: image.tag v3.16.2-full (MLflow 3.16.2)\n' +
        'The real-MLflow tests run one release: pin the same release in every config/*.yaml (docs/testing.md).',
    );
  });

  test('an instance that pins its own image counts as a server of its own', () => {
    const doc = { ...TEAMS, instances: [TEAMS.instances[0], { ...TEAMS.instances[1], image: { repository: 'ghcr.io/mlflow/mlflow', tag: 'v3.16.1-full' } }] };
    expect(() => mlflowReleaseOf([environment('config/teams.yaml', doc)])).toThrow(
      'the shipped environments pin different MLflow releases (3.16.1, 3.17.0):\n' +
        "  config/teams.yaml instance 'team-a': image.tag v3.17.0-full (MLflow 3.17.0)\n" +
        "  config/teams.yaml instance 'team-b': image.tag v3.16.1-full (MLflow 3.16.1)\n",
    );
  });
});

describe('the venv the real-MLflow suites run', () => {
  const run = SKIP_MLFLOW ? test.skip : test;
  if (SKIP_MLFLOW) console.log('MLFLOW_GITOPS_SKIP_MLFLOW=1: the MLflow release of the test venv is not checked');

  run('has the MLflow release the shipped images pin', () => {
    const python = mlflowPython();
    if (!python) throw new Error('no real MLflow venv (.mlflow-python): run `bash scripts/test-mlflow.sh`, or set MLFLOW_GITOPS_SKIP_MLFLOW=1');
    // The installed distribution's version, as pip resolved it (importing mlflow takes seconds and says the same).
    const r = spawnSync(python, ['-c', 'import importlib.metadata as m; print(m.version("mlflow"))'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const ran = r.stdout.trim();
    const pinned = shippedMlflowRelease();
    console.log(`real-MLflow suites run MLflow ${ran}; the shipped images pin MLflow ${pinned}`);
    expect(ran).toBe(pinned);
  });
});
