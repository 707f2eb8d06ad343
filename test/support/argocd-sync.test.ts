/** The replay helpers without a server: Argo CD's sync order (phase, wave, kind, name), and the set-up's guidance. */
import { syncOrder } from './argocd-sync';
import { runningApiServer, STATE_ENV, type Obj } from './apiserver';

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

test('outside the apiserver project, a suite asking for the test API server is told how to get one', () => {
  const saved = process.env[STATE_ENV];
  delete process.env[STATE_ENV];
  try {
    expect(() => runningApiServer()).toThrow(
      'no test API server: MLFLOW_GITOPS_APISERVER is unset or stale. Run these suites through jest\'s apiserver project (npx jest test/apiserver).',
    );
  } finally {
    if (saved !== undefined) process.env[STATE_ENV] = saved;
  }
});
