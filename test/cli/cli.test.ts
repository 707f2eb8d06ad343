/**
 * The synth command as a user runs it. Most cases call `run` from main.ts in-process with captured streams
 * (the same code as `npm run synth`, without a node start per case); the cases at the end run it in its own
 * node process, as `npm run synth` does (`node --require tsx/cjs main.ts`).
 *
 * - every malformed config in test/fixtures/bad-configs is refused: exit 1, a message naming the file and the
 *   problem, and the previous output untouched;
 * - a valid config is synthesized into --out, which synth may replace only when it is absent, empty or written
 *   by synth (it carries .mlflow-gitops-synth); anything else is refused with exit 2 and nothing touched;
 * - without options, every config/*.yaml goes to dist/ and argocd/ (here of a scratch copy of the repository);
 * - usage errors print one line and the usage, exit 2.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { run } from '../../main';
import { ROOT, RUN_TS } from '../../tools/environments';

const execFileAsync = promisify(execFile);
const CORPUS = path.join(ROOT, 'test', 'fixtures', 'bad-configs');
const DEV = path.join(ROOT, 'config', 'dev.yaml');
const LOCAL = path.join(ROOT, 'config', 'local.yaml');
/** A config refused at validation: the cases that point --out at the repository itself use it, so that a
 *  broken --out guard would still write nothing there (exit 1) instead of replacing a source folder. */
const INVALID = path.join(CORPUS, 'unknown-engine.yaml');
const MARKER = '.mlflow-gitops-synth';

interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `npm run synth -- <args>` in-process; `root` stands for the repository (its config/, dist/, argocd/). */
function synth(args: readonly string[], root?: string): Result {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } };
  const code = run(args, io, root);
  return { code, stdout, stderr };
}

/** `npm run synth -- <args>` in its own node process, from `cwd`. */
async function synthProcess(args: readonly string[], cwd = ROOT): Promise<Result> {
  try {
    const r = await execFileAsync(process.execPath, [...RUN_TS, path.join(ROOT, 'main.ts'), ...args], { cwd });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpdir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `synth-${prefix}-`));
  scratch.push(d);
  return d;
}

/** Every entry under `dir` (not following links): file contents, `dir/` for folders, `-> target` for links. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      const abs = path.join(dir, p);
      if (e.isSymbolicLink()) out[p] = `-> ${fs.readlinkSync(abs)}`;
      else if (e.isDirectory()) {
        out[`${p}/`] = 'dir';
        walk(p);
      } else out[p] = fs.readFileSync(abs, 'utf8');
    }
  };
  walk('');
  return out;
}

/** The refusal line for a directory holding files synth did not write. */
function foreign(dir: string, shown: string): string {
  return `synth: refusing to replace ${dir}: it holds files synth did not write (${shown}); synth replaces only an empty directory or one it wrote (marked by ${MARKER}). Nothing was written.\n`;
}

/** How the refusal lists the top-level entries of a folder that has no marker: sorted, folders with '/', five at most. */
function listing(dir: string): string {
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() && !e.isSymbolicLink() ? `${e.name}/` : e.isSymbolicLink() ? `${e.name} (symbolic link)` : e.name))
    .sort((a, b) => (a.replace(/\/$/, '') < b.replace(/\/$/, '') ? -1 : 1));
  return names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more` : names.join(', ');
}

/** Every file of a directory tree, by path relative to it (`dist/dev` → `mlflow/deployment-mlflow.yaml`, …). */
function filesUnder(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(tree(dir)).filter(([p]) => !p.endsWith('/')));
}

/** The marker synth writes: its two header lines, the environment of a `--config` synth, then every file it wrote, sorted. */
function markerFor(paths: readonly string[], environment?: string): string {
  return (
    '# Written by mlflow-gitops synth (npm run synth), which replaces this directory on every run.\n' +
    '# Synth refuses to replace a directory holding files it did not write; the files it wrote are listed below.\n' +
    (environment === undefined ? '' : `# environment: ${environment}\n`) +
    [...paths].sort().map((p) => `${p}\n`).join('')
  );
}

