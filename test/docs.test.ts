/**
 * The commands the README shows run as written. Each is taken from a fenced ```sh block of README.md (its comment
 * dropped) and run with bash in a copy of the repository — synth writes there, `npm run diff` needs a git history of
 * its own — and must exit 0. `npm ci` and `npm test` themselves are not re-run here (CI runs them); this test checks
 * that they are the README's two commands and the ones .ci/run runs (ci.yml: test/workflows.test.ts).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from '../tools/environments';

const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The `## <title>` section of a Markdown text, up to the next `## `. */
function section(md: string, title: string): string {
  const found = md.split(/^## /m).find((s) => s.startsWith(`${title}\n`));
  if (found === undefined) throw new Error(`README.md has no "## ${title}" section`);
  return found;
}

/** The command lines of every ```sh block of a text, without their trailing comments. */
function commands(md: string): string[] {
  return [...md.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].flatMap((m) =>
    m[1]
      .split('\n')
      .map((l) => l.replace(/\s+#.*$/, '').trim())
      .filter((l) => l.length > 0),
  );
}

/** The one command line of `md`'s sh blocks that starts with `start`. */
function shown(md: string, start: string): string {
  const lines = commands(md).filter((l) => l.startsWith(start));
  if (lines.length !== 1) throw new Error(`expected one command starting with "${start}" in README.md, found ${lines.length}`);
  return lines[0];
}

/** A copy of the working tree (node_modules linked, not copied) with a git history of one commit on `main`. */
function repositoryCopy(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-docs-'));
  const skip = new Set(['node_modules', '.git', 'reports', 'out']);
  fs.cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(ROOT, src);
      return rel === '' || !(skip.has(rel.split(path.sep)[0]) || rel.split(path.sep).includes('node_modules') || rel.includes('.synth-tmp-'));
    },
  });
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const git = (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=docs', '-c', 'user.email=docs@example.com', ...args], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '--no-gpg-sign', '-m', 'base');
  return dir;
}

let copy: string;
beforeAll(() => {
  copy = repositoryCopy();
});
afterAll(() => fs.rmSync(copy, { recursive: true, force: true }));

/** Runs one command line as a user types it, in the copy. */
function run(command: string) {
  const r = spawnSync('bash', ['-c', command], { cwd: copy, encoding: 'utf8', timeout: 60_000 });
  return { command, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the two commands are `npm ci && npm run synth` and `npm test`, and .ci/run runs them', () => {
  expect(commands(section(README, 'Two commands')).slice(0, 2)).toEqual(['npm ci && npm run synth', 'npm test']);
  const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8').split('\n');
  expect(ci).toContain('npm ci');
  expect(ci).toContain('npm test -- --ci');
  expect(ci).toContain('npm run synth');
});

test("the local quick start's synth writes the local manifests it then applies", () => {
  const quickStart = commands(section(README, 'Try it locally'));
  expect(quickStart[0]).toBe('npm ci && npm run synth');
  const synth = quickStart[0].replace(/^npm ci && /, '');
  expect(run(synth)).toMatchObject({ status: 0 });
  // The files the next lines of the quick start apply exist.
  for (const line of quickStart.filter((l) => l.startsWith('kubectl apply -f '))) {
    expect(fs.existsSync(path.join(copy, line.replace('kubectl apply -f ', '')))).toBe(true);
  }
});

test('`npm run synth -- --config … --out …` writes one environment into the directory given', () => {
  const line = shown(README, 'npm run synth -- --config ');
  const out = /--out (\S+)/.exec(line)![1];
  expect(run(line)).toMatchObject({ status: 0 });
  expect(fs.existsSync(path.join(copy, out, 'mlflow', 'deployment-mlflow.yaml'))).toBe(true);
});

test('`npm run diff` compares the working tree with main', () => {
  const r = run(shown(README, 'npm run diff'));
  expect(r).toMatchObject({ status: 0, stderr: expect.not.stringContaining('error') });
  expect(r.stdout).toContain('main');
});

test.each(['npm run import-terraform -- --help', 'npm run smoke -- --help'])('`%s` prints its usage', (start) => {
  const r = run(shown(README, start));
  expect(r).toMatchObject({ status: 0 });
  expect(r.stdout).toMatch(new RegExp(`usage: npm run ${start.split(' ')[2]}\\b`, 'i'));
});
