/**
 * A served model as rendered for dev (`serving: [iris]`, alias champion, clients [iris-predictor], 2–4 replicas): the
 * wrapper from its ConfigMap with the model, alias and promotion command; the serving user's credentials from its own
 * ExternalSecret; restricted, read-only, sized from the config; probes on the scoring server's own endpoints; the
 * promotion on the pod template; Service, HPA, PDB; its network policies; all in the served models' own Application
 * folder (`dist/dev/serving/mlflow`), none in the server's, whose ingress admits the serving pods.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, configFrom, envOf, find, ofKind, rawConfig, render, shippedConfig } from '../../tools/environments';
import { containerNamed, mountsOf } from '../support/constructs';

const SCRIPT = fs.readFileSync(path.join(ROOT, 'lib', 'mlflow', 'scripts', 'serve.py'), 'utf8');
const WAVE = 'argocd.argoproj.io/sync-wave';

/** The served models' folder of a single-server environment. */
const SERVING = 'serving/mlflow';

describe('dev: serving iris (alias champion)', () => {
  let app: any[];
  let server: any[];
  let deployment: any;
  let pod: any;
  let container: any;
  beforeAll(() => {
    const byPath = render(shippedConfig('dev')).byPath;
    app = byPath[SERVING];
    server = byPath.mlflow;
    deployment = find(app, 'Deployment', 'serve-iris');
    pod = deployment.spec.template.spec;
    container = containerNamed(pod, 'serve');
  });

  test("runs the shipped wrapper with the server's image: model, alias, the scoring port and the promotion command", () => {
    expect(container.image).toBe(containerNamed(find(server, 'Deployment', 'mlflow').spec.template.spec, 'mlflow').image);
    expect(container.command).toEqual(['python', '/opt/mlflow-serve/serve.py', '--model', 'iris', '--alias', 'champion', '--promote-command', 'npm run promote -- dev iris', '--port', '8080']);
    const mount = container.volumeMounts.find((m: any) => m.mountPath === '/opt/mlflow-serve');
    expect(mount.readOnly).toBe(true);
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    expect(find(app, 'ConfigMap', volume.configMap.name).data).toEqual({ 'serve.py': SCRIPT });
  });

  test("logs in to the server's Service as serve-iris, its password from Secret Manager through its own ExternalSecret", () => {
    const env = envOf(container);
    expect(env.MLFLOW_TRACKING_URI).toBe('http://mlflow.mlflow.svc.cluster.local:5000');
    expect(env.MLFLOW_TRACKING_USERNAME).toEqual({ secretKeyRef: { name: 'serve-iris-auth', key: 'username' } });
    expect(env.MLFLOW_TRACKING_PASSWORD).toEqual({ secretKeyRef: { name: 'serve-iris-auth', key: 'password' } });
    expect(env.HOME).toBe('/tmp');
    // A missing grant is waited for 3 minutes (a promotion's pods may start before the server's Job grants), inside the
    // startup probe's 5, which leaves the download and the start 2.
    expect(env.SERVE_WAIT_SECONDS).toBe('180');
    expect(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold - Number(env.SERVE_WAIT_SECONDS)).toBe(120);
    const es = find(app, 'ExternalSecret', 'serve-iris-auth');
    expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: 'mlflow-dev-serving-iris-password' } }]);
    expect(es.spec.target.template.data).toEqual({ username: 'serve-iris', password: '{{ .password }}' });
  });

  test('its own KSA without Workload Identity or token; restricted, read-only root, /tmp an emptyDir; resources from the config', () => {
    const ksa = find(app, 'ServiceAccount', 'serve-iris');
    expect(ksa.metadata.annotations?.['iam.gke.io/gcp-service-account']).toBeUndefined();
    expect(pod.serviceAccountName).toBe('serve-iris');
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    expect(mountsOf(container)['/tmp']).toEqual({ name: 'tmp' });
    expect(pod.volumes.find((v: any) => v.name === 'tmp').emptyDir).toEqual({ sizeLimit: '2048Mi' });
    expect(container.resources).toMatchObject({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '1024Mi' } });
  });

  test("probes on the scoring server's /ping (startup allows 5 minutes for the download) and /health; a graceful stop", () => {
    expect(container.startupProbe).toMatchObject({ httpGet: { path: '/ping', port: 8080 }, periodSeconds: 5, failureThreshold: 60 });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/ping', port: 8080 } });
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/health', port: 8080 } });
    expect(container.lifecycle.preStop.exec.command).toEqual(['sleep', '10']);
    expect(pod.terminationGracePeriodSeconds).toBe(75);
  });

  test('the promotion count on the pod template; rolling with no pod down; Service, HPA on the container CPU, PDB', () => {
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'mlflow-gitops/promotion': '0' });
    expect(deployment.spec.replicas).toBeUndefined();
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    const selector = deployment.spec.selector.matchLabels;
    expect(selector).toEqual({ 'app.kubernetes.io/name': 'mlflow', 'app.kubernetes.io/instance': 'mlflow-dev', 'app.kubernetes.io/component': 'serve-iris' });
    const svc = find(app, 'Service', 'serve-iris');
    expect(svc.spec.selector).toEqual(selector);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    const hpa = find(app, 'HorizontalPodAutoscaler', 'serve-iris');
    expect(hpa.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4, scaleTargetRef: { kind: 'Deployment', name: 'serve-iris' } });
    expect(hpa.spec.metrics).toEqual([{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'serve', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    expect(find(app, 'PodDisruptionBudget', 'serve-iris').spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: selector }, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
  });

  test("in their own Application's folder, none in the server's; ordered there by the kinds' waves, the HPA after the workload", () => {
    expect(server.filter((m: any) => m.metadata.name.startsWith('serve-'))).toEqual([]);
    const waves = Object.fromEntries(app.map((m: any) => [`${m.kind}/${m.metadata.name}`, m.metadata.annotations[WAVE]]));
    expect(waves).toEqual({
      'SecretStore/gcp-secret-manager-serving': '-2',
      'ConfigMap/serve-iris-script': '-2',
      'ExternalSecret/serve-iris-auth': '-1',
      'ServiceAccount/serve-iris': '-3',
      'Deployment/serve-iris': '1',
      'Service/serve-iris': '1',
      'PodDisruptionBudget/serve-iris': '1',
      'HorizontalPodAutoscaler/serve-iris': '2',
      'NetworkPolicy/serve-iris-ingress': '-3',
      'NetworkPolicy/serve-iris-egress': '-3',
    });
  });

  test("its own store, beside the server's, reading Secret Manager as the server's KSA (which the server's Application renders)", () => {
    const store = find(app, 'SecretStore', 'gcp-secret-manager-serving');
    expect(store.spec.provider.gcpsm).toEqual({ projectID: 'example-mlflow-dev', auth: { workloadIdentity: { serviceAccountRef: { name: 'mlflow' } } } });
    expect(find(app, 'ExternalSecret', 'serve-iris-auth').spec.secretStoreRef).toEqual({ kind: 'SecretStore', name: 'gcp-secret-manager-serving' });
    expect(find(server, 'ServiceAccount', 'mlflow').metadata.name).toBe('mlflow');
    expect(ofKind(app, 'ServiceAccount').map((m: any) => m.metadata.name)).toEqual(['serve-iris']);
  });

  test("network: the listed client's namespace on the scoring port; egress to the server and DNS; the server admits its pods", () => {
    const selector = deployment.spec.selector.matchLabels;
    expect(find(app, 'NetworkPolicy', 'serve-iris-ingress').spec).toEqual({
      podSelector: { matchLabels: selector },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml-apps' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    });
    const egress = find(app, 'NetworkPolicy', 'serve-iris-egress').spec;
    expect(egress.podSelector).toEqual({ matchLabels: selector });
    expect(egress.egress.map((r: any) => r.ports)).toEqual([
      [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      [{ protocol: 'TCP', port: 5000 }],
    ]);
    expect(find(server, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress[0].from).toContainEqual({ podSelector: { matchLabels: selector } });
  });
});

describe('variants', () => {
  const variant = (change: (s: any) => void) => {
    const doc = rawConfig('dev');
    change(doc.serving[0]);
    return render(configFrom('dev', doc)).byPath[SERVING];
  };

  test('a pinned version: --version, no promotion command or annotation', () => {
    const app = variant((s) => {
      delete s.alias;
      s.version = 3;
    });
    const d = find(app, 'Deployment', 'serve-iris');
    expect(containerNamed(d.spec.template.spec, 'serve').command).toEqual(['python', '/opt/mlflow-serve/serve.py', '--model', 'iris', '--version', '3', '--port', '8080']);
    expect(d.spec.template.metadata.annotations).toBeUndefined();
  });

  test('a raised promotion changes the pod template by its annotation only', () => {
    const template = (promotion: number) => find(variant((s) => (s.promotion = promotion)), 'Deployment', 'serve-iris').spec.template;
    const [before, after] = [template(3), template(4)];
    expect([before.metadata.annotations, after.metadata.annotations]).toEqual([{ 'mlflow-gitops/promotion': '3' }, { 'mlflow-gitops/promotion': '4' }]);
    expect({ ...after, metadata: { ...after.metadata, annotations: undefined } }).toEqual({ ...before, metadata: { ...before.metadata, annotations: undefined } });
  });

  test('a client with a pod selector is admitted by namespace and labels', () => {
    const app = variant((s) => (s.clients = ['iris-trainer']));
    expect(find(app, 'NetworkPolicy', 'serve-iris-ingress').spec.ingress[0].from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ml-training' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'iris-trainer' } } },
    ]);
  });

  test('no client listed: the ingress policy admits nobody', () => {
    const app = variant((s) => delete s.clients);
    expect(find(app, 'NetworkPolicy', 'serve-iris-ingress').spec.ingress).toEqual([]);
  });

  test('environments without serving render no serve- object and no serving folder', () => {
    const byPath = render(shippedConfig('prod')).byPath;
    expect(ofKind(byPath.mlflow, 'Deployment').map((d: any) => d.metadata.name)).toEqual(['mlflow']);
    expect(Object.keys(byPath).filter((p) => p.startsWith('serving'))).toEqual([]);
  });
});