/** The line synth prints after a `--config` synth of an environment with Argo CD Applications. */
function applicationsNote(env: string, out: string): string {
  return `note: its Argo CD Applications point at dist/${env}/ in the Git repository, not at ${out}: Argo CD deploys what npm run synth writes to dist/\n`;
}

/**
 * What `--config config/dev.yaml --out <dir>` writes: the committed dist/dev, argocd/dev under argocd/, the marker
 * (naming `environment`: a file of another name, but the same content, writes the same files).
 */
function devOutput(environment = 'dev'): Record<string, string> {
  const files = { ...filesUnder(path.join(ROOT, 'dist', 'dev')) };
  for (const [p, content] of Object.entries(filesUnder(path.join(ROOT, 'argocd', 'dev')))) files[`argocd/${p}`] = content;
  return { ...files, [MARKER]: markerFor(Object.keys(files), environment) };
}

/** The top-level entries of `dir`, folders with '/', sorted. */
function entries(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
}

/** What a directory synth wrote must satisfy: its marker lists exactly the files in it, none of them empty.
 *  (In-process cases check structure, not bytes: the bytes are the drift check's and the construct tests'.) */
function expectMarked(dir: string, environment?: string): void {
  const files = filesUnder(dir);
  const listed = Object.keys(files).filter((p) => p !== MARKER);
  expect(files[MARKER]).toBe(markerFor(listed, environment));
  expect(listed.filter((p) => files[p] === '')).toEqual([]);
}

/** A directory as synth writes it for dev (laid out by hand, from the committed output: no synth at collection time). */
function writtenDir(environment = 'dev'): string {
  const dir = path.join(tmpdir('written'), 'out');
  for (const [p, content] of Object.entries(devOutput(environment))) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  return dir;
}

describe('malformed configs', () => {
  const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort();

  test('the corpus has at least 20 cases, each stating the message it expects', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) expect(fs.readFileSync(path.join(CORPUS, f), 'utf8')).toMatch(/^# expect: .+\n/);
  });

  test.each(files)('%s is refused: exit 1, file + field + expectation in the message, previous output untouched', (f) => {
    const file = path.join(CORPUS, f);
    const expected = /^# expect: (.+)\n/.exec(fs.readFileSync(file, 'utf8'))![1];
    const out = writtenDir(f.replace(/\.yaml$/, ''));
    const before = tree(out);
    const r = synth(['--config', file, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Invalid configuration \(\d+ problems?\); nothing was written:\n/);
    expect(r.stderr).toContain(`${file}: `);
    expect(r.stderr).toContain(expected);
    expect(tree(out)).toEqual(before);
  });
});

