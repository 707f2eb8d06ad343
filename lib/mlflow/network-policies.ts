import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

type NetworkPolicyPeer = kplus.k8s.NetworkPolicyPeer;
type NetworkPolicyPort = kplus.k8s.NetworkPolicyPort;

/** Props of {@link NetworkPolicies}. */
export interface NetworkPoliciesProps {
  /** Labels of the MLflow server pods. */
  readonly serverLabels: Record<string, string>;
  /** `app.kubernetes.io/component` values of every MLflow pod that needs egress (server, migration). */
  readonly egressComponents: readonly string[];
  /** The serving port. */
  readonly port: number;
  /**
   * Admit Google Cloud load balancers and health checkers (35.191.0.0/16, 130.211.0.0/22) to the port.
   * @default false
   */
  readonly fromGoogleLoadBalancers?: boolean;
  /**
   * Further source ranges admitted to the port, e.g. the VPC's proxy-only subnet of a regional or internal Gateway
   * (its Envoy proxies connect from there).
   * @default - none
   */
  readonly fromCidrs?: readonly string[];
  /**
   * Admit the load balancer's sources (those admitted to the server: {@link GOOGLE_LB_RANGES} and `fromCidrs`) to
   * cert-manager's ACME HTTP-01 solver pods on {@link ACME_SOLVER_PORT}. cert-manager creates the solver in this
   * namespace (that of the Ingress or Challenge), where `default-deny` selects it too; Let's Encrypt's challenge
   * request and cert-manager's own self-check both reach it through the load balancer.
   * @default false
   * @see https://cert-manager.io/docs/configuration/acme/http01/
   */
  readonly http01Solver?: boolean;
  /**
   * Namespace of the metrics collector to admit to the port (GMP's managed collection: `gmp-system`, or
   * `gke-gmp-system` on Autopilot).
   * @default - no collector
   */
  readonly metricsNamespace?: string;
  /**
   * Egress to the GKE metadata server (Workload Identity tokens) and to Google APIs on 443 (GCS, Cloud SQL
   * Admin API).
   * @default false
   */
  readonly toGoogleApis?: boolean;
  /**
   * Egress to Cloud SQL instances (the proxy's port 3307).
   * @default false
   */
  readonly toCloudSql?: boolean;
  /**
   * Labels of the smoke test's pods: admitted to the server's port, and given egress to DNS and the server only.
   * @default - no smoke test pods
   */
  readonly smokeTestLabels?: Record<string, string>;
  /**
   * Labels of the garbage-collection pods: admitted to the server's port and given egress to it (`mlflow gc` deletes
   * artifacts through the server's proxy). Their database and Google API egress comes from `egressComponents`.
   * @default - no gc pods
   */
  readonly gcLabels?: Record<string, string>;
}

/** Google Front End ranges for load balancers and health checks. @see https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges */
export const GOOGLE_LB_RANGES = ['35.191.0.0/16', '130.211.0.0/22'];
/** Label cert-manager puts on every HTTP-01 solver pod (cert-manager `pkg/apis/acme/v1/types.go`). */
export const ACME_SOLVER_LABELS: Readonly<Record<string, string>> = { 'acme.cert-manager.io/http01-solver': 'true' };
/** Port the HTTP-01 solver listens on (cert-manager `pkg/issuer/acme/http/http.go`, `acmeSolverListenPort`). */
export const ACME_SOLVER_PORT = 8089;
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];

const tcp = (port: number): NetworkPolicyPort => ({ protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(port) });
const udp = (port: number): NetworkPolicyPort => ({ protocol: 'UDP', port: kplus.k8s.IntOrString.fromNumber(port) });
const cidr = (c: string, except?: string[]): NetworkPolicyPeer => ({ ipBlock: { cidr: c, except } });
const namespace = (name: string): NetworkPolicyPeer => ({
  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } },
});

/**
 * Default deny for the namespace, then exact allows: who may reach the server (load balancers, the metrics
 * collector) and cert-manager's HTTP-01 solver (the load balancers), and where MLflow's pods may go (DNS; with
 * GCP the metadata server and Google APIs on 443; with Cloud SQL port 3307). Rules are written as plain `networking.k8s.io/v1` data (the L1 types) so each
 * CIDR/port pair reads exactly as it is enforced.
 * Why: docs/design.md#security-and-availability.
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy
 */
