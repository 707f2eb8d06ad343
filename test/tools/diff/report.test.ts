/**
 * How `npm run diff` lays out a comparison, on hand-written renderings: which objects count as the same one,
 * the folders and their Argo CD Applications, the apply order, the field paths of a change (list items by
 * identity, insertions in object lists, plain-value lists), and the text and Markdown forms. Every expected
 * report is written out as a reviewer reads it. The danger rules are in dangers.test.ts; `npm run diff` on
 * real git commits in diff.test.ts.
 */
import * as yaml from 'js-yaml';
import type { RenderedFile } from '../../../lib/synth/synth';
import { formatPath, hunks } from '../../../tools/diff/fields';
import { diffReport, formatMarkdown, formatText, lineDiff } from '../../../tools/diff/report';

type Obj = Record<string, any>;

/** An object as one file of `folder` (several objects may share a file name: `name` keeps them apart). */
function at(folder: string, o: Obj, name = `${String(o.kind).toLowerCase()}-${o.metadata?.name ?? 'x'}`): RenderedFile {
  return { path: `${folder}/${name}.yaml`, content: yaml.dump(o) };
}

const text = (base: RenderedFile[], head: RenderedFile[], envs?: string[]) => formatText(diffReport({ baseLabel: 'base', headLabel: 'head', base, head, envs }));
const markdown = (base: RenderedFile[], head: RenderedFile[], notes?: string[]) => formatMarkdown(diffReport({ baseLabel: 'base', headLabel: 'head', base, head, notes }));

const cm = (name: string, data: Obj, annotations: Obj = {}, apiVersion = 'v1'): Obj => ({ apiVersion, kind: 'ConfigMap', metadata: { name, namespace: 'mlflow', annotations }, data });
const app = (name: string, spec: Obj, apiVersion = 'argoproj.io/v1alpha1', kind = 'Application'): Obj => ({ apiVersion, kind, metadata: { name, namespace: 'argocd' }, spec });

