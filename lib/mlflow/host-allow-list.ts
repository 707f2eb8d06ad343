/**
 * MLflow's Host-header and CORS allow-lists, computed in one place (docs/design.md#host-and-cors).
 *
 * `MLFLOW_SERVER_ALLOWED_HOSTS` *replaces* MLflow's default (localhost + private IPs), entries are fnmatch
 * patterns matched against the whole Host header, port included, and only `/health` and `/version` are exempt.
 * So the list must name every way a legitimate client reaches the server.
 */

/** Inputs of {@link allowedHosts}. */
export interface AllowedHostsInput {
  /** Public host names served by the load balancer (Host header without a port). */
  readonly publicHosts: readonly string[];
  /** The MLflow Service's name and namespace, for in-cluster clients. */
  readonly serviceName: string;
  readonly namespace: string;
  /** The Service and container port. */
  readonly port: number;
  /** The metrics collector scrapes pods by IP (`<pod IP>:<port>` as Host). */
  readonly scrapedByPodIp: boolean;
}

/**
 * Every Host header a legitimate client sends: the public hosts; the Service's four DNS forms, with and
 * without the port; `localhost`/`127.0.0.1` with any port (kubectl port-forward, in-pod checks); private pod
 * IPs on the serving port when a collector scrapes by pod IP. Order is stable (no set iteration of inputs).
 */
export function allowedHosts(i: AllowedHostsInput): string[] {
  const svc = [i.serviceName, `${i.serviceName}.${i.namespace}`, `${i.serviceName}.${i.namespace}.svc`, `${i.serviceName}.${i.namespace}.svc.cluster.local`];
  const hosts = [
    ...i.publicHosts,
    ...svc.flatMap((h) => [h, `${h}:${i.port}`]),
    'localhost',
    'localhost:*',
    '127.0.0.1',
    '127.0.0.1:*',
    // A literal IP in Host is not a DNS-rebinding vector; RFC 1918 pod ranges, serving port only.
    ...(i.scrapedByPodIp ? [`10.*:${i.port}`, `172.*:${i.port}`, `192.168.*:${i.port}`] : []),
  ];
  return dedupe(hosts);
}

/**
 * Origins allowed to make state-changing API calls (`MLFLOW_SERVER_CORS_ALLOWED_ORIGINS`): the UI's own public
 * origins (browsers send `Origin` even on same-origin POSTs, and MLflow rejects unlisted ones), plus the
 * port-forward origins the README's local quick start uses.
 */
export function corsOrigins(publicHosts: readonly string[], port: number): string[] {
  return dedupe([...publicHosts.map((h) => `https://${h}`), `http://localhost:${port}`, `http://127.0.0.1:${port}`]);
}

function dedupe(xs: readonly string[]): string[] {
  return xs.filter((x, i) => xs.indexOf(x) === i);
}
