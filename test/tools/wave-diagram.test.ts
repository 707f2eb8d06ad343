/** The wave picture of docs/deploying.md: applications and objects grouped by wave, in wave order, hooks marked. */
import { waveDiagram } from '../../tools/wave-diagram';
import type { Manifest } from '../../lib/synth/synth';

const obj = (kind: string, name: string, annotations?: Record<string, string>): Manifest =>
  ({ apiVersion: 'v1', kind, metadata: { name, ...(annotations ? { annotations } : {}) } }) as Manifest;
const wave = (w: number, extra: Record<string, string> = {}) => ({ 'argocd.argoproj.io/sync-wave': String(w), ...extra });

test('waves sorted numerically (not as text), objects in their given order, hooks marked, no annotation = wave 0', () => {
  const apps = [obj('Application', 'app-b', wave(0)), obj('Application', 'app-a', wave(-20)), obj('Application', 'app-c', wave(-10))];
  const mlflow = [
    obj('Deployment', 'web', wave(1)),
    obj('Namespace', 'ns', wave(-3)),
    obj('Job', 'migrate', wave(0, { 'argocd.argoproj.io/hook': 'Sync' })),
    obj('ConfigMap', 'plain'),
    obj('ServiceAccount', 'sa', wave(-3)),
    obj('Ingress', 'web', wave(12)),
  ];
  expect(waveDiagram('qa', apps, mlflow)).toBe(
    [
      'argocd/qa (kubectl apply --server-side -k)  →  Application mlflow-qa-root',
      '  wave -20  Application app-a',
      '  wave -10  Application app-c',
      '  wave   0  Application app-b',
      'Application mlflow-qa (dist/qa/mlflow):',
      '  wave  -3  Namespace/ns, ServiceAccount/sa',
      '  wave   0  Job/migrate (Sync hook), ConfigMap/plain',
      '  wave   1  Deployment/web',
      '  wave  12  Ingress/web',
    ].join('\n'),
  );
});
