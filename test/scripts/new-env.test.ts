/**
 * `npm run new-env -- <name>`: a new environment's file, commented, that `npm run synth` renders as it is (here in a
 * scratch copy of the repository's config/), and the refusals of a bad name, a missing name and an existing file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { run as synth } from '../../main';
import { run } from '../../scripts/new-env';
import { ROOT } from '../../tools/environments';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A scratch repository: the shipped config/ only. */
function repository(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'new-env-'));
  scratch.push(root);
  fs.cpSync(path.join(ROOT, 'config'), path.join(root, 'config'), { recursive: true });
  return root;
}

function command(fn: (io: { stdout: { write(t: string): unknown }; stderr: { write(t: string): unknown } }) => number) {
  let stdout = '';
  let stderr = '';
  const code = fn({ stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

test('writes config/<name>.yaml, commented, and npm run synth renders it beside the shipped environments', () => {
  const root = repository();
  expect(command((io) => run(['staging'], io, root))).toEqual({ code: 0, stdout: 'wrote config/staging.yaml: edit it, then npm run synth\n', stderr: '' });
  const text = fs.readFileSync(path.join(root, 'config', 'staging.yaml'), 'utf8');
  expect(text.split('\n').slice(0, 3)).toEqual([
    '# yaml-language-server: $schema=../schemas/config.schema.json',
    "# Environment 'staging', started by npm run new-env from config/local.yaml: MLflow with SQLite on any cluster.",
    '# Every field, its default and allowed values: docs/config.md.',
  ]);
  expect(text).toContain("# The tracking and registry database, by `engine`: 'mysql' or 'postgres' on Cloud SQL, or 'sqlite'.\ndatabase:\n  engine: sqlite\n");

  const synthesized = command((io) => synth([], io, root));
  expect(synthesized.stderr).toBe('');
  expect(synthesized.stdout).toMatch(/^synthesized dev, local, prod, staging → dist\//);
  const rendered = (env: string) => fs.readdirSync(path.join(root, 'dist', env), { recursive: true }).sort();
  expect(rendered('staging')).toEqual(rendered('local'));
});

test.each([
  [['Staging'], "new-env: 'Staging' is not an environment name: lowercase letter first, then letters, digits or '-' (max 30)\n"],
  [['../prod'], "new-env: '../prod' is not an environment name: lowercase letter first, then letters, digits or '-' (max 30)\n"],
  [['prod'], 'new-env: config/prod.yaml exists already: edit it, or choose another name\n'],
])('refuses %j with exit code 2 and writes nothing', (argv, message) => {
  const root = repository();
  const before = fs.readdirSync(path.join(root, 'config')).map((f) => [f, fs.readFileSync(path.join(root, 'config', f), 'utf8')]);
  expect(command((io) => run(argv, io, root))).toEqual({ code: 2, stdout: '', stderr: message });
  expect(fs.readdirSync(path.join(root, 'config')).map((f) => [f, fs.readFileSync(path.join(root, 'config', f), 'utf8')])).toEqual(before);
});

test('refuses a missing name with its usage', () => {
  const r = command((io) => run([], io, repository()));
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/^new-env: expected one environment name\n\nUsage: npm run new-env -- <name>/);
});
