/**
 * `npm run promote -- <env> <serving>`: the edit (one count raised, every other byte kept), the refusals with their
 * exact messages, and a whole run in a copy of the repository's config/: the file written, dist/ re-synthesized, and
 * the review diff showing exactly one change, the serving Deployment's rollout, named as a promotion.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CONFIG_DIR } from '../../tools/environments';
import { promoteText } from '../../tools/promote';
import { run, USAGE } from '../../scripts/promote';
import { run as synth } from '../../main';
import { diffReport } from '../../tools/diff/report';
import type { RenderedFile } from '../../lib/synth/synth';

const DEV = fs.readFileSync(path.join(CONFIG_DIR, 'dev.yaml'), 'utf8');

function capture(): { io: { stdout: { write(t: string): void }; stderr: { write(t: string): void } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: { write: (t: string) => void (out += t) }, stderr: { write: (t: string) => void (err += t) } }, out: () => out, err: () => err };
}

/** A repository root with a copy of config/ (and no dist/ yet). */
function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'promote-'));
  fs.cpSync(CONFIG_DIR, path.join(root, 'config'), { recursive: true });
  return root;
}

function distFiles(root: string, env: string): RenderedFile[] {
  const dir = path.join(root, 'dist', env);
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ path: path.posix.join('dist', env, f), content: fs.readFileSync(path.join(dir, f), 'utf8') }));
}

describe('the edit', () => {
  test('no promotion yet: one line `promotion: 1` under the alias, at its indentation; nothing else changes', () => {
    const r = promoteText('config/dev.yaml', DEV, 'iris');
    if (!r.ok) throw new Error(r.problem);
    expect([r.from, r.to, r.model, r.alias, r.notes]).toEqual([0, 1, 'iris', 'champion', []]);
    const before = DEV.split('\n');
    const after = r.text.split('\n');
    const at = before.indexOf('    alias: champion') + 1;
    expect(after).toEqual([...before.slice(0, at), '    promotion: 1', ...before.slice(at)]);
  });

  test('a promotion already there: only its digits change', () => {
    const once = promoteText('config/dev.yaml', DEV, 'iris');
    if (!once.ok) throw new Error(once.problem);
    const twice = promoteText('config/dev.yaml', once.text.replace('promotion: 1', 'promotion: 9 # last: v9'), 'iris');
    if (!twice.ok) throw new Error(twice.problem);
    expect([twice.from, twice.to]).toEqual([9, 10]);
    expect(twice.text).toBe(once.text.replace('promotion: 1', 'promotion: 10 # last: v9'));
  });

  test('a serving written as a flow mapping: the YAML library writes it, and says so', () => {
    const text = 'serving:\n  - { name: iris, model: iris, alias: champion }\n';
    const r = promoteText('config/x.yaml', text, 'iris');
    if (!r.ok) throw new Error(r.problem);
    expect(r.text).toBe('serving:\n  - { name: iris, model: iris, alias: champion, promotion: 1 }\n');
    expect(r.notes).toEqual(['the YAML library re-serialized config/x.yaml (the serving is a flow mapping): comments are kept, spacing inside { } and [ ] may have been normalized']);
  });

  test('refusals: an unknown serving (listing the known ones), a file without servings, a pinned version', () => {
    expect(promoteText('config/dev.yaml', DEV, 'irs')).toEqual({ ok: false, problem: "config/dev.yaml has no serving 'irs' (servings: iris)" });
    expect(promoteText('config/x.yaml', 'namespace: mlflow\n', 'iris')).toEqual({ ok: false, problem: "config/x.yaml has no serving 'iris' (it lists no serving)" });
    const pinned = DEV.replace('    alias: champion\n', '    version: 3\n');
    expect(promoteText('config/dev.yaml', pinned, 'iris')).toEqual({
      ok: false,
      problem: "serving[0] 'iris' in config/dev.yaml serves pinned version 3, not an alias: there is nothing to promote; to serve another version, change its `version`",
    });
  });
});

