/**
 * The scripts `npm test` runs to get its servers (scripts/test-postgres.sh, test-mariadb.sh, test-apiserver.sh), on
 * a contributor's machine: a server installed outside Debian's paths (Homebrew links it into a bin/ on PATH) is
 * found; a missing one is named with the command that installs it, the skip switch and `npm run test:unit`.
 * The scripts run as a normal user (nobody, when these tests run as root) with a PATH that holds only basic
 * tools, and with the well-known install locations pointed at a folder that does not exist: no server is visible.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../tools/environments';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'test-servers-'));
  fs.chmodSync(d, 0o755); // readable by the unprivileged user the scripts run as
  scratch.push(d);
  return d;
}

/** Run as nobody when root (as a contributor runs npm test), else as the current user. */
const AS_USER = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
const USER_NAME = process.getuid?.() === 0 ? 'nobody' : os.userInfo().username;

/** A bin/ with only the basic tools the scripts use: no database, etcd, openssl or xz. */
function basicTools(): string {
  const bin = path.join(tmpdir(), 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['bash', 'cat', 'dirname', 'id', 'ls', 'readlink', 'sort', 'tail', 'uname']) {
    const found = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
    if (found === undefined) throw new Error(`no ${tool} in /usr/bin or /bin`);
    fs.symlinkSync(found, path.join(bin, tool));
  }
  return bin;
}

const NOWHERE = '/nonexistent/mlflow-gitops-test';

function script(name: string, env: Record<string, string>) {
  const r = spawnSync(path.join(basicTools(), 'bash'), [path.join(ROOT, 'scripts', name)], {
    encoding: 'utf8',
    env: { HOME: '/tmp', ...env },
    timeout: 30_000,
    ...AS_USER,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/test-postgres.sh', () => {
  const hidden = () => ({ PATH: basicTools(), POSTGRES_SEARCH_DIRS: NOWHERE, POSTGRES_DIR: path.join(tmpdir(), 'pg'), POSTGRES_PORT: '45999' });

  test('no server anywhere, not root: exit 1, what to install, the skip switch and npm run test:unit', () => {
    expect(script('test-postgres.sh', hidden())).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'postgres.sh: no PostgreSQL server found: no directory with initdb, pg_ctl, pg_isready and psql on PATH or in\n' +
        `  ${NOWHERE}\n` +
        'The migration tests need one (any PostgreSQL 13 or later). Install it, then run npm test again:\n' +
        '  Debian, Ubuntu:  sudo apt-get install postgresql   (or run npm test as root: this script installs it)\n' +
        '  macOS:           brew install postgresql@16        (found in Homebrew\'s prefix, no PATH change needed)\n' +
        '  other:           set POSTGRES_BINDIR=<the directory holding its pg_ctl>\n' +
        'Or go without it: MLFLOW_GITOPS_SKIP_POSTGRES=1 npm test skips the PostgreSQL cases, and npm run test:unit runs\n' +
        'every test that needs no server (docs/testing.md).\n',
    });
  });

  test('MLFLOW_GITOPS_SKIP_POSTGRES=1: exit 0, says it starts nothing', () => {
    expect(script('test-postgres.sh', { ...hidden(), MLFLOW_GITOPS_SKIP_POSTGRES: '1' })).toEqual({
      code: 0,
      stdout: '',
      stderr: 'postgres.sh: MLFLOW_GITOPS_SKIP_POSTGRES=1: not starting PostgreSQL\n',
    });
  });

  test('a server linked into a bin/ on PATH, as Homebrew does, is found and used where it is installed', () => {
    // A stand-in server that already answers: the script then only checks the test role and prints its facts.
    const prefix = tmpdir();
    const cellar = path.join(prefix, 'Cellar', 'postgresql@16', '16.4', 'bin');
    fs.mkdirSync(cellar, { recursive: true });
    const programs: Record<string, string> = {
      initdb: 'exit 1',
      pg_ctl: 'exit 1',
      pg_isready: 'exit 0',
      psql: 'cat >/dev/null; case "$*" in *server_version*) echo 16.4 ;; *pg_settings*) echo listen_addresses=127.0.0.1 ;; esac',
    };
    for (const [name, body] of Object.entries(programs)) fs.writeFileSync(path.join(cellar, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
    const linked = path.join(prefix, 'bin');
    fs.mkdirSync(linked);
    for (const name of Object.keys(programs)) fs.symlinkSync(path.join(cellar, name), path.join(linked, name));
    const env = hidden();
    const r = script('test-postgres.sh', { ...env, PATH: `${linked}:${env.PATH}` });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`postgres.sh: PostgreSQL 16.4 is up (${cellar}, as ${USER_NAME})`);
  });
});

test('scripts/test-mariadb.sh with no server, not root: exit 1, what to install, the skip switch and npm run test:unit', () => {
  const r = script('test-mariadb.sh', { PATH: basicTools(), MARIADB_SEARCH_DIRS: NOWHERE, MARIADB_DIR: path.join(tmpdir(), 'maria') });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  // The Python modules are missing or not depending on the machine: the message starts with the servers.
  expect(r.stderr).toMatch(new RegExp(`^mariadb\\.sh: missing mariadb-server mariadb-client(?: python3-sqlalchemy)?(?: python3-pymysql)? \\(looked on PATH and in ${NOWHERE}\\)\\.\\n`));
  expect(r.stderr).toContain('  Debian, Ubuntu:  sudo apt-get install mariadb-server mariadb-client');
  expect(r.stderr).toContain('  macOS:           brew install mariadb ');
  expect(r.stderr.endsWith(
    'Or go without it: MLFLOW_GITOPS_SKIP_MARIADB=1 npm test skips the MariaDB cases, and npm run test:unit runs every\n' +
      'test that needs no server (docs/testing.md).\n',
  )).toBe(true);
});

test('scripts/test-apiserver.sh with no etcd, openssl or xz, not root: exit 1, what to install and npm run test:unit', () => {
  const r = script('test-apiserver.sh', { PATH: basicTools() });
  expect(r).toEqual({
    code: 1,
    stdout: '',
    stderr:
      'test-apiserver.sh: missing etcd-server openssl xz-utils (not on PATH), and only root with apt-get installs them here.\n' +
      'Install them, then run npm test again:\n' +
      '  Debian, Ubuntu:  sudo apt-get install etcd-server openssl xz-utils\n' +
      '  macOS:           brew install etcd openssl xz\n' +
      'Or run every test that needs no server (no API server, database or MLflow): npm run test:unit (docs/testing.md)\n',
  });
});

test('npm run test:unit: the unit project, every server-backed case skipped, no pretest', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['test:unit']).toBe(
    'tsc --noEmit -p . && MLFLOW_GITOPS_SKIP_MLFLOW=1 MLFLOW_GITOPS_SKIP_MARIADB=1 MLFLOW_GITOPS_SKIP_POSTGRES=1 jest --selectProjects unit',
  );
  expect(pkg.scripts['pretest:unit']).toBeUndefined();
});