export class NetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);

    new kplus.k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    const fromLoadBalancers: NetworkPolicyPeer[] = [
      ...(props.fromGoogleLoadBalancers ? GOOGLE_LB_RANGES.map((c) => cidr(c)) : []),
      ...(props.fromCidrs ?? []).map((c) => cidr(c)),
    ];
    const ingressFrom: NetworkPolicyPeer[] = [
      ...fromLoadBalancers,
      ...(props.metricsNamespace !== undefined ? [namespace(props.metricsNamespace)] : []),
      ...(props.smokeTestLabels !== undefined ? [{ podSelector: { matchLabels: props.smokeTestLabels } }] : []),
      ...(props.gcLabels !== undefined ? [{ podSelector: { matchLabels: props.gcLabels } }] : []),
    ];
    if (ingressFrom.length > 0) {
      new kplus.k8s.KubeNetworkPolicy(this, 'ServerIngress', {
        metadata: { name: 'mlflow-server-ingress' },
        spec: {
          podSelector: { matchLabels: props.serverLabels },
          policyTypes: ['Ingress'],
          ingress: [{ from: ingressFrom, ports: [tcp(props.port)] }],
        },
      });
    }

    if (props.http01Solver && fromLoadBalancers.length > 0) {
      // Exactly the load balancer's sources: the request comes from Google's proxies, not from cert-manager's
      // namespace. No egress: the solver only answers.
      new kplus.k8s.KubeNetworkPolicy(this, 'AcmeSolverIngress', {
        metadata: { name: 'acme-http01-solver-ingress' },
        spec: {
          podSelector: { matchLabels: ACME_SOLVER_LABELS },
          policyTypes: ['Ingress'],
          ingress: [{ from: fromLoadBalancers, ports: [tcp(ACME_SOLVER_PORT)] }],
        },
      });
    }

    const dns: kplus.k8s.NetworkPolicyEgressRule = {
      // kube-dns, NodeLocal DNSCache, and Cloud DNS for GKE (answered by the metadata server address).
      to: [
        { ...namespace('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
        cidr('169.254.20.10/32'),
        cidr('169.254.169.254/32'),
      ],
      ports: [udp(53), tcp(53)],
    };
    const egress: kplus.k8s.NetworkPolicyEgressRule[] = [dns];
    if (props.toGoogleApis) {
      // GKE metadata server: 169.254.169.254:80, and :988 on Dataplane V2 clusters.
      egress.push({ to: [cidr('169.254.169.254/32')], ports: [tcp(80)] });
      egress.push({ to: [cidr('169.254.169.252/32')], ports: [tcp(988)] });
      egress.push({ to: [cidr('0.0.0.0/0', PRIVATE_RANGES)], ports: [tcp(443)] });
    }
    if (props.toCloudSql) {
      egress.push({ to: [cidr('0.0.0.0/0')], ports: [tcp(3307)] });
    }
    new kplus.k8s.KubeNetworkPolicy(this, 'Egress', {
      metadata: { name: 'mlflow-egress' },
      spec: {
        podSelector: {
          matchExpressions: [{ key: 'app.kubernetes.io/component', operator: 'In', values: [...props.egressComponents] }],
        },
        policyTypes: ['Egress'],
        egress,
      },
    });

    if (props.smokeTestLabels !== undefined) {
      // DNS and the server's port, nothing else: no metadata server or Google APIs, so artifacts can only
      // travel through the server's proxy (the thing the smoke test proves).
      new kplus.k8s.KubeNetworkPolicy(this, 'SmokeTestEgress', {
        metadata: { name: 'mlflow-smoke-egress' },
        spec: {
          podSelector: { matchLabels: props.smokeTestLabels },
          policyTypes: ['Egress'],
          egress: [dns, { to: [{ podSelector: { matchLabels: props.serverLabels } }], ports: [tcp(props.port)] }],
        },
      });
    }

    if (props.gcLabels !== undefined) {
      new kplus.k8s.KubeNetworkPolicy(this, 'GcEgress', {
        metadata: { name: 'mlflow-gc-egress' },
        spec: {
          podSelector: { matchLabels: props.gcLabels },
          policyTypes: ['Egress'],
          egress: [{ to: [{ podSelector: { matchLabels: props.serverLabels } }], ports: [tcp(props.port)] }],
        },
      });
    }
  }
}
