/**
 * Staging folders (`.synth-tmp-*`, where synth writes a tree before swapping it in) never outlive a run: a signal
 * during the write waits until the swap is done and the folder removed, and folders a killed run left behind are
 * removed by the next run — only those that are clearly synth's and whose process is gone.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
// The fs module object itself, so a spy on it reaches synth's calls (`import *` gives a copy of its bindings).
const nodeFs: typeof fs = require('fs');
import * as os from 'os';
import * as path from 'path';
import { replaceDirectory, SYNTH_MARKER, type RenderedFile } from '../../lib/synth/synth';
import { ROOT, RUN_TS } from '../../tools/environments';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-staging-'));
  scratch.push(d);
  return d;
}

const FILES: RenderedFile[] = [{ path: 'mlflow/deployment-mlflow.yaml', content: 'kind: Deployment\n' }];

/** A pid no process has: a child that has exited (its pid is not reused within the test). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

/** A staging folder as a killed run leaves it: its `new/` tree half written. */
function leftover(parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(path.join(dir, 'new', 'mlflow'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'new', 'mlflow', 'half.yaml'), 'kind: Dep');
  return dir;
}

describe('a later run removes the staging folders a killed run left, and only those', () => {
  test('a folder whose process is gone is removed; one of a live process, and lookalikes, stay', () => {
    const parent = tmpdir();
    const dead = leftover(parent, `.synth-tmp-${deadPid()}-AbC123`);
    const live = leftover(parent, `.synth-tmp-${process.pid}-XyZ789`);
    // A user's folder of a similar name, and a dead process's folder holding something synth never writes there.
    const mine = leftover(parent, '.synth-tmp-notes');
    const foreign = leftover(parent, `.synth-tmp-${deadPid()}-Qwe456`);
    fs.writeFileSync(path.join(foreign, 'keep.txt'), 'mine\n');
    replaceDirectory(path.join(parent, 'out'), FILES);
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.readdirSync(parent).sort()).toEqual([path.basename(foreign), path.basename(mine), path.basename(live), 'out'].sort());
  });

  test('a stale folder synth may not read (another user\'s, in a shared /tmp) is left, and the run goes on', () => {
    const parent = tmpdir();
    const theirs = leftover(parent, `.synth-tmp-${deadPid()}-Unr3ad`);
    const readdir = fs.readdirSync;
    const spy = jest.spyOn(nodeFs, 'readdirSync').mockImplementation(((p: fs.PathLike, o?: unknown) => {
      if (String(p) === theirs) throw Object.assign(new Error(`EACCES: permission denied, scandir '${theirs}'`), { code: 'EACCES' });
      return (readdir as (p: fs.PathLike, o?: unknown) => unknown)(p, o);
    }) as typeof fs.readdirSync);
    try {
      replaceDirectory(path.join(parent, 'out'), FILES);
    } finally {
      spy.mockRestore();
    }
    expect(fs.readdirSync(parent).sort()).toEqual([path.basename(theirs), 'out'].sort());
  });

  test('a folder named before staging folders carried the pid is removed once it has not changed for ten minutes', () => {
    const parent = tmpdir();
    const old = leftover(parent, '.synth-tmp-aB3dE6');
    const recent = leftover(parent, '.synth-tmp-Fg7hI9');
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60 * 1000);
    fs.utimesSync(old, elevenMinutesAgo, elevenMinutesAgo);
    replaceDirectory(path.join(parent, 'out'), FILES);
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(recent)).toBe(true);
  });
});

describe('a signal while synth writes', () => {
  /** A child writing a large tree (seconds of work) into `target`, started as `npm run synth` starts main.ts. */
  function writer(target: string) {
    const script = `
      const { replaceDirectory } = require(${JSON.stringify(path.join(ROOT, 'lib', 'synth', 'synth.ts'))});
      const files = Array.from({ length: 20000 }, (_, i) => ({ path: 'many/f' + i + '.yaml', content: 'n: ' + i + '\\n' }));
      replaceDirectory(${JSON.stringify(target)}, files);
    `;
    return spawn(process.execPath, [...RUN_TS, '-e', script], { cwd: ROOT, stdio: 'ignore' });
  }

  test.each(['SIGINT', 'SIGTERM'] as const)('%s: the write completes, no staging folder is left, and the signal then ends the process', async (signal) => {
    const parent = tmpdir();
    const target = path.join(parent, 'out');
    const child = writer(target);
    // Wait until the staging folder exists: the child is inside the write.
    const deadline = Date.now() + 30_000;
    while (!fs.readdirSync(parent).some((n) => n.startsWith('.synth-tmp-'))) {
      if (Date.now() > deadline) throw new Error('the writer never created its staging folder');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill(signal);
    const ended = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, s) => resolve({ code, signal: s })));
    expect(ended).toEqual({ code: null, signal });
    expect(fs.readdirSync(parent)).toEqual(['out']);
    expect(fs.readdirSync(path.join(target, 'many'))).toHaveLength(20000);
    expect(fs.readFileSync(path.join(target, SYNTH_MARKER), 'utf8')).toContain('many/f19999.yaml\n');
  }, 60_000);
});
