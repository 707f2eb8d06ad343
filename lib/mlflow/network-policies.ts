import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { COMPONENT_LABEL } from '../conventions';

type NetworkPolicyPeer = kplus.k8s.NetworkPolicyPeer;
type NetworkPolicyPort = kplus.k8s.NetworkPolicyPort;

/** Props of {@link NetworkPolicies}. */
export interface NetworkPoliciesProps {
  /** Labels of the MLflow server pods. */
  readonly serverLabels: Record<string, string>;
  /**
   * `app.kubernetes.io/component` values of the MLflow pods that get `mlflow-egress` (server, migration); a feature
   * whose pods need the same egress adds them with {@link NetworkPolicies.addEgressComponent}.
   */
  readonly egressComponents: readonly string[];
  /** The serving port. */
  readonly port: number;
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

/** Peers in the order they read best: outside sources (IP ranges) first, then namespaces, then this namespace's pods. */
const PEER_RANK = (p: NetworkPolicyPeer) => (p.ipBlock ? 0 : p.namespaceSelector ? 1 : 2);

/** DNS: kube-dns, NodeLocal DNSCache, and Cloud DNS for GKE (answered by the metadata server address). */
const DNS: kplus.k8s.NetworkPolicyEgressRule = {
  to: [
    { ...namespace('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
    cidr('169.254.20.10/32'),
    cidr('169.254.169.254/32'),
  ],
  ports: [udp(53), tcp(53)],
};

/**
 * Egress to the GKE metadata server (Workload Identity tokens: 169.254.169.254:80, and :988 on Dataplane V2 clusters)
 * and to Google APIs on 443 (GCS, the Cloud SQL Admin API), never to private ranges.
 */
export const GOOGLE_APIS_EGRESS: readonly kplus.k8s.NetworkPolicyEgressRule[] = [
  { to: [cidr('169.254.169.254/32')], ports: [tcp(80)] },
  { to: [cidr('169.254.169.252/32')], ports: [tcp(988)] },
  { to: [cidr('0.0.0.0/0', PRIVATE_RANGES)], ports: [tcp(443)] },
];
/** Egress to Cloud SQL instances (the Auth Proxy's port 3307). */
export const CLOUD_SQL_EGRESS: kplus.k8s.NetworkPolicyEgressRule = { to: [cidr('0.0.0.0/0')], ports: [tcp(3307)] };

/** The sources a Google load balancer's requests come from: its Front End ranges, and a proxy-only subnet if any. */
export function loadBalancerPeers(proxyOnlySubnetCidr?: string): NetworkPolicyPeer[] {
  return [...GOOGLE_LB_RANGES, ...(proxyOnlySubnetCidr !== undefined ? [proxyOnlySubnetCidr] : [])].map((c) => cidr(c));
}
/**
 * A namespace as a peer (by the label the API server sets on every namespace), narrowed to the pods with `podLabels`
 * when given (both selectors in one peer: pods with those labels in that namespace).
 */
export function namespacePeer(name: string, podLabels?: Readonly<Record<string, string>>): NetworkPolicyPeer {
  return podLabels !== undefined ? { ...namespace(name), podSelector: { matchLabels: { ...podLabels } } } : namespace(name);
}

/**
 * The namespace's network rules: default deny, then exact allows, each added by the feature that needs it — who may
 * reach the server ({@link admitToServer}: the exposure's load balancers, the metrics collector, the smoke test and gc
 * pods), cert-manager's HTTP-01 solver ({@link admitHttp01Solver}), where MLflow's pods may go ({@link allowEgress}:
 * DNS always; Workload Identity adds the metadata server and Google APIs, Cloud SQL its port), and the egress of pods
 * that only talk to the server ({@link serverClientEgress}). Rules are plain `networking.k8s.io/v1` data (the L1
 * types) so each CIDR/port pair reads exactly as it is enforced.
 * Why: docs/design.md#security-and-availability.
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy
 */
export class NetworkPolicies extends Construct {
  private readonly props: NetworkPoliciesProps;
  /** Held by the policies and filled by the features until synthesis. */
  private readonly serverPeers: NetworkPolicyPeer[] = [];
  private readonly egress: kplus.k8s.NetworkPolicyEgressRule[] = [DNS];
  private readonly egressComponents: string[];

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    this.props = props;
    this.egressComponents = [...props.egressComponents];

    new kplus.k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new kplus.k8s.KubeNetworkPolicy(this, 'Egress', {
      metadata: { name: 'mlflow-egress' },
      spec: {
        podSelector: {
          matchExpressions: [{ key: COMPONENT_LABEL, operator: 'In', values: this.egressComponents }],
        },
        policyTypes: ['Egress'],
        egress: this.egress,
      },
    });
  }

  /** Admits these sources to the server's port (`mlflow-server-ingress`, rendered once something is admitted). */
  public admitToServer(...peers: NetworkPolicyPeer[]): void {
    if (this.serverPeers.length === 0) {
      new kplus.k8s.KubeNetworkPolicy(this, 'ServerIngress', {
        metadata: { name: 'mlflow-server-ingress' },
        spec: {
          podSelector: { matchLabels: this.props.serverLabels },
          policyTypes: ['Ingress'],
          ingress: [{ from: this.serverPeers, ports: [tcp(this.props.port)] }],
        },
      });
    }
    const all = [...this.serverPeers, ...peers].map((p, i) => ({ p, i }));
    all.sort((a, b) => PEER_RANK(a.p) - PEER_RANK(b.p) || a.i - b.i);
    this.serverPeers.splice(0, this.serverPeers.length, ...all.map(({ p }) => p));
  }

  /** Further egress for the MLflow pods of `mlflow-egress`. */
  public allowEgress(...rules: readonly kplus.k8s.NetworkPolicyEgressRule[]): void {
    this.egress.push(...rules);
  }

  /** Gives pods with these labels (their component) the MLflow pods' egress (DNS, and what {@link allowEgress} added). */
  public addEgressComponent(podLabels: Record<string, string>): void {
    this.egressComponents.push(podLabels[COMPONENT_LABEL]);
  }

  /**
   * Admits cert-manager's ACME HTTP-01 solver pods on {@link ACME_SOLVER_PORT} from exactly the load balancer's
   * sources: Let's Encrypt's challenge request and cert-manager's own self-check both come through the load
   * balancer, not from cert-manager's namespace. cert-manager creates the solver in this namespace (that of the
   * Ingress or the Challenge), where `default-deny` selects it too. No egress: the solver only answers.
   * @see https://cert-manager.io/docs/configuration/acme/http01/
   */
  public admitHttp01Solver(loadBalancers: readonly NetworkPolicyPeer[]): void {
    new kplus.k8s.KubeNetworkPolicy(this, 'AcmeSolverIngress', {
      metadata: { name: 'acme-http01-solver-ingress' },
      spec: {
        podSelector: { matchLabels: ACME_SOLVER_LABELS },
        policyTypes: ['Ingress'],
        ingress: [{ from: [...loadBalancers], ports: [tcp(ACME_SOLVER_PORT)] }],
      },
    });
  }

  /**
   * Pods that are the server's clients and nothing more (the smoke test, gc): admitted to the server's port, and an
   * egress policy of their own to it, with DNS when `dns` (gc's DNS comes with its database egress).
   */
  public serverClientEgress(scope: Construct, id: string, opts: { name: string; podLabels: Record<string, string>; dns: boolean }): void {
    this.admitToServer({ podSelector: { matchLabels: opts.podLabels } });
    new ServerEgressPolicy(scope, id, { ...opts, serverLabels: this.props.serverLabels, port: this.props.port });
  }
}

/** Props of {@link ServerEgressPolicy}. */
export interface ServerEgressPolicyProps {
  /** The policy's name. */
  readonly name: string;
  /** Labels of the pods it lets out. */
  readonly podLabels: Record<string, string>;
  /** Labels of the MLflow server pods: the one destination besides DNS. */
  readonly serverLabels: Record<string, string>;
  /** The server port. */
  readonly port: number;
  /** Whether the pods may also reach DNS. */
  readonly dns: boolean;
}

/**
 * The egress of pods that only talk to the server: to the server pods on its port, and DNS when `dns`. The server's
 * side (its ingress admitting these pods) is {@link NetworkPolicies.admitToServer}, in the server's chart.
 */
export class ServerEgressPolicy extends Construct {
  constructor(scope: Construct, id: string, props: ServerEgressPolicyProps) {
    super(scope, id);
    const toServer = { to: [{ podSelector: { matchLabels: props.serverLabels } }], ports: [tcp(props.port)] };
    new kplus.k8s.KubeNetworkPolicy(this, 'Resource', {
      metadata: { name: props.name },
      spec: { podSelector: { matchLabels: props.podLabels }, policyTypes: ['Egress'], egress: [...(props.dns ? [DNS] : []), toServer] },
    });
  }
}
