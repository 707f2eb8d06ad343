/**
 * Platform add-ons an environment may install through Argo CD (`gitops.addons`): upstream Helm charts at
 * pinned versions (the same versions as the CRDs in schemas/crds/), with the cluster-scoped kinds each chart
 * creates, so the AppProject can allow exactly those.
 */
import type { ClusterKind } from './argocd';
import { ADDON_NAMES } from '../names';

export interface Addon {
  /** Application name suffix and release name. */
  readonly name: string;
  readonly namespace: string;
  readonly repoURL: string;
  readonly chart: string;
  readonly version: string;
  readonly values: Record<string, unknown>;
  /** Cluster-scoped kinds the chart renders (CRDs, RBAC, webhooks). */
  readonly clusterKinds: readonly ClusterKind[];
}

const CRD: ClusterKind = { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' };
const CLUSTER_ROLE: ClusterKind = { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' };
const CLUSTER_ROLE_BINDING: ClusterKind = { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' };
const VALIDATING_WEBHOOK: ClusterKind = { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' };
const MUTATING_WEBHOOK: ClusterKind = { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' };

/** External Secrets Operator v2.9.0 (its CRDs are the ones this project validates against). */
export const EXTERNAL_SECRETS: Addon = {
  name: ADDON_NAMES.externalSecrets,
  namespace: 'external-secrets',
  repoURL: 'https://charts.external-secrets.io',
  chart: 'external-secrets',
  version: '2.9.0',
  values: { installCRDs: true },
  clusterKinds: [CRD, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, VALIDATING_WEBHOOK],
};

/** cert-manager v1.21.1. `crds.keep`: uninstalling the add-on must not delete every Certificate. */
export const CERT_MANAGER: Addon = {
  name: ADDON_NAMES.certManager,
  namespace: 'cert-manager',
  repoURL: 'https://charts.jetstack.io',
  chart: 'cert-manager',
  version: 'v1.21.1',
  values: { crds: { enabled: true, keep: true }, global: { leaderElection: { namespace: 'cert-manager' } } },
  clusterKinds: [CRD, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, VALIDATING_WEBHOOK, MUTATING_WEBHOOK],
};

/**
 * cert-manager with its Gateway API support on (`config.enableGatewayAPI`): needed when its HTTP-01 solver answers
 * through a Gateway (`exposure.mode: gateway` with a cert-manager certificate). Off by default upstream.
 * @see https://cert-manager.io/docs/usage/gateway/
 */
export function withGatewayApi(addon: Addon): Addon {
  return {
    ...addon,
    values: {
      ...addon.values,
      config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true },
    },
  };
}
