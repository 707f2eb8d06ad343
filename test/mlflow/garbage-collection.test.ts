/**
 * GarbageCollection: the `mlflow gc` CronJob, built in a test chart with the inputs that matter, and wired into an
 * environment that opts in (`gc` in the config): schedule and never-overlapping runs, the exact command line, the
 * database through the proxy native sidecar, the admin's credentials under basic-auth, restricted Pod Security,
 * schema validity, its network paths, its wave.
 */
import * as kplus from 'cdk8s-plus-28';
import { DatabaseAccess } from '../../lib/mlflow/database-access';
import { GarbageCollection, type GarbageCollectionProps } from '../../lib/mlflow/garbage-collection';
import { NetworkPolicies } from '../../lib/mlflow/network-policies';
import { validateManifest } from '../../tools/schema-validation';
import { mlflowManifests, policyProblems } from '../../lib/synth/synth';
import { containerNamed, envOf, find, mountsOf, objectsOf, ofKind, testChart } from '../support/constructs';
import { configFrom, rawConfig, shippedConfigs } from '../../tools/environments';
import { AUTH, MYSQL_DATABASE } from '../support/resolved';

const MYSQL = { ...MYSQL_DATABASE, privateIp: false };

type Overrides = Partial<Omit<GarbageCollectionProps, 'serviceAccount' | 'database' | 'auth' | 'network'>> & { credentials?: boolean; network?: boolean };

/** A GarbageCollection in a fresh chart, on Cloud SQL; returns the CronJob and its pod. */
function build(overrides: Overrides = {}) {
  const chart = testChart();
  const { credentials, network, ...rest } = overrides;
  const serviceAccount = new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'tracking-sa' } });
  new GarbageCollection(chart, 'Gc', {
    image: 'ghcr.io/mlflow/mlflow:v3.17.0-full',
    schedule: '17 3 * * *',
    olderThanDays: 30,
    serviceAccount,
    database: new DatabaseAccess(chart, 'Db', { engine: 'cloud-sql', database: MYSQL, serviceAccount }),
    serverUrl: 'http://tracking.ml.svc.cluster.local:5000',
    auth: credentials ? AUTH : undefined,
    podLabels: { 'app.kubernetes.io/component': 'gc' },
    network: network ? new NetworkPolicies(chart, 'Network', { serverLabels: { component: 'server' }, egressComponents: ['server'], port: 5000 }) : undefined,
    ...rest,
  });
  const objects = objectsOf(chart);
  const cronJob = find(objects, 'CronJob', 'mlflow-gc');
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  return { objects, cronJob, pod, gc: containerNamed(pod, 'gc') };
}

