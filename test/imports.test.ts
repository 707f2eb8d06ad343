/** imports/ is generated: regenerating it from cdk8s.yaml and the pinned CRDs must give the committed files. */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './support/environments';

test('`npm run import` output equals the committed imports/', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'imports-'));
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'cdk8s'), ['import', '--no-check-upgrade', '-o', out], {
    cwd: ROOT,
    env: { ...process.env, CDK8S_CHECK_UPGRADE: 'false' },
    stdio: 'pipe',
  });
  const generated = fs.readdirSync(out).sort();
  const committed = fs.readdirSync(path.join(ROOT, 'imports')).filter((f) => f !== 'README.md').sort();
  expect(committed).toEqual(generated);
  for (const f of generated) {
    expect({ f, same: fs.readFileSync(path.join(out, f), 'utf8') === fs.readFileSync(path.join(ROOT, 'imports', f), 'utf8') }).toEqual({ f, same: true });
  }
  fs.rmSync(out, { recursive: true, force: true });
});

test('imports come only from files in the repository (nothing outside the repository, no network)', () => {
  const cfg = fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8');
  const sources = [...cfg.matchAll(/^\s+- [\w-]+:=(.+)$/gm)].map((m) => m[1]);
  expect(sources.length).toBeGreaterThan(0);
  for (const s of sources) {
    expect(s).toMatch(/^schemas\/crds\//);
    expect(fs.existsSync(path.join(ROOT, s))).toBe(true);
  }
});