describe('npm run promote', () => {
  test('usage errors: exit 2 with the usage', () => {
    const none = capture();
    expect(run([], none.io, '/nonexistent')).toBe(2);
    expect(none.err()).toBe(`promote: expected an environment and a serving name, got nothing\n${USAGE}\n`);
    const flag = capture();
    expect(run(['dev', '--force'], flag.io, '/nonexistent')).toBe(2);
    expect(flag.err()).toBe(`promote: expected an environment and a serving name, got 'dev' '--force'\n${USAGE}\n`);
    const bad = capture();
    expect(run(['Dev', 'iris'], bad.io, '/nonexistent')).toBe(2);
    expect(bad.err()).toMatch(/^promote: 'Dev' is not an environment name: /);
  });

  test('an unknown environment, an unknown serving, a pinned version: exit 1, nothing written', () => {
    const root = tempRoot();
    try {
      const unknownEnv = capture();
      expect(run(['staging', 'iris'], unknownEnv.io, root)).toBe(1);
      expect(unknownEnv.err()).toBe("promote: no environment 'staging': config/staging.yaml does not exist (environments: dev, local, prod); nothing was written\n");
      const unknownServing = capture();
      expect(run(['prod', 'iris'], unknownServing.io, root)).toBe(1);
      expect(unknownServing.err()).toBe("promote: config/prod.yaml has no serving 'iris' (it lists no serving); nothing was written\n");
      fs.writeFileSync(path.join(root, 'config', 'dev.yaml'), DEV.replace('    alias: champion\n', '    version: 3\n'));
      const pinned = capture();
      expect(run(['dev', 'iris'], pinned.io, root)).toBe(1);
      expect(pinned.err()).toBe(
        "promote: serving[0] 'iris' in config/dev.yaml serves pinned version 3, not an alias: there is nothing to promote; to serve another version, change its `version`; nothing was written\n",
      );
      expect(fs.existsSync(path.join(root, 'dist'))).toBe(false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  /** Files synth wrote under argocd/ (its marker aside), counted the way synth reports them. */
  function bootstrapFileCount(root: string): number {
    const dir = path.join(root, 'argocd');
    return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile() && !path.basename(f).startsWith('.')).length;
  }

  test("raises the count, re-synthesizes, and the diff is the serving Deployment rolling, named a promotion, and the server's access plan", () => {
    const root = tempRoot();
    try {
      expect(synth([], capture().io, root)).toBe(0);
      const before = distFiles(root, 'dev');
      const c = capture();
      expect(run(['dev', 'iris'], c.io, root)).toBe(0);
      expect(c.err()).toBe('');
      expect(c.out()).toBe(
        'promote: config/dev.yaml: serving iris (iris@champion) promotion 0 → 1\n' +
          'synthesized dev, local, prod → dist/ (' + `${before.length + distFiles(root, 'local').length + distFiles(root, 'prod').length} files), argocd/ (${bootstrapFileCount(root)} files)\n` +
          'next: review with `npm run diff -- --env dev` (under dist/dev/serving/ the pod template of Deployment serve-iris rolls; ' +
          "in the server's folder the access plan ConfigMap carries the new count), commit config/dev.yaml and dist/dev/, merge; " +
          "the server's sync runs the migration Job, which grants the serving user READ on the experiment of the version iris@champion points at; " +
          'the new pods wait for that grant, the old ones serving meanwhile, then resolve it\n',
      );
      const report = diffReport({ baseLabel: 'before', headLabel: 'after', base: before, head: distFiles(root, 'dev') });
      const changes = report.environments.flatMap((e) => e.folders.flatMap((f) => f.changes.map((ch) => ({ folder: f, ch }))));
      expect(
        changes.map(({ folder, ch }) => `${folder.folder} ${ch.status} ${(ch.after ?? ch.before)?.kind} ${(ch.after ?? ch.before)?.metadata?.name}: ${ch.fields.map((f) => f.path.join('.')).join(', ')}`),
      ).toEqual([
        'dist/dev/mlflow changed ConfigMap mlflow-access-plan: data.access.json',
        'dist/dev/serving/mlflow changed Deployment serve-iris: spec.template.metadata.annotations.mlflow-gitops/promotion',
      ]);
      expect(report.dangers.map((d) => `${d.kind} ${d.object}: ${d.message}`)).toEqual([
        'rolls-pods Deployment mlflow/serve-iris: a promotion (mlflow-gitops/promotion 0 → 1): every pod is replaced, RollingUpdate (maxSurge 1, maxUnavailable 0), and the new pods resolve the served model\'s alias again',
      ]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});
