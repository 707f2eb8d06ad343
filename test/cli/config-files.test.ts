/**
 * The synth command reading config files, as a user meets it: one file per environment name, no two
 * environments that would take the same host, database, artifact location or destination, and hostile YAML
 * (an alias bomb, a huge file, a huge value) refused quickly with a message of readable length.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run } from '../../main';
import { ROOT } from '../../tools/environments';

const DEV = path.join(ROOT, 'config', 'dev.yaml');

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function synth(args: readonly string[], root?: string): Result {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  const code = run(args, io, root);
  return { code, stdout, stderr };
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpdir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `synth-${prefix}-`));
  scratch.push(d);
  return d;
}

/** A scratch repository holding the shipped config/ plus `extra` files (name → text). */
function repository(extra: Record<string, string>): { root: string; config: string } {
  const root = tmpdir('repo');
  const config = path.join(root, 'config');
  fs.cpSync(path.join(ROOT, 'config'), config, { recursive: true });
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(config, name), text);
  return { root, config };
}

const devText = fs.readFileSync(DEV, 'utf8');

/** dev.yaml with every occurrence of `from` replaced by `to`. */
function devWith(...pairs: Array<[string | RegExp, string]>): string {
  return pairs.reduce((t, [from, to]) => t.replace(from, to), devText);
}

/** Expects synth of `root` refused with exactly these problem lines, and nothing written. */
function expectRefused(root: string, problems: readonly string[]): void {
  const r = synth([], root);
  const n = problems.length;
  expect(r).toEqual({
    code: 1,
    stdout: '',
    stderr: `Invalid configuration (${n} problem${n > 1 ? 's' : ''}); nothing was written:\n${problems.join('\n')}\n`,
  });
  expect(fs.readdirSync(root)).toEqual(['config']);
}

describe('one file per environment name', () => {
  test('dev.yaml and dev.yml side by side: refused, naming both', () => {
    const { root, config } = repository({ 'dev.yml': devText });
    expectRefused(root, [
      `${path.join(config, 'dev.yml')}: another file for environment 'dev': ${path.join(config, 'dev.yaml')}; an environment has one file, so keep one of them`,
    ]);
  });
});

describe('two environments that would collide are refused, naming both files and the field', () => {
  test('a copy of dev.yaml under another name: the same host, Cloud SQL database and artifact location', () => {
    const { root, config } = repository({ 'staging.yaml': devText });
    const dev = path.join(config, 'dev.yaml');
    const staging = path.join(config, 'staging.yaml');
    expectRefused(root, [
      `${staging}: exposure.hosts.0: host 'mlflow.dev.example.com' is also served by ${dev} (exposure.hosts.0): a host routes to one environment's server`,
      `${staging}: database.name: database 'mlflow' on Cloud SQL instance 'example-mlflow-dev:europe-west1:mlflow-dev' is also used by ${dev} (database.name): ` +
        'each environment needs its own database (its schema, users and runs)',
      `${staging}: artifacts.prefix: gs://example-mlflow-dev-artifacts/mlflow is also the artifact location of ${dev} (artifacts.prefix): ` +
        "each environment needs its own bucket, or a prefix that neither contains nor lies inside another's",
    ]);
  });

  test('an artifact prefix inside another environment\'s', () => {
    const { root, config } = repository({
      'staging.yaml': devWith(['mlflow.dev.example.com', 'mlflow.staging.example.com'], ['name: mlflow #', 'name: mlflow_staging #'], ['prefix: mlflow', 'prefix: mlflow/staging']),
    });
    expectRefused(root, [
      `${path.join(config, 'staging.yaml')}: artifacts.prefix: gs://example-mlflow-dev-artifacts/mlflow/staging lies inside the artifact location of ` +
        `${path.join(config, 'dev.yaml')} (artifacts.prefix): each environment needs its own bucket, or a prefix that neither contains nor lies inside another's`,
    ]);
  });

  /** dev and a staging of its own host, database and prefix; both sent to `server` (dev's is the in-cluster one). */
  function distinctStaging(server: string, devServer = 'https://kubernetes.default.svc') {
    return repository({
      'dev.yaml': devWith(['https://kubernetes.default.svc', devServer]),
      'staging.yaml': devWith(
        ['mlflow.dev.example.com', 'mlflow.staging.example.com'],
        ['name: mlflow #', 'name: mlflow_staging #'],
        ['prefix: mlflow', 'prefix: staging'],
        ['https://kubernetes.default.svc', server],
      ),
    });
  }

  test('the same explicit destination cluster and namespace', () => {
    const cluster = 'https://34.1.2.3';
    const { root, config } = distinctStaging(cluster, cluster);
    expectRefused(root, [
      `${path.join(config, 'staging.yaml')}: namespace: namespace 'mlflow' on cluster '${cluster}' (gitops.destinationServer) is also the destination of ` +
        `${path.join(config, 'dev.yaml')} (namespace): two environments' Applications would manage the same objects; give one of them another namespace or cluster`,
    ]);
  });

  test.each([
    ['both in-cluster (each environment runs its own Argo CD)', 'https://kubernetes.default.svc', 'https://kubernetes.default.svc'],
    ['the same namespace on two clusters', 'https://34.1.2.3', 'https://34.9.9.9'],
  ])('accepted: %s', (_, staging, dev) => {
    const { root } = distinctStaging(staging, dev);
    const r = synth([], root);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^synthesized dev, local, prod, staging → /);
  });
});