describe('objects: identity, folders, environments', () => {
  test('an object is identified by API group, kind, namespace and name: a version change is a change, a group change is another object', () => {
    const hpa = (apiVersion: string): Obj => ({ apiVersion, kind: 'HorizontalPodAutoscaler', metadata: { name: 'mlflow', namespace: 'mlflow' }, spec: { maxReplicas: 3 } });
    const ing = (apiVersion: string): Obj => ({ apiVersion, kind: 'Ingress', metadata: { name: 'mlflow', namespace: 'mlflow' }, spec: {} });
    expect(text([at('dist/dev/mlflow', hpa('autoscaling/v2beta2')), at('dist/dev/mlflow', ing('extensions/v1beta1'))], [at('dist/dev/mlflow', hpa('autoscaling/v2')), at('dist/dev/mlflow', ing('networking.k8s.io/v1'))]))
      .toBe(`Rendered manifests: base → head

No dangers found.

dev: 1 changed, 1 added, 1 removed
  dist/dev/mlflow
    ~ HorizontalPodAutoscaler mlflow/mlflow (wave 0)
        apiVersion: "autoscaling/v2beta2" → "autoscaling/v2"
    - Ingress mlflow/mlflow (wave 0)
    + Ingress mlflow/mlflow (wave 0)
`);
  });

  test('cluster-scoped objects have no namespace part; an object without a name is known by its file; only YAML under dist/<env>/<app>/ and argocd/<env>/ counts', () => {
    const ns: Obj = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mlflow', labels: { a: '1' } } };
    const nameless: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'mlflow' }, data: { a: '1' } };
    const ignored: RenderedFile[] = [
      { path: 'dist/dev/namespace.yaml', content: yaml.dump(ns) },
      { path: 'dist/dev/mlflow/notes.txt', content: yaml.dump(ns) },
      { path: 'config/dev.yaml', content: yaml.dump(ns) },
      { path: 'argocd/root.yaml', content: yaml.dump(ns) },
    ];
    expect(text([at('dist/dev/mlflow', ns)], [at('dist/dev/mlflow', { ...ns, metadata: { name: 'mlflow', labels: { a: '2' } } }), at('dist/dev/mlflow', nameless, 'nameless'), ...ignored]))
      .toBe(`Rendered manifests: base → head

No dangers found.

dev: 1 changed, 1 added
  dist/dev/mlflow
    + ConfigMap mlflow/(no name) (wave 0)
    ~ Namespace mlflow (wave 0)
        metadata.labels.a: "1" → "2"
`);
  });

  test('several documents in one file are separate objects; empty and scalar documents are skipped', () => {
    const two = { path: 'dist/dev/mlflow/all.yaml', content: `${yaml.dump(cm('a', { v: '1' }))}---\n---\n42\n---\n${yaml.dump(cm('b', { v: '1' }))}` };
    const twoChanged = { path: 'dist/dev/mlflow/all.yaml', content: `${yaml.dump(cm('a', { v: '1' }))}---\n${yaml.dump(cm('b', { v: '2' }))}` };
    expect(text([two], [twoChanged])).toBe(`Rendered manifests: base → head

No dangers found.

dev: 1 changed
  dist/dev/mlflow
    ~ ConfigMap mlflow/b (wave 0)
        data.v: "1" → "2"
`);
  });

  test('several environments without changes: one line naming each, in name order', () => {
    const files = [at('dist/prod/mlflow', cm('a', { v: '1' })), at('dist/dev/mlflow', cm('a', { v: '1' })), at('dist/local/mlflow', cm('a', { v: '1' }))];
    expect(text(files, files)).toBe('Rendered manifests: base → head\n\nNo dangers found.\n\nNo changes: dev, local, prod.\n');
  });

  test('environments in name order, with new and removed ones and those without changes; --env keeps only those asked for, in that order', () => {
    const base = [at('dist/dev/mlflow', cm('a', { v: '1' })), at('dist/old/mlflow', cm('a', { v: '1' })), at('dist/prod/mlflow', cm('a', { v: '1' }))];
    const head = [at('dist/dev/mlflow', cm('a', { v: '1' })), at('dist/new/mlflow', cm('a', { v: '1' })), at('dist/prod/mlflow', cm('a', { v: '2' }))];
    expect(text(base, head)).toBe(`Rendered manifests: base → head

No dangers found.

new: 1 added (new environment)
  dist/new/mlflow
    + ConfigMap mlflow/a (wave 0)

old: 1 removed (environment removed)
  dist/old/mlflow
    - ConfigMap mlflow/a (wave 0)

prod: 1 changed
  dist/prod/mlflow
    ~ ConfigMap mlflow/a (wave 0)
        data.v: "1" → "2"

No changes: dev.
`);
    expect(text(base, head, ['prod', 'dev'])).toBe(`Rendered manifests: base → head

No dangers found.

prod: 1 changed
  dist/prod/mlflow
    ~ ConfigMap mlflow/a (wave 0)
        data.v: "1" → "2"

No changes: dev.
`);
  });

  test('folders in path order, each named by the Argo CD Application whose source path it is (also a multi-source one); the bootstrap folder says it is applied by hand', () => {
    const base = [
      at('argocd/dev', cm('root-notes', { v: '1' })),
      at('dist/dev/addons', cm('a', { v: '1' })),
      at('dist/dev/mlflow', cm('a', { v: '1' })),
      at('dist/dev/other', cm('a', { v: '1' })),
    ];
    const apps = [
      at('dist/dev/apps', app('mlflow-dev', { source: { repoURL: 'https://example.com/repo.git', path: 'dist/dev/mlflow' } })),
      at('dist/dev/apps', app('addons-dev', { sources: [{ repoURL: 'https://charts.example.com', chart: 'x' }, { repoURL: 'https://example.com/repo.git', path: 'dist/dev/addons' }] })),
    ];
    const head = [
      at('argocd/dev', cm('root-notes', { v: '2' })),
      at('dist/dev/addons', cm('a', { v: '2' })),
      at('dist/dev/mlflow', cm('a', { v: '2' })),
      at('dist/dev/other', cm('a', { v: '2' })),
    ];
    expect(text([...base, ...apps], [...head, ...apps])).toBe(`Rendered manifests: base → head

No dangers found.

dev: 4 changed
  argocd/dev (bootstrap, applied by hand)
    ~ ConfigMap mlflow/root-notes (wave 0)
        data.v: "1" → "2"
  dist/dev/addons (Application addons-dev)
    ~ ConfigMap mlflow/a (wave 0)
        data.v: "1" → "2"
  dist/dev/mlflow (Application mlflow-dev)
    ~ ConfigMap mlflow/a (wave 0)
        data.v: "1" → "2"
  dist/dev/other
    ~ ConfigMap mlflow/a (wave 0)
        data.v: "1" → "2"
`);
  });

  test("only an Argo CD Application names a folder: not another group's Application (or one without apiVersion), not an AppProject, not one for another path; the new checkout's name wins, a removed one still names it", () => {
    const changed = [at('dist/dev/mlflow', cm('a', { v: '1' }))];
    const changedNow = [at('dist/dev/mlflow', cm('a', { v: '2' }))];
    const notArgo = [
      // Keys sort before the real one, so a looser filter would pick them first.
      at('dist/dev/apps', app('a-sig-app', { source: { path: 'dist/dev/mlflow' } }, 'app.k8s.io/v1beta1')),
      at('dist/dev/apps', app('a-project', { source: { path: 'dist/dev/mlflow' } }, 'argoproj.io/v1alpha1', 'AppProject')),
      at('dist/dev/apps', app('a-elsewhere', { source: { path: 'dist/dev/addons' } })),
      at('dist/dev/apps', app('a-no-spec', undefined as unknown as Obj)),
      at('dist/dev/apps', { kind: 'Application', metadata: { name: 'a-no-version', namespace: 'argocd' }, spec: { source: { path: 'dist/dev/mlflow' } } }),
      // Nameless: known by its file, names no folder.
      at('dist/dev/apps', { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', spec: { source: { path: 'dist/dev/mlflow' } } }, 'a-no-metadata'),
    ];
    const title = (base: RenderedFile[], head: RenderedFile[]) => text(base, head).split('\n').filter((l) => l.startsWith('  dist/'));
    expect(title([...changed, ...notArgo], [...changedNow, ...notArgo])).toEqual(['  dist/dev/mlflow']);
    const mlflowApp = (name: string) => at('dist/dev/apps', app(name, { source: { path: 'dist/dev/mlflow' } }), 'root');
    // dist/dev/apps changes too (the Application is renamed, or removed); no Application syncs that folder.
    expect(title([...changed, ...notArgo, mlflowApp('mlflow-dev-old')], [...changedNow, ...notArgo, mlflowApp('mlflow-dev')])).toEqual([
      '  dist/dev/apps',
      '  dist/dev/mlflow (Application mlflow-dev)',
    ]);
    expect(title([...changed, mlflowApp('mlflow-dev')], changedNow)).toEqual(['  dist/dev/apps', '  dist/dev/mlflow (Application mlflow-dev)']);
  });
});

