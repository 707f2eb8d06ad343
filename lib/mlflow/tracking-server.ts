import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { BasicAuth } from './basic-auth';
import {
  MLFLOW_UID,
  addPodSeccomp,
  removePathDerivedPodLabel,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../conventions';
import { DataVolume } from './data-volume';
import { skipSecretEnvCheck, skipTagPinnedImageChecks } from '../policy/checkov';
import type { DatabaseAccess } from './database-access';
import type { MigrationScript } from './migration';
import { ROLLING_SURGE } from '../config/sizing';
import { SERVER_NAME } from '../names';

/** Autoscaling bounds of the server. */
export interface TrackingServerAutoscaling {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /** Target average CPU utilization of the MLflow container, in percent of its request. */
  readonly targetCpuUtilizationPercent: number;
}

/** Resources of the MLflow container. */
export interface TrackingServerResources {
  readonly cpuRequest: kplus.Cpu;
  readonly cpuLimit: kplus.Cpu;
  readonly memoryRequest: Size;
  readonly memoryLimit: Size;
}

/** Props of {@link TrackingServer}. */
export interface TrackingServerProps {
  /** Image reference `repository:tag[@digest]`. */
  readonly image: string;
  /** uvicorn worker processes per pod. */
  readonly workers: number;
  readonly resources: TrackingServerResources;
  /**
   * HPA bounds. With autoscaling the Deployment renders no `spec.replicas` (the HPA owns it) and rolls with
   * `maxUnavailable: 0`.
   * @default - one replica, `Recreate` (required for a ReadWriteOnce data volume)
   */
  readonly autoscaling?: TrackingServerAutoscaling;
  readonly serviceAccount: kplus.ServiceAccount;
  readonly database: DatabaseAccess;
  /** `--artifacts-destination`: `gs://bucket/prefix`, or a path on the data volume. */
  readonly artifactsDestination: string;
  /**
   * Data volume (SQLite and/or artifacts).
   * @default - none
   */
  readonly dataVolume?: DataVolume;
  /**
   * Migrations run as an init container of the server pod (database on the pod's own volume).
   * @default - migrations run elsewhere (the MigrationJob)
   */
  readonly migrationScript?: MigrationScript;
  /**
   * Basic-auth.
   * @default - no auth
   */
  readonly auth?: BasicAuth;
  /** Host-header allow-list (`MLFLOW_SERVER_ALLOWED_HOSTS`), from `allowedHosts()`. */
  readonly allowedHosts: readonly string[];
  /** CORS origins (`MLFLOW_SERVER_CORS_ALLOWED_ORIGINS`), from `corsOrigins()`. */
  readonly corsOrigins: readonly string[];
  /**
   * Expose Prometheus metrics at `/metrics` (`--expose-prometheus` on an emptyDir).
   * @default false
   */
  readonly metrics?: boolean;
  /** Labels selecting the server pods; pinned, never derived (a Deployment selector is immutable). */
  readonly selectorLabels: Record<string, string>;
  /**
   * Labels of the server pods (a superset of the selector labels).
   * @default - the selector labels
   */
  readonly podLabels?: Record<string, string>;
}

/**
 * Keep-alive of uvicorn; must exceed the load balancer's (GCLB keeps idle connections 600 s), or the LB reuses
 * connections the server already closed (sporadic 502s).
 */
const KEEP_ALIVE = Duration.seconds(620);
/** uvicorn graceful shutdown: in-flight requests (artifact uploads) get this long after SIGTERM. */
const GRACEFUL_SHUTDOWN = Duration.seconds(30);
/** preStop sleep: the pod keeps serving while endpoints and the load balancer stop sending to it. */
const PRE_STOP_DELAY = Duration.seconds(15);
/** Size of `/tmp`, where uploads and downloads are staged. */
const TMP_SIZE = Size.gibibytes(4);

/** Port of the MLflow server (container and Service). */
export const MLFLOW_PORT = 5000;
/** Name of that port on the container and the Service (what monitors scrape). */
export const MLFLOW_PORT_NAME = 'http';
/** Name of the Service (in-cluster clients' host name, hence in the Host allow-list). */
export const MLFLOW_SERVICE_NAME = SERVER_NAME;
/** The server as in-cluster clients reach it: its Service's cluster DNS name (one of the allowed Host forms). */
export function inClusterUrl(namespace: string): string {
  return `http://${MLFLOW_SERVICE_NAME}.${namespace}.svc.cluster.local:${MLFLOW_PORT}`;
}
const METRICS_DIR = '/mlflow/metrics';

/**
 * The MLflow tracking server + model registry (MLflow 3.x, uvicorn): Deployment, Service, and with
 * autoscaling an HPA on the MLflow container's CPU and a PDB.
 *
 * Why each setting: exec-form command so `mlflow` is PID 1 and gets SIGTERM; `--host 0.0.0.0` (the default
 * 127.0.0.1 is unreachable to probes); proxied artifacts (`--artifacts-destination`, never
 * `--default-artifact-root`, so clients need no GCP credentials); job execution off (it spawns ~7 processes
 * per pod and re-queues other pods' jobs); `/health` for every probe (static, exempt from auth and Host
 * checks); read-only root with sized emptyDirs.
 * Why, in full: docs/design.md#server-flags and docs/design.md#security-and-availability.
 * @see https://mlflow.org/docs/latest/self-hosting/architecture/tracking-server/
 */
export class TrackingServer extends Construct {
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;
  /** The MLflow container (the HPA's metric and the NetworkPolicy's port refer to it). */
  public readonly container: kplus.Container;

  constructor(scope: Construct, id: string, props: TrackingServerProps) {
    super(scope, id);
    const keepAlive = KEEP_ALIVE;
    const graceful = GRACEFUL_SHUTDOWN;
    const preStop = PRE_STOP_DELAY;
    const tmpSize = TMP_SIZE;
    const metrics = props.metrics ?? false;

    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name: SERVER_NAME },
      select: false,
      spread: false,
      podMetadata: { labels: { ...props.podLabels, ...props.selectorLabels } },
      // With an HPA, cdk8s-plus drops spec.replicas (the HPA owns it); without one: exactly one.
      replicas: props.autoscaling ? undefined : 1,
      strategy: props.autoscaling
        ? kplus.DeploymentStrategy.rollingUpdate({
            maxSurge: kplus.PercentOrAbsolute.absolute(ROLLING_SURGE),
            maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
          })
        : kplus.DeploymentStrategy.recreate(),
      serviceAccount: props.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(),
      // SIGTERM → preStop sleep → uvicorn graceful shutdown, plus a margin before SIGKILL.
      terminationGracePeriod: Duration.seconds(preStop.toSeconds() + graceful.toSeconds() + 15),
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: props.selectorLabels }));

    if (props.migrationScript) props.migrationScript.addTo(this.deployment, 'init-container');

    const command = [
      'mlflow',
      'server',
      '--host',
      '0.0.0.0',
      '--port',
      String(MLFLOW_PORT),
      '--workers',
      String(props.workers),
      '--artifacts-destination',
      props.artifactsDestination,
      ...(props.auth?.serverArgs ?? []),
      ...(metrics ? ['--expose-prometheus', METRICS_DIR] : []),
      '--uvicorn-opts',
      `--timeout-graceful-shutdown ${graceful.toSeconds()} --timeout-keep-alive ${keepAlive.toSeconds()}`,
    ];
    const healthProbe = (periodSeconds: number, failureThreshold: number) =>
      kplus.Probe.fromHttpGet('/health', {
        port: MLFLOW_PORT,
        periodSeconds: Duration.seconds(periodSeconds),
        timeoutSeconds: Duration.seconds(5),
        failureThreshold,
      });

    this.container = this.deployment.addContainer({
      name: 'mlflow',
      image: props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command,
      ports: [{ name: MLFLOW_PORT_NAME, number: MLFLOW_PORT }],
      envVariables: {
        MLFLOW_BACKEND_STORE_URI: props.database.backendStoreUri,
        ...props.database.poolEnv(),
        MLFLOW_SERVER_ALLOWED_HOSTS: kplus.EnvValue.fromValue(props.allowedHosts.join(',')),
        MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: kplus.EnvValue.fromValue(props.corsOrigins.join(',')),
        MLFLOW_SERVER_ENABLE_JOB_EXECUTION: kplus.EnvValue.fromValue('false'),
        MLFLOW_DISABLE_TELEMETRY: kplus.EnvValue.fromValue('true'),
        HOME: kplus.EnvValue.fromValue('/tmp'),
      },
      securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
      resources: {
        cpu: { request: props.resources.cpuRequest, limit: props.resources.cpuLimit },
        memory: { request: props.resources.memoryRequest, limit: props.resources.memoryLimit },
        ephemeralStorage: { request: Size.gibibytes(1), limit: Size.gibibytes(tmpSize.toGibibytes() + 1) },
      },
      // Start-up to first /health 200 measured at 11–19 s: allow 120 s before the first restart.
      startup: healthProbe(5, 24),
      readiness: healthProbe(10, 3),
      liveness: healthProbe(20, 3),
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(preStop.toSeconds())]) },
    });

    this.container.mount('/tmp', kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: tmpSize }));
    if (metrics) {
      this.container.mount(METRICS_DIR, kplus.Volume.fromEmptyDir(this, 'Metrics', 'metrics', { sizeLimit: Size.mebibytes(256) }));
    }
    props.auth?.mountInto(this.container);
    if (props.auth && metrics) {
      // MLflow ≥ 3.17's basic-auth denies a logged-in non-admin every route without a permission rule (fail-closed),
      // and `/metrics` has none: the collector's plain user would get 403 on every scrape. Routes with a rule keep
      // checking it (docs/design.md, "Metrics under basic-auth").
      this.container.env.addVariable('MLFLOW_BASIC_AUTH_FAIL_CLOSED', kplus.EnvValue.fromValue('false'));
    }
    props.database.connect(this.deployment, this.container);
    props.dataVolume?.mountInto(this.container);
    skipTagPinnedImageChecks(this.deployment, props.image);
    skipSecretEnvCheck(this.deployment, 'mlflow server reads them only from the environment or its command line (which the process list shows), never from a file');

    const podSpec = ApiObject.of(this.deployment);
    addPodSeccomp(this.deployment, '/spec/template/spec');
    removePathDerivedPodLabel(this.deployment);
    if (props.autoscaling) {
      // Spread over zones and nodes; ScheduleAnyway so a zonal outage never blocks scheduling.
      // matchLabelKeys: only pods of the same ReplicaSet count, so a rollout does not skew the spread.
      const spread = (topologyKey: string) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: props.selectorLabels },
        matchLabelKeys: ['pod-template-hash'],
      });
      podSpec.addJsonPatch(
        JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')]),
      );
    }

    this.service = new kplus.Service(this, 'Service', {
      // Labelled like the pods, so a ServiceMonitor can select the Service by the same labels.
      metadata: { name: MLFLOW_SERVICE_NAME, labels: props.selectorLabels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: MLFLOW_PORT_NAME, port: MLFLOW_PORT, targetPort: MLFLOW_PORT, protocol: kplus.Protocol.TCP }],
    });
    for (const [k, v] of Object.entries(props.selectorLabels)) this.service.selectLabel(k, v);

    if (props.autoscaling) {
      const a = props.autoscaling;
      new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
        metadata: { name: SERVER_NAME },
        target: this.deployment,
        minReplicas: a.minReplicas,
        maxReplicas: a.maxReplicas,
        // ContainerResource: the proxy sidecar's CPU must not skew the signal.
        metrics: [kplus.Metric.containerCpu({ container: this.container, target: kplus.MetricTarget.averageUtilization(a.targetCpuUtilizationPercent) })],
        scaleUp: {
          stabilizationWindow: Duration.seconds(0),
          strategy: kplus.ScalingStrategy.MAX_CHANGE,
          policies: [{ replicas: kplus.Replicas.absolute(2), duration: Duration.minutes(1) }],
        },
        // Scale down slowly: one pod per 2 minutes after 5 minutes of low load.
        scaleDown: {
          stabilizationWindow: Duration.minutes(5),
          strategy: kplus.ScalingStrategy.MIN_CHANGE,
          policies: [{ replicas: kplus.Replicas.absolute(1), duration: Duration.minutes(2) }],
        },
      });
      // cdk8s-plus has no PodDisruptionBudget L2.
      new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
        metadata: { name: SERVER_NAME },
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: props.selectorLabels },
          // A crash-looping pod must not block node drains.
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
        },
      });
    }
  }
}
