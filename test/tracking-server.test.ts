/** TrackingServer: the MLflow Deployment, Service, HPA and PDB, per DESIGN §1 and §7. */
import { allContainers, envOf, find, ofKind, podSpecs, render, shippedConfig, rawConfig, configFrom } from './support/environments';

const prod = render(shippedConfig('prod')).byPath.mlflow;
const local = render(shippedConfig('local')).byPath.mlflow;
const server = (ms: any[]) => find(ms, 'Deployment', 'mlflow');
const mlflowContainer = (ms: any[]) => server(ms).spec.template.spec.containers.find((c: any) => c.name === 'mlflow');

describe('MLflow server container', () => {
  const c = mlflowContainer(prod);

  test('exec-form command: mlflow is PID 1, listens on all interfaces, proxied GCS artifacts', () => {
    expect(c.command.slice(0, 2)).toEqual(['mlflow', 'server']);
    expect(c.args).toBeUndefined();
    const arg = (flag: string) => c.command[c.command.indexOf(flag) + 1];
    expect(arg('--host')).toBe('0.0.0.0');
    expect(arg('--port')).toBe('5000');
    expect(arg('--workers')).toBe('2');
    expect(arg('--artifacts-destination')).toBe('gs://example-mlflow-prod-artifacts/mlflow');
    expect(c.command).not.toContain('--default-artifact-root');
    expect(c.command).not.toContain('--backend-store-uri');
    expect(arg('--app-name')).toBe('basic-auth');
    expect(arg('--expose-prometheus')).toBe('/mlflow/metrics');
    expect(arg('--uvicorn-opts')).toBe('--timeout-graceful-shutdown 30 --timeout-keep-alive 620');
  });

  test('backend URI from the ExternalSecret, never a literal', () => {
    expect(envOf(c).MLFLOW_BACKEND_STORE_URI).toEqual({ secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } });
  });

  test('job execution and telemetry off, pool sizing from config', () => {
    expect(envOf(c)).toMatchObject({
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      MLFLOW_DISABLE_TELEMETRY: 'true',
      HOME: '/tmp',
      MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: '5',
      MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: '5',
      MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: '1800',
    });
  });

  test('Host allow-list and CORS origins are set (contents: host-allow-list.test.ts)', () => {
    const hosts = envOf(c).MLFLOW_SERVER_ALLOWED_HOSTS.split(',');
    expect(hosts).toEqual(expect.arrayContaining(['mlflow.example.com', 'mlflow.mlflow.svc.cluster.local:5000', 'localhost:*']));
    expect(envOf(c).MLFLOW_SERVER_CORS_ALLOWED_ORIGINS.split(',')).toContain('https://mlflow.example.com');
  });

  test('startup, readiness and liveness probes on /health; start-up budget ≥ 60 s', () => {
    for (const p of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(c[p].httpGet).toMatchObject({ path: '/health', port: 5000 });
    }
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(60);
  });

  test('read-only root with sized emptyDirs for /tmp and metrics; ephemeral-storage requested', () => {
    const spec = server(prod).spec.template.spec;
    const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m.name]));
    expect(mounts['/tmp']).toBe('tmp');
    expect(mounts['/mlflow/metrics']).toBe('metrics');
    const vol = (n: string) => spec.volumes.find((v: any) => v.name === n);
    expect(vol('tmp').emptyDir.sizeLimit).toBe('4096Mi');
    expect(vol('metrics').emptyDir.sizeLimit).toBe('256Mi');
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(c.resources.requests['ephemeral-storage']).toBe('1Gi');
  });

  test('resources from config', () => {
    expect(c.resources).toEqual({
      requests: { cpu: '1000m', memory: '1024Mi', 'ephemeral-storage': '1Gi' },
      limits: { cpu: '2000m', memory: '1536Mi', 'ephemeral-storage': '5Gi' },
    });
  });

  test('preStop sleep + graceful shutdown fit in the termination grace period', () => {
    const spec = server(prod).spec.template.spec;
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    expect(c.lifecycle.preStop.exec.command[0]).toBe('sleep');
    expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + 30);
  });
});

describe('Cloud SQL Auth Proxy', () => {
  const spec = server(prod).spec.template.spec;
  const proxy = spec.initContainers.find((c: any) => c.name === 'cloud-sql-proxy');

  test('is a native sidecar (init container with restartPolicy Always), not a plain container', () => {
    expect(proxy.restartPolicy).toBe('Always');
    expect(spec.containers.map((c: any) => c.name)).toEqual(['mlflow']);
  });

  test('flags: instance, loopback port, private IP, health checks, clean exit', () => {
    expect(proxy.args).toEqual([
      'example-mlflow-prod:europe-west1:mlflow-prod',
      '--address=127.0.0.1',
      '--port=3306',
      '--private-ip',
      '--structured-logs',
      '--health-check',
      '--http-address=0.0.0.0',
      '--http-port=9801',
      '--exit-zero-on-sigterm',
      '--max-sigterm-delay=30s',
    ]);
    expect(proxy.startupProbe.httpGet.path).toBe('/startup');
    expect(proxy.livenessProbe.httpGet.path).toBe('/liveness');
    expect(proxy.image).toMatch(/^gcr\.io\/cloud-sql-connectors\/cloud-sql-proxy:2\.\d+\.\d+$/);
  });

  test('privateIp: false drops --private-ip', () => {
    const doc = rawConfig('prod');
    doc.database.privateIp = false;
    const ms = render(configFrom('prod', doc)).byPath.mlflow;
    const p = server(ms).spec.template.spec.initContainers.find((c: any) => c.name === 'cloud-sql-proxy');
    expect(p.args).not.toContain('--private-ip');
  });
});

