import { Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { BasicAuth } from './basic-auth';
import { certManagerIssuerOf, cloudSqlDatabase, DEFAULT_GATEWAY_CLASS, exposedHosts, gcOlderThanDays, type EnvironmentConfig } from '../config/config';
import { applySyncWaves, applyVersionLabel, selectorLabels, standardLabels } from '../conventions';
import { DataVolume } from './data-volume';
import { DatabaseAccess } from './database-access';
import { DRAINING_TIMEOUT, Exposure } from './exposure';
import { GarbageCollection } from './garbage-collection';
import { ExternalSecrets } from './external-secrets';
import { GkeGateway } from './gateway';
import { allowedHosts, corsOrigins } from './host-allow-list';
import { Metrics } from './metrics';
import { MigrationJob, MigrationScript } from './migration';
import { NetworkPolicies } from './network-policies';
import { RestrictedNamespace } from './restricted-namespace';
import { SmokeTest } from './smoke-test';
import { parseCpuMillis, parseMemoryMiB } from '../config/sizing';
import { MLFLOW_PORT, MLFLOW_PORT_NAME, MLFLOW_SERVICE_NAME, TrackingServer } from './tracking-server';
import { WorkloadIdentity } from './workload-identity';
// The database login (IAM or password), kept apart from the imports above.
import { databaseLogin } from '../config/config';
import { iamDatabaseUser } from './database-access';

/** Props of {@link MlflowChart}. */
export interface MlflowChartProps {
  /** The validated environment. */
  readonly config: EnvironmentConfig;
}

/** `repository:tag[@digest]`. */
export function imageReference(image: EnvironmentConfig['image']): string {
  return `${image.repository}:${image.tag}${image.digest !== undefined ? `@${image.digest}` : ''}`;
}

/** MLflow version of an image tag (`v3.17.0-full` → `3.17.0`), for the version label. */
export function mlflowVersion(tag: string): string {
  const m = /^v?(\d+\.\d+\.\d+)/.exec(tag);
  if (!m) throw new Error(`not an exact version tag: ${tag}`);
  return m[1];
}

/** A value the config schema's cross-field rules guarantee; its absence is a bug here, not a user error. */
function guaranteed<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`internal error: ${what} should have been guaranteed by config validation`);
  return value;
}

/**
 * The MLflow application of one environment: everything one Argo CD Application syncs, from the namespace to
 * the monitors. Only wiring lives here; each concern is its own construct, and every difference between
 * environments comes from the config.
 */
