/** A MariaDB of a suite's own, beside the shared test MariaDB of scripts/test-mariadb.sh. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT } from '../environments';
import { freePort } from './process';

/**
 * A MariaDB of a suite's own (scripts/test-mariadb.sh in a private directory, on a free loopback port): for suites that
 * change its globals or stop it under a running server, which the shared one must not see.
 */
export class PrivateMariadb {
  /** Creates the directory and takes a free port; {@link start} starts the server. */
  public static async create(prefix: string): Promise<PrivateMariadb> {
    return new PrivateMariadb(fs.mkdtempSync(path.join('/tmp', `${prefix}-`)), await freePort());
  }

  public readonly socket: string;

  private constructor(
    public readonly dir: string,
    public readonly port: number,
  ) {
    this.socket = path.join(dir, 'mariadb.sock');
  }

  /** Starts it (again: the data directory is kept). */
  public start(): void {
    const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'test-mariadb.sh')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, MARIADB_DIR: this.dir, MARIADB_PORT: String(this.port), MARIADB_SOCKET: this.socket },
    });
    if (r.status !== 0) throw new Error(`could not start a private MariaDB in ${this.dir} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }

  /** The server's pid while it runs, else 0. */
  public pid(): number {
    const file = path.join(this.dir, 'mariadb.pid');
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').trim()) : 0;
    if (pid <= 0) return 0;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return 0;
    }
  }

  /** Stops it with SIGTERM (SIGKILL after `timeoutMs`); the data directory stays. */
  public async stop(timeoutMs = 30_000): Promise<void> {
    const pid = this.pid();
    if (!pid) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (this.pid() === pid) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Stops it and removes its directory. */
  public async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
