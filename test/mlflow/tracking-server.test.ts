/**
 * TrackingServer in a test chart: the MLflow Deployment, Service, and with autoscaling the HPA, PDB and spread;
 * each input that changes the output (autoscaling, auth, metrics, MySQL or SQLite, migrations in the pod,
 * Host/CORS lists) built on and off. Why each setting: docs/design.md#server-flags and
 * #security-and-availability.
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BasicAuth } from '../../lib/mlflow/basic-auth';
import { DataVolume } from '../../lib/mlflow/data-volume';
import { DatabaseAccess } from '../../lib/mlflow/database-access';
import { MigrationScript } from '../../lib/mlflow/migration';
import { TrackingServer, type TrackingServerProps } from '../../lib/mlflow/tracking-server';
import { containerNamed, envOf, find, flagValue, mountsOf, objectsOf, ofKind, testChart, volumeNamed } from '../support/constructs';
import { AUTH, MYSQL_DATABASE } from '../support/resolved';

const MYSQL = MYSQL_DATABASE;

interface Options {
  readonly engine?: 'mysql' | 'sqlite';
  readonly privateIp?: boolean;
  readonly auth?: boolean;
  readonly metrics?: boolean;
  readonly autoscaling?: TrackingServerProps['autoscaling'];
  readonly migrateInPod?: boolean;
}

/** A TrackingServer with the inputs that matter; the rest minimal. */
function build(o: Options = {}) {
  const chart = testChart();
  const serviceAccount = new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'mlflow' } });
  const volume = o.engine === 'mysql' ? undefined : new DataVolume(chart, 'Data', { size: Size.gibibytes(10) });
  const database =
    o.engine === 'mysql'
      ? new DatabaseAccess(chart, 'Db', {
          engine: 'cloud-sql',
          database: { ...MYSQL, privateIp: o.privateIp ?? true },
          serviceAccount,
        })
      : new DatabaseAccess(chart, 'Db', { engine: 'sqlite', volume: volume! });
  const auth = o.auth ? new BasicAuth(chart, 'Auth', { auth: { ...AUTH, database: MYSQL }, serviceAccount }) : undefined;
  new TrackingServer(chart, 'Server', {
    image: 'ghcr.io/mlflow/mlflow:v3.17.0-full',
    workers: 2,
    resources: { cpuRequest: kplus.Cpu.millis(500), cpuLimit: kplus.Cpu.millis(1000), memoryRequest: Size.mebibytes(768), memoryLimit: Size.mebibytes(1024) },
    autoscaling: o.autoscaling,
    serviceAccount,
    database,
    artifactsDestination: 'gs://bucket/prefix',
    dataVolume: volume,
    migrationScript: o.migrateInPod ? new MigrationScript(chart, 'Migration', { image: 'ghcr.io/mlflow/mlflow:v3.17.0-full', database }) : undefined,
    auth,
    allowedHosts: ['a.example.com', 'b.example.com', 'localhost:*'],
    corsOrigins: ['https://a.example.com', 'https://b.example.com'],
    metrics: o.metrics,
    selectorLabels: { 'app.kubernetes.io/component': 'server' },
    podLabels: { team: 'ml' },
  });
  const objects = objectsOf(chart);
  const deployment = find(objects, 'Deployment', 'mlflow');
  const spec = deployment.spec.template.spec;
  return { objects, deployment, spec, mlflow: containerNamed(spec, 'mlflow') };
}

const AUTOSCALING = { minReplicas: 2, maxReplicas: 7, targetCpuUtilizationPercent: 60 };

