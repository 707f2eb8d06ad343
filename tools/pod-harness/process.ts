/**
 * Processes: a prepared container run as a process, and what a process uses (from /proc).
 *
 * Process model: run as root (as in a CI container), each container gets its own PID namespace (`unshare
 * --pid --fork`) and runs as the container's `runAsUser`/`runAsGroup` with no capabilities and no-new-privs
 * (`setpriv`, as `capabilities.drop: [ALL]` and `allowPrivilegeEscalation: false`), so the command is PID 1 with the
 * kernel's init semantics — a SIGTERM to a PID 1 that installed no handler is ignored, as in the pod — and killing
 * the namespace's init kills every process in it. Not as root: a plain process group as the current user (said
 * in the printed plan). Either way the process group is killed by pid in `stop()` and at exit.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import { describeRewrites, type PreparedContainer } from './container';

/** A free loopback TCP port (bound once, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every process group the harness started and has not yet seen exit; killed at exit whatever happened. */
const live = new Set<number>();
process.on('exit', () => {
  for (const pgid of live) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

/** A started container. */
export interface RunningContainer {
  readonly prepared: PreparedContainer;
  /** pid of the process group leader (`unshare` as root — exec'd by setpriv, same pid — else the command itself). */
  readonly pid: number;
  /** Output so far (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or `128 + signal`) of the container's command. */
  readonly exited: Promise<number>;
  /** pid of the container's command (PID 1 of its namespace as root). */
  commandPid(): number;
  /** Sends `signal` to the container's command only, as the kubelet does at termination. */
  signal(signal: NodeJS.Signals): void;
  /** Kills the whole process group (SIGKILL) and waits for it; idempotent. */
  stop(): Promise<void>;
}

export interface RunOptions {
  /**
   * Do not print the container's plan (user, rewrites, PATH) when it starts.
   * @default false
   */
  readonly quiet?: boolean;
}

/** Starts a prepared container. */
export function runContainer(p: PreparedContainer, opts: RunOptions = {}): RunningContainer {
  if (p.container.workingDir) throw new Error(`${p.selector.container}: workingDir is not supported by the harness`);
  const cwd = '/';
  let cmd: string;
  let args: string[];
  if (p.uid !== undefined) {
    // Outer setpriv: the namespace dies with this process even when it is killed without running exit handlers
    // (parent-death signal on unshare; unshare's --kill-child takes the namespace's init with it).
    cmd = 'setpriv';
    args = ['--pdeathsig=SIGKILL', '--', 'unshare', '--pid', '--fork', '--kill-child=SIGKILL', '--', 'setpriv', '--pdeathsig=SIGKILL', `--reuid=${p.uid}`, `--regid=${p.gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--', ...p.argv];
    if (p.pod.securityContext?.fsGroup !== undefined) args.splice(args.indexOf('--clear-groups'), 1, `--groups=${p.pod.securityContext.fsGroup}`);
  } else {
    cmd = p.argv[0];
    args = p.argv.slice(1);
  }
  if (!opts.quiet) console.log(describeRewrites(p));
  const child: ChildProcess = spawn(cmd, args, { cwd, env: { ...p.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const pid = child.pid;
  live.add(pid);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, sig) => {
      live.delete(pid);
      resolve(code ?? 128 + (sig ? os.constants.signals[sig] : 0));
    });
    child.on('error', () => resolve(127));
  });
  const commandPid = () => {
    if (p.uid === undefined) return pid;
    // unshare --fork: its one child is the namespace's PID 1 (setpriv exec'd into the command).
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    if (kids.length !== 1) throw new Error(`unshare ${pid} has ${kids.length} children`);
    return Number(kids[0]);
  };
  let stopping: Promise<void> | undefined;
  return {
    prepared: p,
    pid,
    output: () => out,
    exited,
    commandPid,
    signal: (s) => process.kill(commandPid(), s),
    stop: () =>
      (stopping ??= (async () => {
        if (!live.has(pid)) return;
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await Promise.race([exited, sleep(10_000)]);
      })()),
  };
}

/** A timer that does not keep the process alive (races against exits would otherwise hold jest open). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** Runs a container to completion (bounded by `timeoutMs`), returning its exit code and output. */
export async function runToCompletion(p: PreparedContainer, timeoutMs: number): Promise<{ code: number; output: string; ms: number }> {
  const started = Date.now();
  const c = runContainer(p);
  const code = await Promise.race([c.exited, sleep(timeoutMs).then(() => -1)]);
  if (code === -1) {
    await c.stop();
    throw new Error(`${p.selector.kind}/${p.selector.name} ${p.selector.container} did not finish in ${timeoutMs} ms; output:\n${c.output()}`);
  }
  return { code, output: c.output(), ms: Date.now() - started };
}

/** Children pids of a process, recursively (from /proc). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let kids: string[] = [];
    try {
      for (const t of fs.readdirSync(`/proc/${p}/task`)) kids.push(...fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean));
    } catch {
      return;
    }
    for (const k of kids) {
      out.push(Number(k));
      walk(Number(k));
    }
  };
  walk(pid);
  return out;
}

/** PSS and RSS of a process in KiB from /proc/<pid>/smaps_rollup, with its command line. */
export function memoryOf(pid: number): { pid: number; cmd: string; pssKiB: number; rssKiB: number } {
  const roll = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (n: string) => Number(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm').exec(roll)?.[1] ?? NaN);
  const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  return { pid, cmd, pssKiB: field('Pss'), rssKiB: field('Rss') };
}

/** CPU time (user + system) a process has used so far, in milliseconds (/proc/<pid>/stat). */
export function cpuMsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of proc(5))
  return (ticks * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || '100');
