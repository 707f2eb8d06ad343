/**
 * How synth writes a directory (lib/synth/synth.ts `replaceDirectory`), called directly: the marker it leaves,
 * the refusals (class and exact message), what it leaves behind, and the swap failing half-way. The commands'
 * view of the same rules is in test/cli/cli.test.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertReplaceable, OutputDirectoryError, replaceDirectory, replaceRefusal, SYNTH_MARKER, synthMarker } from '../../lib/synth/synth';
import { ROOT } from '../../tools/environments';

/** The fs module itself (the `import * as` view above is read-only), to spy on for the file-system faults. */
const nodeFs: typeof fs = require('fs');

const HEADER =
  '# Written by mlflow-gitops synth (npm run synth), which replaces this directory on every run.\n' +
  '# Synth refuses to replace a directory holding files it did not write; the files it wrote are listed below.\n';

const scratch: string[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  scratch.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true }));
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-output-'));
  scratch.push(d);
  return d;
}

function refusal(dir: string, shown: string): string {
  return `refusing to replace ${dir}: it holds files synth did not write (${shown}); synth replaces only an empty directory or one it wrote (marked by .mlflow-gitops-synth)`;
}

const FILES = [
  { path: 'b/two.yaml', content: 'two: 2\n' },
  { path: 'a/one.yaml', content: 'one: 1\n' },
];

test('the marker: its name, two header lines, then the files in code-unit order (upper case before lower)', () => {
  expect(SYNTH_MARKER).toBe('.mlflow-gitops-synth');
  const files = [{ path: 'b.yaml', content: '' }, { path: 'B.yaml', content: '' }, { path: 'a/z.yaml', content: '' }];
  expect(synthMarker(files)).toEqual({ path: '.mlflow-gitops-synth', content: `${HEADER}B.yaml\na/z.yaml\nb.yaml\n` });
  expect(synthMarker([])).toEqual({ path: '.mlflow-gitops-synth', content: HEADER });
});

test('writes exactly the files and the marker, and leaves nothing beside the target', () => {
  const parent = tmpdir();
  const target = path.join(parent, 'out');
  replaceDirectory(target, FILES);
  expect(fs.readdirSync(parent)).toEqual(['out']);
  expect(fs.readdirSync(target).sort()).toEqual(['.mlflow-gitops-synth', 'a', 'b']);
  expect(fs.readFileSync(path.join(target, 'a', 'one.yaml'), 'utf8')).toBe('one: 1\n');
  expect(fs.readFileSync(path.join(target, SYNTH_MARKER), 'utf8')).toBe(`${HEADER}a/one.yaml\nb/two.yaml\n`);
  // Replacing it again (it is synth's now) leaves nothing beside it either.
  replaceDirectory(target, [{ path: 'c.yaml', content: 'c: 3\n' }]);
  expect(fs.readdirSync(parent)).toEqual(['out']);
  expect(fs.readdirSync(target).sort()).toEqual(['.mlflow-gitops-synth', 'c.yaml']);
});

test('no files: the directory holds only the marker', () => {
  const target = path.join(tmpdir(), 'out');
  replaceDirectory(target, []);
  expect(fs.readdirSync(target)).toEqual(['.mlflow-gitops-synth']);
});

test('a refusal is an OutputDirectoryError with the exact message, thrown before anything is written', () => {
  const parent = tmpdir();
  const target = path.join(parent, 'out');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'mine.txt'), 'mine\n');
  let error: unknown;
  try {
    replaceDirectory(target, FILES);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(OutputDirectoryError);
  expect((error as Error).name).toBe('OutputDirectoryError');
  expect((error as Error).message).toBe(refusal(target, 'mine.txt'));
  expect(fs.readdirSync(parent)).toEqual(['out']);
  expect(fs.readdirSync(target)).toEqual(['mine.txt']);
  expect(() => assertReplaceable(target)).toThrow(new OutputDirectoryError(refusal(target, 'mine.txt')));
});

test('exactly five foreign entries are all named; six name five and count one', () => {
  const dir = tmpdir();
  for (const n of ['e', 'd', 'c', 'b', 'a']) fs.writeFileSync(path.join(dir, n), n);
  expect(replaceRefusal(dir, FILES)).toBe(refusal(dir, 'a, b, c, d, e'));
  fs.writeFileSync(path.join(dir, 'f'), 'f');
  expect(replaceRefusal(dir, FILES)).toBe(refusal(dir, 'a, b, c, d, e and 1 more'));
});