describe('hostile YAML is refused at load, quickly and briefly', () => {
  /** An alias bomb in exposure.hosts: `levels` anchors, each a list of nine aliases of the previous one. */
  function aliasBomb(levels: number): string {
    const lines = ['    - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < levels; i++) lines.push(`    - &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]`);
    return devText.replace('  hosts: [mlflow.dev.example.com]\n', `  hosts:\n${lines.join('\n')}\n`);
  }

  test('a 1.7 KB alias bomb (9^9 values): refused in well under a second, one line', () => {
    const file = path.join(tmpdir('bomb'), 'bomb.yaml');
    fs.writeFileSync(file, aliasBomb(9));
    expect(fs.statSync(file).size - devText.length).toBeLessThan(2000); // the bomb itself, in dev's file
    const started = Date.now();
    const r = synth(['--config', file, '--out', path.join(tmpdir('bomb-out'), 'out')]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Invalid configuration (1 problem); nothing was written:\n' +
        `${file}: the document expands to more than 10000 values (each YAML alias counts as a copy of what it refers to); ` +
        'a config has a few hundred: write the values out, or use fewer aliases\n',
    });
  });

  test('a smaller alias bomb, within the bound: every echoed value is cut to a readable length', () => {
    const file = path.join(tmpdir('small-bomb'), 'small.yaml');
    fs.writeFileSync(file, aliasBomb(4)); // 9^4 = 6561 values
    const r = synth(['--config', file, '--out', path.join(tmpdir('small-bomb-out'), 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr.length).toBeLessThan(2000);
    expect(r.stderr).toContain(`${file}: exposure.hosts.3: `);
    expect(r.stderr).toContain('(got [[[["lol","lol","lol","lol","lol","lol","lol","lol","lol"],["lol","lol"');
    expect(r.stderr).toMatch(/… \(\d+ characters\)\)\n/);
  });

  test('a value of 100 000 characters is echoed as its first 120', () => {
    const file = path.join(tmpdir('long'), 'long.yaml');
    const long = 'a'.repeat(100_000);
    fs.writeFileSync(file, devText.replace('tag: v3.17.0-full', `tag: ${long}`));
    const r = synth(['--config', file, '--out', path.join(tmpdir('long-out'), 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`(got ${JSON.stringify(long).slice(0, 120)}… (100002 characters))\n`);
    expect(r.stderr.length).toBeLessThan(1000);
  });

  test('a file over 256 KiB is refused before it is parsed', () => {
    const file = path.join(tmpdir('big'), 'big.yaml');
    fs.writeFileSync(file, `${devText}${'# padding\n'.repeat(30_000)}`);
    const r = synth(['--config', file, '--out', path.join(tmpdir('big-out'), 'out')]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Invalid configuration (1 problem); nothing was written:\n' +
        `${file}: the file has ${fs.statSync(file).size} bytes; a config file may have at most 262144 (256 KiB)\n`,
    });
  });
});
