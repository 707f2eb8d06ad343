import { ApiObject, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** Props of {@link RestrictedNamespace}. */
export interface RestrictedNamespaceProps {
  /** Namespace name. */
  readonly name: string;
}

/**
 * The environment's namespace, owned by the app (so Argo CD needs `CreateNamespace=false`), with Pod Security
 * admission enforcing `restricted` (and warning/auditing at the same level, pinned to a version so a cluster
 * upgrade cannot tighten the policy under a running release).
 * @see https://kubernetes.io/docs/concepts/security/pod-security-admission/
 */
export class RestrictedNamespace extends Construct {
  public readonly name: string;

  constructor(scope: Construct, id: string, props: RestrictedNamespaceProps) {
    super(scope, id);
    this.name = props.name;
    const ns = new kplus.Namespace(this, 'Resource', { metadata: { name: props.name } });
    for (const mode of ['enforce', 'audit', 'warn']) {
      ns.metadata.addLabel(`pod-security.kubernetes.io/${mode}`, 'restricted');
      ns.metadata.addLabel(`pod-security.kubernetes.io/${mode}-version`, 'v1.28');
    }
    // Cluster-scoped: the chart's default namespace does not apply.
    ApiObject.of(ns).addJsonPatch(JsonPatch.remove('/metadata/namespace'));
  }
}
