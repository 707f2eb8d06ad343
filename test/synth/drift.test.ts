/**
 * The drift check: dist/ and argocd/ equal a fresh synth, byte for byte (run `npm run synth` and commit if this
 * fails). It fails on any change of output, right or wrong, so it guards the committed tree, not behaviour;
 * .ci/run repeats it with git.
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderEnvironment, synthMarker, type RenderedFile } from '../../lib/synth/synth';
import { ROOT, shippedEnvironments } from '../../tools/environments';

function committed(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p).split(path.sep).join('/')] = fs.readFileSync(p, 'utf8');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

test('dist/ and argocd/ equal a fresh synth (run `npm run synth` and commit if this fails)', () => {
  const dist: Record<string, string> = {};
  const argocd: Record<string, string> = {};
  for (const c of shippedEnvironments()) {
    const out = renderEnvironment(c);
    for (const f of out.dist) dist[`${c.name}/${f.path}`] = f.content;
    for (const f of out.bootstrap) argocd[`${c.name}/${f.path}`] = f.content;
  }
  // Each tree with the marker synth writes beside its files, listing them (test/cli/cli.test.ts specifies it).
  const marked = (files: Record<string, string>) => {
    const marker = synthMarker(Object.entries(files).map(([p, content]): RenderedFile => ({ path: p, content })));
    return { ...files, [marker.path]: marker.content };
  };
  expect(committed(path.join(ROOT, 'dist'))).toEqual(marked(dist));
  expect(committed(path.join(ROOT, 'argocd'))).toEqual(marked(argocd));
});
