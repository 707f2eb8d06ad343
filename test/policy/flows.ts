/**
 * The network flows of a running MLflow environment, written down once: what each pod must reach and who must
 * reach it, and a few flows that must never be allowed. test/policy/flows.test.ts asks a NetworkPolicy engine
 * (netpol-analyzer.ts) for each row's verdict on the rendered manifests plus models of the pods that exist only
 * at run time ({@link runtimePods}).
 *
 * Every fact here is written from the platform's side (Google's load balancer ranges, cert-manager's solver,
 * the metadata server, the collector's namespace), not read from lib/: the table is the specification the
 * policies are checked against. Why each flow exists: docs/design.md#network-flows.
 */
import type { Server } from '../../lib/config/model';
import type { Peer, Protocol } from './netpol-analyzer';

export type Verdict = 'allow' | 'deny';

export interface Flow {
  readonly from: Peer;
  readonly to: Peer;
  readonly protocol: Protocol;
  readonly port: number;
  readonly verdict: Verdict;
  /** What the flow is, in words (printed when the engine disagrees). */
  readonly what: string;
}

/** MLflow's serving port (the Service, the load balancer's backend, `/metrics`). */
const SERVER_PORT = 5000;
/** cert-manager's ACME HTTP-01 solver listens here (cert-manager pkg/issuer/acme/http/pod.go). */
const SOLVER_PORT = 8089;
/** The Cloud SQL Auth Proxy connects to the instance's server-side proxy on 3307. */
const CLOUD_SQL_PORT = 3307;

/** Addresses outside the cluster, one representative per range. */
const IP = {
  /** Google Front Ends and health checkers: 35.191.0.0/16 and 130.211.0.0/22. */
  googleFrontEnds: ['35.191.7.9', '130.211.2.9'],
  /** The GKE metadata server (Workload Identity tokens, and Cloud DNS answers); :988 on Dataplane V2. */
  metadata: '169.254.169.254',
  metadataDataplaneV2: '169.254.169.252',
  /** NodeLocal DNSCache. */
  nodeLocalDns: '169.254.20.10',
  /** A Google API front end (storage.googleapis.com, sqladmin.googleapis.com resolve to such public addresses). */
  googleApi: '142.250.74.27',
  /** A Cloud SQL instance's private IP (in the VPC's peered range) and a public one. */
  cloudSqlPrivate: '10.87.0.3',
  cloudSqlPublic: '34.76.10.20',
  /** Anyone on the Internet (TEST-NET-3). */
  public: '203.0.113.7',
} as const;

/** An address inside an IPv4 CIDR block (its base + 5): where one of a regional load balancer's proxies sits. */
function addressIn(cidr: string): string {
  const [base] = cidr.split('/');
  const octets = base.split('.').map(Number);
  octets[3] += 5;
  return octets.join('.');
}

/** Namespace of the pods that scrape `/metrics`, by metrics mode and cluster kind. */
function collectorNamespace(c: Server): string | undefined {
  // GKE runs managed collection in gmp-system on Standard clusters and in gke-gmp-system on Autopilot.
  if (c.metrics === 'gmp') return c.gcp?.clusterKind === 'autopilot' ? 'gke-gmp-system' : 'gmp-system';
  if (c.metrics === 'prometheus-operator') return 'monitoring';
  return undefined;
}

/** The scoring server's port in a served model's pods (`mlflow models serve --port`). */
const SCORING_PORT = 8080;

/** Namespace of the client pod that models "any other workload of the cluster". */
export const ELSEWHERE = 'elsewhere';

/** Pods of the cluster that the manifests do not contain, modelled as the engine needs them. */
export function runtimePods(c: Server): object[] {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  const pod = (namespace: string, name: string, labels: Record<string, string>, port: number) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { containers: [{ name, image: 'example.com/model:1', ports: [{ containerPort: port }] }] },
  });
  const collector = collectorNamespace(c);
  return [
    // Each client's namespace (once); a pod of each client (with the labels of its podSelector), the one that calls the
    // server and its served models, and with a podSelector one of the same namespace without them.
    ...[...new Set(c.clients.map((cl) => cl.namespace))].map(ns),
    ...c.clients.flatMap((cl) => [
      pod(cl.namespace, clientPod(cl.name), { ...(cl.podSelector ?? { app: cl.name }) }, 8080),
      ...(cl.podSelector !== undefined ? [pod(cl.namespace, otherPod(cl.name), { app: 'other' }, 8080)] : []),
    ]),
    ns('kube-system'),
    pod('kube-system', 'kube-dns', { 'k8s-app': 'kube-dns' }, 53),
    ns(ELSEWHERE),
    pod(ELSEWHERE, 'client', { app: 'client' }, 8080),
    // cert-manager creates it in the namespace of the Ingress (edit-in-place) or of the Challenge (Gateway).
    pod(c.namespace, 'cm-acme-http-solver', { 'acme.cert-manager.io/http01-solver': 'true' }, SOLVER_PORT),
    ...(collector !== undefined ? [ns(collector), pod(collector, 'collector', { 'app.kubernetes.io/name': 'collector' }, 9090)] : []),
  ];
}