describe('the CronJob', () => {
  test('runs on the schedule, never two at once, with bounded starts, runs and history', () => {
    const { cronJob } = build({ schedule: '0 */6 * * MON-FRI' });
    expect(cronJob.spec).toMatchObject({
      schedule: '0 */6 * * MON-FRI',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      suspend: false,
    });
    expect(cronJob.spec.jobTemplate.spec).toMatchObject({ backoffLimit: 1, activeDeadlineSeconds: 3600 });
    expect(cronJob.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('Never');
  });

  test('every prop is applied', () => {
    const all: Required<Overrides> = {
      image: 'example.org/mlflow:v3.17.0@sha256:' + 'a'.repeat(64),
      schedule: '5 4 * * SUN',
      olderThanDays: 7,
      serverUrl: 'http://mlflow.team-a.svc.cluster.local:5000',
      credentials: true,
      podLabels: { 'app.kubernetes.io/component': 'gc', team: 'a' },
      selectorLabels: { 'app.kubernetes.io/component': 'gc' },
      network: true,
    };
    const { cronJob, gc, objects } = build(all);
    // Selected by its selector labels: admitted to the server, its own egress to it, and the MLflow pods' egress.
    expect(find(objects, 'NetworkPolicy', 'mlflow-gc-egress').spec.podSelector).toEqual({ matchLabels: all.selectorLabels });
    expect(find(objects, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: all.selectorLabels } }]);
    expect(find(objects, 'NetworkPolicy', 'mlflow-egress').spec.podSelector.matchExpressions[0].values).toEqual(['server', 'gc']);
    expect(cronJob.spec).toMatchObject({
      schedule: '5 4 * * SUN',
      jobTemplate: { spec: { template: { metadata: { labels: all.podLabels } } } },
    });
    expect(gc.image).toBe(all.image);
    expect(gc.command).toEqual(['mlflow', 'gc', '--backend-store-uri', '$(MLFLOW_BACKEND_STORE_URI)', '--older-than', '7d', '--tracking-uri', all.serverUrl]);
    expect(envOf(gc)).toMatchObject({
      MLFLOW_TRACKING_USERNAME: { secretKeyRef: { name: 'mlflow-gc-auth', key: 'username' } },
      MLFLOW_TRACKING_PASSWORD: { secretKeyRef: { name: 'mlflow-gc-auth', key: 'password' } },
    });
  });

  test('the exact command line: the backend store from the Secret (expanded by the kubelet), older than N days, through the server', () => {
    const { gc } = build();
    expect(gc.command).toEqual([
      'mlflow',
      'gc',
      '--backend-store-uri',
      '$(MLFLOW_BACKEND_STORE_URI)',
      '--older-than',
      '30d',
      '--tracking-uri',
      'http://tracking.ml.svc.cluster.local:5000',
    ]);
    expect(gc.args).toBeUndefined();
    // `$(VAR)` in argv is expanded only from the container's own env.
    expect(envOf(gc).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } });
    expect(gc.command).not.toContain('--artifacts-destination');
  });

  test('a pool of 1 + 1 connections; no credentials without basic-auth', () => {
    const env = envOf(build().gc);
    expect(env).toMatchObject({
      MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: '1',
      MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: '1',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      HOME: '/tmp',
    });
    expect(env.MLFLOW_TRACKING_USERNAME).toBeUndefined();
    expect(env.MLFLOW_TRACKING_PASSWORD).toBeUndefined();
  });

  test('the Cloud SQL proxy as a native sidecar, so that the Job completes', () => {
    const { pod } = build();
    const proxy = containerNamed(pod, 'cloud-sql-proxy');
    expect(proxy.restartPolicy).toBe('Always');
    expect(pod.initContainers.map((c: any) => c.name)).toEqual(['cloud-sql-proxy']);
    expect(proxy.args).toContain('proj-123456:europe-west1:db');
    expect(proxy.args).not.toContain('--private-ip');
  });

  test("the server's KSA, no service-account token, restricted, with requests, limits and a bounded /tmp", () => {
    const { objects, pod, gc } = build();
    expect(pod.serviceAccountName).toBe('tracking-sa');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(gc.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      runAsUser: 10001,
    });
    expect(gc.resources).toEqual({ requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '1000m', memory: '768Mi' } });
    expect(mountsOf(gc)).toEqual({ '/tmp': { name: 'gc-tmp' } });
    expect(pod.volumes).toEqual([{ name: 'gc-tmp', emptyDir: { sizeLimit: '256Mi' } }]);
    expect(policyProblems(objects)).toEqual([]);
    expect(objects.flatMap((o) => validateManifest(o))).toEqual([]);
  });

  test('no construct-path label on the pods', () => {
    const { cronJob } = build();
    expect(Object.keys(cronJob.spec.jobTemplate.spec.template.metadata.labels)).toEqual(['app.kubernetes.io/component']);
  });

  test('snapshot', () => {
    expect(build({ credentials: true }).cronJob).toMatchSnapshot();
  });
});

