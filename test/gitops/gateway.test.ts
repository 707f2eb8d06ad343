/**
 * The GitOps side of `exposure.mode: gateway`: with the cert-manager add-on and a cert-manager certificate, the
 * ClusterIssuer answers HTTP-01 through the Gateway's HTTP listener and cert-manager gets its Gateway API support;
 * with a Certificate Manager map, no ClusterIssuer and cert-manager as it is.
 */
import { CERT_MANAGER } from '../../lib/gitops/addons';
import { AcmeClusterIssuer } from '../../lib/gitops/cluster-issuer';
import { validateManifest } from '../../tools/schema-validation';
import { find, objectsOf, testChart } from '../support/constructs';
import { planOf, render } from '../../tools/environments';
import { gatewayConfig } from '../support/gateway';

const withAddon = (d: any) => (d.gitops.addons = { externalSecrets: true, certManager: true, acmeEmail: 'ops@example.com' });

test('AcmeClusterIssuer through a Gateway: the solver’s HTTPRoute attaches to the named listener', () => {
  const chart = testChart();
  new AcmeClusterIssuer(chart, 'I', { name: 'le', email: 'ops@example.com', gateway: { name: 'gw', namespace: 'team', sectionName: 'plain' } });
  const ci = find(objectsOf(chart), 'ClusterIssuer', 'le');
  expect(ci.spec.acme.solvers).toEqual([
    { http01: { gatewayHTTPRoute: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', namespace: 'team', sectionName: 'plain' }] } } },
  ]);
  expect(validateManifest(ci)).toEqual([]);
});

describe('cert-manager certificate with the cert-manager add-on', () => {
  // Built when the tests run, not while jest collects them (so that mutation testing can attribute each mutant).
  let out: ReturnType<typeof render>;
  beforeAll(() => {
    out = render(gatewayConfig(withAddon));
  });

  test('the ClusterIssuer the Certificate names, solving through the MLflow Gateway’s HTTP listener', () => {
    const ci = find(out.byPath['cluster-issuer'], 'ClusterIssuer', 'letsencrypt-prod');
    expect(ci.spec.acme.solvers).toEqual([
      { http01: { gatewayHTTPRoute: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'mlflow', namespace: 'mlflow', sectionName: 'http' }] } } },
    ]);
    expect(find(out.byPath.mlflow, 'Certificate', 'mlflow').spec.issuerRef.name).toBe('letsencrypt-prod');
    const gw = find(out.byPath.mlflow, 'Gateway', 'mlflow');
    expect(gw.spec.listeners.map((l: any) => l.name)).toContain('http');
    expect(validateManifest(ci)).toEqual([]);
  });

  test('cert-manager is installed with its Gateway API support on, everything else as without a Gateway', () => {
    const app = find(out.byPath.apps, 'Application', 'mlflow-prod-cert-manager');
    expect(app.spec.source.helm.valuesObject).toEqual({
      ...CERT_MANAGER.values,
      config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', enableGatewayAPI: true },
    });
    expect(app.spec.source.targetRevision).toBe(CERT_MANAGER.version);
  });
});

test('a Certificate Manager map: no ClusterIssuer, cert-manager (if installed) without Gateway API support', () => {
  const plan = planOf(gatewayConfig((d) => (withAddon(d), (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-prod' }))));
  expect(plan?.clusterIssuer).toBeUndefined();
  expect(plan?.addons.find((a) => a.name === 'cert-manager')).toEqual(CERT_MANAGER);
});

test('an Ingress keeps its ingress-class solver and the plain add-on', () => {
  const plan = planOf(gatewayConfig((d) => (withAddon(d), (d.exposure = { mode: 'ingress', hosts: ['mlflow.example.com'], clusterIssuer: 'le', className: 'gce', backendTimeoutSeconds: 900 }))));
  expect(plan?.clusterIssuer).toEqual({ name: 'le', email: 'ops@example.com', server: 'production', ingressClass: 'gce' });
  expect(plan?.addons.find((a) => a.name === 'cert-manager')).toEqual(CERT_MANAGER);
});
