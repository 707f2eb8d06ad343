import { Construct } from 'constructs';
import { ClusterIssuer } from '../../imports/clusterissuer-cert-manager.io';

/** Let's Encrypt ACME directories. */
export const ACME_SERVERS = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** The Gateway listener an HTTP-01 solver attaches its temporary HTTPRoute to. */
export interface Http01GatewayParent {
  readonly name: string;
  readonly namespace: string;
  /** The Gateway's HTTP listener. */
  readonly sectionName: string;
}

interface AcmeClusterIssuerCommonProps {
  /** Issuer name (the Ingress's `cert-manager.io/cluster-issuer`, or the Certificate's `issuerRef`). */
  readonly name: string;
  /** ACME account email (expiry notices). */
  readonly email: string;
  /**
   * Let's Encrypt directory.
   * @default 'production'
   */
  readonly server?: keyof typeof ACME_SERVERS;
}

/** Props of {@link AcmeClusterIssuer}: HTTP-01 through an Ingress class, or through a Gateway's HTTP listener. */
export type AcmeClusterIssuerProps = AcmeClusterIssuerCommonProps &
  (
    | {
        /** Ingress class the HTTP-01 solver uses (`gce` on GKE; set as the class annotation GKE reads). */
        readonly ingressClass: string;
      }
    | {
        /** Gateway listener the HTTP-01 solver's HTTPRoute attaches to (needs cert-manager's Gateway API support). */
        readonly gateway: Http01GatewayParent;
      }
  );

/**
 * A cert-manager ClusterIssuer for Let's Encrypt with HTTP-01 through the configured ingress class (on GKE the
 * MLflow Ingress is annotated `http01-edit-in-place`, so the solver uses the same load balancer IP), or through the
 * MLflow Gateway's HTTP listener (the solver's HTTPRoute matches the challenge path exactly, so it wins over the
 * listener's redirect-everything route).
 * @see https://cert-manager.io/docs/configuration/acme/http01/
 * @see https://cert-manager.io/docs/usage/gateway/
 */
export class AcmeClusterIssuer extends Construct {
  constructor(scope: Construct, id: string, props: AcmeClusterIssuerProps) {
    super(scope, id);
    new ClusterIssuer(this, 'Resource', {
      metadata: { name: props.name },
      spec: {
        acme: {
          server: ACME_SERVERS[props.server ?? 'production'],
          email: props.email,
          privateKeySecretRef: { name: `${props.name}-account-key` },
          solvers: [
            'gateway' in props
              ? { http01: { gatewayHttpRoute: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', ...props.gateway }] } } }
              : { http01: { ingress: { class: props.ingressClass } } },
          ],
        },
      },
    });
  }
}