test("a file named like the marker's header line is not synth's", () => {
  const dir = tmpdir();
  replaceDirectory(dir, FILES);
  const name = HEADER.split('\n')[0];
  fs.writeFileSync(path.join(dir, name), 'mine\n');
  expect(replaceRefusal(dir, FILES)).toBe(refusal(dir, name));
});

test('without the rendered files (the early check), a marked directory passes; with them, only what is listed or rewritten', () => {
  const dir = tmpdir();
  replaceDirectory(dir, FILES);
  fs.writeFileSync(path.join(dir, 'a', 'new.yaml'), 'merged: true\n');
  expect(replaceRefusal(dir)).toBeUndefined();
  expect(replaceRefusal(dir, FILES)).toBe(refusal(dir, 'a/new.yaml'));
  expect(replaceRefusal(dir, [...FILES, { path: 'a/new.yaml', content: '' }])).toBeUndefined();
  // The early check still refuses a folder without a marker.
  const user = tmpdir();
  fs.writeFileSync(path.join(user, 'x'), 'x');
  expect(replaceRefusal(user)).toBe(refusal(user, 'x'));
});

test('the swap failing after the old tree was moved aside puts the old tree back (a file-system fault, simulated)', () => {
  // A test double, as a last resort: a rename of the new tree into place that fails, which a real file
  // system does only on faults (a full disk, a concurrent writer).
  const parent = tmpdir();
  const target = path.join(parent, 'out');
  replaceDirectory(target, FILES);
  const before = fs.readFileSync(path.join(target, SYNTH_MARKER), 'utf8');
  const rename = fs.renameSync;
  jest.spyOn(nodeFs, 'renameSync').mockImplementation((from, to) => {
    if (String(from).endsWith(`${path.sep}new`)) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
    rename(from, to);
  });
  expect(() => replaceDirectory(target, [{ path: 'c.yaml', content: 'c: 3\n' }])).toThrow('EIO: simulated');
  expect(fs.readdirSync(parent)).toEqual(['out']);
  expect(fs.readFileSync(path.join(target, SYNTH_MARKER), 'utf8')).toBe(before);
  expect(fs.readFileSync(path.join(target, 'a', 'one.yaml'), 'utf8')).toBe('one: 1\n');
});

test('the swap failing where there was no old tree leaves nothing, and reports that failure', () => {
  const parent = tmpdir();
  const target = path.join(parent, 'out');
  const rename = fs.renameSync;
  jest.spyOn(nodeFs, 'renameSync').mockImplementation((from, to) => {
    if (String(from).endsWith(`${path.sep}new`)) throw Object.assign(new Error('EIO: simulated'), { code: 'EIO' });
    rename(from, to);
  });
  expect(() => replaceDirectory(target, FILES)).toThrow('EIO: simulated');
  expect(fs.readdirSync(parent)).toEqual([]);
});

test('the staging folder is made beside the target with the prefix .gitignore ignores, and names the pid that owns it', () => {
  expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.synth-tmp*/');
  const parent = tmpdir();
  const made: string[] = [];
  const mkdtemp = fs.mkdtempSync;
  jest.spyOn(nodeFs, 'mkdtempSync').mockImplementation(((prefix: string) => {
    const dir = mkdtemp(prefix);
    made.push(dir);
    return dir;
  }) as typeof fs.mkdtempSync);
  replaceDirectory(path.join(parent, 'out'), FILES);
  expect(made).toHaveLength(1);
  expect(path.dirname(made[0])).toBe(parent);
  expect(path.basename(made[0])).toBe(`.synth-tmp-${process.pid}-${path.basename(made[0]).slice(-6)}`);
});

test('a folder standing where the marker lists a file is not synth\'s', () => {
  const dir = tmpdir();
  replaceDirectory(dir, FILES);
  fs.rmSync(path.join(dir, 'a', 'one.yaml'));
  fs.mkdirSync(path.join(dir, 'a', 'one.yaml'));
  fs.writeFileSync(path.join(dir, 'a', 'one.yaml', 'mine.txt'), 'mine\n');
  expect(replaceRefusal(dir, FILES)).toBe(refusal(dir, 'a/one.yaml/'));
});
