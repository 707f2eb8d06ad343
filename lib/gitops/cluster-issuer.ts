import { Construct } from 'constructs';
import { ClusterIssuer } from '../../imports/clusterissuer-cert-manager.io';

/** Let's Encrypt ACME directories. */
export const ACME_SERVERS = {
  production: 'https://acme-v02.api.letsencrypt.org/directory',
  staging: 'https://acme-staging-v02.api.letsencrypt.org/directory',
} as const;

/** Props of {@link AcmeClusterIssuer}. */
export interface AcmeClusterIssuerProps {
  /** Issuer name (the Ingress's `cert-manager.io/cluster-issuer`). */
  readonly name: string;
  /** ACME account email (expiry notices). */
  readonly email: string;
  /**
   * Let's Encrypt directory.
   * @default 'production'
   */
  readonly server?: keyof typeof ACME_SERVERS;
  /** Ingress class the HTTP-01 solver uses (`gce` on GKE; set as the class annotation GKE reads). */
  readonly ingressClass: string;
}

/**
 * A cert-manager ClusterIssuer for Let's Encrypt with HTTP-01 through the configured ingress class. On GKE
 * the MLflow Ingress is annotated `http01-edit-in-place`, so the solver uses the same load balancer IP.
 * @see https://cert-manager.io/docs/configuration/acme/http01/
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
          solvers: [{ http01: { ingress: { class: props.ingressClass } } }],
        },
      },
    });
  }
}
