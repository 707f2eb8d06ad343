/**
 * NP-Guard's netpol-analyzer (`k8snetpolicy`, built by scripts/install-netpol-analyzer.sh) as a test oracle: it
 * reads a folder of manifests (workloads, Pods, Namespaces, NetworkPolicies) and lists every connection the
 * policies allow, by workload and by IP range. This module only writes the folder, runs the CLI and looks a flow
 * up in its answer; every NetworkPolicy semantic (selectors, namespaces, ipBlock and except, ports, the default
 * allow of an unselected pod, ingress and egress both) is the engine's.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';

const ROOT = path.resolve(__dirname, '..', '..');

/** A pod as the engine names it (`namespace/name[Kind]`, e.g. `mlflow/mlflow[Deployment]`), or an address outside the cluster. */
export type Peer = { readonly workload: string } | { readonly ip: string };

export type Protocol = 'TCP' | 'UDP';

/** One row of the engine's answer: `src` may reach `dst` over `conn` (`TCP 443,3307,UDP 53`, `All Connections`). */
interface Connection {
  readonly src: string;
  readonly dst: string;
  readonly conn: string;
}

/** The engine binary; the set-up script writes its path to `.netpol-analyzer`. */
export function analyzerBinary(): string {
  const marker = path.join(ROOT, '.netpol-analyzer');
  const bin = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
  if (bin === '' || !fs.existsSync(bin)) {
    throw new Error('netpol-analyzer is not installed: run `bash scripts/install-netpol-analyzer.sh` (npm test does it first)');
  }
  return bin;
}

export function describePeer(p: Peer): string {
  return 'workload' in p ? p.workload : p.ip;
}

const ipNumber = (ip: string): number => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

/** Whether the engine's peer string names `peer`: the same workload, or an IP range (`a.b.c.d-e.f.g.h`) holding the address. */
function covers(engineName: string, peer: Peer): boolean {
  if ('workload' in peer) return engineName === peer.workload;
  const range = /^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)$/.exec(engineName);
  if (!range) return false;
  const n = ipNumber(peer.ip);
  return ipNumber(range[1]) <= n && n <= ipNumber(range[2]);
}

/** Whether a connection set (`TCP 53,80,443-445,UDP 53`, `TCP`, `All Connections`) holds `protocol`/`port`. */
function connAllows(conn: string, protocol: Protocol, port: number): boolean {
  if (conn === 'All Connections') return true;
  for (const m of conn.matchAll(/(TCP|UDP|SCTP)(?: ([0-9,-]+))?/g)) {
    if (m[1] !== protocol) continue;
    if (m[2] === undefined) return true;
    return m[2].split(',').some((part) => {
      const [lo, hi] = part.split('-').map(Number);
      return lo <= port && port <= (hi ?? lo);
    });
  }
  return false;
}

/** A set of manifests written to a folder the engine reads. */
export class PolicyWorld {
  private readonly dir: string;
  private connections?: readonly Connection[];

  constructor(manifests: readonly object[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netpol-world-'));
    manifests.forEach((m, i) => fs.writeFileSync(path.join(this.dir, `${String(i).padStart(3, '0')}.yaml`), yaml.dump(m)));
  }

  private run(args: readonly string[]): string {
    return execFileSync(analyzerBinary(), [...args, '--dirpath', this.dir, '--quiet'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Whether the engine allows `from` → `to` on `protocol`/`port`. */
  allows(from: Peer, to: Peer, protocol: Protocol, port: number): boolean {
    this.connections ??= JSON.parse(this.run(['list', '-o', 'json'])) as Connection[];
    return this.connections.some((c) => covers(c.src, from) && covers(c.dst, to) && connAllows(c.conn, protocol, port));
  }

  /**
   * The engine's own explanation of the pair (the policies that select each side and the rule, or the lack of
   * one, behind the verdict), for a failure message.
   */
  explain(from: Peer, to: Peer): string {
    const pod = 'workload' in to ? to : from;
    const name = (pod as { workload: string }).workload.replace(/\[.*\]$/, '');
    const out = this.run(['list', '--explain', '--focusworkload', name]);
    const sections = out.split(/^-{20,}$/m);
    const hits = sections.filter((s) => {
      const h = /Connections between (.+?) => (.+?):\s*$/m.exec(s);
      return h !== null && covers(h[1], from) && covers(h[2], to);
    });
    return (hits.length > 0 ? hits : sections).join('\n').trim();
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
