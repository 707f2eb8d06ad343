/**
 * MlflowChart: how one environment's config is wired into the constructs — including inputs the shipped
 * configs do not exercise (several hosts, auth off on GKE, exposure none on GKE, every metrics mode, GCS
 * artifacts with SQLite). Each construct's own rendering is specified in its test file.
 */
import { imageReference, mlflowVersion } from '../../lib/mlflow/mlflow-chart';
import { mlflowManifests } from '../../lib/synth/synth';
import { containerNamed, envOf, find, flagValue, mountsOf, ofKind } from '../support/constructs';
import { configFrom, rawConfig, shippedConfig } from '../../tools/environments';

/** The MLflow app's objects of a variant of a shipped config. */
function variant(name: string, mutate: (doc: any) => void) {
  const doc = rawConfig(name);
  mutate(doc);
  return mlflowManifests(configFrom(name, doc));
}
const serverContainer = (ms: any[]) => containerNamed(find(ms, 'Deployment', 'mlflow').spec.template.spec, 'mlflow');
const hostsOf = (ms: any[]) => envOf(serverContainer(ms)).MLFLOW_SERVER_ALLOWED_HOSTS.split(',');
const corsOf = (ms: any[]) => envOf(serverContainer(ms)).MLFLOW_SERVER_CORS_ALLOWED_ORIGINS.split(',');
/** The single entry of a one-entry list (a policy's one rule, a monitor's one endpoint); fails on any other length. */
function only(list: any[]): any {
  expect(list).toHaveLength(1);
  return list.find(() => true);
}
const names = (ms: any[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();

const SERVICE_HOSTS = [
  'mlflow',
  'mlflow:5000',
  'mlflow.mlflow',
  'mlflow.mlflow:5000',
  'mlflow.mlflow.svc',
  'mlflow.mlflow.svc:5000',
  'mlflow.mlflow.svc.cluster.local',
  'mlflow.mlflow.svc.cluster.local:5000',
  'localhost',
  'localhost:*',
  '127.0.0.1',
  '127.0.0.1:*',
];
const POD_IP_HOSTS = ['10.*:5000', '172.*:5000', '192.168.*:5000'];

describe('several public hosts', () => {
  const ms = variant('prod', (d) => (d.exposure.hosts = ['mlflow.example.com', 'tracking.example.org', 'ml.example.net']));

  test('the Host allow-list keeps every host, then the Service names, loopback and pod IPs', () => {
    expect(hostsOf(ms)).toEqual(['mlflow.example.com', 'tracking.example.org', 'ml.example.net', ...SERVICE_HOSTS, ...POD_IP_HOSTS]);
  });

  test('CORS admits the https origin of every host', () => {
    expect(corsOf(ms)).toEqual([
      'https://mlflow.example.com',
      'https://tracking.example.org',
      'https://ml.example.net',
      'http://localhost:5000',
      'http://127.0.0.1:5000',
    ]);
  });

  test('one Ingress rule per host and one certificate covering them all', () => {
    const ingress = find(ms, 'Ingress', 'mlflow');
    expect(ingress.spec.rules.map((r: any) => r.host)).toEqual(['mlflow.example.com', 'tracking.example.org', 'ml.example.net']);
    expect(ingress.spec.tls).toEqual([{ hosts: ['mlflow.example.com', 'tracking.example.org', 'ml.example.net'], secretName: 'mlflow-tls' }]);
  });
});

describe('exposure', () => {
  test('ingress (prod): Ingress, BackendConfig, FrontendConfig, the Service on NEGs, load balancers and the smoke test admitted', () => {
    const ms = mlflowManifests(shippedConfig('prod'));
    expect(find(ms, 'Ingress', 'mlflow').metadata.annotations['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
    expect(find(ms, 'BackendConfig', 'mlflow').spec.timeoutSec).toBe(900);
    expect(find(ms, 'FrontendConfig', 'mlflow').spec.redirectToHttps.enabled).toBe(true);
    expect(find(ms, 'Service', 'mlflow').metadata.annotations).toEqual({
      'cloud.google.com/neg': '{"ingress":true}',
      'cloud.google.com/backend-config': '{"default":"mlflow"}',
      'argocd.argoproj.io/sync-wave': '1',
    });
    expect(only(find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).from).toEqual([
      { ipBlock: { cidr: '35.191.0.0/16' } },
      { ipBlock: { cidr: '130.211.0.0/22' } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-prod', 'app.kubernetes.io/component': 'smoke' } } },
    ]);
  });

  test('none on GKE: no Ingress or LB objects, no NEG annotations, no public host; only the collector and the smoke test are admitted', () => {
    const ms = variant('prod', (d) => (d.exposure = { mode: 'none' }));
    for (const kind of ['Ingress', 'BackendConfig', 'FrontendConfig']) expect(ofKind(ms, kind)).toEqual([]);
    expect(find(ms, 'Service', 'mlflow').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '1' });
    expect(hostsOf(ms)).toEqual([...SERVICE_HOSTS, ...POD_IP_HOSTS]);
    expect(corsOf(ms)).toEqual(['http://localhost:5000', 'http://127.0.0.1:5000']);
    expect(only(find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-prod', 'app.kubernetes.io/component': 'smoke' } } },
    ]);
  });
  test('without gitops (no Argo CD to run the PostSync hook): no smoke Job, the smoke pods are not admitted', () => {
    const ms = variant('prod', (d) => delete d.gitops);
    expect(ofKind(ms, 'Job').map((j) => j.metadata.name)).toEqual(['mlflow-migrate']);
    expect(ofKind(ms, 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('mlflow-smoke-egress');
    expect(only(find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).from).toEqual([
      { ipBlock: { cidr: '35.191.0.0/16' } },
      { ipBlock: { cidr: '130.211.0.0/22' } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gmp-system' } } },
    ]);
  });
});

describe('metrics modes', () => {
  test('gmp with auth: PodMonitoring with credentials, the Role that lets GMP read them, the metrics ExternalSecret', () => {
    const ms = mlflowManifests(shippedConfig('dev'));
    expect(only(find(ms, 'PodMonitoring', 'mlflow').spec.endpoints).basicAuth).toEqual({
      username: 'metrics-scraper',
      password: { secret: { name: 'mlflow-metrics-auth', key: 'password' } },
    });
    expect(only(find(ms, 'Role', 'gmp-collector-read-mlflow-metrics-auth').rules).resourceNames).toEqual(['mlflow-metrics-auth']);
    expect(find(ms, 'ExternalSecret', 'mlflow-metrics-auth').spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'mlflow-dev-metrics-password' } }]);
    expect(flagValue(serverContainer(ms).command, '--expose-prometheus')).toBe('/mlflow/metrics');
  });

  test('prometheus-operator with auth: ServiceMonitor with credentials, the monitoring namespace admitted, no Role', () => {
    const ms = variant('prod', (d) => (d.metrics = 'prometheus-operator'));
    expect(only(find(ms, 'ServiceMonitor', 'mlflow').spec.endpoints).basicAuth).toEqual({
      username: { name: 'mlflow-metrics-auth', key: 'username' },
      password: { name: 'mlflow-metrics-auth', key: 'password' },
    });
    expect(ofKind(ms, 'PodMonitoring')).toEqual([]);
    expect(ofKind(ms, 'Role')).toEqual([]);
    expect(only(find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).from).toContainEqual({
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    });
    expect(hostsOf(ms)).toEqual(expect.arrayContaining(POD_IP_HOSTS));
  });

  test('the monitors find what they scrape: the ServiceMonitor matches the Service, the PodMonitoring the server pods, both a named port', () => {
    const ms = variant('prod', (d) => (d.metrics = 'prometheus-operator'));
    const service = find(ms, 'Service', 'mlflow');
    const sm = find(ms, 'ServiceMonitor', 'mlflow');
    expect(service.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(service.spec.ports.map((p: any) => p.name)).toContain(only(sm.spec.endpoints).port);

    const dev = mlflowManifests(shippedConfig('dev'));
    const pm = find(dev, 'PodMonitoring', 'mlflow');
    const pod = find(dev, 'Deployment', 'mlflow').spec.template;
    expect(pod.metadata.labels).toMatchObject(pm.spec.selector.matchLabels);
    expect(containerNamed(pod.spec, 'mlflow').ports.map((p: any) => p.name)).toContain(only(pm.spec.endpoints).port);
  });

  test('none: no monitor, no scrape credentials, no --expose-prometheus, no pod-IP hosts, no collector admitted; the smoke credentials stay', () => {
    const ms = variant('prod', (d) => {
      d.metrics = 'none';
      delete d.auth.metricsUsername;
      delete d.auth.metricsPasswordSecret;
    });
    for (const kind of ['PodMonitoring', 'ServiceMonitor', 'Role', 'RoleBinding']) expect(ofKind(ms, kind)).toEqual([]);
    expect(ofKind(ms, 'ExternalSecret').map((e) => e.metadata.name).sort()).toEqual(['mlflow-auth', 'mlflow-database', 'mlflow-smoke-auth']);
    expect(serverContainer(ms).command).not.toContain('--expose-prometheus');
    expect(hostsOf(ms)).toEqual(['mlflow.example.com', ...SERVICE_HOSTS]);
    expect(only(find(ms, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress).from).toEqual([
      { ipBlock: { cidr: '35.191.0.0/16' } },
      { ipBlock: { cidr: '130.211.0.0/22' } },
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-prod', 'app.kubernetes.io/component': 'smoke' } } },
    ]);
  });

  test('gmp without auth: an anonymous PodMonitoring, no credentials anywhere', () => {
    const ms = variant('prod', (d) => (d.auth = { enabled: false }));
    expect(find(ms, 'PodMonitoring', 'mlflow').spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s' }]);
    expect(ofKind(ms, 'Role')).toEqual([]);
  });
});

describe('basic-auth', () => {
  test('on (prod): the auth app in the server and the migration, the auth ExternalSecret', () => {
    const ms = mlflowManifests(shippedConfig('prod'));
    expect(flagValue(serverContainer(ms).command, '--app-name')).toBe('basic-auth');
    const migrate = containerNamed(find(ms, 'Job', 'mlflow-migrate').spec.template.spec, 'migrate');
    expect(envOf(migrate).MLFLOW_AUTH_CONFIG_PATH).toBe('/etc/mlflow/auth/basic_auth.ini');
    expect(mountsOf(migrate)['/etc/mlflow/auth']).toEqual({ name: 'auth-config', readOnly: true });
    expect(find(ms, 'ExternalSecret', 'mlflow-auth').spec.target.name).toBe('mlflow-auth');
  });

  test('off on GKE: no auth app, no auth or metrics Secrets, the database Secret stays', () => {
    const ms = variant('prod', (d) => (d.auth = { enabled: false }));
    expect(serverContainer(ms).command).not.toContain('--app-name');
    expect(Object.keys(envOf(serverContainer(ms)))).not.toContain('MLFLOW_AUTH_CONFIG_PATH');
    const migrate = containerNamed(find(ms, 'Job', 'mlflow-migrate').spec.template.spec, 'migrate');
    expect(Object.keys(envOf(migrate))).not.toContain('MLFLOW_AUTH_CONFIG_PATH');
    expect(ofKind(ms, 'ExternalSecret').map((e) => e.metadata.name)).toEqual(['mlflow-database']);
  });
});

describe('MySQL (prod) and SQLite (local)', () => {
  test('MySQL: autoscaled server, migration as a Sync-hook Job with its own proxy, Cloud SQL egress', () => {
    const ms = mlflowManifests(shippedConfig('prod'));
    expect(find(ms, 'HorizontalPodAutoscaler', 'mlflow').spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(find(ms, 'Deployment', 'mlflow').spec.replicas).toBeUndefined();
    const job = find(ms, 'Job', 'mlflow-migrate').spec.template.spec;
    expect(job.initContainers.map((c: any) => c.name)).toEqual(['cloud-sql-proxy']);
    expect(job.containers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(find(ms, 'Deployment', 'mlflow').spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['cloud-sql-proxy']);
    expect(find(ms, 'NetworkPolicy', 'mlflow-egress').spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 3307 }] });
    expect(envOf(serverContainer(ms)).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } });
  });

  test('config values reach the server: image, workers, resources, artifacts, Workload Identity', () => {
    const ms = variant('prod', (d) => (d.image.digest = `sha256:${'d'.repeat(64)}`));
    const c = serverContainer(ms);
    expect(c.image).toBe(`ghcr.io/mlflow/mlflow:v3.17.0-full@sha256:${'d'.repeat(64)}`);
    expect(containerNamed(find(ms, 'Job', 'mlflow-migrate').spec.template.spec, 'migrate').image).toBe(
      `ghcr.io/mlflow/mlflow:v3.17.0-full@sha256:${'d'.repeat(64)}`,
    );
    expect(flagValue(c.command, '--workers')).toBe('2');
    expect(flagValue(c.command, '--artifacts-destination')).toBe('gs://example-mlflow-prod-artifacts/mlflow');
    expect(c.resources).toEqual({
      requests: { cpu: '1000m', memory: '1024Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '2000m', memory: '1536Mi', 'ephemeral-storage': '5Gi' },
    });
    expect(find(ms, 'ServiceAccount', 'mlflow').metadata.annotations['iam.gke.io/gcp-service-account']).toBe(
      'mlflow-server@example-mlflow-prod.iam.gserviceaccount.com',
    );
  });

  test('SQLite: one replica, migrated in an init container on the volume; no Job, proxy, secrets or cloud egress', () => {
    const ms = mlflowManifests(shippedConfig('local'));
    expect(names(ms)).toEqual([
      'ConfigMap/mlflow-migrate-script',
      'Deployment/mlflow',
      'Namespace/mlflow',
      'NetworkPolicy/default-deny',
      'NetworkPolicy/mlflow-egress',
      'PersistentVolumeClaim/mlflow-data',
      'Service/mlflow',
      'ServiceAccount/mlflow',
    ]);
    const d = find(ms, 'Deployment', 'mlflow');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.template.spec.initContainers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(envOf(serverContainer(ms)).MLFLOW_BACKEND_STORE_URI).toBe('sqlite:////mlflow/data/mlflow.db');
    expect(flagValue(serverContainer(ms).command, '--artifacts-destination')).toBe('/mlflow/data/artifacts');
    expect(find(ms, 'ServiceAccount', 'mlflow').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-3' });
    const egressPorts = find(ms, 'NetworkPolicy', 'mlflow-egress').spec.egress.flatMap((r: any) => r.ports.map((p: any) => `${p.protocol}/${p.port}`));
    expect(egressPorts).toEqual(['UDP/53', 'TCP/53']);
  });

  test('SQLite with GCS artifacts: gs:// destination, Workload Identity and Google APIs egress, still no Cloud SQL', () => {
    const ms = variant('local', (d) => {
      d.gcp = rawConfig('dev').gcp;
      d.artifacts = { store: 'gcs', bucket: 'example-bucket', prefix: 'runs' };
    });
    expect(flagValue(serverContainer(ms).command, '--artifacts-destination')).toBe('gs://example-bucket/runs');
    expect(find(ms, 'ServiceAccount', 'mlflow').metadata.annotations['iam.gke.io/gcp-service-account']).toBe(
      'mlflow-server@example-mlflow-dev.iam.gserviceaccount.com',
    );
    const ports = find(ms, 'NetworkPolicy', 'mlflow-egress').spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port));
    expect(ports).toEqual([53, 53, 80, 988, 443]);
    expect(ofKind(ms, 'ExternalSecret')).toEqual([]);
  });
});

describe('chart guards', () => {
  test('the version label needs an exact version tag', () => {
    expect(mlflowVersion('v3.17.0-full')).toBe('3.17.0');
    expect(mlflowVersion('2.14.1')).toBe('2.14.1');
    expect(() => mlflowVersion('latest')).toThrow(new Error('not an exact version tag: latest'));
  });

  test('image reference: repository:tag, with @digest when pinned', () => {
    expect(imageReference({ repository: 'ghcr.io/mlflow/mlflow', tag: 'v3.17.0-full' })).toBe('ghcr.io/mlflow/mlflow:v3.17.0-full');
    expect(imageReference({ repository: 'ghcr.io/mlflow/mlflow', tag: 'v3.17.0-full', digest: `sha256:${'c'.repeat(64)}` })).toBe(
      `ghcr.io/mlflow/mlflow:v3.17.0-full@sha256:${'c'.repeat(64)}`,
    );
  });
});