describe('single-file mode writes exactly that environment into --out', () => {
  test('the files are those of the committed dist/<env>, the bootstrap under argocd/, with the marker listing them', () => {
    const out = path.join(tmpdir('new'), 'out');
    const r = synth(['--config', DEV, '--out', out]);
    expect(r).toEqual({ code: 0, stdout: `synthesized ${DEV} → ${out}\n${applicationsNote('dev', out)}`, stderr: '' });
    // dev has add-ons: the MLflow app, the Argo CD Applications, the ClusterIssuer, and the bootstrap.
    expect(entries(out)).toEqual([MARKER, 'apps/', 'argocd/', 'clients/', 'cluster-issuer/', 'mlflow/', 'serving/']);
    expectMarked(out, 'dev');
    expect(filesUnder(out)['mlflow/deployment-mlflow.yaml']).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n(?: .*\n)*  name: mlflow\n/);
    const kustomization = filesUnder(out)['argocd/kustomization.yaml'];
    const listed = [...kustomization.matchAll(/^  - (.+)$/gm)].map((m) => m[1]);
    // The kustomization applies everything but the argocd-cm key, which the dry run + merge patch of docs/deploying.md sets.
    expect(listed.sort()).toEqual(['application-mlflow-dev-root.yaml', 'appproject-mlflow-dev-clients.yaml', 'appproject-mlflow-dev.yaml']);
    expect(entries(path.join(out, 'argocd'))).toEqual([
      'application-mlflow-dev-root.yaml',
      'appproject-mlflow-dev-clients.yaml',
      'appproject-mlflow-dev.yaml',
      'argocd-cm-health.patch.yaml',
      'kustomization.yaml',
    ]);
  });

  test('a directory synth wrote for the same environment is replaced: files it no longer writes are gone, the marker lists the new ones', () => {
    const out = writtenDir();
    const config = path.join(tmpdir('dev-without-gitops'), 'dev.yaml');
    // dev without its gitops section: no Applications, no ClusterIssuer, no bootstrap (its clients' and served models' objects remain).
    fs.writeFileSync(config, fs.readFileSync(DEV, 'utf8').replace(/^gitops:\n(?:  .*\n)*/m, ''));
    const r = synth(['--config', config, '--out', out]);
    expect(r).toEqual({ code: 0, stdout: `synthesized ${config} → ${out}\n`, stderr: '' });
    expect(entries(out)).toEqual([MARKER, 'clients/', 'mlflow/', 'serving/']);
    expectMarked(out, 'dev');
  });

  test('an empty directory is used', () => {
    const out = tmpdir('empty');
    expect(synth(['--config', LOCAL, '--out', out])).toEqual({ code: 0, stdout: `synthesized ${LOCAL} → ${out}\n`, stderr: '' });
    // local has no gitops section: the MLflow app only, and no note about Applications.
    expect(entries(out)).toEqual([MARKER, 'mlflow/']);
    expectMarked(out, 'local');
  });

  test('a directory that does not exist is created, with its parents', () => {
    const out = path.join(tmpdir('absent'), 'a', 'b');
    expect(synth(['--config', LOCAL, '--out', out]).code).toBe(0);
    expect(entries(out)).toEqual([MARKER, 'mlflow/']);
    expect(fs.readdirSync(path.dirname(out))).toEqual(['b']);
  });

  test('a file synth is about to write again counts as its own, even where the marker does not list it yet (a merge)', () => {
    const out = writtenDir();
    const marker = fs.readFileSync(path.join(out, MARKER), 'utf8');
    fs.writeFileSync(path.join(out, MARKER), marker.replace('mlflow/deployment-mlflow.yaml\n', ''));
    fs.writeFileSync(path.join(out, 'mlflow', 'deployment-mlflow.yaml'), 'merged: true\n');
    expect(synth(['--config', DEV, '--out', out]).code).toBe(0);
    expectMarked(out, 'dev');
    expect(fs.readFileSync(path.join(out, 'mlflow', 'deployment-mlflow.yaml'), 'utf8')).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\n/);
  });
});