describe('apply order and placement', () => {
  const job = (name: string, annotations: Obj): Obj => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'mlflow', annotations }, spec: { backoffLimit: 1 } });
  const wave = (w: string) => ({ 'argocd.argoproj.io/sync-wave': w });

  test('hook phase first (PreSync, Sync, PostSync, SyncFail, then unknown phases), then wave, then kind and name; a wave that is no number counts as 0', () => {
    const objects = [
      job('post', { 'argocd.argoproj.io/hook': 'PostSync' }),
      job('fail', { 'argocd.argoproj.io/hook': 'SyncFail' }),
      job('weird', { 'argocd.argoproj.io/hook': 'Sometime' }),
      job('pre', { 'argocd.argoproj.io/hook': 'PreSync', ...wave('5') }),
      job('pre-and-sync', { 'argocd.argoproj.io/hook': 'PreSync, Sync', ...wave('-1') }),
      cm('late', { v: '1' }, wave('2')),
      cm('early', { v: '1' }, wave('-2')),
      cm('nan', { v: '1' }, wave('soon')),
      cm('b', { v: '1' }),
      { ...cm('a', { v: '1' }), kind: 'Secret' },
      job('helm', { 'helm.sh/hook': 'pre-install' }),
    ];
    expect(text([], objects.map((o) => at('dist/dev/mlflow', o)))).toBe(`Rendered manifests: base → head

No dangers found.

dev: 11 added (new environment)
  dist/dev/mlflow
    + Job mlflow/pre-and-sync (wave -1, PreSync+Sync hook)
    + Job mlflow/pre (wave 5, PreSync hook)
    + ConfigMap mlflow/early (wave -2)
    + ConfigMap mlflow/b (wave 0)
    + ConfigMap mlflow/nan (wave 0)
    + Secret mlflow/a (wave 0)
    + Job mlflow/helm (wave 0)
    + ConfigMap mlflow/late (wave 2)
    + Job mlflow/post (wave 0, PostSync hook)
    + Job mlflow/fail (wave 0, SyncFail hook)
    + Job mlflow/weird (wave 0, Sometime hook)
`);
  });

  test('a moved wave shows both waves in the header (and as a danger)', () => {
    expect(text([at('dist/dev/mlflow', cm('a', { v: '1' }, wave('-1')))], [at('dist/dev/mlflow', cm('a', { v: '1' }, wave('-2')))])).toBe(`Rendered manifests: base → head

DANGER (1):
  sync wave moves:
    ! dev ConfigMap mlflow/a: sync wave -1 → -2: it is applied in a different order relative to the other objects

dev: 1 changed
  dist/dev/mlflow
    ~ ConfigMap mlflow/a (wave -1 → -2)
        metadata.annotations["argocd.argoproj.io/sync-wave"]: "-1" → "-2"
`);
  });
});