describe('the MLflow container', () => {
  const { mlflow, spec } = build();

  test('exec-form command: mlflow is PID 1, on all interfaces, proxied artifacts, uvicorn timeouts', () => {
    expect(mlflow.command).toEqual([
      'mlflow', 'server',
      '--host', '0.0.0.0',
      '--port', '5000',
      '--workers', '2',
      '--artifacts-destination', 'gs://bucket/prefix',
      '--uvicorn-opts', '--timeout-graceful-shutdown 30 --timeout-keep-alive 620',
    ]);
    expect(mlflow.args).toBeUndefined();
  });

  test('environment: Host and CORS lists keep every entry, job execution and telemetry off', () => {
    expect(envOf(mlflow)).toEqual({
      MLFLOW_BACKEND_STORE_URI: 'sqlite:////mlflow/data/mlflow.db',
      MLFLOW_SERVER_ALLOWED_HOSTS: 'a.example.com,b.example.com,localhost:*',
      MLFLOW_SERVER_CORS_ALLOWED_ORIGINS: 'https://a.example.com,https://b.example.com',
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      HOME: '/tmp',
    });
  });

  test('startup (120 s budget), readiness and liveness on /health', () => {
    const probe = (periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path: '/health', port: 5000, scheme: 'HTTP' },
      periodSeconds,
      timeoutSeconds: 5,
      failureThreshold,
    });
    expect(mlflow.startupProbe).toMatchObject(probe(5, 24));
    expect(mlflow.readinessProbe).toMatchObject(probe(10, 3));
    expect(mlflow.livenessProbe).toMatchObject(probe(20, 3));
  });

  test('resources as given, ephemeral storage for the 4 GiB /tmp', () => {
    expect(mlflow.resources).toEqual({
      requests: { cpu: '500m', memory: '768Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '1000m', memory: '1024Mi', 'ephemeral-storage': '5Gi' },
    });
    expect(mountsOf(mlflow)['/tmp']).toEqual({ name: 'tmp' });
    expect(volumeNamed(spec, 'tmp')).toEqual({ name: 'tmp', emptyDir: { sizeLimit: '4096Mi' } });
  });

  test('restricted: numeric user, read-only root, no escalation, drop ALL; pod seccomp RuntimeDefault', () => {
    expect(mlflow.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      privileged: false,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      fsGroupChangePolicy: 'OnRootMismatch',
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(mlflow.imagePullPolicy).toBe('IfNotPresent');
  });

  test('SIGTERM: preStop sleep 15 s, then 30 s graceful shutdown, then a 15 s margin', () => {
    expect(mlflow.lifecycle).toEqual({ preStop: { exec: { command: ['sleep', '15'] } } });
    expect(spec.terminationGracePeriodSeconds).toBe(60);
  });

  test('the KSA without a mounted token', () => {
    expect(spec.serviceAccountName).toBe('mlflow');
    expect(spec.automountServiceAccountToken).toBe(false);
  });
});

describe('autoscaling', () => {
  test('off: exactly one replica, Recreate, no HPA, PDB or spread', () => {
    const { objects, deployment, spec } = build();
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(ofKind(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(ofKind(objects, 'PodDisruptionBudget')).toEqual([]);
    expect(spec.topologySpreadConstraints).toBeUndefined();
  });

  test('on: no spec.replicas (the HPA owns it), one pod of surge and never below capacity', () => {
    const { deployment } = build({ engine: 'mysql', autoscaling: AUTOSCALING });
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test('on: HPA v2 on the MLflow container CPU, fast up, slow down', () => {
    const { objects } = build({ engine: 'mysql', autoscaling: AUTOSCALING });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'mlflow');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'mlflow' },
      minReplicas: 2,
      maxReplicas: 7,
      metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'mlflow', target: { type: 'Utilization', averageUtilization: 60 } } }],
      behavior: {
        scaleUp: { selectPolicy: 'Max', stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] },
        scaleDown: { selectPolicy: 'Min', stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 120 }] },
      },
    });
  });

  test('on: PDB of one pod, crash-looping pods evictable', () => {
    const { objects } = build({ engine: 'mysql', autoscaling: AUTOSCALING });
    expect(find(objects, 'PodDisruptionBudget', 'mlflow').spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/component': 'server' } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  test('on: spread over zones and nodes, counting only the same ReplicaSet, never blocking scheduling', () => {
    const { spec } = build({ engine: 'mysql', autoscaling: AUTOSCALING });
    const spread = (topologyKey: string) => ({
      maxSkew: 1,
      topologyKey,
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/component': 'server' } },
      matchLabelKeys: ['pod-template-hash'],
    });
    expect(spec.topologySpreadConstraints).toEqual([spread('topology.kubernetes.io/zone'), spread('kubernetes.io/hostname')]);
  });
});

describe('selection', () => {
  test('pinned selector labels on the Deployment, its pods and the Service; no path-derived label', () => {
    const { objects, deployment } = build();
    expect(deployment.spec.selector).toEqual({ matchLabels: { 'app.kubernetes.io/component': 'server' } });
    expect(deployment.spec.template.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'server', team: 'ml' });
    const service = find(objects, 'Service', 'mlflow');
    expect(service.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'server' });
    expect(service.spec).toEqual({
      type: 'ClusterIP',
      externalIPs: [],
      selector: { 'app.kubernetes.io/component': 'server' },
      ports: [{ name: 'http', port: 5000, targetPort: 5000, protocol: 'TCP' }],
    });
    expect(JSON.stringify(objects)).not.toContain('cdk8s.io/metadata.addr');
  });
});

