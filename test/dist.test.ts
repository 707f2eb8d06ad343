/**
 * The committed output: every object valid against its schema (Kubernetes 1.28 + the pinned CRDs), passing the
 * restricted Pod Security checks, byte-identical on every synth and equal to what is committed; a snapshot per
 * environment as the second line of defence.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { podSecurityViolations } from '../lib/policy/pod-security';
import { validateManifest } from '../lib/policy/schema-validation';
import { renderEnvironment, synthMarker } from '../lib/synth/synth';
import { ROOT, shippedConfigs } from './support/environments';

function fresh(): { dist: Record<string, string>; argocd: Record<string, string> } {
  const dist: Record<string, string> = {};
  const argocd: Record<string, string> = {};
  for (const c of shippedConfigs()) {
    const out = renderEnvironment(c);
    for (const f of out.dist) dist[`${c.name}/${f.path}`] = f.content;
    for (const f of out.bootstrap) argocd[`${c.name}/${f.path}`] = f.content;
  }
  return { dist, argocd };
}

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

const output = fresh();
const objects = Object.entries({ ...prefix('dist', output.dist), ...prefix('argocd', output.argocd) })
  .map(([file, content]) => ({ file, obj: yaml.load(content) as any }))
  .filter(({ obj }) => obj.kind !== 'Kustomization');

function prefix(p: string, files: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [`${p}/${k}`, v]));
}

test('every synthesized object validates against its schema (Kubernetes 1.28 or its CRD), unknown fields included', () => {
  expect(objects.length).toBeGreaterThan(50);
  const problems = objects.flatMap(({ file, obj }) => validateManifest(obj).map((e) => `${file}: ${e}`));
  expect(problems).toEqual([]);
});

test('every pod template passes Pod Security restricted', () => {
  expect(objects.flatMap(({ obj }) => podSecurityViolations(obj))).toEqual([]);
});

test('two synths are byte-identical', () => {
  expect(fresh()).toEqual(output);
});

test('dist/ and argocd/ equal a fresh synth (run `npm run synth` and commit if this fails)', () => {
  // Each with the marker synth writes beside its files (the list of them): test/synth.test.ts specifies it.
  const marked = (files: Record<string, string>) => {
    const marker = synthMarker(Object.keys(files).map((p) => ({ path: p, content: files[p] })));
    return { ...files, [marker.path]: marker.content };
  };
  expect(committed(path.join(ROOT, 'dist'))).toEqual(marked(output.dist));
  expect(committed(path.join(ROOT, 'argocd'))).toEqual(marked(output.argocd));
});

test('no Secret with data, and no Secret at all, anywhere in the output', () => {
  expect(objects.filter(({ obj }) => obj.kind === 'Secret')).toEqual([]);
});

describe('snapshots', () => {
  for (const c of shippedConfigs()) {
    test(c.name, () => {
      const files = Object.entries({ ...prefix('dist', output.dist), ...prefix('argocd', output.argocd) })
        .filter(([k]) => k.split('/')[1] === c.name)
        .map(([k, v]) => `--- ${k}\n${v}`)
        .join('');
      expect(files).toMatchSnapshot();
    });
  }
});
