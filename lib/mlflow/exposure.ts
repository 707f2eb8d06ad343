import { Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { DEFAULT_DRAINING_TIMEOUT_SECONDS } from '../config/schema';
import { loadBalancerPeers, type NetworkPolicies } from './network-policies';
import { BackendConfig } from '../../imports/backendconfig-cloud.google.com';
import { FrontendConfig } from '../../imports/frontendconfig-networking.gke.io';

/** Props of {@link Exposure}. */
export interface ExposureProps {
  /** The MLflow Service (it gets the NEG and BackendConfig annotations). */
  readonly service: kplus.Service;
  /** Its serving port. */
  readonly port: number;
  /** Public host names. */
  readonly hosts: readonly string[];
  /** cert-manager ClusterIssuer that issues the TLS certificate. */
  readonly clusterIssuer: string;
  /** GKE Ingress class: `gce` (external ALB) or `gce-internal`. */
  readonly className: 'gce' | 'gce-internal';
  /** Load balancer backend timeout: the longest request (an artifact upload) it lets through. */
  readonly backendTimeout: Duration;
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
}

/** How long the load balancer lets a leaving pod finish its open requests (it keeps serving through preStop and shutdown). */
const DRAINING_TIMEOUT = Duration.seconds(DEFAULT_DRAINING_TIMEOUT_SECONDS);
/** Name of the TLS Secret cert-manager writes. */
export const TLS_SECRET_NAME = 'mlflow-tls';

/**
 * Public HTTPS for MLflow on GKE: an Ingress for the GKE controller with a cert-manager certificate, a
 * BackendConfig (health check on `/health` — the default `/` needs auth and the Host allow-list — and a long
 * timeout for artifact uploads), and a FrontendConfig redirecting HTTP to HTTPS.
 *
 * GKE picks the controller from the `kubernetes.io/ingress.class` annotation; it ignores
 * `spec.ingressClassName`, so the annotation is the one to set.
 * Why: docs/design.md#exposure.
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration
 * @see https://cert-manager.io/docs/usage/ingress/
 */
export class Exposure extends Construct {
  public readonly ingress: kplus.Ingress;

  constructor(scope: Construct, id: string, props: ExposureProps) {
    super(scope, id);
    // Google's load balancers and health checkers reach the server, and cert-manager's HTTP-01 solver, from its ranges.
    const loadBalancers = loadBalancerPeers();
    props.network?.admitToServer(...loadBalancers);
    props.network?.admitHttp01Solver(loadBalancers);
    const backend = new BackendConfig(this, 'Backend', {
      metadata: { name: 'mlflow' },
      spec: {
        timeoutSec: props.backendTimeout.toSeconds(),
        connectionDraining: { drainingTimeoutSec: DRAINING_TIMEOUT.toSeconds() },
        healthCheck: { type: 'HTTP', requestPath: '/health', port: props.port, checkIntervalSec: 10, timeoutSec: 5 },
      },
    });
    const frontend = new FrontendConfig(this, 'Frontend', {
      metadata: { name: 'mlflow' },
      spec: { redirectToHttps: { enabled: true, responseCodeName: 'PERMANENT_REDIRECT' } },
    });

    // Container-native load balancing (NEGs: the LB talks to pods, so readiness gates traffic) + BackendConfig.
    props.service.metadata.addAnnotation('cloud.google.com/neg', '{"ingress":true}');
    props.service.metadata.addAnnotation('cloud.google.com/backend-config', JSON.stringify({ default: backend.name }));

    const backendOfService = kplus.IngressBackend.fromService(props.service, { port: props.port });
    this.ingress = new kplus.Ingress(this, 'Ingress', {
      metadata: {
        name: 'mlflow',
        annotations: {
          'kubernetes.io/ingress.class': props.className,
          'networking.gke.io/v1beta1.FrontendConfig': frontend.name,
          'cert-manager.io/cluster-issuer': props.clusterIssuer,
          // GCE: a second Ingress for the HTTP-01 solver would get another IP; solve on this one.
          'acme.cert-manager.io/http01-edit-in-place': 'true',
          // GCE will not program HTTPS until the TLS Secret exists: start with a temporary certificate.
          'cert-manager.io/issue-temporary-certificate': 'true',
        },
      },
      rules: props.hosts.map((host) => ({ host, path: '/', pathType: kplus.HttpIngressPathType.PREFIX, backend: backendOfService })),
      tls: [{ hosts: [...props.hosts], secret: kplus.Secret.fromSecretName(this, 'Tls', TLS_SECRET_NAME) }],
    });
  }
}