describe('--out: synth refuses a directory it did not write, exit 2, every file still there', () => {
  /** Runs synth into `dir` and expects the refusal `message`, with `dir` as it was. */
  function expectRefused(dir: string, message: string, config = DEV): void {
    const before = tree(dir);
    const r = synth(['--config', config, '--out', dir]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: message });
    expect(tree(dir)).toEqual(before);
  }

  test.each(['config', 'lib', 'test'])('a copy of the repository\'s %s/ (a valid config: only the guard stands in the way)', (name) => {
    const dir = path.join(tmpdir(name), name);
    fs.cpSync(path.join(ROOT, name), dir, { recursive: true });
    expectRefused(dir, foreign(dir, listing(dir)));
  });

  test.each(['config', 'lib', 'test'])('the repository\'s own %s/', (name) => {
    const dir = path.join(ROOT, name);
    expectRefused(dir, foreign(dir, listing(dir)), INVALID);
  });

  test('a user folder holding one file', () => {
    const dir = tmpdir('user');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
    expectRefused(dir, foreign(dir, 'notes.txt'));
  });

  test('a user folder holding only a nested folder with a file', () => {
    const dir = tmpdir('nested');
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a', 'b', 'deep.txt'), 'mine\n');
    expectRefused(dir, foreign(dir, 'a/'));
  });

  test('a user folder holding only an empty folder', () => {
    const dir = tmpdir('empty-sub');
    fs.mkdirSync(path.join(dir, 'keep'));
    expectRefused(dir, foreign(dir, 'keep/'));
  });

  test('more than five entries: five named, the rest counted', () => {
    const dir = tmpdir('many');
    for (const n of ['g', 'b', 'f', 'a', 'e', 'c', 'd']) fs.writeFileSync(path.join(dir, n), n);
    expectRefused(dir, foreign(dir, 'a, b, c, d, e and 2 more'));
  });

  test('a directory synth wrote, to which a user added a file', () => {
    const dir = writtenDir();
    fs.writeFileSync(path.join(dir, 'mlflow', 'my-patch.yaml'), 'mine: true\n');
    expectRefused(dir, foreign(dir, 'mlflow/my-patch.yaml'));
  });

  test('a directory synth wrote, to which a user added a folder', () => {
    const dir = writtenDir();
    fs.mkdirSync(path.join(dir, 'argocd', 'overlays'));
    fs.writeFileSync(path.join(dir, 'argocd', 'overlays', 'kustomization.yaml'), 'resources: []\n');
    expectRefused(dir, foreign(dir, 'argocd/overlays/'));
  });

  test('a marker of another name does not count: a folder with a lookalike and a file', () => {
    const dir = tmpdir('lookalike');
    fs.writeFileSync(path.join(dir, '.mlflow-gitops'), 'mlflow/x.yaml\n');
    fs.mkdirSync(path.join(dir, 'mlflow'));
    fs.writeFileSync(path.join(dir, 'mlflow', 'x.yaml'), 'x: 1\n');
    expectRefused(dir, foreign(dir, '.mlflow-gitops, mlflow/'));
  });

  test('a plain file', () => {
    const file = path.join(tmpdir('file'), 'out.yaml');
    fs.writeFileSync(file, 'mine: true\n');
    const r = synth(['--config', DEV, '--out', file]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `synth: refusing to replace ${file}: it is a file, not a directory. Nothing was written.\n` });
    expect(fs.readFileSync(file, 'utf8')).toBe('mine: true\n');
  });

  describe('another environment\'s output is never replaced by a single environment', () => {
    /** A scratch copy of the committed dist/ and argocd/ (written by a full synth: every environment). */
    function committedCopy(): string {
      const root = tmpdir('committed');
      fs.cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
      fs.cpSync(path.join(ROOT, 'argocd'), path.join(root, 'argocd'), { recursive: true });
      return root;
    }
    const everyEnvironment = (dir: string, env: string) =>
      `synth: refusing to replace ${dir} with environment '${env}' alone: it holds the output of every environment ` +
      '(npm run synth without --config writes it), which this would delete; give --out a directory of its own. Nothing was written.\n';

    test.each(['dist', 'argocd'])('--out a full synth\'s %s/, with an environment it does not hold', (name) => {
      const dir = path.join(committedCopy(), name);
      const config = path.join(tmpdir('staging'), 'staging.yaml');
      fs.copyFileSync(DEV, config);
      expectRefused(dir, everyEnvironment(dir, 'staging'), config);
    });

    test('--out a full synth\'s dist/, with an environment it holds', () => {
      const dir = path.join(committedCopy(), 'dist');
      expectRefused(dir, everyEnvironment(dir, 'dev'));
    });

    test('--out a directory synth wrote for dev, with local', () => {
      const dir = writtenDir();
      expectRefused(
        dir,
        `synth: refusing to replace ${dir} with environment 'local' alone: it holds the output of environment 'dev', which this would delete; ` +
          'give --out a directory of its own. Nothing was written.\n',
        LOCAL,
      );
    });

    test.each([
      ['dev', 'an environment folder of it'],
      ['staging', 'a new folder in it'],
      ['dev/mlflow', 'a folder deeper in it'],
    ])('--out dist/%s (%s): it lies inside dist/, which synth writes as a whole', (sub) => {
      const root = committedCopy();
      const dist = path.join(root, 'dist');
      const dir = path.join(dist, sub);
      const before = tree(dist);
      const r = synth(['--config', DEV, '--out', dir]);
      expect(r).toEqual({
        code: 2,
        stdout: '',
        stderr:
          `synth: refusing to write ${dir}: it lies inside ${dist}, a directory synth writes as a whole ` +
          `(its ${MARKER} lists every file there, and the next synth would refuse to replace it); give a directory outside it. Nothing was written.\n`,
      });
      expect(tree(dist)).toEqual(before);
    });
  });

  describe('symbolic links', () => {
    const symlinkRefusal = (link: string, to: string) =>
      `synth: refusing to replace ${link}: it is a symbolic link (to ${to}); synth replaces only a real directory, so give the directory itself. Nothing was written.\n`;

    test('--out a link to a user folder: the link and the folder stay', () => {
      const dir = tmpdir('link-target');
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
      const link = path.join(tmpdir('link'), 'out');
      fs.symlinkSync(dir, link);
      const r = synth(['--config', DEV, '--out', link]);
      expect(r).toEqual({ code: 2, stdout: '', stderr: symlinkRefusal(link, dir) });
      expect(fs.readlinkSync(link)).toBe(dir);
      expect(tree(dir)).toEqual({ 'notes.txt': 'mine\n' });
    });

    test('--out a link to a directory synth wrote', () => {
      const dir = writtenDir();
      const link = path.join(tmpdir('link'), 'out');
      fs.symlinkSync(dir, link);
      const before = tree(dir);
      expect(synth(['--config', DEV, '--out', link])).toEqual({ code: 2, stdout: '', stderr: symlinkRefusal(link, dir) });
      expect(fs.readlinkSync(link)).toBe(dir);
      expect(tree(dir)).toEqual(before);
    });

    test('--out a dangling link', () => {
      const link = path.join(tmpdir('dangling'), 'out');
      fs.symlinkSync('nowhere', link);
      expect(synth(['--config', DEV, '--out', link])).toEqual({ code: 2, stdout: '', stderr: symlinkRefusal(link, 'nowhere') });
      expect(fs.readlinkSync(link)).toBe('nowhere');
    });

    test('a directory synth wrote in which a file it wrote became a link: the link and what it points to stay', () => {
      const target = path.join(tmpdir('precious'), 'precious.txt');
      fs.writeFileSync(target, 'precious\n');
      const dir = writtenDir();
      fs.rmSync(path.join(dir, 'mlflow', 'deployment-mlflow.yaml'));
      fs.symlinkSync(target, path.join(dir, 'mlflow', 'deployment-mlflow.yaml'));
      expectRefused(dir, foreign(dir, 'mlflow/deployment-mlflow.yaml (symbolic link)'));
      expect(fs.readFileSync(target, 'utf8')).toBe('precious\n');
    });

    test('a directory synth wrote holding a link to a folder elsewhere', () => {
      const elsewhere = tmpdir('elsewhere');
      fs.writeFileSync(path.join(elsewhere, 'keep.txt'), 'keep\n');
      const dir = writtenDir();
      fs.symlinkSync(elsewhere, path.join(dir, 'mlflow', 'shared'));
      expectRefused(dir, foreign(dir, 'mlflow/shared (symbolic link)'));
      expect(tree(elsewhere)).toEqual({ 'keep.txt': 'keep\n' });
    });

    test('a marker that is a link is no marker', () => {
      const realMarker = path.join(tmpdir('marker'), MARKER);
      fs.writeFileSync(realMarker, '# a marker elsewhere\nnotes.txt\n');
      const dir = tmpdir('linked-marker');
      fs.symlinkSync(realMarker, path.join(dir, MARKER));
      fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine\n');
      expectRefused(dir, foreign(dir, `${MARKER} (symbolic link), notes.txt`));
    });
  });

  describe('the repository and its parents (an invalid config: a broken guard would still write nothing)', () => {
    const dirs = [ROOT, path.dirname(ROOT), path.parse(ROOT).root];
    test.each(dirs)('%s', (dir) => {
      const before = fs.readdirSync(dir).sort();
      const r = synth(['--config', INVALID, '--out', dir]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.startsWith(`synth: refusing to replace ${dir}: it holds files synth did not write (`)).toBe(true);
      expect(r.stderr.endsWith(`); synth replaces only an empty directory or one it wrote (marked by ${MARKER}). Nothing was written.\n`)).toBe(true);
      expect(fs.readdirSync(dir).sort()).toEqual(before);
    });
  });
});