describe('basic-auth', () => {
  test('off: no auth app, no auth env, no auth volume', () => {
    const { mlflow, spec } = build();
    expect(mlflow.command).not.toContain('--app-name');
    expect(Object.keys(envOf(mlflow))).not.toContain('MLFLOW_AUTH_CONFIG_PATH');
    expect((spec.volumes ?? []).map((v: any) => v.name)).not.toContain('auth-config');
  });

  test('on: --app-name basic-auth, the ini mounted read-only, the Flask key from the Secret', () => {
    const { mlflow, spec } = build({ auth: true });
    expect(flagValue(mlflow.command, '--app-name')).toBe('basic-auth');
    expect(envOf(mlflow)).toMatchObject({
      MLFLOW_AUTH_CONFIG_PATH: '/etc/mlflow/auth/basic_auth.ini',
      MLFLOW_FLASK_SERVER_SECRET_KEY: { secretKeyRef: { name: 'mlflow-auth', key: 'MLFLOW_FLASK_SERVER_SECRET_KEY' } },
    });
    expect(mountsOf(mlflow)['/etc/mlflow/auth']).toEqual({ name: 'auth-config', readOnly: true });
    expect(volumeNamed(spec, 'auth-config').secret).toMatchObject({ secretName: 'mlflow-auth', items: [{ key: 'basic_auth.ini', path: 'basic_auth.ini' }] });
  });
});

describe('metrics', () => {
  test('off: no --expose-prometheus, no metrics volume', () => {
    const { mlflow, spec } = build();
    expect(mlflow.command).not.toContain('--expose-prometheus');
    expect((spec.volumes ?? []).map((v: any) => v.name)).not.toContain('metrics');
  });

  test('on: --expose-prometheus on a sized emptyDir', () => {
    const { mlflow, spec } = build({ metrics: true });
    expect(flagValue(mlflow.command, '--expose-prometheus')).toBe('/mlflow/metrics');
    expect(mountsOf(mlflow)['/mlflow/metrics']).toEqual({ name: 'metrics' });
    expect(volumeNamed(spec, 'metrics')).toEqual({ name: 'metrics', emptyDir: { sizeLimit: '256Mi' } });
  });

  // MLflow 3.17's basic-auth refuses a plain user every route without a permission rule, /metrics among them.
  test('with basic-auth: routes without a permission rule are open to logged-in users, so the plain scraper reads /metrics', () => {
    expect(envOf(build({ metrics: true, auth: true }).mlflow).MLFLOW_BASIC_AUTH_FAIL_CLOSED).toBe('false');
  });

  test('MLflow keeps its fail-closed default where nothing scrapes or nobody logs in', () => {
    for (const o of [{ auth: true }, { metrics: true }, {}]) {
      expect(Object.keys(envOf(build(o).mlflow))).not.toContain('MLFLOW_BASIC_AUTH_FAIL_CLOSED');
    }
  });
});

describe('database', () => {
  test('SQLite: the URI names the file on the data volume, mounted once; no proxy, no pool env', () => {
    const { mlflow, spec } = build();
    expect(envOf(mlflow).MLFLOW_BACKEND_STORE_URI).toBe('sqlite:////mlflow/data/mlflow.db');
    expect((mlflow.volumeMounts as any[]).filter((m) => m.mountPath === '/mlflow/data')).toEqual([{ mountPath: '/mlflow/data', name: 'data' }]);
    expect(volumeNamed(spec, 'data').persistentVolumeClaim.claimName).toBe('mlflow-data');
    expect(spec.initContainers).toBeUndefined();
    expect(Object.keys(envOf(mlflow)).filter((k) => k.startsWith('MLFLOW_SQLALCHEMYSTORE_'))).toEqual([]);
  });

  test('MySQL: the URI from the Secret, pool sizing, the Cloud SQL proxy as a native sidecar', () => {
    const { mlflow, spec } = build({ engine: 'mysql', autoscaling: AUTOSCALING });
    expect(envOf(mlflow)).toMatchObject({
      MLFLOW_BACKEND_STORE_URI: { secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } },
      MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: '4',
      MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: '3',
      MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: '900',
    });
    expect(spec.containers.map((c: any) => c.name)).toEqual(['mlflow']);
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['cloud-sql-proxy']);
    expect(containerNamed(spec, 'cloud-sql-proxy').restartPolicy).toBe('Always');
  });

  test('migrations in the pod: the migrate init container, before the server starts', () => {
    const { spec } = build({ migrateInPod: true });
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['migrate']);
    const migrate = containerNamed(spec, 'migrate');
    expect(migrate.restartPolicy).toBeUndefined();
    expect(migrate.command).toEqual(['python', '/opt/mlflow-migrate/migrate.py']);
    expect(mountsOf(migrate)['/mlflow/data']).toEqual({ name: 'data' });
  });
});