/** A pod of a client (in its namespace, labelled as its podSelector says), and one of its namespace that is not. */
const clientPod = (client: string) => `${client}-caller`;
const otherPod = (client: string) => `${client}-other`;

/** Every flow of one MLflow server of environment `c`, allowed and denied. */
export function flowsOf(c: Server): Flow[] {
  const ns = c.namespace;
  const server: Peer = { workload: `${ns}/mlflow[Deployment]` };
  const migration: Peer = { workload: `${ns}/mlflow-migrate[Job]` };
  const smoke: Peer = { workload: `${ns}/mlflow-smoke[Job]` };
  const gc: Peer = { workload: `${ns}/mlflow-gc[CronJob]` };
  const solver: Peer = { workload: `${ns}/cm-acme-http-solver[Pod]` };
  const client: Peer = { workload: `${ELSEWHERE}/client[Pod]` };
  const kubeDns: Peer = { workload: 'kube-system/kube-dns[Pod]' };
  const ip = (address: string): Peer => ({ ip: address });

  const cloudSql = c.database.engine !== 'sqlite';
  const exposed = c.exposure.mode !== 'none';
  const proxyOnlySubnet = c.exposure.mode === 'gateway' ? c.exposure.proxyOnlySubnetCidr : undefined;
  // Where the load balancer's requests come from: Google Front Ends (and health checkers), plus the proxy-only
  // subnet's Envoy proxies for regional and internal Gateway classes.
  const loadBalancers = exposed ? [...IP.googleFrontEnds, ...(proxyOnlySubnet !== undefined ? [addressIn(proxyOnlySubnet)] : [])] : [];
  const http01 = c.exposure.mode === 'ingress' || (c.exposure.mode === 'gateway' && c.exposure.certificate.source === 'cert-manager');
  const collector = collectorNamespace(c);

  const flows: Flow[] = [];
  const allow = (from: Peer, to: Peer, protocol: Protocol, port: number, what: string) => flows.push({ from, to, protocol, port, verdict: 'allow', what });
  const deny = (from: Peer, to: Peer, protocol: Protocol, port: number, what: string) => flows.push({ from, to, protocol, port, verdict: 'deny', what });

  // Into the server.
  for (const lb of loadBalancers) allow(ip(lb), server, 'TCP', SERVER_PORT, 'the load balancer (traffic and health checks) to the server');
  deny(ip(IP.public), server, 'TCP', SERVER_PORT, 'a public address to the server, around the load balancer');
  deny(client, server, 'TCP', SERVER_PORT, "another namespace's pod to the server");
  if (collector !== undefined) allow({ workload: `${collector}/collector[Pod]` }, server, 'TCP', SERVER_PORT, `the metrics collector (${collector}) to /metrics`);
  // The clients: each from its namespace (only its selected pods when it has a podSelector), nothing else of theirs.
  for (const cl of c.clients) {
    const pod: Peer = { workload: `${cl.namespace}/${clientPod(cl.name)}[Pod]` };
    allow(pod, server, 'TCP', SERVER_PORT, `client ${cl.name} (${cl.namespace}) to the server`);
    deny(pod, migration, 'TCP', SERVER_PORT, `client ${cl.name} to the migration Job`);
    if (cl.podSelector !== undefined) {
      deny({ workload: `${cl.namespace}/${otherPod(cl.name)}[Pod]` }, server, 'TCP', SERVER_PORT, `a pod of ${cl.namespace} outside client ${cl.name}'s podSelector to the server`);
    }
  }

  // The ACME HTTP-01 solver: the challenge request comes through the same load balancer as the site's traffic.
  if (http01) {
    for (const lb of loadBalancers) allow(ip(lb), solver, 'TCP', SOLVER_PORT, "the load balancer to cert-manager's HTTP-01 solver");
  } else if (exposed) {
    for (const lb of loadBalancers) deny(ip(lb), solver, 'TCP', SOLVER_PORT, 'no HTTP-01 in use: nothing admits a solver-labelled pod');
  }
  deny(ip(IP.public), solver, 'TCP', SOLVER_PORT, 'a public address to the solver, around the load balancer');
  deny(client, solver, 'TCP', SOLVER_PORT, "another namespace's pod to the solver");
  deny(solver, ip(IP.public), 'TCP', 443, 'the solver to the Internet (it only answers)');

  // Out of MLflow's own pods. The server, the migration Job and gc run MLflow against the database through the
  // Cloud SQL proxy (their sidecar), which needs Workload Identity tokens and the Cloud SQL Admin API.
  const mlflowPods: Array<[Peer, string]> = [
    [server, 'the server'],
    ...(cloudSql ? ([[migration, 'the migration Job']] as Array<[Peer, string]>) : []),
    ...(c.gc !== undefined ? ([[gc, 'the gc CronJob']] as Array<[Peer, string]>) : []),
  ];
  for (const [pod, name] of mlflowPods) {
    allow(pod, kubeDns, 'UDP', 53, `${name} to kube-dns`);
    allow(pod, kubeDns, 'TCP', 53, `${name} to kube-dns over TCP`);
    allow(pod, ip(IP.nodeLocalDns), 'UDP', 53, `${name} to NodeLocal DNSCache`);
    if (c.gcp !== undefined) {
      allow(pod, ip(IP.metadata), 'TCP', 80, `${name} to the GKE metadata server (Workload Identity)`);
      allow(pod, ip(IP.metadataDataplaneV2), 'TCP', 988, `${name} to the GKE metadata server on Dataplane V2`);
      allow(pod, ip(IP.googleApi), 'TCP', 443, `${name} to Google APIs (GCS, Cloud SQL Admin)`);
    }
    if (cloudSql) {
      allow(pod, ip(IP.cloudSqlPrivate), 'TCP', CLOUD_SQL_PORT, `${name}'s Cloud SQL proxy to the instance's private IP`);
      allow(pod, ip(IP.cloudSqlPublic), 'TCP', CLOUD_SQL_PORT, `${name}'s Cloud SQL proxy to the instance's public IP`);
    }
    for (const port of [22, 80, 3306, 5432, 8080]) deny(pod, ip(IP.public), 'TCP', port, `${name} to a public address on a port other than 443 and ${CLOUD_SQL_PORT}`);
    deny(pod, ip(IP.cloudSqlPrivate), 'TCP', c.database.engine === 'postgres' ? 5432 : 3306, `${name} straight to the database port (only through the proxy)`);
    deny(pod, client, 'TCP', 8080, `${name} to another namespace's pod`);
  }
  if (!cloudSql) deny(server, ip(IP.cloudSqlPublic), 'TCP', CLOUD_SQL_PORT, 'the server without Cloud SQL to a Cloud SQL port');

  // The smoke Job and the gc CronJob reach the server; the smoke Job nothing else but DNS.
  if (c.gitops !== undefined) {
    allow(smoke, server, 'TCP', SERVER_PORT, 'the smoke Job to the server');
    allow(smoke, kubeDns, 'UDP', 53, 'the smoke Job to kube-dns');
    deny(smoke, ip(IP.metadata), 'TCP', 80, 'the smoke Job to the metadata server (artifacts go through the server only)');
    deny(smoke, ip(IP.googleApi), 'TCP', 443, 'the smoke Job to Google APIs');
    deny(smoke, ip(IP.cloudSqlPrivate), 'TCP', CLOUD_SQL_PORT, 'the smoke Job to Cloud SQL');
    deny(smoke, ip(IP.public), 'TCP', 80, 'the smoke Job to the Internet');
    deny(smoke, client, 'TCP', 8080, "the smoke Job to another namespace's pod");
  }
  if (c.gc !== undefined) allow(gc, server, 'TCP', SERVER_PORT, "the gc CronJob to the server (artifacts are deleted through the server's proxy)");

  // Served models: the clients listed for each call it, nobody else; it reaches the server and DNS, nothing else.
  for (const s of c.serving) {
    // `serve-<name>`, written here as the docs say it (the table is not read from lib/).
    const serving: Peer = { workload: `${ns}/serve-${s.name}[Deployment]` };
    const what = `the served model ${s.name}`;
    for (const cl of c.clients) {
      const from: Peer = { workload: `${cl.namespace}/${clientPod(cl.name)}[Pod]` };
      if (s.clients.some((listed) => listed.name === cl.name)) {
        allow(from, serving, 'TCP', SCORING_PORT, `client ${cl.name} (listed) to ${what}`);
        if (cl.podSelector) deny({ workload: `${cl.namespace}/${otherPod(cl.name)}[Pod]` }, serving, 'TCP', SCORING_PORT, `a pod of ${cl.namespace} outside client ${cl.name}'s selector to ${what}`);
      } else deny(from, serving, 'TCP', SCORING_PORT, `client ${cl.name} (not listed for it) to ${what}`);
    }
    deny(client, serving, 'TCP', SCORING_PORT, `a namespace that is no client to ${what}`);
    deny(ip(IP.public), serving, 'TCP', SCORING_PORT, `a public address to ${what}`);
    allow(serving, server, 'TCP', SERVER_PORT, `${what} to the server (registry and artifact proxy)`);
    allow(serving, kubeDns, 'UDP', 53, `${what} to kube-dns`);
    deny(serving, ip(IP.metadata), 'TCP', 80, `${what} to the metadata server (no cloud identity)`);
    deny(serving, ip(IP.googleApi), 'TCP', 443, `${what} to Google APIs (GCS only through the server's proxy)`);
    deny(serving, ip(IP.public), 'TCP', 443, `${what} to the Internet`);
    deny(serving, ip(IP.cloudSqlPrivate), 'TCP', CLOUD_SQL_PORT, `${what} to Cloud SQL`);
  }
  return flows;
}

export function describeFlow(f: Flow): string {
  const side = (p: Peer) => ('workload' in p ? p.workload : p.ip);
  return `${side(f.from)} → ${side(f.to)} ${f.protocol}/${f.port} (${f.what})`;
}
