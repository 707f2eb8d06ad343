/**
 * Cross-cutting rules, each defined once and applied everywhere: the standard labels, the Argo CD sync wave
 * of every kind, and the Pod Security `restricted` security contexts.
 */
import { ApiObject, Duration, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct, IConstruct } from 'constructs';
import { HOOK_ANNOTATION, HOOK_DELETE_POLICY_ANNOTATION, projectName, SYNC_WAVE_ANNOTATION } from './names';

/** `app.kubernetes.io/name` of everything this project renders. */
export const APP_NAME = 'mlflow';
/** `app.kubernetes.io/managed-by`: the renderer, so nobody mistakes the objects for a Helm release. */
export const MANAGED_BY = 'mlflow-gitops';

/**
 * Labels on every object of an environment (set as chart labels). Not the version: see {@link applyVersionLabel}.
 */
export function standardLabels(environment: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/instance': projectName(environment),
    'app.kubernetes.io/part-of': APP_NAME,
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

/** `app.kubernetes.io/version`: the MLflow version, on the objects that run it ({@link applyVersionLabel}). */
export const VERSION_LABEL = 'app.kubernetes.io/version';

/** Where each kind that runs pods keeps its pod template: those objects run the MLflow version, nothing else does. */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, string>> = {
  Deployment: '/spec/template',
  StatefulSet: '/spec/template',
  DaemonSet: '/spec/template',
  Job: '/spec/template',
  CronJob: '/spec/jobTemplate/spec/template',
};

/**
 * Labels every workload below `scope` (and its pod template) with the MLflow version, and nothing else: on a
 * Namespace, a ConfigMap or a NetworkPolicy it says nothing, and it would change every object on each image bump,
 * burying the workloads and the migration hook in the reviewed diff (docs/design.md#labels). No selector reads it.
 */
export function applyVersionLabel(scope: IConstruct, mlflowVersion: string): void {
  for (const c of scope.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    const template = POD_TEMPLATE_PATHS[c.kind];
    if (template === undefined) continue;
    c.metadata.addLabel(VERSION_LABEL, mlflowVersion);
    c.addJsonPatch(JsonPatch.add(`${template}/metadata/labels/${VERSION_LABEL.replace('/', '~1')}`, mlflowVersion));
  }
}

/** The label naming a pod's component (server, migration, smoke, gc): workloads, monitors and network policies select by it. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/**
 * Selector labels of a component's pods. Pinned explicitly: cdk8s-plus would derive them from the construct
 * path, and a Deployment selector is immutable, so a refactor would break the next sync. Never includes the
 * version (it changes on every upgrade).
 */
export function selectorLabels(environment: string, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': APP_NAME,
    'app.kubernetes.io/instance': projectName(environment),
    [COMPONENT_LABEL]: component,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Sync waves (docs/design.md#argo-cd-waves)
// ---------------------------------------------------------------------------------------------------------

/**
 * The wave of every kind the MLflow app renders. Why this order: the namespace, identity and network rules
 * exist first; the SecretStore before the ExternalSecrets that use it; the Secrets (ExternalSecret health)
 * before the migration Job that reads them; the schema migrated before any server starts; the HPA, Ingress (or
 * Gateway, its routes and certificate) and monitors last (an HPA reports Degraded until its target has pods).
 */
export const SYNC_WAVES: Readonly<Record<string, number>> = {
  Namespace: -3,
  ServiceAccount: -3,
  NetworkPolicy: -3,
  Role: -3,
  RoleBinding: -3,
  SecretStore: -2,
  ConfigMap: -2,
  PersistentVolumeClaim: -2,
  ExternalSecret: -1,
  Job: 0,
  Deployment: 1,
  // Beside the server it needs: `mlflow gc` deletes artifacts through the server's proxy.
  CronJob: 1,
  Service: 1,
  PodDisruptionBudget: 1,
  BackendConfig: 1,
  FrontendConfig: 1,
  HealthCheckPolicy: 1,
  GCPBackendPolicy: 1,
  HorizontalPodAutoscaler: 2,
  Ingress: 2,
  // The Certificate beside the Gateway, never before it: its HTTP-01 challenge is answered through the Gateway.
  Gateway: 2,
  HTTPRoute: 2,
  Certificate: 2,
  PodMonitoring: 2,
  ServiceMonitor: 2,
};

/**
 * Waves of the Argo CD Applications inside an environment's root app: the operators first (their CRDs and
 * webhooks must exist), then the ClusterIssuer (needs cert-manager's webhook), then MLflow (needs both), then the
 * served models (their pods resolve their model through a healthy server, and their store reads as its KSA). Last,
 * because the root app waits for a wave's Applications to be healthy: a served model that cannot start (its model not
 * registered yet) leaves no later wave waiting.
 */
export const APP_SYNC_WAVES = {
  addons: -20,
  clusterIssuer: -10,
  mlflow: 0,
  serving: 10,
} as const;

/**
 * Annotates every API object below `scope` with its kind's sync wave. A kind without a wave is an error: a
 * new kind must be placed in the order deliberately, not land in wave 0 by accident.
 */
export function applySyncWaves(scope: IConstruct, waves: Readonly<Record<string, number>> = SYNC_WAVES): void {
  for (const c of scope.node.findAll()) {
    if (!(c instanceof ApiObject)) continue;
    const wave = waves[c.kind];
    if (wave === undefined) {
      throw new Error(`${c.kind}/${c.name}: no sync wave is defined for kind ${c.kind} (add it to SYNC_WAVES in lib/conventions.ts)`);
    }
    c.metadata.addAnnotation(SYNC_WAVE_ANNOTATION, String(wave));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pod Security Standards: restricted
// ---------------------------------------------------------------------------------------------------------

/**
 * Numeric non-root user of the MLflow containers (the image runs as root and has no user of its own). Above 10000,
 * so it is no account of the node's (Checkov CKV_K8S_40); volumes follow through `fsGroup`.
 */
export const MLFLOW_UID = 10001;
/** The Cloud SQL Auth Proxy's distroless `nonroot` user. */
export const PROXY_UID = 65532;

/** Pod-level context: non-root, seccomp RuntimeDefault, volumes group-owned by the MLflow group. */
export function restrictedPodSecurityContext(): kplus.PodSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: MLFLOW_UID,
    group: MLFLOW_UID,
    fsGroup: MLFLOW_UID,
    fsGroupChangePolicy: kplus.FsGroupChangePolicy.ON_ROOT_MISMATCH,
  };
}

/** Container-level context meeting `restricted`: numeric user, drop ALL, no escalation, read-only root. */
export function restrictedContainerSecurityContext(uid: number): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: uid,
    group: uid,
    privileged: false,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/**
 * Removes the construct-path-derived `cdk8s.io/metadata.addr` label cdk8s-plus adds to pod templates: pods are
 * selected by the pinned {@link selectorLabels} only, so a refactor of construct ids changes nothing.
 */
export function removePathDerivedPodLabel(workload: kplus.Workload, templatePath = '/spec/template'): void {
  ApiObject.of(workload).addJsonPatch(JsonPatch.remove(`${templatePath}/metadata/labels/cdk8s.io~1metadata.addr`));
}

/**
 * cdk8s-plus-28 cannot set the pod-level seccomp profile: add it with the escape hatch, so that every
 * container (including ones a controller injects) inherits RuntimeDefault.
 */
export function addPodSeccomp(workload: kplus.AbstractPod | kplus.Workload, templatePath: string): void {
  // The parent exists: cdk8s-plus always renders the pod securityContext.
  ApiObject.of(workload).addJsonPatch(JsonPatch.add(`${templatePath}/securityContext/seccompProfile`, { type: 'RuntimeDefault' }));
}

/** The Argo CD resource-hook phases this app uses. */
export type HookPhase = 'Sync' | 'PostSync';

/** Props of {@link hookJob}. */
export interface HookJobProps {
  /** `metadata.name` (a hook is looked up by name when Argo CD deletes it before re-creating it). */
  readonly name: string;
  readonly phase: HookPhase;
  readonly serviceAccount: kplus.ServiceAccount;
  /** Labels of the Job's pod (the network policies select it by them). */
  readonly podLabels: Record<string, string>;
  readonly backoffLimit: number;
  readonly activeDeadline: Duration;
}

/**
 * A Job that Argo CD runs as a resource hook of `phase`, with the rules every hook Job here shares: re-created on
 * each sync (`BeforeHookCreation`: the last run stays inspectable until the next one, and the immutable pod template
 * of a finished Job never blocks a sync; never a plain Job with a TTL, which Argo CD would re-create forever), the
 * restricted pod security context with seccomp, no restarts in place, no service-account token (Workload Identity
 * needs none) and no construct-path label. The caller adds the containers.
 * @see https://argo-cd.readthedocs.io/en/stable/user-guide/resource_hooks/
 */
export function hookJob(scope: Construct, id: string, props: HookJobProps): kplus.Job {
  const job = new kplus.Job(scope, id, {
    metadata: {
      name: props.name,
      annotations: {
        [HOOK_ANNOTATION]: props.phase,
        [HOOK_DELETE_POLICY_ANNOTATION]: 'BeforeHookCreation',
      },
    },
    podMetadata: { labels: props.podLabels },
    backoffLimit: props.backoffLimit,
    activeDeadline: props.activeDeadline,
    serviceAccount: props.serviceAccount,
    automountServiceAccountToken: false,
    securityContext: restrictedPodSecurityContext(),
    restartPolicy: kplus.RestartPolicy.NEVER,
    select: false,
  });
  addPodSeccomp(job, '/spec/template/spec');
  removePathDerivedPodLabel(job);
  return job;
}
