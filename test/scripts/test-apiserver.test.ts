/** scripts/test-apiserver.sh refuses binaries it cannot vouch for, saying which and why (no download is tried). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'test-apiserver.sh');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-envtest-script-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ENVTEST_|KUBE_APISERVER_BIN|KUBECTL_BIN)/.test(k)));
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', env: { ...clean, ...env }, timeout: 60_000 });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A shell script that prints `version` the way kube-apiserver/kubectl do. */
function fakeBinary(name: string, version: string): string {
  const dir = fs.mkdtempSync(path.join(scratch, 'bin-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, `#!/bin/sh\necho "Kubernetes ${version}"\necho "Client Version: ${version}"\n`, { mode: 0o755 });
  return f;
}

test('a binaries directory whose kube-apiserver does not match the pinned sum is refused, naming both sums', () => {
  const dir = fs.mkdtempSync(path.join(scratch, 'dir-'));
  fs.writeFileSync(path.join(dir, 'kube-apiserver'), 'not the pinned binary\n');
  const r = run({ ENVTEST_BIN_DIR: dir, ENVTEST_CACHE_DIR: path.join(scratch, 'cache') });
  expect(r.status).toBe(1);
  const got = require('crypto').createHash('sha256').update('not the pinned binary\n').digest('hex');
  expect(r.stderr).toContain(
    `test-apiserver.sh: ${dir}/kube-apiserver: sha256 ${got}, scripts/envtest/SHA256SUMS pins 1bc6ad5f967dc12d3b7e770804d52896a9f9ac7d6b48301d2022e4a4d875d1d6`,
  );
  expect(fs.existsSync(path.join(scratch, 'cache', 'kube-apiserver'))).toBe(false);
});

test('a binaries directory without the binaries is refused', () => {
  const dir = fs.mkdtempSync(path.join(scratch, 'empty-'));
  const r = run({ ENVTEST_BIN_DIR: dir, ENVTEST_CACHE_DIR: path.join(scratch, 'cache2') });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`test-apiserver.sh: ENVTEST_BIN_DIR=${dir} has neither kube-apiserver nor kube-apiserver.xz`);
});

test('explicit binaries must come in pairs and be the pinned version', () => {
  const api = fakeBinary('kube-apiserver', 'v1.32.13');
  expect(run({ KUBE_APISERVER_BIN: api }).stderr).toContain('test-apiserver.sh: set both KUBE_APISERVER_BIN and KUBECTL_BIN, or neither');
  const oldCtl = fakeBinary('kubectl', 'v1.31.0');
  const r = run({ KUBE_APISERVER_BIN: api, KUBECTL_BIN: oldCtl });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(`test-apiserver.sh: ${oldCtl} is version 'v1.31.0', the tests pin v1.32.13`);
  const ok = run({ KUBE_APISERVER_BIN: api, KUBECTL_BIN: fakeBinary('kubectl', 'v1.32.13') });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain(`KUBE_APISERVER_BIN=${api}\n`);
});
