/**
 * Every command of package.json answers `--help` and `-h` as a user runs it: its usage on stdout, nothing on
 * stderr, exit 0, and nothing written (docs:waves would otherwise rewrite docs/deploying.md; the measuring scripts would
 * start a server or synthesize). The commands are read from package.json, so a new command cannot go without this test.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, RUN_TS } from '../../tools/environments';

const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** `npm run <name>` commands that run a script of this repository with node (TypeScript through tsx): name → file. */
const COMMANDS = Object.entries(scripts)
  .map(([name, command]) => [name, /^node (?:--require tsx\/cjs )?(\S+\.(?:ts|js|mjs))$/.exec(command)?.[1]] as const)
  .filter((c): c is readonly [string, string] => c[1] !== undefined);

test('the commands found in package.json are the ones this test is about', () => {
  expect(COMMANDS.map(([name]) => name).sort()).toEqual(['bench', 'bench:server', 'diff', 'docs:config', 'docs:waves', 'import-terraform', 'measure:sizing', 'mutate:sample', 'new-env', 'promote', 'smoke', 'synth']);
});

describe.each(COMMANDS)('npm run %s', (name, file) => {
  test.each(['--help', '-h'])('%s prints the usage and exits 0, writing nothing', (flag) => {
    const waves = fs.statSync(path.join(ROOT, 'docs', 'deploying.md')).mtimeMs;
    const runner = file.endsWith('.ts') ? RUN_TS : [];
    const r = spawnSync(process.execPath, [...runner, path.join(ROOT, file), flag], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^usage: npm run ${name}\\b`, 'i'));
    expect(r.stdout).toMatch(/-h, --help +print this text/);
    expect(fs.statSync(path.join(ROOT, 'docs', 'deploying.md')).mtimeMs).toBe(waves);
  });
});