describe('an environment that opts in (dev with gc)', () => {
  // Rendered in beforeAll, not while jest collects the suite (tools/mutation/mutation-attribution.js).
  let ms: any[];
  let cronJob: any;
  let pod: any;
  let gc: any;
  let server: any;
  let serverContainer: any;
  let gcPodLabels: Record<string, string>;
  beforeAll(() => {
    const doc = rawConfig('dev');
    doc.gc = { schedule: '17 3 * * *', olderThanDays: 14 };
    ms = mlflowManifests(configFrom('dev', doc));
    cronJob = find(ms, 'CronJob', 'mlflow-gc');
    pod = cronJob.spec.jobTemplate.spec.template.spec;
    gc = containerNamed(pod, 'gc');
    server = find(ms, 'Deployment', 'mlflow').spec.template.spec;
    serverContainer = containerNamed(server, 'mlflow');
    gcPodLabels = cronJob.spec.jobTemplate.spec.template.metadata.labels;
  });
  const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  test("the server's image, KSA, backend URI and proxy; the Service as tracking URI", () => {
    expect(gc.image).toBe(serverContainer.image);
    expect(pod.serviceAccountName).toBe(server.serviceAccountName);
    expect(envOf(gc).MLFLOW_BACKEND_STORE_URI).toEqual(envOf(serverContainer).MLFLOW_BACKEND_STORE_URI);
    expect(containerNamed(pod, 'cloud-sql-proxy')).toEqual(containerNamed(server, 'cloud-sql-proxy'));
    const service = find(ms, 'Service', 'mlflow');
    expect(gc.command.slice(-2)).toEqual(['--tracking-uri', `http://${service.metadata.name}.mlflow.svc.cluster.local:${service.spec.ports[0].port}`]);
    expect(gc.command).toContain('14d');
    expect(envOf(serverContainer).MLFLOW_SERVER_ALLOWED_HOSTS.split(',')).toContain('mlflow.mlflow.svc.cluster.local:5000');
  });

  test("under basic-auth: the admin's user name and password from Secret Manager", () => {
    expect(envOf(gc)).toMatchObject({
      MLFLOW_TRACKING_USERNAME: { secretKeyRef: { name: 'mlflow-gc-auth', key: 'username' } },
      MLFLOW_TRACKING_PASSWORD: { secretKeyRef: { name: 'mlflow-gc-auth', key: 'password' } },
    });
    const es = find(ms, 'ExternalSecret', 'mlflow-gc-auth');
    expect(es.spec.data).toEqual([
      { secretKey: 'username', remoteRef: { key: 'mlflow-dev-admin-username' } },
      { secretKey: 'password', remoteRef: { key: 'mlflow-dev-admin-password' } },
    ]);
    expect(es.spec.target).toMatchObject({ name: 'mlflow-gc-auth', template: { data: { username: '{{ .username }}', password: '{{ .password }}' } } });
  });

  test('network: the database and Google APIs as the migration Job has, and the server port; admitted by the server', () => {
    const egress = find(ms, 'NetworkPolicy', 'mlflow-egress').spec;
    expect(egress.podSelector.matchExpressions).toEqual([{ key: 'app.kubernetes.io/component', operator: 'In', values: ['server', 'migration', 'gc'] }]);
    expect(gcPodLabels['app.kubernetes.io/component']).toBe('gc');
    const gcEgress = find(ms, 'NetworkPolicy', 'mlflow-gc-egress').spec;
    expect(selects(gcEgress.podSelector.matchLabels, gcPodLabels)).toBe(true);
    expect(gcEgress.policyTypes).toEqual(['Egress']);
    expect(gcEgress.egress).toEqual([{ to: [{ podSelector: { matchLabels: find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.podSelector.matchLabels } }], ports: [{ protocol: 'TCP', port: 5000 }] }]);
    const ingress = find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress;
    expect(ingress).toHaveLength(1);
    const admitted = ingress.flatMap((r: any) => r.from).filter((p: any) => p.podSelector && selects(p.podSelector.matchLabels, gcPodLabels));
    expect(admitted).toHaveLength(1);
    // No other egress policy selects the gc pods.
    const others = ofKind(ms, 'NetworkPolicy').filter((p: any) => p.spec.podSelector.matchLabels && p.metadata.name !== 'mlflow-gc-egress' && selects(p.spec.podSelector.matchLabels, gcPodLabels));
    expect(others).toEqual([]);
  });

  test('in the wave of the Deployment it depends on', () => {
    expect(cronJob.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe(find(ms, 'Deployment', 'mlflow').metadata.annotations['argocd.argoproj.io/sync-wave']);
    expect(cronJob.metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('1');
  });

  test('schema-valid and Pod Security restricted, with requests and limits', () => {
    expect(policyProblems(ms)).toEqual([]);
    expect(ms.flatMap((m) => validateManifest(m))).toEqual([]);
  });

  test('without basic-auth: no credentials, no admin ExternalSecret', () => {
    const d = rawConfig('dev');
    d.gc = { schedule: '17 3 * * *' };
    d.auth = { enabled: false };
    delete d.clients; // clients and served models need basic-auth
    delete d.serving;
    const plain = mlflowManifests(configFrom('dev', d));
    const c = containerNamed(find(plain, 'CronJob', 'mlflow-gc').spec.jobTemplate.spec.template.spec, 'gc');
    expect(envOf(c).MLFLOW_TRACKING_USERNAME).toBeUndefined();
    expect(ofKind(plain, 'ExternalSecret').map((e) => e.metadata.name)).not.toContain('mlflow-gc-auth');
    expect(c.command).toContain('30d');
  });
});

test('environments without gc render no CronJob, no gc policy and no admin ExternalSecret', () => {
  for (const config of shippedConfigs()) {
    const ms = mlflowManifests(config);
    expect(ofKind(ms, 'CronJob')).toEqual([]);
    expect(ms.filter((m) => /^mlflow-gc/.test(m.metadata.name)).map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([]);
    expect(find(ms, 'NetworkPolicy', 'mlflow-egress').spec.podSelector.matchExpressions[0].values).not.toContain('gc');
  }
});