describe('field paths of a change', () => {
  const deploy = (containers: Obj[], extra: Obj = {}): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'mlflow', namespace: 'mlflow' },
    spec: { template: { spec: { containers, ...extra } } },
  });
  /** The field lines of the one changed object. */
  const fieldLinesOf = (before: Obj, after: Obj) =>
    text([at('dist/dev/mlflow', before)], [at('dist/dev/mlflow', after)])
      .split('\n')
      .filter((l) => l.startsWith('        '))
      .map((l) => l.slice(8));

  test('list items matched by name, then secretKey, then mountPath: an insertion is one addition, a removal one removal, in the order of the new list', () => {
    const c = (name: string, image: string) => ({ name, image });
    expect(fieldLinesOf(deploy([c('mlflow', 'm:1'), c('proxy', 'p:1')]), deploy([c('init', 'i:1'), c('mlflow', 'm:2')]))).toEqual([
      'spec.template.spec.containers[name=init]: (none) → {"name":"init","image":"i:1"}',
      'spec.template.spec.containers[name=mlflow].image: "m:1" → "m:2"',
      'spec.template.spec.containers[name=proxy]: {"name":"proxy","image":"p:1"} → (none)',
    ]);
    const es = (data: Obj[]): Obj => ({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'db', namespace: 'mlflow' }, spec: { data } });
    expect(fieldLinesOf(es([{ secretKey: 'user', remoteRef: { key: 'u' } }]), es([{ secretKey: 'password', remoteRef: { key: 'p' } }, { secretKey: 'user', remoteRef: { key: 'u2' } }]))).toEqual([
      'spec.data[secretKey=password]: (none) → {"secretKey":"password","remoteRef":{"key":"p"}}',
      'spec.data[secretKey=user].remoteRef.key: "u" → "u2"',
    ]);
    const mounts = (m: Obj[]) => deploy([{ name: 'mlflow', volumeMounts: m }]);
    expect(fieldLinesOf(mounts([{ mountPath: '/a', readOnly: true }]), mounts([{ mountPath: '/b', readOnly: true }, { mountPath: '/a', readOnly: false }]))).toEqual([
      'spec.template.spec.containers[name=mlflow].volumeMounts[mountPath=/b]: (none) → {"mountPath":"/b","readOnly":true}',
      'spec.template.spec.containers[name=mlflow].volumeMounts[mountPath=/a].readOnly: true → false',
    ]);
  });

  test('an identity is used only when every item has it with unique values on each side; else items are matched by position', () => {
    const env = (e: Obj[]) => deploy([{ name: 'mlflow', env: e }]);
    expect(fieldLinesOf(env([{ name: 'A', value: '1' }, { name: 'A', value: '2' }]), env([{ name: 'A', value: '1' }, { name: 'A', value: '3' }]))).toEqual([
      'spec.template.spec.containers[name=mlflow].env[1].value: "2" → "3"',
    ]);
    expect(fieldLinesOf(env([{ name: 'A', value: '1' }, { value: '2' }]), env([{ name: 'A', value: '1' }, { value: '3' }]))).toEqual([
      'spec.template.spec.containers[name=mlflow].env[1].value: "2" → "3"',
    ]);
    // Numbers identify as well as strings.
    const ports = (p: Obj[]) => deploy([{ name: 'mlflow', ports: p }]);
    expect(fieldLinesOf(ports([{ name: 5000, protocol: 'TCP' }]), ports([{ name: 9090, protocol: 'TCP' }, { name: 5000, protocol: 'UDP' }]))).toEqual([
      'spec.template.spec.containers[name=mlflow].ports[name=9090]: (none) → {"name":9090,"protocol":"TCP"}',
      'spec.template.spec.containers[name=mlflow].ports[name=5000].protocol: "TCP" → "UDP"',
    ]);
  });

  test('object lists without an identity: an inserted or removed item is one change at its index, the items around it unchanged; a changed item inside a run pairs with the old one', () => {
    const rules = (r: Obj[]): Obj => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: 'mlflow' }, rules: r });
    const A = { verbs: ['get'], resources: ['a'] };
    const B = { verbs: ['get'], resources: ['b'] };
    const C = { verbs: ['get'], resources: ['c'] };
    const X = { verbs: ['list'], resources: ['x'] };
    expect(fieldLinesOf(rules([A, B, C]), rules([A, X, B, C]))).toEqual(['rules[1]: (none) → {"verbs":["list"],"resources":["x"]}']);
    expect(fieldLinesOf(rules([A, B, C]), rules([A, C]))).toEqual(['rules[1]: {"verbs":["get"],"resources":["b"]} → (none)']);
    expect(fieldLinesOf(rules([A, B, C]), rules([A, { ...B, verbs: ['watch'] }, X, C]))).toEqual([
      'rules[1].verbs[0]: "get" → "watch"',
      'rules[2]: (none) → {"verbs":["list"],"resources":["x"]}',
    ]);
    expect(fieldLinesOf(rules([A, B, X, C]), rules([A, { ...B, verbs: ['watch', 'list'] }, C]))).toEqual([
      'rules[1].verbs: replaces "get" with "watch", "list" at [0]',
      'rules[2]: {"verbs":["list"],"resources":["x"]} → (none)',
    ]);
    // One item in common either way (a or b): a stays, additions come first; an addition is at its index in the
    // new list, a removal at its index in the old one.
    expect(fieldLinesOf(rules([A, B]), rules([B, C, A]))).toEqual([
      'rules[0]: (none) → {"verbs":["get"],"resources":["b"]}',
      'rules[1]: (none) → {"verbs":["get"],"resources":["c"]}',
      'rules[1]: {"verbs":["get"],"resources":["b"]} → (none)',
    ]);
  });

  test('a list of plain values: an insertion, a removal, a replacement, each at its index; a list of the same length item by item', () => {
    const cmd = (c: unknown[]) => deploy([{ name: 'mlflow', command: c }]);
    const P = 'spec.template.spec.containers[name=mlflow].command';
    expect(fieldLinesOf(cmd(['mlflow', 'server', '--port', 5000]), cmd(['mlflow', 'server', '--workers', 2, '--port', 5000]))).toEqual([`${P}: inserts "--workers", 2 at [2]`]);
    expect(fieldLinesOf(cmd(['mlflow', 'server', '--dev', '--port']), cmd(['mlflow', 'server', '--port']))).toEqual([`${P}: removes "--dev" from [2]`]);
    expect(fieldLinesOf(cmd(['a', 'b', 'c']), cmd(['a', 'x', 'y', 'c', 'd']))).toEqual([`${P}: replaces "b" with "x", "y" at [1]`, `${P}: inserts "d" at [4]`]);
    expect(fieldLinesOf(cmd(['a', null, true]), cmd(['a', null, false]))).toEqual([`${P}[2]: true → false`]);
  });

  test('fields in the order of the new object, removed ones after; keys that are no identifiers are quoted; a value changing type is one change; an added or removed key shows (none)', () => {
    const o = (labels: Obj, data: unknown): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'mlflow', labels }, data });
    expect(fieldLinesOf(o({ 'app.kubernetes.io/name': 'a', _x$: '1', 'k-1': '1' }, { a: '1' }), o({ 'app.kubernetes.io/name': 'b', _x$: '2', '1k': '1' }, ['a']))).toEqual([
      'metadata.labels["app.kubernetes.io/name"]: "a" → "b"',
      'metadata.labels._x$: "1" → "2"',
      'metadata.labels["1k"]: (none) → "1"',
      'metadata.labels.k-1: "1" → (none)',
      'data: {"a":"1"} → ["a"]',
    ]);
    expect(formatPath([])).toBe('(the whole object)');
    expect(formatPath(['spec', 'containers', { field: 'name', value: 'mlflow' }, 'args', 3])).toBe('spec.containers[name=mlflow].args[3]');
  });

  test('text of several lines shows the changed lines under the line number of the new text; one-line text shows old → new', () => {
    const c = (v: string) => cm('script', { 'run.py': v, one: v.split('\n')[0] });
    expect(fieldLinesOf(c('a\nb\nc\nd\n'), c('z\na\nc\nd\ne\n'))).toEqual([
      'data["run.py"]: text changed',
      '    @@ line 1',
      '    + z',
      '    @@ line 3',
      '    - b',
      '    @@ line 5',
      '    + e',
      'data.one: "a" → "z"',
    ]);
    expect(lineDiff('x\ny', 'x\ny')).toEqual([]);
    expect(lineDiff('x', 'x\ny')).toEqual(['@@ line 2', '+ y']);
  });

  test('longest common subsequence: the runs that differ, as few as possible', () => {
    expect(hunks(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual([]);
    expect(hunks([], ['a'])).toEqual([{ at: 0, removed: 0, atNew: 0, added: 1 }]);
    expect(hunks(['a'], [])).toEqual([{ at: 0, removed: 1, atNew: 0, added: 0 }]);
    // Keeps b c d (3 in common), not a (1).
    expect(hunks(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'a'])).toEqual([
      { at: 0, removed: 1, atNew: 0, added: 0 },
      { at: 4, removed: 0, atNew: 3, added: 1 },
    ]);
    expect(hunks(['x', 'a', 'b', 'y'], ['a', 'q', 'b'])).toEqual([
      { at: 0, removed: 1, atNew: 0, added: 0 },
      { at: 2, removed: 0, atNew: 1, added: 1 },
      { at: 3, removed: 1, atNew: 3, added: 0 },
    ]);
  });
});

