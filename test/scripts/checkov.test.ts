/**
 * scripts/checkov.sh: the version comes from the lock file alone, a complete venv is reused without pip, and a venv
 * holding another Checkov is refused. (That the real install works and its Checkov is the pinned one:
 * test/policy/checkov-scan.test.ts, which runs what the pretest installed.) Each case runs a copy of the script in a scratch
 * checkout, so the repository's .checkov-bin is never touched.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../../tools/environments';

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-checkov-script-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A scratch checkout with the script and `lock` as its lock file; a venv whose python reports Checkov `installed`. */
function setUp(lock: string, installed?: string) {
  const dir = fs.mkdtempSync(path.join(scratch, 'checkout-'));
  fs.mkdirSync(path.join(dir, 'scripts'));
  for (const f of ['checkov.sh', 'python-venv.sh']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(dir, 'scripts', f));
  fs.writeFileSync(path.join(dir, 'scripts', 'checkov-requirements.txt'), lock);
  const venv = path.join(dir, 'venv');
  if (installed !== undefined) {
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'bin', 'python'), `#!/bin/sh\necho ${installed}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(venv, '.complete'), '');
  }
  const r = spawnSync('bash', [path.join(dir, 'scripts', 'checkov.sh')], { encoding: 'utf8', env: { ...process.env, CHECKOV_VENV: venv }, timeout: 60_000 });
  return { dir, venv, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a lock file without a checkov pin is refused before anything is installed', () => {
  const r = setUp('PyYAML==6.0.4\n');
  expect(r.status).toBe(1);
  expect(r.stderr).toBe('checkov.sh: scripts/checkov-requirements.txt pins no checkov==<version>\n');
  expect(fs.existsSync(r.venv)).toBe(false);
});

test('a complete venv is reused as it is: no pip, its checkov printed and written to .checkov-bin', () => {
  const r = setUp('checkov==3.3.30\nPyYAML==6.0.4\n', '3.3.30');
  expect(r.status).toBe(0);
  expect(r.stderr).toBe(`checkov.sh: checkov 3.3.30 in ${r.venv}\n`);
  expect(r.stdout).toBe(`CHECKOV_BIN=${r.venv}/bin/checkov\n`);
  expect(fs.readFileSync(path.join(r.dir, '.checkov-bin'), 'utf8')).toBe(`${r.venv}/bin/checkov\n`);
});

test('a venv holding another Checkov than the lock pins is refused', () => {
  const r = setUp('checkov==3.3.30\n', '3.2.0');
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(`checkov.sh: ${r.venv} has checkov 3.2.0, scripts/checkov-requirements.txt pins 3.3.30\n`);
  expect(fs.existsSync(path.join(r.dir, '.checkov-bin'))).toBe(false);
});
