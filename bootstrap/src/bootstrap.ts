/**
 * A fresh cluster to a syncing Argo CD: the upstream `argo-cd` Helm chart, pinned, with the Application health
 * check in its values (so this path needs no `argocd-cm` patch), then the generated AppProject and root
 * Application once the release is ready. The root Application syncs everything else from git.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { HEALTH_KEY, readGenerated, type GeneratedObject } from './generated';

/**
 * The Argo CD chart. `appVersion` is the Argo CD release the chart version installs; it must be the version of
 * the CRDs this project validates against (schemas/crds/README.md, `argo-cd` row; a test compares them).
 * argo-helm's `argo-cd-10.3.3` release is "Update dependency argoproj/argo-cd to v3.5.1" (argo-helm PR #4015);
 * 10.4.1 moved to v3.5.2.
 */
export const ARGO_CD_CHART = {
  chart: 'argo-cd',
  repository: 'https://argoproj.github.io/argo-helm',
  version: '10.3.3',
  appVersion: 'v3.5.1',
} as const;

/** Helm release name; the chart's object names (argocd-server, argocd-cm, …) do not depend on it. */
export const RELEASE_NAME = 'argocd';

export interface ArgoCdBootstrapProps {
  /** The environment: reads `argocd/<environment>/`. */
  readonly environment: string;
  /**
   * Where the generated bootstrap folders are.
   * @default the repository's `argocd/`
   */
  readonly argocdDir?: string;
  /**
   * The cluster.
   * @default the ambient kubeconfig (its current context, or the stack's `kubernetes:context`)
   */
  readonly provider?: k8s.Provider;
}

export interface ArgoCdBootstrap {
  readonly release: k8s.helm.v3.Release;
  readonly projects: readonly k8s.apiextensions.CustomResource[];
  readonly applications: readonly k8s.apiextensions.CustomResource[];
}

export function bootstrapArgoCd(props: ArgoCdBootstrapProps): ArgoCdBootstrap {
  const generated = readGenerated(props.environment, props.argocdDir);
  const opts: pulumi.CustomResourceOptions = props.provider ? { provider: props.provider } : {};

  // Waits (skipAwait defaults to false) until every object of the chart is ready: the CRDs exist and the
  // application controller runs before anything below is applied.
  const release = new k8s.helm.v3.Release(
    'argo-cd',
    {
      name: RELEASE_NAME,
      chart: ARGO_CD_CHART.chart,
      version: ARGO_CD_CHART.version,
      repositoryOpts: { repo: ARGO_CD_CHART.repository },
      namespace: generated.namespace,
      createNamespace: true,
      timeout: 600,
      values: {
        // The chart renders every key of configs.cm into argocd-cm.
        configs: { cm: { [HEALTH_KEY]: generated.applicationHealthLua } },
      },
    },
    opts,
  );

  const apply = (o: GeneratedObject, dependsOn: pulumi.Resource[]) => {
    const { apiVersion, kind, metadata, ...rest } = o;
    return new k8s.apiextensions.CustomResource(`${kind.toLowerCase()}-${metadata.name}`, { apiVersion, kind, metadata, ...rest }, { ...opts, dependsOn });
  };
  const projects = generated.projects.map((p) => apply(p, [release]));
  // After the projects too: Argo CD refuses an Application whose project does not exist yet (the root app's
  // children include the clients' Applications, in the clients' project).
  const applications = generated.applications.map((a) => apply(a, [release, ...projects]));
  return { release, projects, applications };
}
