/**
 * imports/ is generated (`npm run import`: `cdk8s import` from cdk8s.yaml and the CRDs copied into schemas/crds/),
 * never edited by hand. That the committed files equal a fresh import is a drift check of CI (.ci/run and
 * .github/workflows/ci.yml, tested in workflows.test.ts), beside the one of dist/: regenerating every import takes
 * 5 CPU-seconds, which `npm test`'s fast suites cannot afford. Here: what the import reads.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../tools/environments';

test('imports come only from files in the repository (nothing outside the repository, no network)', () => {
  const cfg = fs.readFileSync(path.join(ROOT, 'cdk8s.yaml'), 'utf8');
  const sources = [...cfg.matchAll(/^\s+- [\w-]+:=(.+)$/gm)].map((m) => m[1]);
  expect(sources.length).toBeGreaterThan(0);
  for (const s of sources) {
    expect(s).toMatch(/^schemas\/crds\//);
    expect(fs.existsSync(path.join(ROOT, s))).toBe(true);
  }
});

test('`npm run import` is cdk8s import into imports/, with no upgrade check (offline)', () => {
  const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts;
  expect(scripts.import).toBe('CDK8S_CHECK_UPGRADE=false cdk8s import --no-check-upgrade -o imports');
});
