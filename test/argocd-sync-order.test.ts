/** The replay's sync order is Argo CD's: phase, then wave, then kind (Namespace first, unknown kinds last), then name. */
import { syncOrder } from './support/argocd-sync';
import type { Obj } from './support/apiserver';

const obj = (kind: string, name: string, annotations: Record<string, string> = {}): Obj => ({ apiVersion: 'v1', kind, metadata: { name, annotations } });
const names = (os: Obj[]) => os.map((o) => `${o.kind}/${o.metadata.name}`);

test('phase before wave before kind before name', () => {
  const objects = [
    obj('Deployment', 'b'),
    obj('ExternalSecret', 'a'), // a custom kind: after every known kind of its wave
    obj('Job', 'post', { 'argocd.argoproj.io/hook': 'PostSync' }),
    obj('Job', 'pre', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/sync-wave': '5' }),
    obj('Service', 'a'),
    obj('Deployment', 'a'),
    obj('ConfigMap', 'late', { 'argocd.argoproj.io/sync-wave': '2' }),
    obj('Namespace', 'z', { 'argocd.argoproj.io/sync-wave': '-1' }),
    obj('NetworkPolicy', 'a'),
  ];
  expect(names(syncOrder(objects))).toEqual([
    'Job/pre',
    'Namespace/z',
    'NetworkPolicy/a',
    'Service/a',
    'Deployment/a',
    'Deployment/b',
    'ExternalSecret/a',
    'ConfigMap/late',
    'Job/post',
  ]);
});
