/**
 * TrackingServer with every prop set (`Required<TrackingServerProps>`): a new prop fails to compile here until
 * it is given a value and an assertion.
 */
import { App, Chart, Duration, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { BasicAuth } from '../lib/mlflow/basic-auth';
import { DataVolume } from '../lib/mlflow/data-volume';
import { DatabaseAccess } from '../lib/mlflow/database-access';
import { MigrationScript } from '../lib/mlflow/migration';
import { TrackingServer, type TrackingServerProps } from '../lib/mlflow/tracking-server';

test('every prop reaches the rendered objects', () => {
  const chart = new Chart(new App(), 'all-props', { namespace: 'ns' });
  const sa = new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'ksa' } });
  const volume = new DataVolume(chart, 'Data', { size: Size.gibibytes(5) });
  const database = new DatabaseAccess(chart, 'Db', { engine: 'sqlite', volume });
  const auth = new BasicAuth(chart, 'Auth', { secret: kplus.Secret.fromSecretName(chart, 'AuthSecret', 'auth-secret') });
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
    keepAlive: Duration.seconds(700),
    gracefulShutdown: Duration.seconds(40),
    preStopDelay: Duration.seconds(12),
    tmpSize: Size.gibibytes(2),
  };
  new TrackingServer(chart, 'Server', props);
  const objs = chart.toJson();
  const get = (kind: string) => objs.find((o: any) => o.kind === kind);
  const d = get('Deployment');
  const spec = d.spec.template.spec;
  const c = spec.containers.find((x: any) => x.name === 'mlflow');
  const arg = (f: string) => c.command[c.command.indexOf(f) + 1];

  expect(c.image).toBe(props.image);
  expect(arg('--workers')).toBe('3');
  expect(c.resources).toEqual({
    requests: { cpu: '700m', memory: '1100Mi', 'ephemeral-storage': '1Gi' },
    limits: { cpu: '1500m', memory: '1200Mi', 'ephemeral-storage': '3Gi' },
  });
  expect(get('HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
  expect(get('HorizontalPodAutoscaler').spec.metrics[0].containerResource.target.averageUtilization).toBe(55);
  expect(spec.serviceAccountName).toBe('ksa');
  expect(c.env.find((e: any) => e.name === 'MLFLOW_BACKEND_STORE_URI').value).toBe('sqlite:////mlflow/data/mlflow.db');
  expect(arg('--artifacts-destination')).toBe('gs://b/p');
  expect(c.volumeMounts.filter((m: any) => m.mountPath === '/mlflow/data')).toHaveLength(1);
  expect(spec.initContainers.map((x: any) => x.name)).toEqual(['migrate']);
  expect(arg('--app-name')).toBe('basic-auth');
  expect(c.env.find((e: any) => e.name === 'MLFLOW_SERVER_ALLOWED_HOSTS').value).toBe('a.example.com,localhost:*');
  expect(c.env.find((e: any) => e.name === 'MLFLOW_SERVER_CORS_ALLOWED_ORIGINS').value).toBe('https://a.example.com');
  expect(arg('--expose-prometheus')).toBe('/mlflow/metrics');
  expect(d.spec.selector.matchLabels).toEqual({ app: 'x' });
  expect(d.spec.template.metadata.labels).toEqual({ app: 'x', team: 'ml' });
  expect(arg('--uvicorn-opts')).toBe('--timeout-graceful-shutdown 40 --timeout-keep-alive 700');
  expect(c.lifecycle.preStop.exec.command).toEqual(['sleep', '12']);
  expect(spec.terminationGracePeriodSeconds).toBe(12 + 40 + 15);
  expect(spec.volumes.find((v: any) => v.name === 'tmp').emptyDir.sizeLimit).toBe('2048Mi');
});
