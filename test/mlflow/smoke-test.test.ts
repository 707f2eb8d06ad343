/**
 * The PostSync smoke test as rendered: an Argo CD PostSync hook Job in every environment Argo CD deploys, running the
 * shipped script as the smoke user, with nothing but DNS and the server's port on the network.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { NetworkPolicies } from '../../lib/mlflow/network-policies';
import { SmokeTest, type SmokeTestProps } from '../../lib/mlflow/smoke-test';
import { ROOT, configFrom, envOf, find, ofKind, rawConfig, render, shippedConfig } from '../../tools/environments';

const SCRIPT = fs.readFileSync(path.join(ROOT, 'lib', 'mlflow', 'scripts', 'smoke.py'), 'utf8');

describe.each(['dev', 'prod'])('%s', (name) => {
  // Rendered in beforeAll, not while jest collects the suite (tools/mutation/mutation-attribution.js).
  let app: any[];
  let job: any;
  let pod: any;
  let container: any;
  beforeAll(() => {
    app = render(shippedConfig(name)).byPath.mlflow;
    job = find(app, 'Job', 'mlflow-smoke');
    pod = job.spec.template.spec;
    container = pod.containers.find((c: any) => c.name === 'smoke');
  });

  test('an Argo CD PostSync hook, re-created on each sync, failing the sync at the first failure', () => {
    expect(job.metadata.annotations).toMatchObject({
      'argocd.argoproj.io/hook': 'PostSync',
      'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
    });
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(600);
    expect(pod.restartPolicy).toBe('Never');
  });

  test("the server's image and KSA; the shipped script from its ConfigMap", () => {
    const server = find(app, 'Deployment', 'mlflow').spec.template.spec;
    expect(container.image).toBe(server.containers.find((c: any) => c.name === 'mlflow').image);
    expect(pod.serviceAccountName).toBe(server.serviceAccountName);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.command).toEqual(['python', '/opt/mlflow-smoke/smoke.py']);
    const mount = container.volumeMounts.find((m: any) => m.mountPath === '/opt/mlflow-smoke');
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    expect(find(app, 'ConfigMap', volume.configMap.name).data).toEqual({ 'smoke.py': SCRIPT });
  });

  test('talks to the Service over HTTP as the smoke user; no database, no proxy sidecar', () => {
    const env = envOf(container);
    expect(env.MLFLOW_TRACKING_URI).toBe('http://mlflow.mlflow.svc.cluster.local:5000');
    expect(env.MLFLOW_TRACKING_USERNAME).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'username' } });
    expect(env.MLFLOW_TRACKING_PASSWORD).toEqual({ secretKeyRef: { name: 'mlflow-smoke-auth', key: 'password' } });
    expect(env.MLFLOW_BACKEND_STORE_URI).toBeUndefined();
    expect(pod.initContainers ?? []).toEqual([]);
  });

  test("the smoke user's credentials come from Secret Manager", () => {
    const es = find(app, 'ExternalSecret', 'mlflow-smoke-auth');
    expect(es.spec.data).toEqual([{ secretKey: 'password', remoteRef: { key: `mlflow-${name}-smoke-password` } }]);
    expect(es.spec.target.template.data).toEqual({ username: 'smoke-test', password: '{{ .password }}' });
  });

  test('the migration Job gets the smoke user to create, from the same Secret', () => {
    const migrate = find(app, 'Job', 'mlflow-migrate').spec.template.spec.containers.find((c: any) => c.name === 'migrate');
    expect(envOf(migrate)).toMatchObject({
      MLFLOW_SMOKE_USERNAME: { secretKeyRef: { name: 'mlflow-smoke-auth', key: 'username' } },
      MLFLOW_SMOKE_PASSWORD: { secretKeyRef: { name: 'mlflow-smoke-auth', key: 'password' } },
    });
  });

  test('restricted, with requests and limits and a bounded /tmp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '384Mi' }, limits: { cpu: '1000m', memory: '768Mi' } });
    expect(pod.volumes.find((v: any) => v.name === 'smoke-tmp').emptyDir).toEqual({ sizeLimit: '256Mi' });
  });

  test('network: admitted to the server port; egress only to DNS and the server pods', () => {
    const smokePods = job.spec.template.metadata.labels;
    const matches = (selector: Record<string, string>) => Object.entries(selector).every(([k, v]) => smokePods[k] === v);
    const ingress = find(app, 'NetworkPolicy', 'mlflow-server-ingress').spec.ingress;
    expect(ingress).toHaveLength(1);
    expect(ingress[0].ports).toEqual([{ protocol: 'TCP', port: 5000 }]);
    expect(ingress[0].from.filter((p: any) => p.podSelector && matches(p.podSelector.matchLabels))).toHaveLength(1);

    const egress = find(app, 'NetworkPolicy', 'mlflow-smoke-egress');
    expect(matches(egress.spec.podSelector.matchLabels)).toBe(true);
    const serverLabels = find(app, 'Deployment', 'mlflow').spec.selector.matchLabels;
    expect(egress.spec.egress.map((r: any) => r.ports)).toEqual([
      [
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ],
      [{ protocol: 'TCP', port: 5000 }],
    ]);
    expect(egress.spec.egress[1].to).toEqual([{ podSelector: { matchLabels: serverLabels } }]);
    // No other egress policy selects the smoke pods (the server/migration one would open Google APIs and Cloud SQL).
    const others = ofKind(app, 'NetworkPolicy').filter((p) => p.metadata.name !== 'mlflow-smoke-egress' && p.spec.policyTypes.includes('Egress'));
    for (const p of others) {
      const sel = p.spec.podSelector;
      const selects =
        (sel.matchLabels === undefined || matches(sel.matchLabels)) &&
        (sel.matchExpressions ?? []).every((e: any) => e.operator === 'In' && e.values.includes(smokePods[e.key]));
      expect({ policy: p.metadata.name, selectsSmoke: selects && Object.keys(sel).length > 0 }).toEqual({ policy: p.metadata.name, selectsSmoke: false });
    }
  });
});

test('local (no Argo CD) has no smoke Job: `npm run smoke` runs the same script by hand', () => {
  const app = render(shippedConfig('local')).byPath.mlflow;
  expect(ofKind(app, 'Job')).toEqual([]);
  expect(ofKind(app, 'NetworkPolicy').map((p) => p.metadata.name)).not.toContain('mlflow-smoke-egress');
});

test('without basic-auth the Job runs with no credentials', () => {
  const doc = rawConfig('dev');
  doc.auth = { enabled: false };
  delete doc.clients; // clients and served models need basic-auth
  delete doc.serving;
  const app = render(configFrom('dev', doc)).byPath.mlflow;
  const env = envOf(find(app, 'Job', 'mlflow-smoke').spec.template.spec.containers[0]);
  expect(Object.keys(env)).toEqual(['MLFLOW_TRACKING_URI', 'MLFLOW_DISABLE_TELEMETRY', 'HOME']);
  expect(ofKind(app, 'ExternalSecret').map((e) => e.metadata.name)).not.toContain('mlflow-smoke-auth');
});

test('all props as given; no retry, a 10-minute deadline', () => {
  const all: Required<SmokeTestProps> = {
    image: 'registry.example.com/mlflow:v3.17.0',
    serviceAccount: undefined as never, // set below, in the chart's scope
    serverUrl: 'http://mlflow.ml.svc.cluster.local:5000',
    credentials: undefined as never,
    podLabels: { 'app.kubernetes.io/component': 'smoke', team: 'a' },
    selectorLabels: { 'app.kubernetes.io/component': 'smoke' },
    network: undefined as never, // set below, in the chart's scope
  };
  const app = Testing.app();
  const chart = new Chart(app, 'c', { namespace: 'ml' });
  new SmokeTest(chart, 'Smoke', {
    ...all,
    serviceAccount: new kplus.ServiceAccount(chart, 'Sa', { metadata: { name: 'runner' } }),
    credentials: kplus.Secret.fromSecretName(chart, 'Creds', 'smoke-creds'),
    network: new NetworkPolicies(chart, 'Network', { serverLabels: { component: 'server' }, egressComponents: ['server'], port: 5000 }),
  });
  const objects = Testing.synth(chart);
  const job = objects.find((m: any) => m.kind === 'Job' && m.metadata.name === 'mlflow-smoke');
  // Selected by its selector labels: admitted to the server, and its own egress (DNS and the server).
  const policy = (name: string) => objects.find((m: any) => m.kind === 'NetworkPolicy' && m.metadata.name === name);
  expect(policy('mlflow-smoke-egress').spec.podSelector).toEqual({ matchLabels: all.selectorLabels });
  expect(policy('mlflow-server-ingress').spec.ingress[0].from).toEqual([{ podSelector: { matchLabels: all.selectorLabels } }]);
  expect(job.spec.template.metadata.labels).toMatchObject(all.podLabels);
  expect(job.spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 600 });
  const pod = job.spec.template.spec;
  expect(pod.serviceAccountName).toBe('runner');
  expect(job.spec.template.metadata.labels['app.kubernetes.io/component']).toBe('smoke');
  const c = pod.containers[0];
  expect(c.image).toBe('registry.example.com/mlflow:v3.17.0');
  expect(envOf(c)).toMatchObject({
    MLFLOW_TRACKING_URI: 'http://mlflow.ml.svc.cluster.local:5000',
    MLFLOW_TRACKING_USERNAME: { secretKeyRef: { name: 'smoke-creds', key: 'username' } },
    MLFLOW_TRACKING_PASSWORD: { secretKeyRef: { name: 'smoke-creds', key: 'password' } },
  });
});
