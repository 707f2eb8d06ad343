import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { type Server } from '../config/model';
import { parseCpuMillis, parseMemoryMiB } from '../config/sizing';
import { applySyncWaves, applyVersionLabel, selectorLabels, standardLabels } from '../conventions';
import { SERVER_NAME, servingName } from '../names';
import { AccessPlan } from './access-plan';
import { BasicAuth } from './basic-auth';
import { DataVolume } from './data-volume';
import { DatabaseAccess } from './database-access';
import { Exposure } from './exposure';
import { GarbageCollection } from './garbage-collection';
import { GATEWAY_NAME, GkeGateway, LISTENERS } from './gateway';
import { allowedHosts, corsOrigins } from './host-allow-list';
import { Metrics } from './metrics';
import { MigrationJob, MigrationScript } from './migration';
import { namespacePeer, NetworkPolicies } from './network-policies';
import { RestrictedNamespace } from './restricted-namespace';
import { SecretManagerStore } from './secret-store';
import { SmokeTest, SmokeUser } from './smoke-test';
import { inClusterUrl, MLFLOW_PORT, MLFLOW_PORT_NAME, MLFLOW_SERVICE_NAME, TrackingServer } from './tracking-server';
import { WorkloadIdentity } from './workload-identity';

/** `app.kubernetes.io/component` of the server's pods: selected by the workloads, monitors and network policies. */
export const COMPONENTS = { server: 'server', migration: 'migration', smoke: 'smoke', gc: 'gc' } as const;

/** Props of {@link MlflowChart}. */
export interface MlflowChartProps {
  /** The resolved server. */
  readonly config: Server;
}

/** What the GitOps side needs to know of a rendered server. */
export interface ServerWorkloads {
  /** The HPA-managed Deployments of the server's Application (Argo CD ignores their replica counts): the server's when it autoscales. */
  readonly autoscaledDeployments: readonly string[];
  /** The Gateway listener cert-manager's HTTP-01 solver attaches to (with `exposure.mode: gateway`). */
  readonly http01Listener: { readonly gateway: string; readonly sectionName: string };
}

/** `repository:tag[@digest]`. */
export function imageReference(image: Server['image']): string {
  return `${image.repository}:${image.tag}${image.digest !== undefined ? `@${image.digest}` : ''}`;
}

/** MLflow version of an image tag (`v3.17.0-full` → `3.17.0`), for the version label. */
export function mlflowVersion(tag: string): string {
  const m = /^v?(\d+\.\d+\.\d+)/.exec(tag);
  if (!m) throw new Error(`not an exact version tag: ${tag}`);
  return m[1];
}

/**
 * The MLflow application of one environment: everything one Argo CD Application syncs, from the namespace to
 * the monitors. Only wiring lives here; each concern is its own construct, and every difference between
 * environments comes from the config.
 */
export class MlflowChart extends Chart {
  /** What the GitOps side of the environment needs of this server. */
  public readonly workloads: ServerWorkloads;

