/**
 * Cross-cutting rules: every kind's sync wave (docs/design.md#argo-cd-waves), the standard labels, restricted
 * security everywhere.
 */
import { ApiObject, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { APP_SYNC_WAVES, SYNC_WAVES, applySyncWaves, hookJob, selectorLabels, standardLabels } from '../lib/conventions';
import { find, objectsOf, testChart } from './support/constructs';
import type { Server } from '../lib/config/model';
import { servingPath } from '../lib/names';
import { allContainers, configFrom, podSpecs, rawConfig, render, shippedConfig, shippedConfigs } from '../tools/environments';
import { gatewayConfig } from './support/gateway';

/** The order, written out: namespace/identity/policies < store/config < secrets < migration < server < HPA/ingress/monitors. */
const EXPECTED_WAVES: Record<string, number> = {
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
  CronJob: 1,
  Service: 1,
  PodDisruptionBudget: 1,
  BackendConfig: 1,
  FrontendConfig: 1,
  HealthCheckPolicy: 1,
  GCPBackendPolicy: 1,
  HorizontalPodAutoscaler: 2,
  Ingress: 2,
  Gateway: 2,
  HTTPRoute: 2,
  Certificate: 2,
  PodMonitoring: 2,
  ServiceMonitor: 2,
};

describe('applySyncWaves', () => {
  test('annotates every object with its kind’s wave, as a string', () => {
    const chart = testChart();
    new ApiObject(chart, 'A', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    new ApiObject(chart, 'B', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'b' } });
    applySyncWaves(chart, { ConfigMap: -7, Deployment: 4 });
    const objects = objectsOf(chart);
    expect(find(objects, 'ConfigMap', 'a').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '-7' });
    expect(find(objects, 'Deployment', 'b').metadata.annotations).toEqual({ 'argocd.argoproj.io/sync-wave': '4' });
  });

  test('a kind without a wave is an error naming the object and where to add it', () => {
    const chart = testChart();
    new ApiObject(chart, 'A', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    new ApiObject(chart, 'W', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } });
    expect(() => applySyncWaves(chart)).toThrow(
      new Error('Widget/w: no sync wave is defined for kind Widget (add it to SYNC_WAVES in lib/conventions.ts)'),
    );
  });

  test('the default table is the documented order', () => {
    expect(SYNC_WAVES).toEqual(EXPECTED_WAVES);
    expect(APP_SYNC_WAVES).toEqual({ addons: -20, clusterIssuer: -10, mlflow: 0, serving: 10 });
  });
});

describe('hookJob', () => {
  test.each(['Sync', 'PostSync'] as const)('a %s hook: re-created before each run, restricted, no restarts, no token, pinned labels only', (phase) => {
    const chart = testChart();
    const job = hookJob(chart, 'Hook', {
      name: 'my-hook',
      phase,
      serviceAccount: new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'mlflow' } }),
      podLabels: { 'app.kubernetes.io/component': 'hook' },
      backoffLimit: 1,
      activeDeadline: Duration.minutes(5),
    });
    job.addContainer({ name: 'c', image: 'img:1', securityContext: { user: 1000 } });
    const j = find(objectsOf(chart), 'Job', 'my-hook');
    expect(j.metadata.annotations).toEqual({ 'argocd.argoproj.io/hook': phase, 'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation' });
    expect(j.spec.backoffLimit).toBe(1);
    expect(j.spec.activeDeadlineSeconds).toBe(300);
    expect(j.spec.ttlSecondsAfterFinished).toBeUndefined();
    // No selector of its own (the Job controller generates it): a cdk8s-plus selector would need the path label.
    expect(j.spec.selector).toBeUndefined();
    expect(j.metadata.labels ?? {}).not.toHaveProperty(['cdk8s.io/metadata.addr']);
    const pod = j.spec.template;
    expect(pod.metadata.labels).toEqual({ 'app.kubernetes.io/component': 'hook' });
    expect(pod.spec.restartPolicy).toBe('Never');
    expect(pod.spec.automountServiceAccountToken).toBe(false);
    expect(pod.spec.serviceAccountName).toBe('mlflow');
    expect(pod.spec.securityContext).toEqual({
      fsGroup: 10001,
      fsGroupChangePolicy: 'OnRootMismatch',
      runAsGroup: 10001,
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });
});

