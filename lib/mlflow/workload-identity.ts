import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { GOOGLE_APIS_EGRESS, type NetworkPolicies } from './network-policies';

/** Props of {@link WorkloadIdentity}. */
export interface WorkloadIdentityProps {
  /** Kubernetes service account name; Terraform binds `PROJECT.svc.id.goog[NAMESPACE/NAME]`. */
  readonly name: string;
  /**
   * Google service account the KSA impersonates (`iam.gke.io/gcp-service-account`).
   * @default - no Workload Identity (a plain service account, e.g. outside GKE)
   */
  readonly googleServiceAccountEmail?: string;
  /**
   * The namespace's network policies: this feature adds the rules it needs to them.
   * @default - no NetworkPolicy rules
   */
  readonly network?: NetworkPolicies;
}

/**
 * The pods' identity: one Kubernetes service account, bound to a Google service account through GKE Workload
 * Identity when there is one. No API token is mounted (GKE WI does not need it; MLflow never calls the
 * Kubernetes API).
 * Why: docs/design.md#artifacts-and-workload-identity.
 * @see https://cloud.google.com/kubernetes-engine/docs/how-to/workload-identity
 */
export class WorkloadIdentity extends Construct {
  public readonly serviceAccount: kplus.ServiceAccount;

  constructor(scope: Construct, id: string, props: WorkloadIdentityProps) {
    super(scope, id);
    this.serviceAccount = new kplus.ServiceAccount(this, 'Resource', {
      metadata: { name: props.name },
      automountToken: false,
    });
    if (props.googleServiceAccountEmail !== undefined) {
      this.serviceAccount.metadata.addAnnotation('iam.gke.io/gcp-service-account', props.googleServiceAccountEmail);
      // The identity's tokens come from the metadata server; what it is for (GCS, the Cloud SQL Admin API) on 443.
      props.network?.allowEgress(...GOOGLE_APIS_EGRESS);
    }
  }
}
