import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { ServedModel } from '../config/model';
import { parseCpuMillis, parseMemoryMiB, ROLLING_SURGE } from '../config/sizing';
import {
  MLFLOW_UID,
  addPodSeccomp,
  removePathDerivedPodLabel,
  restrictedContainerSecurityContext,
  restrictedPodSecurityContext,
} from '../conventions';
import { PROMOTION_ANNOTATION, servingName } from '../names';
import { skipSecretEnvCheck, skipTagPinnedImageChecks } from '../policy/checkov';
import { mlflowClientEnv } from './client-env';
import { namespacePeer, ServerEgressPolicy } from './network-policies';
import type { SecretManagerStore } from './secret-store';

/** The wrapper that resolves the alias once and starts the scoring server, shipped in a ConfigMap. */
const SCRIPT_FILE = path.join(__dirname, 'scripts', 'serve.py');
const SCRIPT_DIR = '/opt/mlflow-serve';

/** Port of the scoring server (container and Service). */
export const SCORING_PORT = 8080;
/** Name of that port. */
export const SCORING_PORT_NAME = 'http';
/** Size of `/tmp`: the downloaded model version and the scoring server's temporary files. */
const TMP_SIZE = Size.gibibytes(2);
/** preStop sleep: the pod keeps answering while endpoints stop sending to it. */
const PRE_STOP_DELAY = Duration.seconds(10);
/** Startup probe: the scoring server must answer /ping within this many periods of {@link STARTUP_PERIOD}. */
const STARTUP_PERIOD = Duration.seconds(5);
const STARTUP_FAILURES = 60;
/**
 * How long the wrapper retries a 403 or a model/alias not found (`SERVE_WAIT_SECONDS`): a promotion's new pods may
 * start before the server's migration Job has granted what the alias points at now (the two Applications sync apart).
 * Inside the startup probe's 5 minutes, leaving 2 for the download and the scoring server's start.
 */
export const SERVE_WAIT = Duration.minutes(3);

/** The scoring server's own request timeout (MLflow's `MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT` default): in-flight requests finish within it. */
const REQUEST_TIMEOUT = Duration.seconds(60);

/** Props of {@link ServedModelDeployment}. */
export interface ServedModelDeploymentProps {
  /** The served model, resolved from `serving[]`. */
  readonly served: ServedModel;
  /** The MLflow image (the server's: the client and `mlflow models serve` of the same release). */
  readonly image: string;
  /** The tracking server as in-cluster clients reach it: its Service URL. */
  readonly serverUrl: string;
  /** The Secret Manager store the serving user's password comes from. */
  readonly store: SecretManagerStore;
  /** Labels of the serving pods (a superset of `selectorLabels`). */
  readonly podLabels: Record<string, string>;
  /** Labels selecting the serving pods; pinned, never derived (a Deployment selector is immutable). */
  readonly selectorLabels: Record<string, string>;
  /** Labels of the tracking server's pods: the serving pods may reach them (the server's chart admits the serving pods). */
  readonly serverLabels: Record<string, string>;
  /** The tracking server's port. */
  readonly serverPort: number;
  /** The command that promotes this serving (`promoteCommand()`): named in the pods' message on a missing grant (alias targets). */
  readonly promoteCommand: string;
}

/**
 * A registered model served by registry alias (or pinned version) beside the tracking server, all named
 * `serve-<name>`: a Deployment running `lib/mlflow/scripts/serve.py` from a ConfigMap (it resolves the alias once, logs
 * the version it serves, downloads it through the server's artifact proxy and runs `mlflow models serve
 * --env-manager local`), its own KSA (no Workload Identity: the pod has no cloud access), the serving user's
 * credentials as an ExternalSecret, a Service, an HPA, a PDB, and a NetworkPolicy that admits the listed clients on
 * the scoring port and lets the pods reach only the server and DNS.
 * Why, in full: docs/clients.md#serving.
 * @see https://mlflow.org/docs/latest/deployment/deploy-model-locally/
 */
export class ServedModelDeployment extends Construct {
  public readonly deployment: kplus.Deployment;
  public readonly service: kplus.Service;