export class MlflowChart extends Chart {
  constructor(scope: Construct, id: string, props: MlflowChartProps) {
    const c = props.config;
    const labels = standardLabels(c.name);
    super(scope, id, { namespace: c.namespace, labels });

    const image = imageReference(c.image);
    // `app.kubernetes.io/component` of the pods: selected by the workloads, monitors and network policies.
    const components = { server: 'server', migration: 'migration', smoke: 'smoke', gc: 'gc' } as const;
    const serverLabels = selectorLabels(c.name, components.server);
    const migrationLabels = selectorLabels(c.name, components.migration);
    const smokeLabels = selectorLabels(c.name, components.smoke);
    const gcLabels = selectorLabels(c.name, components.gc);
    const cloudSql = cloudSqlDatabase(c.database);
    // IAM login: the proxy logs in as the Workload Identity service account, under the engine's name for it.
    const iamUser =
      cloudSql && databaseLogin(cloudSql) === 'iam' ? iamDatabaseUser(guaranteed(c.gcp, 'gcp').serviceAccountEmail, cloudSql.engine) : undefined;
    const auth = c.auth.enabled ? c.auth : undefined;
    const metricsMode = c.metrics === 'none' ? undefined : c.metrics;
    // One rule for every exposure mode: the hosts the load balancer serves feed the Host and CORS allow-lists and
    // admit Google's load balancers in the NetworkPolicy.
    const publicHosts = exposedHosts(c.exposure);

    new RestrictedNamespace(this, 'Namespace', { name: c.namespace });
    const identity = new WorkloadIdentity(this, 'Identity', { name: 'mlflow', googleServiceAccountEmail: c.gcp?.serviceAccountEmail });

    const secrets =
      cloudSql || auth
        ? new ExternalSecrets(this, 'Secrets', {
            projectId: guaranteed(c.gcp, 'gcp').projectId,
            serviceAccount: identity.serviceAccount,
            database: cloudSql,
            iamDatabaseUser: iamUser,
            auth,
            metricsCredentials:
              auth && metricsMode
                ? {
                    username: guaranteed(auth.metricsUsername, 'auth.metricsUsername'),
                    passwordSecret: guaranteed(auth.metricsPasswordSecret, 'auth.metricsPasswordSecret'),
                  }
                : undefined,
            smokeCredentials:
              auth?.smokeUsername !== undefined
                ? { username: auth.smokeUsername, passwordSecret: guaranteed(auth.smokePasswordSecret, 'auth.smokePasswordSecret') }
                : undefined,
            gcCredentials: c.gc !== undefined && auth !== undefined,
          })
        : undefined;

    const dataVolume = c.volume
      ? new DataVolume(this, 'Data', { size: Size.mebibytes(parseMemoryMiB(c.volume.size)), storageClassName: c.volume.storageClassName })
      : undefined;

    const database = !cloudSql
      ? new DatabaseAccess(this, 'Database', { engine: 'sqlite', volume: guaranteed(dataVolume, 'volume') })
      : iamUser !== undefined
        ? new DatabaseAccess(this, 'Database', { engine: 'cloud-sql', database: cloudSql, iamUser })
        : new DatabaseAccess(this, 'Database', { engine: 'cloud-sql', database: cloudSql, uriSecret: guaranteed(secrets?.databaseSecret, 'database secret') });

    const basicAuth = secrets?.authSecret ? new BasicAuth(this, 'Auth', { secret: secrets.authSecret }) : undefined;
    const migration = new MigrationScript(this, 'Migration', {
      image,
      database,
      auth: basicAuth,
      metricsUser:
        auth && secrets?.metricsSecret
          ? { username: guaranteed(auth.metricsUsername, 'auth.metricsUsername'), secret: secrets.metricsSecret }
          : undefined,
      smokeUser: secrets?.smokeSecret ? { secret: secrets.smokeSecret } : undefined,
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
      serviceAccount: identity.serviceAccount,
      database,
      artifactsDestination: c.artifacts.store === 'gcs' ? `gs://${c.artifacts.bucket}/${c.artifacts.prefix}` : `${DataVolume.MOUNT_PATH}/artifacts`,
      dataVolume,
      migrationScript: database.migratesInServerPod ? migration : undefined,
      auth: basicAuth,
      allowedHosts: allowedHosts({
        publicHosts,
        serviceName: MLFLOW_SERVICE_NAME,
        namespace: c.namespace,
        port: MLFLOW_PORT,
        scrapedByPodIp: metricsMode !== undefined,
      }),
      corsOrigins: corsOrigins(publicHosts, MLFLOW_PORT),
      metrics: metricsMode !== undefined,
      selectorLabels: serverLabels,
      podLabels: labels,
    });

    if (!database.migratesInServerPod) {
      new MigrationJob(this, 'MigrationJob', { script: migration, serviceAccount: identity.serviceAccount, podLabels: { ...labels, ...migrationLabels } });
    }

    // Argo CD runs the PostSync hook; without Argo CD (kubectl apply) the Job would race the rollout, so an
    // environment without `gitops` runs the same script by hand: `npm run smoke -- --url ...`.
    const smokeTest = c.gitops
      ? new SmokeTest(this, 'SmokeTest', {
          image,
          serviceAccount: identity.serviceAccount,
          serverUrl: `http://${server.service.name}.${c.namespace}.svc.cluster.local:${MLFLOW_PORT}`,
          credentials: auth ? guaranteed(secrets?.smokeSecret, 'smoke credentials secret') : undefined,
          podLabels: { ...labels, ...smokeLabels },
        })
      : undefined;

    // Needs the server: run artifacts (`mlflow-artifacts:` URIs) are deleted through its artifact proxy.
    const gc = c.gc
      ? new GarbageCollection(this, 'GarbageCollection', {
          image,
          schedule: c.gc.schedule,
          olderThanDays: gcOlderThanDays(c.gc),
          serviceAccount: identity.serviceAccount,
          database,
          serverUrl: `http://${server.service.name}.${c.namespace}.svc.cluster.local:${MLFLOW_PORT}`,
          credentials: auth ? guaranteed(secrets?.gcSecret, 'gc credentials secret') : undefined,
          podLabels: { ...labels, ...gcLabels },
        })
      : undefined;

    if (c.exposure.mode === 'ingress') {
      new Exposure(this, 'Exposure', {
        service: server.service,
        port: MLFLOW_PORT,
        hosts: c.exposure.hosts,
        clusterIssuer: c.exposure.clusterIssuer,
        className: c.exposure.className,
        backendTimeout: Duration.seconds(c.exposure.backendTimeoutSeconds),
      });
    }
    if (c.exposure.mode === 'gateway') {
      new GkeGateway(this, 'Gateway', {
        service: server.service,
        port: MLFLOW_PORT,
        hosts: c.exposure.hosts,
        className: c.exposure.className ?? DEFAULT_GATEWAY_CLASS,
        certificate: c.exposure.certificate,
        backendTimeout: Duration.seconds(c.exposure.backendTimeoutSeconds),
        drainingTimeout: c.exposure.drainingTimeoutSeconds !== undefined ? Duration.seconds(c.exposure.drainingTimeoutSeconds) : DRAINING_TIMEOUT,
      });
    }

    const metrics = metricsMode
      ? new Metrics(this, 'Metrics', {
          mode: metricsMode,
          clusterKind: c.gcp?.clusterKind,
          selectorLabels: serverLabels,
          portName: MLFLOW_PORT_NAME,
          credentials:
            auth && secrets?.metricsSecret
              ? { username: guaranteed(auth.metricsUsername, 'auth.metricsUsername'), secret: secrets.metricsSecret }
              : undefined,
        })
      : undefined;

    new NetworkPolicies(this, 'NetworkPolicies', {
      serverLabels,
      egressComponents: [components.server, components.migration, ...(gc ? [components.gc] : [])],
      port: MLFLOW_PORT,
      fromGoogleLoadBalancers: publicHosts.length > 0,
      fromCidrs: c.exposure.mode === 'gateway' && c.exposure.proxyOnlySubnetCidr !== undefined ? [c.exposure.proxyOnlySubnetCidr] : undefined,
      http01Solver: certManagerIssuerOf(c.exposure) !== undefined,
      metricsNamespace: metrics?.collectorNamespace,
      toGoogleApis: c.gcp !== undefined,
      toCloudSql: cloudSql !== undefined,
      smokeTestLabels: smokeTest ? smokeLabels : undefined,
      gcLabels: gc ? gcLabels : undefined,
    });

    applySyncWaves(this);
    applyVersionLabel(this, mlflowVersion(c.image.tag));
  }
}
