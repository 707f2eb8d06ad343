import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { Application } from '../../imports/argocd-application-argoproj.io';
import { AppProject } from '../../imports/argocd-appproject-argoproj.io';
import { SYNC_WAVE_ANNOTATION } from '../names';

/** Namespace Argo CD runs in (Applications and AppProjects live there). */
export const ARGOCD_NAMESPACE = 'argocd';
/** The in-cluster API server as Argo CD names it. */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Where an Application takes its manifests from. */
export type ApplicationSource =
  | { readonly repoURL: string; readonly targetRevision: string; readonly path: string }
  | {
      readonly repoURL: string;
      readonly chart: string;
      /** Exact chart version. */
      readonly targetRevision: string;
      readonly releaseName: string;
      readonly values: Record<string, unknown>;
    };

/** A Deployment whose `spec.replicas` an HPA owns. */
export interface ScaledDeployment {
  readonly name: string;
  readonly namespace: string;
}

/** Props of {@link ArgoApplication}. */
export interface ArgoApplicationProps {
  readonly name: string;
  readonly project: string;
  readonly source: ApplicationSource;
  readonly destination: { readonly server: string; readonly namespace: string };
  /** Wave of this Application inside its parent (app-of-apps). */
  readonly syncWave: number;
  /**
   * Let Argo CD create the destination namespace. Off when the app owns a labelled Namespace object.
   * @default false
   */
  readonly createNamespace?: boolean;
  /**
   * Deployments scaled by an HPA: their `/spec/replicas` is ignored in diffs (and, with
   * `RespectIgnoreDifferences`, in syncs), so Argo CD never fights the autoscaler.
   * @default - none
   */
  readonly hpaManaged?: readonly ScaledDeployment[];
  /**
   * Add the cascade finalizer: deleting the Application deletes what it deployed. Off for a root app, so
   * removing the bootstrap never takes an environment down with it.
   * @default true
   */
  readonly cascadeDelete?: boolean;
}

/**
 * An Argo CD Application with this project's sync policy: automated prune + self-heal, retry with exponential
 * backoff (a failed auto-sync is otherwise never retried), server-side apply, prune last, and the cascade
 * finalizer (deleting the Application deletes what it deployed).
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/sync-options/
 */
export class ArgoApplication extends Construct {
  public readonly application: Application;

  constructor(scope: Construct, id: string, props: ArgoApplicationProps) {
    super(scope, id);
    const src = props.source;
    const hpaManaged = props.hpaManaged ?? [];
    this.application = new Application(this, 'Resource', {
      metadata: {
        name: props.name,
        namespace: ARGOCD_NAMESPACE,
        annotations: { [SYNC_WAVE_ANNOTATION]: String(props.syncWave) },
        // The path-qualified name of Argo CD's cascade finalizer (foreground, like the bare name): Kubernetes warns
        // on finalizer names without a `/`.
        ...((props.cascadeDelete ?? true) ? { finalizers: ['resources-finalizer.argocd.argoproj.io/foreground'] } : {}),
      },
      spec: {
        project: props.project,
        source:
          'path' in src
            ? { repoUrl: src.repoURL, targetRevision: src.targetRevision, path: src.path }
            : {
                repoUrl: src.repoURL,
                chart: src.chart,
                targetRevision: src.targetRevision,
                helm: { releaseName: src.releaseName, valuesObject: src.values },
              },
        destination: { server: props.destination.server, namespace: props.destination.namespace },
        syncPolicy: {
          automated: { prune: true, selfHeal: true },
          // Durations in Go's normalized form, as Argo CD writes them back.
          retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m0s' } },
          syncOptions: [
            `CreateNamespace=${props.createNamespace ?? false}`,
            'ServerSideApply=true',
            'PruneLast=true',
            ...(hpaManaged.length > 0 ? ['RespectIgnoreDifferences=true'] : []),
          ],
        },
        ...(hpaManaged.length > 0
          ? {
              ignoreDifferences: hpaManaged.map((d) => ({
                group: 'apps',
                kind: 'Deployment',
                name: d.name,
                namespace: d.namespace,
                jsonPointers: ['/spec/replicas'],
              })),
            }
          : {}),
      },
    });
  }
}

/** A Kubernetes kind (API group and kind), as an AppProject allows it. */
export interface ClusterKind {
  readonly group: string;
  readonly kind: string;
}

/** Props of {@link ArgoProject}. */
export interface ArgoProjectProps {
  readonly name: string;
  readonly description: string;
  /** The only repositories (git and Helm) its Applications may use. */
  readonly sourceRepos: readonly string[];
  /** The only cluster/namespace pairs they may deploy to. */
  readonly destinations: ReadonlyArray<{ readonly server: string; readonly namespace: string }>;
  /** The only cluster-scoped kinds they may create (everything else cluster-wide is denied). */
  readonly clusterResourceWhitelist: readonly ClusterKind[];
  /**
   * The only namespaced kinds they may create.
   * @default - every namespaced kind
   */
  readonly namespaceResourceWhitelist?: readonly ClusterKind[];
}

/**
 * An AppProject scoping one environment: its repositories, its destinations, and an explicit allow-list of
 * cluster-scoped kinds.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/projects/
 */
export class ArgoProject extends Construct {
  public readonly name: string;

  constructor(scope: Construct, id: string, props: ArgoProjectProps) {
    super(scope, id);
    this.name = props.name;
    new AppProject(this, 'Resource', {
      metadata: { name: props.name, namespace: ARGOCD_NAMESPACE },
      spec: {
        description: props.description,
        sourceRepos: [...props.sourceRepos],
        destinations: props.destinations.map((d) => ({ server: d.server, namespace: d.namespace })),
        clusterResourceWhitelist: props.clusterResourceWhitelist.map((k) => ({ group: k.group, kind: k.kind })),
        ...(props.namespaceResourceWhitelist !== undefined
          ? { namespaceResourceWhitelist: props.namespaceResourceWhitelist.map((k) => ({ group: k.group, kind: k.kind })) }
          : {}),
      },
    });
  }
}

/**
 * Health assessment for `argoproj.io/Application` (removed from Argo CD in 1.8): without it an app-of-apps
 * parent marks children healthy at once and the sync waves between them do not wait.
 * @see https://argo-cd.readthedocs.io/en/stable/operator-manual/health/#argocd-app
 */
export const APPLICATION_HEALTH_LUA = `hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status ~= nil then
  if obj.status.health ~= nil then
    hs.status = obj.status.health.status
    if obj.status.health.message ~= nil then
      hs.message = obj.status.health.message
    end
  end
end
return hs
`;

/** The `argocd-cm` key holding {@link APPLICATION_HEALTH_LUA}. */
export const APPLICATION_HEALTH_KEY = 'resource.customizations.health.argoproj.io_Application';

/**
 * The `argocd-cm` fragment carrying {@link APPLICATION_HEALTH_LUA}: name, namespace and that one key, nothing
 * else (no labels: a field in it is a field its applier claims). It is not part of the kustomization: docs/deploying.md
 * applies it in two steps, a server-side-apply dry run that refuses when another manager owns a different value
 * for the key, then a merge patch that adds only that key. A server-side apply of it would not be safe: on an
 * `argocd-cm` last written by a client-side `kubectl apply`, kubectl hands every field that apply owned to the
 * new manager, and the keys missing from this fragment are deleted.
 */
export class ApplicationHealthCheck extends Construct {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new ApiObject(this, 'Resource', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'argocd-cm', namespace: ARGOCD_NAMESPACE },
      data: { [APPLICATION_HEALTH_KEY]: APPLICATION_HEALTH_LUA },
    });
  }
}