  constructor(scope: Construct, id: string, props: ServedModelDeploymentProps) {
    super(scope, id);
    const s = props.served;
    const name = servingName(s.name);

    const configMap = new kplus.ConfigMap(this, 'Script', {
      metadata: { name: `${name}-script` },
      data: { 'serve.py': fs.readFileSync(SCRIPT_FILE, 'utf8') },
    });
    const credentials = props.store.userSecret(this, 'Credentials', `${name}-auth`, s.user);
    // Its own identity, bound to nothing: the pod reaches artifacts only through the server's proxy.
    const serviceAccount = new kplus.ServiceAccount(this, 'ServiceAccount', { metadata: { name }, automountToken: false });

    const promotion: Record<string, string> = s.target.alias !== undefined ? { [PROMOTION_ANNOTATION]: String(s.target.promotion) } : {};
    this.deployment = new kplus.Deployment(this, 'Deployment', {
      metadata: { name },
      select: false,
      spread: false,
      podMetadata: { labels: { ...props.podLabels, ...props.selectorLabels }, annotations: promotion },
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(ROLLING_SURGE),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurityContext(),
      // SIGTERM → preStop sleep → the scoring server finishes its requests, plus a margin before SIGKILL.
      terminationGracePeriod: Duration.seconds(PRE_STOP_DELAY.toSeconds() + REQUEST_TIMEOUT.toSeconds() + 5),
    });
    this.deployment.select(kplus.LabelSelector.of({ labels: props.selectorLabels }));

    // With an alias, the command that promotes it: the pods name it when a moved alias lacks its grant.
    const target = s.target.alias !== undefined ? ['--alias', s.target.alias, '--promote-command', props.promoteCommand] : ['--version', String(s.target.version)];
    const probe = (p: string, periodSeconds: number, failureThreshold: number) =>
      kplus.Probe.fromHttpGet(p, { port: SCORING_PORT, periodSeconds: Duration.seconds(periodSeconds), timeoutSeconds: Duration.seconds(5), failureThreshold });
    const container = this.deployment.addContainer({
      name: 'serve',
      image: props.image,
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      command: ['python', `${SCRIPT_DIR}/serve.py`, '--model', s.model, ...target, '--port', String(SCORING_PORT)],
      ports: [{ name: SCORING_PORT_NAME, number: SCORING_PORT }],
      envVariables: {
        MLFLOW_TRACKING_URI: kplus.EnvValue.fromValue(props.serverUrl),
        SERVE_WAIT_SECONDS: kplus.EnvValue.fromValue(String(SERVE_WAIT.toSeconds())),
        ...mlflowClientEnv(credentials),
      },
      securityContext: restrictedContainerSecurityContext(MLFLOW_UID),
      resources: {
        cpu: { request: kplus.Cpu.millis(parseCpuMillis(s.resources.requests.cpu)), limit: kplus.Cpu.millis(parseCpuMillis(s.resources.limits.cpu)) },
        memory: { request: Size.mebibytes(parseMemoryMiB(s.resources.requests.memory)), limit: Size.mebibytes(parseMemoryMiB(s.resources.limits.memory)) },
        ephemeralStorage: { request: Size.gibibytes(1), limit: Size.gibibytes(TMP_SIZE.toGibibytes() + 1) },
      },
      // Resolve (waiting for a grant up to SERVE_WAIT), download and load before the first /ping: up to 5 minutes.
      startup: probe('/ping', STARTUP_PERIOD.toSeconds(), STARTUP_FAILURES),
      readiness: probe('/ping', 10, 3),
      liveness: probe('/health', 20, 3),
      lifecycle: { preStop: kplus.Handler.fromCommand(['sleep', String(PRE_STOP_DELAY.toSeconds())]) },
      volumeMounts: [
        { path: SCRIPT_DIR, volume: kplus.Volume.fromConfigMap(this, 'ScriptVolume', configMap, { name: 'serve-script' }), readOnly: true },
        { path: '/tmp', volume: kplus.Volume.fromEmptyDir(this, 'Tmp', 'tmp', { sizeLimit: TMP_SIZE }) },
      ],
    });
    skipTagPinnedImageChecks(this.deployment, props.image);
    skipSecretEnvCheck(this.deployment, 'the MLflow client takes its login from these variables (its only file form, ~/.mlflow/credentials, would hold the same Secret in the same container)');
    addPodSeccomp(this.deployment, '/spec/template/spec');
    removePathDerivedPodLabel(this.deployment);
    // Spread over zones and nodes; ScheduleAnyway so a zonal outage never blocks scheduling.
    const spread = (topologyKey: string) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: props.selectorLabels },
      matchLabelKeys: ['pod-template-hash'],
    });
    ApiObject.of(this.deployment).addJsonPatch(
      JsonPatch.add('/spec/template/spec/topologySpreadConstraints', [spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')]),
    );

    this.service = new kplus.Service(this, 'Service', {
      metadata: { name, labels: props.selectorLabels },
      type: kplus.ServiceType.CLUSTER_IP,
      ports: [{ name: SCORING_PORT_NAME, port: SCORING_PORT, targetPort: SCORING_PORT, protocol: kplus.Protocol.TCP }],
    });
    for (const [k, v] of Object.entries(props.selectorLabels)) this.service.selectLabel(k, v);

    const a = s.autoscaling;
    new kplus.HorizontalPodAutoscaler(this, 'Autoscaler', {
      metadata: { name },
      target: this.deployment,
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [kplus.Metric.containerCpu({ container, target: kplus.MetricTarget.averageUtilization(a.targetCpuUtilizationPercent) })],
    });
    // cdk8s-plus has no PodDisruptionBudget L2.
    new kplus.k8s.KubePodDisruptionBudget(this, 'DisruptionBudget', {
      metadata: { name },
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: props.selectorLabels },
        // A crash-looping pod (a missing grant) must not block node drains.
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
      },
    });

    // Who may call it: the listed clients' pods, on the scoring port. Where it may go: the server and DNS.
    const tcp = { protocol: 'TCP', port: kplus.k8s.IntOrString.fromNumber(SCORING_PORT) };
    const clients = s.clients.map((c) => ({ ...namespacePeer(c.namespace), ...(c.podSelector ? { podSelector: { matchLabels: { ...c.podSelector } } } : {}) }));
    new kplus.k8s.KubeNetworkPolicy(this, 'Ingress', {
      metadata: { name: `${name}-ingress` },
      spec: {
        podSelector: { matchLabels: props.selectorLabels },
        policyTypes: ['Ingress'],
        // No client listed: the ingress policy admits nobody (default deny already does; the empty list says so).
        ingress: clients.length > 0 ? [{ from: clients, ports: [tcp] }] : [],
      },
    });
    new ServerEgressPolicy(this, 'Egress', { name: `${name}-egress`, podLabels: props.selectorLabels, serverLabels: props.serverLabels, port: props.serverPort, dns: true });
  }
}
