/**
 * The MLflow release the test suites run: the release of the image every shipped environment pins.
 *
 * The release of a server is its image tag without the leading `v` and the variant suffix (`v3.17.0-full` →
 * `3.17.0`; MLflow's images are tagged with the release they contain). Every server of every `config/*.yaml` —
 * each instance of a file with `instances:` included — must pin the same release: the real-MLflow suites run one
 * release, so a file that pinned another would ship a server no test ran. When they differ, this fails and names
 * each server and its tag (docs/testing.md, "The MLflow release the suites run").
 *
 *   node --require tsx/cjs scripts/mlflow-release.ts   prints the release (scripts/test-mlflow.sh installs it)
 */
import * as path from 'path';
import { configFilesIn, loadEnvironments } from '../lib/config/config';
import type { Environment } from '../lib/config/model';

/** The MLflow release an image tag carries: `v3.17.0-full` → `3.17.0`. */
export function releaseOfTag(tag: string): string {
  return tag.replace(/^v/, '').replace(/-.*$/, '');
}

/** The one MLflow release all servers of `environments` pin; throws naming every server's tag when they differ. */
export function mlflowReleaseOf(environments: readonly Environment[]): string {
  const servers = environments.flatMap((env) => {
    const file = `config/${env.name}.yaml`;
    // A single-server file's server bears the environment's name; an instance's is `<env>-<instance>`, in folder `<instance>`.
    const named = env.servers.map((s) => ({ server: s.name === env.name ? file : `${file} instance '${s.path}'`, tag: s.image.tag }));
    return named.map((s) => ({ ...s, release: releaseOfTag(s.tag) }));
  });
  const releases = [...new Set(servers.map((s) => s.release))].sort();
  if (releases.length === 1) return releases[0];
  if (releases.length === 0) throw new Error('no MLflow server is configured: config/ has no environment file');
  const list = servers.map((s) => `  ${s.server}: image.tag ${s.tag} (MLflow ${s.release})`).join('\n');
  throw new Error(
    `the shipped environments pin different MLflow releases (${releases.join(', ')}):\n${list}\n` +
      'The real-MLflow tests run one release: pin the same release in every config/*.yaml (docs/testing.md).',
  );
}

/** The release of the repository's own config/*.yaml. */
export function shippedMlflowRelease(root = path.resolve(__dirname, '..')): string {
  return mlflowReleaseOf(loadEnvironments(configFilesIn(path.join(root, 'config'))));
}

if (require.main === module) {
  try {
    process.stdout.write(`${shippedMlflowRelease()}\n`);
  } catch (e) {
    process.stderr.write(`mlflow-release: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
