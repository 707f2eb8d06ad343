/** Cross-cutting rules: sync waves in DESIGN §8 order, standard labels, restricted security everywhere. */
import { SYNC_WAVES } from '../lib/conventions';
import { allContainers, find, podSpecs, render, shippedConfigs } from './support/environments';

const wave = (m: any) => Number(m.metadata.annotations['argocd.argoproj.io/sync-wave']);

describe.each(shippedConfigs().map((c) => [c.name, c] as const))('%s', (name, config) => {
  const r = render(config);
  const mlflow = r.byPath.mlflow;

  test('every MLflow object carries its kind’s sync wave, as a string', () => {
    for (const m of mlflow) {
      expect({ obj: `${m.kind}/${m.metadata.name}`, wave: (m.metadata as any).annotations?.['argocd.argoproj.io/sync-wave'] }).toEqual({
        obj: `${m.kind}/${m.metadata.name}`,
        wave: String(SYNC_WAVES[m.kind]),
      });
    }
  });

  test('waves follow DESIGN §8: namespace/identity/policies < store < secrets < migration < server < HPA/ingress/monitors', () => {
    const order = ['Namespace', 'SecretStore', 'ExternalSecret', 'Job', 'Deployment', 'HorizontalPodAutoscaler'];
    const present = order.filter((k) => mlflow.some((m) => m.kind === k));
    const waves = present.map((k) => wave(mlflow.find((m) => m.kind === k)));
    expect(waves).toEqual([...waves].sort((a, b) => a - b));
    expect(new Set(waves).size).toBe(waves.length);
    for (const k of ['ServiceAccount', 'NetworkPolicy']) if (mlflow.some((m) => m.kind === k)) expect(SYNC_WAVES[k]).toBe(SYNC_WAVES.Namespace);
    for (const k of ['Ingress', 'PodMonitoring', 'ServiceMonitor']) expect(SYNC_WAVES[k]).toBe(SYNC_WAVES.HorizontalPodAutoscaler);
  });

  test('standard app.kubernetes.io labels on every MLflow object', () => {
    for (const m of mlflow) {
      expect((m.metadata as any).labels).toMatchObject({
        'app.kubernetes.io/name': 'mlflow',
        'app.kubernetes.io/instance': `mlflow-${name}`,
        'app.kubernetes.io/version': '3.17.0',
        'app.kubernetes.io/part-of': 'mlflow',
        'app.kubernetes.io/managed-by': 'mlflow-gitops',
      });
    }
  });

  test('namespace enforces Pod Security restricted', () => {
    const ns = find(mlflow, 'Namespace', config.namespace);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(ns.metadata.namespace).toBeUndefined();
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
        expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
    }
  });

  test('the KSA: Workload Identity when there is a GCP service account, never a mounted token', () => {
    const sa = find(mlflow, 'ServiceAccount', 'mlflow');
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(sa.metadata.annotations?.['iam.gke.io/gcp-service-account']).toBe(config.gcp?.serviceAccountEmail);
  });
});