test('every prop reaches the rendered objects (Required<TrackingServerProps>: a new prop must be added here)', () => {
  const chart = testChart();
  const sa = new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'ksa' } });
  const volume = new DataVolume(chart, 'Data', { size: Size.gibibytes(5) });
  const database = new DatabaseAccess(chart, 'Db', { engine: 'sqlite', volume });
  const auth = new BasicAuth(chart, 'Auth', { auth: AUTH, serviceAccount: sa });
  const props: Required<TrackingServerProps> = {
    image: 'registry.example.com/mlflow:v3.17.0@sha256:' + 'b'.repeat(64),
    workers: 3,
    resources: { cpuRequest: kplus.Cpu.millis(700), cpuLimit: kplus.Cpu.millis(1500), memoryRequest: Size.mebibytes(1100), memoryLimit: Size.mebibytes(1200) },
    autoscaling: { minReplicas: 3, maxReplicas: 9, targetCpuUtilizationPercent: 55 },
    serviceAccount: sa,
    database,
    artifactsDestination: 'gs://b/p',
    dataVolume: volume,
    migrationScript: new MigrationScript(chart, 'Migration', { image: 'registry.example.com/mlflow:v3.17.0', database }),
    auth,
    allowedHosts: ['a.example.com', 'localhost:*'],
    corsOrigins: ['https://a.example.com'],
    metrics: true,
    selectorLabels: { app: 'x' },
    podLabels: { team: 'ml' },
  };
  new TrackingServer(chart, 'Server', props);
  const objects = objectsOf(chart);
  const d = find(objects, 'Deployment', 'mlflow');
  const spec = d.spec.template.spec;
  const c = containerNamed(spec, 'mlflow');
  const hpa = find(objects, 'HorizontalPodAutoscaler', 'mlflow');

  expect(c.image).toBe('registry.example.com/mlflow:v3.17.0@sha256:' + 'b'.repeat(64));
  expect(flagValue(c.command, '--workers')).toBe('3');
  expect(c.resources).toEqual({
    requests: { cpu: '700m', memory: '1100Mi', 'ephemeral-storage': '1Gi' },
    limits: { cpu: '1500m', memory: '1200Mi', 'ephemeral-storage': '5Gi' },
  });
  expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
  expect(hpa.spec.metrics).toEqual([{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'mlflow', target: { type: 'Utilization', averageUtilization: 55 } } }]);
  expect(spec.serviceAccountName).toBe('ksa');
  expect(envOf(c).MLFLOW_BACKEND_STORE_URI).toBe('sqlite:////mlflow/data/mlflow.db');
  expect(flagValue(c.command, '--artifacts-destination')).toBe('gs://b/p');
  expect((c.volumeMounts as any[]).filter((m) => m.mountPath === '/mlflow/data')).toHaveLength(1);
  expect(spec.initContainers.map((x: any) => x.name)).toEqual(['migrate']);
  expect(flagValue(c.command, '--app-name')).toBe('basic-auth');
  expect(envOf(c).MLFLOW_SERVER_ALLOWED_HOSTS).toBe('a.example.com,localhost:*');
  expect(envOf(c).MLFLOW_SERVER_CORS_ALLOWED_ORIGINS).toBe('https://a.example.com');
  expect(flagValue(c.command, '--expose-prometheus')).toBe('/mlflow/metrics');
  expect(d.spec.selector.matchLabels).toEqual({ app: 'x' });
  expect(d.spec.template.metadata.labels).toEqual({ app: 'x', team: 'ml' });
  // Fixed, not props: keep-alive above the load balancer's 600 s, 30 s graceful shutdown after a 15 s preStop, a 4 GiB /tmp.
  expect(flagValue(c.command, '--uvicorn-opts')).toBe('--timeout-graceful-shutdown 30 --timeout-keep-alive 620');
  expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '15']);
  expect(spec.terminationGracePeriodSeconds).toBe(60);
  expect(volumeNamed(spec, 'tmp').emptyDir.sizeLimit).toBe('4096Mi');
});

test('snapshot: MySQL, auth, metrics, autoscaling', () => {
  expect(build({ engine: 'mysql', auth: true, metrics: true, autoscaling: AUTOSCALING }).objects).toMatchSnapshot();
});