describe('the Markdown form', () => {
  test('notes as quotes, one danger read "it", Markdown characters escaped, fences longer than the backticks inside', () => {
    const before = cm('a`b', { v: 'x ``` y' }, { 'argocd.argoproj.io/sync-wave': '1' });
    const after = cm('a`b', { v: 'x ```` y' }, { 'argocd.argoproj.io/sync-wave': '2' });
    expect(markdown([at('dist/dev/mlflow', before, 'a')], [at('dist/dev/mlflow', after, 'a')], ['a *note* with <html>'])).toBe(`<!-- mlflow-gitops:diff -->
### Rendered manifests: base → head

> a \\*note\\* with \\<html\\>

> [!CAUTION]
> **1 danger**: read it before merging.

**sync wave moves**

- \`dev\` \`ConfigMap mlflow/a\`b\`: sync wave 1 → 2: it is applied in a different order relative to the other objects

<details><summary><b>dev</b>: 1 changed</summary>

\`dist/dev/mlflow\`

\`\`\`\`\`text
~ ConfigMap mlflow/a\`b (wave 1 → 2)
    metadata.annotations["argocd.argoproj.io/sync-wave"]: "1" → "2"
    data.v: "x \`\`\` y" → "x \`\`\`\` y"
\`\`\`\`\`

</details>
`);
  });

  test('a new and a removed environment: each summary says so, the unchanged ones are listed last', () => {
    const base = [at('dist/dev/mlflow', cm('a', { v: '1' })), at('dist/old/mlflow', cm('a', { v: '1' }))];
    const head = [at('dist/dev/mlflow', cm('a', { v: '1' })), at('dist/new/mlflow', cm('a', { v: '1' })), at('dist/new/mlflow', cm('b', { v: '1' }))];
    expect(markdown(base, head)).toBe(`<!-- mlflow-gitops:diff -->
### Rendered manifests: base → head

No dangers found.

<details><summary><b>new</b>: 2 added (new environment)</summary>

\`dist/new/mlflow\`

\`\`\`text
+ ConfigMap mlflow/a (wave 0)
+ ConfigMap mlflow/b (wave 0)
\`\`\`

</details>

<details><summary><b>old</b>: 1 removed (environment removed)</summary>

\`dist/old/mlflow\`

\`\`\`text
- ConfigMap mlflow/a (wave 0)
\`\`\`

</details>

No changes: \`dev\`.
`);
  });

  test('two dangers read "them"; an Application folder is named in code spans', () => {
    const w = (v: string) => ({ 'argocd.argoproj.io/sync-wave': v });
    const apps = [at('dist/dev/apps', app('mlflow-dev', { source: { path: 'dist/dev/mlflow' } }))];
    const md = markdown([...apps, at('dist/dev/mlflow', cm('a', { v: '1' }, w('1'))), at('dist/dev/mlflow', cm('b', { v: '1' }, w('1')))], [
      ...apps,
      at('dist/dev/mlflow', cm('a', { v: '1' }, w('2'))),
      at('dist/dev/mlflow', cm('b', { v: '1' }, w('2'))),
    ]);
    expect(md.split('\n').filter((l) => l.startsWith('> **') || l.startsWith('`dist'))).toEqual([
      '> **2 dangers**: read them before merging.',
      '`dist/dev/mlflow` (Application `mlflow-dev`)',
    ]);
  });
});