describe('Deployment', () => {
  const d = server(prod);

  test('no spec.replicas: the HPA owns it', () => {
    expect(d.spec.replicas).toBeUndefined();
  });

  test('selector is pinned to stable labels, and the pods carry them', () => {
    const selector = { 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-prod', 'app.kubernetes.io/component': 'server' };
    expect(d.spec.selector).toEqual({ matchLabels: selector });
    expect(d.spec.template.metadata.labels).toMatchObject(selector);
    for (const m of prod) expect(JSON.stringify(m)).not.toContain('cdk8s.io/metadata.addr');
  });

  test('rolls one extra pod at a time and never below capacity', () => {
    expect(d.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  });

  test('spreads over zones (and nodes), counting only the same ReplicaSet', () => {
    const tsc = d.spec.template.spec.topologySpreadConstraints;
    expect(tsc.map((t: any) => t.topologyKey)).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    for (const t of tsc) expect(t.matchLabelKeys).toEqual(['pod-template-hash']);
  });

  test('the KSA, without a mounted token', () => {
    expect(d.spec.template.spec.serviceAccountName).toBe('mlflow');
    expect(d.spec.template.spec.automountServiceAccountToken).toBe(false);
  });
});

describe('Service, HPA, PDB', () => {
  test('Service: named port, selects the server pods by the pinned labels', () => {
    const s = find(prod, 'Service', 'mlflow');
    expect(s.spec.ports).toEqual([{ name: 'http', port: 5000, targetPort: 5000, protocol: 'TCP' }]);
    expect(s.spec.selector).toEqual(server(prod).spec.selector.matchLabels);
  });

  test('HPA v2 on the MLflow container CPU, with scale-down behavior', () => {
    const h = find(prod, 'HorizontalPodAutoscaler', 'mlflow');
    expect(h.apiVersion).toBe('autoscaling/v2');
    expect(h.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'mlflow' });
    expect([h.spec.minReplicas, h.spec.maxReplicas]).toEqual([2, 6]);
    expect(h.spec.metrics).toEqual([
      { type: 'ContainerResource', containerResource: { name: 'cpu', container: 'mlflow', target: { type: 'Utilization', averageUtilization: 65 } } },
    ]);
    expect(h.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(300);
  });

  test('PDB: maxUnavailable 1, unhealthy pods evictable', () => {
    const p = find(prod, 'PodDisruptionBudget', 'mlflow');
    expect(p.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: server(prod).spec.selector.matchLabels },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });
});

describe('local: SQLite on a volume, one replica', () => {
  const d = server(local);
  const spec = d.spec.template.spec;

  test('exactly one replica, Recreate, no HPA or PDB', () => {
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy).toEqual({ type: 'Recreate' });
    expect(ofKind(local, 'HorizontalPodAutoscaler')).toEqual([]);
    expect(ofKind(local, 'PodDisruptionBudget')).toEqual([]);
  });

  test('SQLite URI and artifacts on the data volume', () => {
    const c = mlflowContainer(local);
    expect(envOf(c).MLFLOW_BACKEND_STORE_URI).toBe('sqlite:////mlflow/data/mlflow.db');
    expect(c.command[c.command.indexOf('--artifacts-destination') + 1]).toBe('/mlflow/data/artifacts');
    expect(spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName).toBe('mlflow-data');
    expect(find(local, 'PersistentVolumeClaim', 'mlflow-data').spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
    });
  });

  test('migrates in an init container of the pod that owns the volume; no Job, no proxy, no secrets', () => {
    expect(spec.initContainers.map((c: any) => c.name)).toEqual(['migrate']);
    expect(spec.initContainers[0].restartPolicy).toBeUndefined();
    expect(spec.initContainers[0].volumeMounts.map((m: any) => m.mountPath)).toContain('/mlflow/data');
    expect(ofKind(local, 'Job')).toEqual([]);
    for (const kind of ['ExternalSecret', 'SecretStore', 'Ingress', 'Secret']) expect(ofKind(local, kind)).toEqual([]);
  });

  test('no Workload Identity annotation', () => {
    expect(find(local, 'ServiceAccount', 'mlflow').metadata.annotations).not.toHaveProperty(['iam.gke.io/gcp-service-account']);
  });

  test('still restricted, with probes and resources', () => {
    for (const { spec: s } of podSpecs(local)) {
      for (const c of allContainers(s)) {
        expect(c.securityContext).toMatchObject({ runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
        expect(c.resources.limits.memory).toBeDefined();
      }
    }
    expect(mlflowContainer(local).readinessProbe.httpGet.path).toBe('/health');
  });
});