describe('without options: every config/*.yaml into dist/ and argocd/ (of a scratch copy of the repository)', () => {
  function scratchRepository(): string {
    const root = tmpdir('repo');
    fs.cpSync(path.join(ROOT, 'config'), path.join(root, 'config'), { recursive: true });
    return root;
  }

  test('writes both trees, each with its marker; a second run replaces them', () => {
    const root = scratchRepository();
    const first = synth([], root);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^synthesized dev, local, prod → dist\/ \(\d+ files\), argocd\/ \(\d+ files\)\n$/);
    const dist = path.join(root, 'dist');
    const argocd = path.join(root, 'argocd');
    expect(entries(root)).toEqual(['argocd/', 'config/', 'dist/']);
    expect(entries(dist)).toEqual([MARKER, 'dev/', 'local/', 'prod/']);
    expect(entries(argocd)).toEqual([MARKER, 'dev/', 'prod/']);
    expect(entries(path.join(dist, 'dev'))).toEqual(['apps/', 'clients/', 'cluster-issuer/', 'mlflow/', 'serving/']);
    expect(entries(path.join(argocd, 'prod'))).toContain('kustomization.yaml');
    expectMarked(dist);
    expectMarked(argocd);
    const written = filesUnder(dist);
    fs.writeFileSync(path.join(dist, 'dev', 'mlflow', 'deployment-mlflow.yaml'), 'edited by hand\n');
    fs.rmSync(path.join(dist, 'prod', 'mlflow'), { recursive: true });
    expect(synth([], root)).toEqual(first);
    expect(filesUnder(dist)).toEqual(written);
  });

  test('the committed dist/ and argocd/ are recognised as synth\'s (a fresh clone synthesizes)', () => {
    const root = scratchRepository();
    fs.cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'argocd'), path.join(root, 'argocd'), { recursive: true });
    expect(synth([], root).code).toBe(0);
  });

  test.each(['dist', 'argocd'])('a file synth did not write in %s/: exit 2, and neither tree touched', (name) => {
    // The committed trees stand for a previous run (the case above shows synth takes them as its own).
    const root = scratchRepository();
    fs.cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true });
    fs.cpSync(path.join(ROOT, 'argocd'), path.join(root, 'argocd'), { recursive: true });
    fs.writeFileSync(path.join(root, name, 'README.md'), 'mine\n');
    const before = { dist: tree(path.join(root, 'dist')), argocd: tree(path.join(root, 'argocd')) };
    const dir = path.join(root, name);
    expect(synth([], root)).toEqual({ code: 2, stdout: '', stderr: foreign(dir, 'README.md') });
    expect({ dist: tree(path.join(root, 'dist')), argocd: tree(path.join(root, 'argocd')) }).toEqual(before);
  });

  test('a dist/ without a marker (written before synth had one) is refused, listing what it holds', () => {
    const root = scratchRepository();
    fs.mkdirSync(path.join(root, 'dist', 'dev'), { recursive: true });
    fs.writeFileSync(path.join(root, 'dist', 'dev', 'old.yaml'), 'old: true\n');
    expect(synth([], root)).toEqual({ code: 2, stdout: '', stderr: foreign(path.join(root, 'dist'), 'dev/') });
  });

  test('an invalid config: exit 1, nothing written', () => {
    const root = scratchRepository();
    fs.copyFileSync(INVALID, path.join(root, 'config', 'bad.yaml'));
    const r = synth([], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Invalid configuration \(1 problem\); nothing was written:\n/);
    expect(fs.readdirSync(root)).toEqual(['config']);
  });
});

