/** Exposure: GKE Ingress + cert-manager, BackendConfig health check and timeouts, HTTPS redirect. */
import { find, ofKind, render, shippedConfig } from './support/environments';

const prod = render(shippedConfig('prod')).byPath.mlflow;

test('Ingress for the GKE controller (class annotation) with a cert-manager certificate', () => {
  const i = find(prod, 'Ingress', 'mlflow');
  expect(i.metadata.annotations).toMatchObject({
    'kubernetes.io/ingress.class': 'gce',
    'cert-manager.io/cluster-issuer': 'letsencrypt-prod',
    'networking.gke.io/v1beta1.FrontendConfig': 'mlflow',
  });
  expect(i.spec.ingressClassName).toBeUndefined();
  expect(i.spec.tls).toEqual([{ hosts: ['mlflow.example.com'], secretName: 'mlflow-tls' }]);
  expect(i.spec.rules).toEqual([
    { host: 'mlflow.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'mlflow', port: { number: 5000 } } } }] } },
  ]);
});

test('BackendConfig: health check on /health, long timeout for artifact uploads; attached to the Service with NEGs', () => {
  const b = find(prod, 'BackendConfig', 'mlflow');
  expect(b.apiVersion).toBe('cloud.google.com/v1');
  expect(b.spec.healthCheck).toMatchObject({ type: 'HTTP', requestPath: '/health', port: 5000 });
  expect(b.spec.timeoutSec).toBe(900);
  const s = find(prod, 'Service', 'mlflow');
  expect(s.metadata.annotations['cloud.google.com/backend-config']).toBe('{"default":"mlflow"}');
  expect(s.metadata.annotations['cloud.google.com/neg']).toBe('{"ingress":true}');
});

test('uvicorn keep-alive outlives the load balancer (GCLB: 600 s)', () => {
  const c = find(prod, 'Deployment', 'mlflow').spec.template.spec.containers[0];
  const opts = c.command[c.command.indexOf('--uvicorn-opts') + 1];
  expect(Number(/--timeout-keep-alive (\d+)/.exec(opts)![1])).toBeGreaterThan(600);
});

test('FrontendConfig redirects HTTP to HTTPS', () => {
  expect(find(prod, 'FrontendConfig', 'mlflow').spec.redirectToHttps).toEqual({ enabled: true, responseCodeName: 'PERMANENT_REDIRECT' });
});

test('exposure none renders no Ingress and no GKE LB objects', () => {
  const local = render(shippedConfig('local')).byPath.mlflow;
  for (const k of ['Ingress', 'BackendConfig', 'FrontendConfig']) expect(ofKind(local, k)).toEqual([]);
});