  constructor(scope: Construct, id: string, props: MlflowChartProps) {
    const c = props.config;
    const labels = standardLabels(c.name);
    super(scope, id, { namespace: c.namespace, labels });

    const image = imageReference(c.image);
    const components = COMPONENTS;
    const serverLabels = selectorLabels(c.name, components.server);
    const auth = c.auth;
    const metricsMode = c.metrics === 'none' ? undefined : c.metrics;

    new RestrictedNamespace(this, 'Namespace', { name: c.namespace });
    // Default deny; each feature below adds the rules it needs.
    const network = new NetworkPolicies(this, 'NetworkPolicies', {
      serverLabels,
      egressComponents: [components.server, components.migration],
      port: MLFLOW_PORT,
    });
    // Each client's namespace (only its selected pods, with a podSelector) on the server port: docs/clients.md.
    for (const client of c.clients) network.admitToServer(namespacePeer(client.namespace, client.podSelector));
    const { serviceAccount } = new WorkloadIdentity(this, 'Identity', {
      name: SERVER_NAME,
      googleServiceAccountEmail: c.gcp?.serviceAccountEmail,
      network,
    });
    // One store for every credential; rendered with Cloud SQL even when no feature reads a secret (IAM login without auth).
    const secretProject = c.database.engine !== 'sqlite' ? c.database.secretProject : auth?.secretProject;
    if (secretProject !== undefined) SecretManagerStore.of(this, { projectId: secretProject, serviceAccount });

    const volume = (v: NonNullable<Server['volume']>) => new DataVolume(this, 'Data', { size: Size.mebibytes(parseMemoryMiB(v.size)), storageClassName: v.storageClassName });
    let dataVolume: DataVolume | undefined;
    let database: DatabaseAccess;
    if (c.database.engine === 'sqlite') {
      dataVolume = volume(c.database.volume);
      database = new DatabaseAccess(this, 'Database', { engine: 'sqlite', volume: dataVolume });
    } else {
      dataVolume = c.volume && volume(c.volume);
      database = new DatabaseAccess(this, 'Database', { engine: 'cloud-sql', database: c.database, serviceAccount, network });
    }

    const basicAuth = auth ? new BasicAuth(this, 'Auth', { auth, serviceAccount }) : undefined;
    const metrics = metricsMode
      ? new Metrics(this, 'Metrics', {
          mode: metricsMode,
          clusterKind: c.gcp?.clusterKind,
          selectorLabels: serverLabels,
          portName: MLFLOW_PORT_NAME,
          user: auth?.metricsUser ? { credentials: auth.metricsUser, secretProject: auth.secretProject, serviceAccount } : undefined,
          network,
        })
      : undefined;
    const smokeUser = auth?.smokeUser ? new SmokeUser(this, 'SmokeUser', { credentials: auth.smokeUser, secretProject: auth.secretProject, serviceAccount }) : undefined;

    const migration = new MigrationScript(this, 'Migration', {
      image,
      database,
      auth: basicAuth,
      metricsUser: metrics?.scrapeUser,
      smokeUser: smokeUser ? { secret: smokeUser.secret } : undefined,
      access:
        auth && (c.clients.length > 0 || c.serving.length > 0)
          ? new AccessPlan(this, 'Access', { clients: c.clients, serving: c.serving, secretProject: auth.secretProject, serviceAccount })
          : undefined,
    });

    const server = new TrackingServer(this, 'Server', {
      image,
      workers: c.server.workers,
      resources: {
        cpuRequest: kplus.Cpu.millis(parseCpuMillis(c.server.resources.requests.cpu)),
        cpuLimit: kplus.Cpu.millis(parseCpuMillis(c.server.resources.limits.cpu)),
        memoryRequest: Size.mebibytes(parseMemoryMiB(c.server.resources.requests.memory)),
        memoryLimit: Size.mebibytes(parseMemoryMiB(c.server.resources.limits.memory)),
      },
      autoscaling: c.server.autoscaling,
      serviceAccount,
      database,
      artifactsDestination: c.artifacts.store === 'gcs' ? `gs://${c.artifacts.bucket}/${c.artifacts.prefix}` : `${DataVolume.MOUNT_PATH}/artifacts`,
      dataVolume,
      migrationScript: database.migratesInServerPod ? migration : undefined,
      auth: basicAuth,
      // One rule for every exposure mode: the hosts the load balancer serves feed the Host and CORS allow-lists and
      // admit Google's load balancers in the NetworkPolicy.
      allowedHosts: allowedHosts({
        publicHosts: c.hosts,
        serviceName: MLFLOW_SERVICE_NAME,
        namespace: c.namespace,
        port: MLFLOW_PORT,
        scrapedByPodIp: metricsMode !== undefined,
      }),
      corsOrigins: corsOrigins(c.hosts, MLFLOW_PORT),
      metrics: metricsMode !== undefined,
      selectorLabels: serverLabels,
      podLabels: labels,
    });
    const serverUrl = inClusterUrl(c.namespace);

    if (!database.migratesInServerPod) {
      new MigrationJob(this, 'MigrationJob', { script: migration, serviceAccount, podLabels: { ...labels, ...selectorLabels(c.name, components.migration) } });
    }

    // Argo CD runs the PostSync hook; without Argo CD (kubectl apply) the Job would race the rollout, so an
    // environment without `gitops` runs the same script by hand: `npm run smoke -- --url ...`.
    if (c.gitops) {
      const selector = selectorLabels(c.name, components.smoke);
      new SmokeTest(this, 'SmokeTest', {
        image,
        serviceAccount,
        serverUrl,
        credentials: smokeUser?.secret,
        podLabels: { ...labels, ...selector },
        selectorLabels: selector,
        network,
      });
    }

    // Needs the server: run artifacts (`mlflow-artifacts:` URIs) are deleted through its artifact proxy.
    if (c.gc) {
      const selector = selectorLabels(c.name, components.gc);
      new GarbageCollection(this, 'GarbageCollection', {
        image,
        schedule: c.gc.schedule,
        olderThanDays: c.gc.olderThanDays,
        serviceAccount,
        database,
        serverUrl,
        auth,
        podLabels: { ...labels, ...selector },
        selectorLabels: selector,
        network,
      });
    }

    if (c.exposure.mode === 'ingress') {
      new Exposure(this, 'Exposure', {
        service: server.service,
        port: MLFLOW_PORT,
        hosts: c.exposure.hosts,
        clusterIssuer: c.exposure.clusterIssuer,
        className: c.exposure.className,
        backendTimeout: Duration.seconds(c.exposure.backendTimeoutSeconds),
        network,
      });
    }
    if (c.exposure.mode === 'gateway') {
      new GkeGateway(this, 'Gateway', {
        service: server.service,
        port: MLFLOW_PORT,
        hosts: c.exposure.hosts,
        className: c.exposure.className,
        certificate: c.exposure.certificate,
        backendTimeout: Duration.seconds(c.exposure.backendTimeoutSeconds),
        drainingTimeout: Duration.seconds(c.exposure.drainingTimeoutSeconds),
        proxyOnlySubnetCidr: c.exposure.proxyOnlySubnetCidr,
        network,
      });
    }

    // The served models' pods (their own Application, lib/mlflow/serving-chart.ts) call the server: its ingress admits
    // them here, with the server's other sources.
    for (const s of c.serving) network.admitToServer({ podSelector: { matchLabels: selectorLabels(c.name, servingName(s.name)) } });

    this.workloads = {
      autoscaledDeployments: c.server.autoscaling ? [server.deployment.name] : [],
      http01Listener: { gateway: GATEWAY_NAME, sectionName: LISTENERS.http },
    };

    applySyncWaves(this);
    applyVersionLabel(this, mlflowVersion(c.image.tag));
  }
}