test('labels: standard labels on everything, selector labels without the version', () => {
  expect(standardLabels('prod')).toEqual({
    'app.kubernetes.io/name': 'mlflow',
    'app.kubernetes.io/instance': 'mlflow-prod',
    'app.kubernetes.io/part-of': 'mlflow',
    'app.kubernetes.io/managed-by': 'mlflow-gitops',
  });
  expect(selectorLabels('prod', 'server')).toEqual({
    'app.kubernetes.io/name': 'mlflow',
    'app.kubernetes.io/instance': 'mlflow-prod',
    'app.kubernetes.io/component': 'server',
  });
});

// The shipped environments, and prod exposed through a GKE Gateway (the kinds no shipped environment renders).
// Loaded and rendered in beforeAll, not while jest collects the suite: `npm run mutate` attributes it to each test
// (tools/mutation/mutation-attribution.js).
const CASES: ReadonlyArray<readonly [string, () => Server]> = [
  ['local', () => shippedConfig('local')],
  ['dev', () => shippedConfig('dev')],
  ['prod', () => shippedConfig('prod')],
  ['prod (exposure.mode gateway)', () => gatewayConfig()],
  // A CronJob (no shipped environment has one): its pods are two levels down.
  ['dev (gc)', () => configFrom('dev', { ...rawConfig('dev'), gc: { schedule: '17 3 * * *' } })],
];

test('the cases below are every shipped environment', () => {
  expect(shippedConfigs().map((c) => c.name).sort()).toEqual(['dev', 'local', 'prod']);
});

describe.each(CASES)('%s', (_label, configOf) => {
  let name: string;
  let mlflow: ReturnType<typeof render>['byPath']['mlflow'];
  beforeAll(() => {
    const config = configOf();
    name = config.name;
    // The server's Application and its served models' (each ordered on its own, by the same table).
    const byPath = render(config).byPath;
    mlflow = [...byPath.mlflow, ...(byPath[servingPath('mlflow')] ?? [])];
  });

  test('every MLflow object carries its kind’s wave', () => {
    for (const m of mlflow) {
      const obj = `${m.kind}/${m.metadata.name}`;
      expect({ obj, wave: (m.metadata as any).annotations?.['argocd.argoproj.io/sync-wave'] }).toEqual({ obj, wave: String(EXPECTED_WAVES[m.kind]) });
    }
  });

  test('standard app.kubernetes.io labels on every MLflow object', () => {
    for (const m of mlflow) {
      expect((m.metadata as any).labels).toMatchObject({
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': `mlflow-${name}`,
        'app.kubernetes.io/part-of': 'mlflow',
        'app.kubernetes.io/managed-by': 'mlflow-gitops',
      });
    }
  });

  test('the version label only on the objects that run MLflow and their pods, and no selector reads it', () => {
    const VERSION = 'app.kubernetes.io/version';
    const templateOf = (m: any) => (m.kind === 'CronJob' ? m.spec.jobTemplate.spec.template : m.spec.template);
    const runsPods = mlflow.filter((m) => ['Deployment', 'Job', 'CronJob'].includes(m.kind));
    expect(runsPods.map((m) => m.kind)).toContain(_label.endsWith('(gc)') ? 'CronJob' : 'Deployment');
    for (const m of mlflow) {
      const obj = `${m.kind}/${m.metadata.name}`;
      const labels = (m.metadata as any).labels ?? {};
      if (runsPods.includes(m)) {
        expect({ obj, object: labels[VERSION], pod: templateOf(m).metadata.labels[VERSION] }).toEqual({ obj, object: '3.17.0', pod: '3.17.0' });
      } else {
        expect({ obj, version: labels[VERSION] }).toEqual({ obj, version: undefined });
      }
      // Anywhere else in the object (a selector of any kind: workloads, Services, NetworkPolicies, PDBs, monitors).
      const rest = JSON.parse(JSON.stringify(m));
      delete rest.metadata.labels;
      if (runsPods.includes(m)) delete templateOf(rest).metadata.labels;
      expect({ obj, mentions: JSON.stringify(rest).includes(VERSION) }).toEqual({ obj, mentions: false });
    }
  });

  test('restricted security context on every container of every pod template, with requests and limits', () => {
    const specs = podSpecs(mlflow);
    expect(specs.length).toBeGreaterThan(0);
    for (const { owner, spec } of specs) {
      expect({ owner, pod: spec.securityContext }).toMatchObject({ owner, pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
      for (const c of allContainers(spec)) {
        const where = `${owner}/${c.name}`;
        expect({ where, sc: c.securityContext }).toMatchObject({
          where,
          sc: {
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          },
        });
        expect(c.securityContext.runAsUser).toBeGreaterThan(0);
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });
});
