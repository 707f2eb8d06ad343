/** HTTP on loopback: requests with full control of headers, and the container's httpGet probes as the kubelet runs them. */
import * as http from 'http';
import type { PreparedContainer } from './container';

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP/1.1 request to 127.0.0.1:`port` with full control of headers (Host included). */
export function httpRequest(
  port: number,
  reqPath: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: reqPath, method: opts.method ?? 'GET', headers: opts.headers, agent: false, timeout: opts.timeoutMs ?? 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${reqPath}`)));
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

export const basicAuth = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** An httpGet probe of the container, resolved against the mapped port. */
export interface Probe {
  readonly kind: 'startupProbe' | 'readinessProbe' | 'livenessProbe';
  readonly path: string;
  readonly port: number;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
  readonly timeoutSeconds: number;
}

/** The container's httpGet probes, with ports mapped to the host (named ports resolved). */
export function probesOf(p: PreparedContainer): Probe[] {
  const out: Probe[] = [];
  for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
    const pr = p.container[kind];
    if (!pr) continue;
    if (!pr.httpGet) throw new Error(`${kind} of ${p.selector.container} is not httpGet (the harness probes httpGet only)`);
    if ((pr.httpGet.scheme ?? 'HTTP') !== 'HTTP') throw new Error(`${kind}: scheme ${pr.httpGet.scheme} not supported`);
    const cport =
      typeof pr.httpGet.port === 'number' ? pr.httpGet.port : (p.container.ports ?? []).find((x: any) => x.name === pr.httpGet.port)?.containerPort;
    const port = p.ports.get(cport);
    if (port === undefined) throw new Error(`${kind}: port ${pr.httpGet.port} is not mapped`);
    out.push({
      kind,
      path: pr.httpGet.path ?? '/',
      port,
      periodSeconds: pr.periodSeconds ?? 10,
      failureThreshold: pr.failureThreshold ?? 3,
      timeoutSeconds: pr.timeoutSeconds ?? 1,
    });
  }
  return out;
}

/** One probe attempt as the kubelet judges it: any 200–399 within timeoutSeconds is success. */
export async function probeOnce(pr: Probe): Promise<{ ok: boolean; status?: number; error?: string }> {
  try {
    const r = await httpRequest(pr.port, pr.path, { timeoutMs: pr.timeoutSeconds * 1000 });
    return { ok: r.status >= 200 && r.status < 400, status: r.status };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}