describe('usage errors: one line, then the usage, exit 2', () => {
  const USAGE_START = 'Usage: npm run synth [-- --config <file> --out <dir>]\n';
  /** Stands for a scratch directory that does not exist (each case gets its own): a wrongly accepted command would create it. */
  const OUT = '<out>';
  const cases: Array<[string, string[], string]> = [
    ['--config without --out', ['--config', DEV], '--config and --out go together'],
    ['--out without --config', ['--out', OUT], '--config and --out go together'],
    ['--out without its value', ['--config', DEV, '--out'], '--out needs a value'],
    ['--out followed by another flag', ['--out', '--config', DEV], '--out needs a value'],
    ['--out with an empty value', ['--config', DEV, '--out='], '--out needs a value'],
    ['an unknown flag', ['--config', DEV, '--out', OUT, '--force'], "unknown option '--force'"],
    ['a positional argument', ['config/dev.yaml'], "unexpected argument 'config/dev.yaml'"],
    ['a separator', ['--', '--config', DEV], "unexpected argument '--'"],
    ['a flag given twice', ['--config', DEV, '--config', LOCAL, '--out', OUT], '--config given twice'],
  ];
  test.each(cases)('%s', (_, args, message) => {
    const out = path.join(tmpdir('usage'), 'out');
    const r = synth(args.map((a) => (a === OUT ? out : a)));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`synth: ${message}\n\n${USAGE_START}`)).toBe(true);
    expect(r.stderr.endsWith('Nothing is written unless the exit code is 0.\n')).toBe(true);
    expect(fs.existsSync(OUT)).toBe(false);
  });

  test('--help and -h print the usage on stdout, exit 0', () => {
    for (const flag of ['--help', '-h']) {
      const r = synth([flag]);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout.startsWith(USAGE_START)).toBe(true);
      // --out is a review copy: the usage says where the Applications in it point.
      expect(r.stdout).toContain(
        '--out is for reviewing one environment\'s manifests. The Argo CD Applications in it still point at\n' +
          'dist/<env>/ in gitops.repoURL: Argo CD deploys what the full synth writes and you commit, not <dir>.\n',
      );
    }
  });
});

describe('in its own node process, as `npm run synth` runs', () => {
  test.concurrent('a valid config into a new directory: exit 0', async () => {
    const out = path.join(tmpdir('process'), 'out');
    const r = await synthProcess(['--config', 'config/dev.yaml', '--out', out]);
    expect(r).toEqual({ code: 0, stdout: `synthesized config/dev.yaml → ${out}\n${applicationsNote('dev', out)}`, stderr: '' });
    expect(filesUnder(out)).toEqual(devOutput());
  });

  test.concurrent('--out config, typed from the repository root: exit 2, config/ as it was', async () => {
    const before = tree(path.join(ROOT, 'config'));
    const r = await synthProcess(['--config', path.relative(ROOT, INVALID), '--out', 'config']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: foreign('config', listing(path.join(ROOT, 'config'))) });
    expect(tree(path.join(ROOT, 'config'))).toEqual(before);
  });

  test.concurrent('an unknown flag: the line and the usage, no stack trace', async () => {
    const r = await synthProcess(['--force']);
    expect(r.code).toBe(2);
    expect(r.stderr.startsWith(`synth: unknown option '--force'\n\nUsage: npm run synth`)).toBe(true);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
