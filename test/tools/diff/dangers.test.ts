/**
 * The danger rules and the report format on hand-written objects, for the changes no config of this project
 * can produce (a Service type, a plain Job, a StatefulSet, a storage class, an edited NetworkPolicy rule, a
 * Secret), and every branch of each rule (each Service type transition, each immutable field, each MLflow
 * version crossing, each NetworkPolicy text) with the exact message a reviewer reads. The kinds a config change
 * does produce are covered end to end in diff.test.ts; the layout of the report in report.test.ts.
 */
import * as yaml from 'js-yaml';
import type { RenderedFile } from '../../../lib/synth/synth';
import { diffReport, formatMarkdown, formatText, MARKDOWN_LIMIT, MARKDOWN_MARKER } from '../../../tools/diff/report';

type Obj = Record<string, unknown>;

const meta = (name: string, extra: Obj = {}) => ({ name, namespace: 'mlflow', ...extra, annotations: { 'argocd.argoproj.io/sync-wave': '1', ...((extra.annotations as Obj) ?? {}) } });

/** One object as a file of `dist/dev/mlflow/`. */
function file(o: Obj): RenderedFile {
  const m = o.metadata as { name: string };
  return { path: `dist/dev/mlflow/${String(o.kind).toLowerCase()}-${m.name}.yaml`, content: yaml.dump(o) };
}

/** The danger lines of the text report for `before` → `after` (objects absent on one side are added/removed). */
function dangers(before: Obj[], after: Obj[]): string[] {
  const r = diffReport({ baseLabel: 'base', headLabel: 'head', base: before.map(file), head: after.map(file) });
  return r.dangers.map((d) => `${d.kind} ${d.object}: ${d.message}`);
}

function service(spec: Obj): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: meta('mlflow'), spec: { ports: [{ port: 5000 }], ...spec } };
}

const HINT = 'the sync fails with "field is immutable" until the object is deleted and re-created (Argo CD sync option Replace=true, or a manual delete)';

describe('Kubernetes will refuse', () => {
  test('Service: a new clusterIP; a switch to ExternalName (the allocated IP is not cleared by an apply)', () => {
    expect(dangers([service({ clusterIP: '10.0.0.10' })], [service({ clusterIP: '10.0.0.11' })])).toEqual([
      `immutable Service mlflow/mlflow: spec.clusterIP is immutable (spec.clusterIP): ${HINT}; a new cluster IP breaks clients that cached the old one`,
    ]);
    expect(dangers([service({})], [service({ type: 'ExternalName', externalName: 'db.example.com' })])).toEqual([
      'immutable Service mlflow/mlflow: type ClusterIP → ExternalName: the allocated spec.clusterIP must be cleared in the same update, and an apply does not clear it: the API server refuses the update',
    ]);
  });

  test('Service type transitions the API server accepts are flagged with their effect (a new Service is no transition)', () => {
    expect(dangers([service({})], [service({ type: 'LoadBalancer' })])).toEqual([
      'service-type Service mlflow/mlflow: type ClusterIP → LoadBalancer: a cloud load balancer with a new external IP is created',
    ]);
    expect(dangers([], [service({ type: 'LoadBalancer' })])).toEqual([]);
    expect(dangers([], [service({ type: 'ExternalName', externalName: 'db.example.com' })])).toEqual([]);
    expect(dangers([service({ type: 'LoadBalancer' })], [service({ type: 'ClusterIP' })])).toEqual([
      'service-type Service mlflow/mlflow: type LoadBalancer → ClusterIP: the cloud load balancer and its external IP are released; the node ports are released',
    ]);
  });

  const job = (annotations: Obj, image: string): Obj => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta('mlflow-migrate', { annotations }),
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image }] } } },
  });

  test("the pod template of a Job that is not an Argo CD hook; a hook's is fine (Argo CD re-creates hooks)", () => {
    expect(dangers([job({}, 'busybox:1.36.0')], [job({}, 'busybox:1.36.1')])).toEqual([
      `immutable Job mlflow/mlflow-migrate: spec.template is immutable (spec.template.spec.containers[name=migrate].image): a Job that is not an Argo CD hook is never re-created: ${HINT}; or make it a hook`,
    ]);
    const hook = { 'argocd.argoproj.io/hook': 'Sync' };
    expect(dangers([job(hook, 'busybox:1.36.0')], [job(hook, 'busybox:1.36.1')])).toEqual([]);
  });

  test('StatefulSet: selector and volume claim templates', () => {
    const sts = (label: string, size: string): Obj => ({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta('db'),
      spec: {
        selector: { matchLabels: { app: label } },
        serviceName: 'db',
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'mariadb:11.4.2' }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: size } } } }],
      },
    });
    expect(dangers([sts('db', '1Gi')], [sts('database', '2Gi')])).toEqual([
      `immutable StatefulSet mlflow/db: spec.selector is immutable (spec.selector.matchLabels.app): ${HINT}`,
      `immutable StatefulSet mlflow/db: spec.volumeClaimTemplates is immutable (spec.volumeClaimTemplates[0].spec.resources.requests.storage): ${HINT}`,
    ]);
  });

  test('PersistentVolumeClaim: another storage class; growing is accepted', () => {
    const pvc = (storageClassName: string, storage: string): Obj => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: meta('data'),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage } } },
    });
    expect(dangers([pvc('standard', '10Gi')], [pvc('premium-rwo', '10Gi')])).toEqual([
      `immutable PersistentVolumeClaim mlflow/data: spec.storageClassName is immutable (spec.storageClassName): a bound claim keeps its volume: ${HINT}, which deletes the data unless the volume is retained`,
    ]);
    expect(dangers([pvc('standard', '10Gi')], [pvc('standard', '20Gi')])).toEqual([]);
    expect(dangers([pvc('standard', '1Gi')], [pvc('standard', '1000Mi')])).toEqual([
      'immutable PersistentVolumeClaim mlflow/data: spec.resources.requests.storage shrinks 1Gi → 1000Mi: a claim can only grow; the API server refuses the update',
    ]);
  });
});

describe('deletions', () => {
  const externalSecret = (target: Obj): Obj => ({
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: meta('mlflow-auth'),
    spec: { secretStoreRef: { kind: 'SecretStore', name: 'gcp' }, target },
  });

  test('an ExternalSecret: its target goes with it (Owner) or stays unrefreshed (Orphan); renaming the target deletes the old one', () => {
    expect(dangers([externalSecret({ name: 'auth' })], [])).toEqual([
      'deletes ExternalSecret mlflow/mlflow-auth: deletes its target Secret auth with it (creationPolicy Owner): pods that read it fail to start',
    ]);
    expect(dangers([externalSecret({ name: 'auth', creationPolicy: 'Orphan' })], [])).toEqual([
      'deletes ExternalSecret mlflow/mlflow-auth: its target Secret auth stays (creationPolicy Orphan) but is no longer refreshed from the secret store',
    ]);
    expect(dangers([externalSecret({ name: 'auth' })], [externalSecret({ name: 'auth-v2' })])).toEqual([
      'deletes ExternalSecret mlflow/mlflow-auth: target Secret auth → auth-v2: auth is deleted (creationPolicy Owner); pods that still read it fail to start',
    ]);
  });

  test('an Application with the resources finalizer deletes what it manages; a CustomResourceDefinition every object of its kind', () => {
    const app: Obj = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'mlflow-dev', namespace: 'argocd', finalizers: ['resources-finalizer.argocd.argoproj.io'] }, spec: {} };
    const crd: Obj = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.example.com' }, spec: {} };
    expect(dangers([app, crd], [])).toEqual([
      'deletes CustomResourceDefinition things.example.com: deleting a CustomResourceDefinition deletes every object of that kind in the cluster',
      'deletes Application argocd/mlflow-dev: deleting the Application deletes every object it manages (resources finalizer)',
    ]);
  });
});

describe('a removed Ingress or Gateway takes its load balancer and IP address (e.g. exposure.mode switched)', () => {
  const ingress = (annotations: Obj = {}, rules: Obj[] = [{ host: 'mlflow.example.com' }, { host: 'ml.example.org' }]): Obj => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta('mlflow', { annotations }),
    spec: { rules },
  });
  const gateway = (addresses?: Obj[]): Obj => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: meta('mlflow'),
    spec: { gatewayClassName: 'gke-l7-global-external-managed', listeners: [], ...(addresses ? { addresses } : {}) },
  });

  test('an Ingress: its load balancer and its ephemeral IP, naming the hosts; a reserved IP stays', () => {
    expect(dangers([ingress()], [gateway()])).toEqual([
      'deletes Ingress mlflow/mlflow: deleting the Ingress deletes its load balancer and releases its external IP address: requests to mlflow.example.com, ml.example.org fail until DNS points at the address of what replaces it',
    ]);
    expect(dangers([ingress({ 'kubernetes.io/ingress.global-static-ip-name': 'mlflow-ip' }, [])], [])).toEqual([
      'deletes Ingress mlflow/mlflow: deleting the Ingress deletes its load balancer; its reserved IP address mlflow-ip stays: requests to its hosts fail until a load balancer that uses mlflow-ip serves them',
    ]);
    expect(dangers([ingress({ 'kubernetes.io/ingress.regional-static-ip-name': 'mlflow-internal' })], [])).toEqual([
      'deletes Ingress mlflow/mlflow: deleting the Ingress deletes its load balancer; its reserved IP address mlflow-internal stays: requests to mlflow.example.com, ml.example.org fail until a load balancer that uses mlflow-internal serves them',
    ]);
  });

  test('a Gateway: its load balancer, and its address unless a named one; a changed Ingress or an added Gateway deletes nothing', () => {
    expect(dangers([gateway()], [ingress()])).toEqual([
      'deletes Gateway mlflow/mlflow: deleting the Gateway deletes its load balancer and releases its IP address: requests to the hosts of its routes fail until DNS points at the address of what replaces it',
    ]);
    expect(dangers([gateway([{ type: 'NamedAddress', value: 'mlflow-ip' }])], [])).toEqual([
      'deletes Gateway mlflow/mlflow: deleting the Gateway deletes its load balancer; its named (reserved) address stays: requests to the hosts of its routes fail until a load balancer that uses it serves them',
    ]);
    expect(dangers([ingress()], [ingress({}, [{ host: 'mlflow.example.com' }])])).toEqual([]);
    expect(dangers([], [gateway(), ingress()])).toEqual([]);
  });

  test('only the Kubernetes Ingress and the Gateway API Gateway: other kinds of those names are not load balancers', () => {
    expect(dangers([{ ...ingress(), apiVersion: 'example.com/v1' }, { ...gateway(), apiVersion: 'networking.istio.io/v1' }], [])).toEqual([]);
  });
});

describe('NetworkPolicy allows more', () => {
  const policy = (egress: Obj[], extra: Obj = {}): Obj => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta('mlflow-egress'),
    spec: { podSelector: { matchLabels: { app: 'mlflow' } }, policyTypes: ['Egress'], egress, ...extra },
  });
  const https = { ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16'] } }] };
  const dns = { ports: [{ port: 53, protocol: 'UDP' }], to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }] };

  test('an added rule, an added peer, a new 0.0.0.0/0, a dropped exception, a removed port or peer restriction, an added port', () => {
    expect(dangers([policy([dns])], [policy([dns, { ports: [{ port: 3306 }], to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: adds an egress rule to ipBlock 0.0.0.0/0 (any address) on TCP/3306',
    ]);
    expect(dangers([policy([dns])], [policy([{ ...dns, to: [...dns.to, { ipBlock: { cidr: '10.8.0.0/16' } }] }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to namespaceSelector {kubernetes.io/metadata.name=kube-system} on UDP/53: adds peer ipBlock 10.8.0.0/16',
    ]);
    expect(dangers([policy([https])], [policy([{ ...https, to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to ipBlock 0.0.0.0/0 (any address) except 10.0.0.0/8,192.168.0.0/16 on TCP/443: ipBlock 0.0.0.0/0 no longer excepts 192.168.0.0/16',
    ]);
    // A CIDR that gains an exception, or keeps the same ones, is narrower or the same: no danger.
    const cidr = (except?: string[]) => ({ ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '10.8.0.0/16', ...(except ? { except } : {}) } }] });
    expect(dangers([policy([cidr()])], [policy([cidr(['10.8.1.0/24'])])])).toEqual([]);
    expect(dangers([policy([cidr(['10.8.1.0/24'])])], [policy([{ ...cidr(['10.8.1.0/24']), ports: [{ port: 443, protocol: 'TCP' }] }])])).toEqual([]);
    expect(dangers([policy([cidr(['10.8.1.0/24'])])], [policy([cidr()])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to ipBlock 10.8.0.0/16 except 10.8.1.0/24 on TCP/443: ipBlock 10.8.0.0/16 no longer excepts 10.8.1.0/24',
    ]);
    expect(dangers([policy([dns])], [policy([{ to: dns.to }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to namespaceSelector {kubernetes.io/metadata.name=kube-system} on UDP/53: the port restriction is removed (any port)',
    ]);
    expect(dangers([policy([dns])], [policy([{ ports: dns.ports }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to namespaceSelector {kubernetes.io/metadata.name=kube-system} on UDP/53: the peer restriction is removed (to anywhere)',
    ]);
    expect(dangers([policy([dns])], [policy([{ ...dns, ports: [...dns.ports, { port: 53, protocol: 'TCP' }] }])])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: egress rule to namespaceSelector {kubernetes.io/metadata.name=kube-system} on UDP/53: adds port TCP/53',
    ]);
  });

  test('narrowing is not flagged: a removed rule, peer or port, an added exception', () => {
    expect(dangers([policy([dns, https])], [policy([dns])])).toEqual([]);
    expect(dangers([policy([{ ...dns, ports: [...dns.ports, { port: 53, protocol: 'TCP' }] }])], [policy([dns])])).toEqual([]);
    expect(dangers([policy([https])], [policy([{ ...https, to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '192.168.0.0/16', '172.16.0.0/12'] } }] }])])).toEqual([]);
  });

  test('policy types dropped, another pod selector, a deny-all removed', () => {
    expect(dangers([policy([dns])], [policy([dns], { policyTypes: [] })])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: policyTypes no longer include Egress: egress of the selected pods is no longer restricted by this policy',
    ]);
    expect(dangers([policy([dns])], [policy([dns], { podSelector: {} })])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: podSelector {app=mlflow} → {}: the rules now apply to other pods',
    ]);
    expect(dangers([policy([])], [])).toEqual([
      'network NetworkPolicy mlflow/mlflow-egress: removes a deny-all for Egress: the pods {app=mlflow} lose that isolation unless another policy selects them',
    ]);
  });
});

describe('roll-outs, waves, versions', () => {
  const deployment = (image: string, wave = '1', strategy: Obj = { type: 'RollingUpdate' }): Obj => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('mlflow', { annotations: { 'argocd.argoproj.io/sync-wave': wave } }),
    spec: {
      selector: { matchLabels: { app: 'mlflow' } },
      strategy,
      template: { metadata: { labels: { app: 'mlflow' } }, spec: { containers: [{ name: 'mlflow', image }, { name: 'proxy', image: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0' }] } },
    },
  });

  test('going back a minor version says to restore the backup; a proxy bump is no MLflow migration', () => {
    expect(dangers([deployment('ghcr.io/mlflow/mlflow:v3.18.0')], [deployment('ghcr.io/mlflow/mlflow:v3.17.2')])).toEqual([
      'migration Deployment mlflow/mlflow: MLflow 3.18.0 → 3.17.2 goes back a minor version: the older server refuses a newer schema; restore the database backup taken before the upgrade together with this change',
      'rolls-pods Deployment mlflow/mlflow: the pod template changes (1 field): every pod is replaced, RollingUpdate',
    ]);
    const withProxy = (tag: string) => {
      const d = deployment('ghcr.io/mlflow/mlflow:v3.17.0') as any;
      d.spec.template.spec.containers[1].image = `gcr.io/cloud-sql-connectors/cloud-sql-proxy:${tag}`;
      return d;
    };
    expect(dangers([withProxy('2.23.0')], [withProxy('2.24.0')])).toEqual([
      'rolls-pods Deployment mlflow/mlflow: the pod template changes (1 field): every pod is replaced, RollingUpdate',
    ]);
  });

  test('a wave moving and a hook changing phase', () => {
    const hookJob = (hook: string): Obj => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta('migrate', { annotations: { 'argocd.argoproj.io/hook': hook } }), spec: {} });
    expect(dangers([deployment('ghcr.io/mlflow/mlflow:v3.17.0', '1'), hookJob('Sync')], [deployment('ghcr.io/mlflow/mlflow:v3.17.0', '2'), hookJob('PreSync')])).toEqual([
      'wave Job mlflow/migrate: hook Sync → PreSync: it runs in a different sync phase',
      'wave Deployment mlflow/mlflow: sync wave 1 → 2: it is applied in a different order relative to the other objects',
    ]);
  });
});

describe('the report', () => {
  test('Secret data is never printed; an apiVersion change is a change of the same object; text changes show as lines', () => {
    const secret = (v: string): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta('s'), data: { password: Buffer.from(v).toString('base64') }, stringData: { token: v } });
    const cm = (apiVersion: string, script: string): Obj => ({ apiVersion, kind: 'ConfigMap', metadata: meta('script'), data: { 'run.py': script } });
    const r = diffReport({
      baseLabel: 'base',
      headLabel: 'head',
      base: [secret('hunter2'), cm('v1', 'import os\nprint(1)\nexit(0)\n')].map(file),
      head: [secret('correct horse'), cm('v2', 'import os\nprint(2)\nexit(0)\n')].map(file),
    });
    expect(formatText(r)).toBe(`Rendered manifests: base → head

No dangers found.

dev: 2 changed
  dist/dev/mlflow
    ~ ConfigMap mlflow/script (wave 1)
        apiVersion: "v1" → "v2"
        data["run.py"]: text changed
            @@ line 2
            - print(1)
            + print(2)
    ~ Secret mlflow/s (wave 1)
        data.password: (hidden: Secret data)
        stringData.token: (hidden: Secret data)
`);
  });

  test('Markdown: an environment without changes is listed in one line; the body stays under the comment limit', () => {
    const cm = (i: number, v: string): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`c${i}`), data: { v } });
    const many = (v: string) => Array.from({ length: 100 }, (_, i) => file(cm(i, v.repeat(700))));
    const unchanged = { path: 'dist/prod/mlflow/configmap-x.yaml', content: yaml.dump(cm(0, 'same')) };
    const md = formatMarkdown(diffReport({ baseLabel: 'base', headLabel: 'head', base: [...many('a'), unchanged], head: [...many('b'), unchanged] }));
    expect(md.startsWith(`${MARKDOWN_MARKER}\n### Rendered manifests: base → head\n\nNo dangers found.\n\n<details><summary><b>dev</b>: 100 changed</summary>\n`)).toBe(true);
    expect(md.length).toBeLessThanOrEqual(MARKDOWN_LIMIT);
    expect(md).toContain('Field changes left out: the comment would be too long. Run `npm run diff` to see them.');
    expect(md).toContain('~ ConfigMap mlflow/c99 (wave 1)\n```');
    expect(md.endsWith('</details>\n\nNo changes: `prod`.\n')).toBe(true);
  });

  test('Markdown: when even the object lists are too long, a count per environment', () => {
    const cm = (i: number, v: string): RenderedFile => file({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${'x'.repeat(240)}-${i}`), data: { v } });
    const many = (v: string) => Array.from({ length: 300 }, (_, i) => cm(i, v));
    const md = formatMarkdown(diffReport({ baseLabel: 'base', headLabel: 'head', base: many('a'), head: many('b') }));
    expect(md).toBe(`${MARKDOWN_MARKER}
### Rendered manifests: base → head

No dangers found.

- **dev**: 300 changed

Objects left out: the comment would be too long. Run \`npm run diff\` to see them.
`);
  });
});

describe('every branch of the rules', () => {
  const deployLike = (kind: string, labels: Obj, extra: Obj = {}): Obj => ({
    apiVersion: 'apps/v1',
    kind,
    metadata: meta('x'),
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'busybox:1.36.0' }] } }, ...extra },
  });

  test('a selector change is refused for a ReplicaSet and a DaemonSet too (and their pods roll); not for a kind without that rule', () => {
    expect(dangers([deployLike('ReplicaSet', { a: '1' })], [deployLike('ReplicaSet', { a: '2' })])).toEqual([
      `immutable ReplicaSet mlflow/x: spec.selector is immutable (spec.selector.matchLabels.a): ${HINT}; re-creating stops every pod at once`,
    ]);
    expect(dangers([deployLike('DaemonSet', { a: '1' })], [deployLike('DaemonSet', { a: '2' })])).toEqual([
      `immutable DaemonSet mlflow/x: spec.selector is immutable (spec.selector.matchLabels.a): ${HINT}; re-creating stops every pod at once`,
      'rolls-pods DaemonSet mlflow/x: the pod template changes (1 field): every pod is replaced, RollingUpdate',
    ]);
    expect(dangers([deployLike('PodDisruptionBudget', { a: '1' })], [deployLike('PodDisruptionBudget', { a: '2' })])).toEqual([]);
  });

  test('StatefulSet: serviceName and podManagementPolicy; its pods roll by its updateStrategy (OnDelete)', () => {
    const sts = (serviceName: string, podManagementPolicy: string): Obj => deployLike('StatefulSet', { a: '1' }, { serviceName, podManagementPolicy, updateStrategy: { type: 'OnDelete' } });
    const withImage = (o: Obj, image: string): Obj => {
      const s = o.spec as Obj;
      return { ...o, spec: { ...s, template: { ...(s.template as Obj), spec: { containers: [{ name: 'c', image }] } } } };
    };
    expect(dangers([sts('db', 'OrderedReady')], [sts('database', 'Parallel')])).toEqual([
      `immutable StatefulSet mlflow/x: spec.serviceName is immutable (spec.serviceName): ${HINT}`,
      `immutable StatefulSet mlflow/x: spec.podManagementPolicy is immutable (spec.podManagementPolicy): ${HINT}`,
    ]);
    expect(dangers([sts('db', 'Parallel')], [withImage(sts('db', 'Parallel'), 'busybox:1.37.0')])).toEqual([
      'rolls-pods StatefulSet mlflow/x: the pod template changes (1 field): every pod is replaced, OnDelete: pods change only when deleted',
    ]);
  });

  test('rolling update parameters: given, or the Kubernetes defaults (25 %); two fields are "fields"', () => {
    const d = (image: string, strategy: Obj): Obj => {
      const o = deployLike('Deployment', { a: '1' }, { strategy });
      return { ...o, spec: { ...(o.spec as Obj), template: { spec: { containers: [{ name: 'c', image, args: [image] }] } } } };
    };
    expect(dangers([d('busybox:1.36.0', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } })], [d('busybox:1.36.1', { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } })])).toEqual([
      'rolls-pods Deployment mlflow/x: the pod template changes (2 fields): every pod is replaced, RollingUpdate (maxSurge 1, maxUnavailable 25%)',
    ]);
    expect(dangers([d('busybox:1.36.0', { rollingUpdate: { maxUnavailable: 0 } })], [d('busybox:1.36.1', { rollingUpdate: { maxUnavailable: 0 } })])).toEqual([
      'rolls-pods Deployment mlflow/x: the pod template changes (2 fields): every pod is replaced, RollingUpdate (maxSurge 25%, maxUnavailable 0)',
    ]);
    // A change outside the pod template rolls nothing.
    expect(dangers([deployLike('Deployment', { a: '1' }, { replicas: 1 })], [deployLike('Deployment', { a: '1' }, { replicas: 2 })])).toEqual([]);
  });

  test('a Job selector (not a hook); a Helm hook counts as a hook', () => {
    const job = (annotations: Obj, selector: Obj): Obj => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: meta('j', { annotations }), spec: { selector, template: { spec: { containers: [{ name: 'c', image: 'busybox:1.36.0' }] } } } });
    expect(dangers([job({}, { matchLabels: { a: '1' } })], [job({}, { matchLabels: { a: '2' } })])).toEqual([
      `immutable Job mlflow/j: spec.selector is immutable (spec.selector.matchLabels.a): ${HINT}`,
    ]);
    expect(dangers([job({ 'helm.sh/hook': 'pre-install' }, { matchLabels: { a: '1' } })], [job({ 'helm.sh/hook': 'pre-install' }, { matchLabels: { a: '2' } })])).toEqual([]);
  });

  test('PersistentVolumeClaim: access modes, volume mode, volume name; sizes compared across units; an unreadable size is not compared', () => {
    const pvc = (spec: Obj): Obj => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('data'), spec: { resources: { requests: { storage: '1Gi' } }, ...spec } });
    const why = `a bound claim keeps its volume: ${HINT}, which deletes the data unless the volume is retained`;
    expect(dangers([pvc({ accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', volumeName: 'pv-1' })], [pvc({ accessModes: ['ReadWriteMany'], volumeMode: 'Block', volumeName: 'pv-2' })])).toEqual([
      `immutable PersistentVolumeClaim mlflow/data: spec.accessModes is immutable (spec.accessModes[0]): ${why}`,
      `immutable PersistentVolumeClaim mlflow/data: spec.volumeMode is immutable (spec.volumeMode): ${why}`,
      `immutable PersistentVolumeClaim mlflow/data: spec.volumeName is immutable (spec.volumeName): ${why}`,
    ]);
    const sized = (storage: string) => pvc({ resources: { requests: { storage } } });
    expect(dangers([sized('1G')], [sized('1Gi')])).toEqual([]);
    expect(dangers([sized('1Gi')], [sized('1G')])).toEqual([
      'immutable PersistentVolumeClaim mlflow/data: spec.resources.requests.storage shrinks 1Gi → 1G: a claim can only grow; the API server refuses the update',
    ]);
    expect(dangers([sized('1.5Ti')], [sized('1536Gi')])).toEqual([]);
    expect(dangers([sized('2000k')], [sized('1M')])).toEqual([
      'immutable PersistentVolumeClaim mlflow/data: spec.resources.requests.storage shrinks 2000k → 1M: a claim can only grow; the API server refuses the update',
    ]);
    expect(dangers([sized('2Gi')], [sized('lots')])).toEqual([]);
    expect(dangers([sized('lots')], [sized('1Mi')])).toEqual([]);
  });

  test('Service: clusterIPs too; an ExternalName Service has no cluster IP to keep', () => {
    expect(dangers([service({ clusterIPs: ['10.0.0.10'] })], [service({ clusterIPs: ['10.0.0.11'] })])).toEqual([
      `immutable Service mlflow/mlflow: spec.clusterIP is immutable (spec.clusterIPs[0]): ${HINT}; a new cluster IP breaks clients that cached the old one`,
    ]);
    expect(dangers([service({ type: 'ExternalName', externalName: 'a.example.com' })], [service({ type: 'ExternalName', externalName: 'b.example.com' })])).toEqual([]);
    expect(dangers([service({ type: 'NodePort' })], [service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: 'None' })])).toEqual([
      'immutable Service mlflow/mlflow: type NodePort → ExternalName: the allocated spec.clusterIP must be cleared in the same update, and an apply does not clear it: the API server refuses the update',
    ]);
  });

  test('each Service type transition with its effects', () => {
    const t = (was: Obj, now: Obj) => dangers([service(was)], [service(now)]);
    expect(t({ type: 'ExternalName', externalName: 'db.example.com' }, {})).toEqual([
      'service-type Service mlflow/mlflow: type ExternalName → ClusterIP: a cluster IP is allocated and the DNS name stops being a CNAME',
    ]);
    expect(t({ type: 'NodePort' }, { type: 'ClusterIP' })).toEqual(['service-type Service mlflow/mlflow: type NodePort → ClusterIP: the node ports are released']);
    expect(t({}, { type: 'NodePort' })).toEqual(['service-type Service mlflow/mlflow: type ClusterIP → NodePort: a port is opened on every node']);
    expect(t({ type: 'LoadBalancer' }, { type: 'NodePort' })).toEqual(['service-type Service mlflow/mlflow: type LoadBalancer → NodePort: the cloud load balancer and its external IP are released']);
    expect(t({ type: 'NodePort' }, { type: 'LoadBalancer' })).toEqual(['service-type Service mlflow/mlflow: type NodePort → LoadBalancer: a cloud load balancer with a new external IP is created']);
    expect(t({ type: 'ClusterIP' }, {})).toEqual([]);
  });

  test('deletions: an ExternalSecret without a target name names its own; an Application without the resources finalizer, a Service, a ConfigMap delete nothing else', () => {
    const es: Obj = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: meta('mlflow-db'), spec: {} };
    expect(dangers([es], [])).toEqual([
      'deletes ExternalSecret mlflow/mlflow-db: deletes its target Secret mlflow-db with it (creationPolicy Owner): pods that read it fail to start',
    ]);
    const appWith = (finalizers: string[]): Obj => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'a', namespace: 'argocd', finalizers }, spec: {} });
    expect(dangers([appWith(['resources-finalizer.argocd.argoproj.io/background'])], [])).toEqual([
      'deletes Application argocd/a: deleting the Application deletes every object it manages (resources finalizer)',
    ]);
    expect(dangers([appWith(['other.example.com/finalizer'])], [])).toEqual([]);
    expect(dangers([{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name: 'a', namespace: 'argocd' }, spec: {} }], [])).toEqual([]);
    expect(dangers([service({}), { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c'), data: {} }], [])).toEqual([]);
  });

  test('an ExternalSecret target rename: by its name when no target name is set; not flagged when the old target is not owned', () => {
    const es = (name: string, target: Obj): Obj => ({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: meta(name), spec: { target } });
    expect(dangers([es('db', {})], [es('db', { name: 'db-v2' })])).toEqual([
      'deletes ExternalSecret mlflow/db: target Secret db → db-v2: db is deleted (creationPolicy Owner); pods that still read it fail to start',
    ]);
    expect(dangers([es('db', { name: 'a', creationPolicy: 'Merge' })], [es('db', { name: 'b', creationPolicy: 'Merge' })])).toEqual([]);
    expect(dangers([es('db', { name: 'a', creationPolicy: 'Owner' })], [es('db', { name: 'a', creationPolicy: 'Orphan' })])).toEqual([]);
  });

  test('hooks added and removed move the object to another phase', () => {
    const cmWith = (annotations: Obj): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('c', { annotations }), data: {} });
    expect(dangers([cmWith({})], [cmWith({ 'argocd.argoproj.io/hook': 'PreSync' })])).toEqual(['wave ConfigMap mlflow/c: hook none → PreSync: it runs in a different sync phase']);
    expect(dangers([cmWith({ 'argocd.argoproj.io/hook': 'PreSync,PostSync' })], [cmWith({})])).toEqual(['wave ConfigMap mlflow/c: hook PreSync+PostSync → none: it runs in a different sync phase']);
  });
});

describe('MLflow versions across a folder', () => {
  const workload = (kind: string, name: string, image: string): Obj => {
    const pod = { spec: { initContainers: [{ name: 'migrate', image }], containers: [{ name: 'mlflow', image }] } };
    return { apiVersion: kind === 'Deployment' ? 'apps/v1' : 'batch/v1', kind, metadata: meta(name), spec: kind === 'CronJob' ? { jobTemplate: { spec: { template: pod } } } : { template: pod } };
  };
  const migrationLines = (was: string, now: string, kinds = ['Deployment']) =>
    dangers(kinds.map((k) => workload(k, `mlflow-${k.toLowerCase()}`, was)), kinds.map((k) => workload(k, `mlflow-${k.toLowerCase()}`, now))).filter((d) => d.startsWith('migration'));
  const UP = 'crosses a minor version: the database schema is migrated on deploy, forward only; rolling back needs a database restore (take a backup before merging)';
  const DOWN = 'goes back a minor version: the older server refuses a newer schema; restore the database backup taken before the upgrade together with this change';

  test('one danger per crossing, naming every object of the folder that crosses it (CronJobs and Jobs too)', () => {
    expect(migrationLines('ghcr.io/mlflow/mlflow:v3.17.0-full', 'ghcr.io/mlflow/mlflow:v3.18.1-full', ['Deployment', 'Job', 'CronJob'])).toEqual([
      // In apply order (same wave: by API group and kind).
      `migration Deployment mlflow/mlflow-deployment, CronJob mlflow/mlflow-cronjob, Job mlflow/mlflow-job: MLflow 3.17.0 → 3.18.1 ${UP}`,
    ]);
  });

  test('major versions: up crosses, down goes back, even when the minor number goes the other way', () => {
    expect(migrationLines('mlflow:3.19.0', 'mlflow:4.0.0')).toEqual([`migration Deployment mlflow/mlflow-deployment: MLflow 3.19.0 → 4.0.0 ${UP}`]);
    expect(migrationLines('mlflow:4.0.0', 'mlflow:3.19.0')).toEqual([`migration Deployment mlflow/mlflow-deployment: MLflow 4.0.0 → 3.19.0 ${DOWN}`]);
    expect(migrationLines('mlflow:3.19.0', 'mlflow:3.19.5')).toEqual([]);
  });

  test('only MLflow images with a version tag count: a digest after the tag is fine; another image, no tag, a registry port are not versions', () => {
    expect(migrationLines('ghcr.io/mlflow/mlflow:v3.17.0@sha256:0123', 'ghcr.io/mlflow/mlflow:v3.18.0@sha256:4567')).toEqual([`migration Deployment mlflow/mlflow-deployment: MLflow 3.17.0 → 3.18.0 ${UP}`]);
    expect(migrationLines('ghcr.io/mlflow/mlflow:v3.17.0', 'example.com/tracking:v3.18.0')).toEqual([]);
    expect(migrationLines('example.com/tracking:v3.17.0', 'ghcr.io/mlflow/mlflow:v3.18.0')).toEqual([]);
    expect(migrationLines('ghcr.io/mlflow/mlflow:v3.17.0', 'ghcr.io/mlflow/mlflow:latest')).toEqual([]);
    expect(migrationLines('ghcr.io/mlflow/mlflow:v3.17.0', 'localhost:5000/mlflow')).toEqual([]);
  });
});

describe('NetworkPolicy texts', () => {
  const np = (spec: Obj, name = 'p', namespace = 'mlflow'): Obj => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { ...meta(name), namespace }, spec });

  test('a new policy: its ingress rules with every kind of peer and port, only for the policy types in effect', () => {
    const spec = {
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { team: 'ml' } }, podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }, { key: 'canary', operator: 'DoesNotExist' }] } },
            { ipBlock: { cidr: '::/0' } },
            {},
          ],
          ports: [{ port: 8000, endPort: 9000 }, { protocol: 'UDP' }],
        },
        {},
      ],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
    };
    expect(dangers([], [np(spec)])).toEqual([
      'network NetworkPolicy mlflow/p: new policy allows ingress from namespaceSelector {team=ml} + podSelector {tier In (web,api), canary DoesNotExist}, ipBlock ::/0 (any address), {} on TCP/8000-9000, UDP/any',
      'network NetworkPolicy mlflow/p: new policy allows ingress from anywhere on any port',
      'network NetworkPolicy mlflow/p: new policy allows egress to ipBlock 10.0.0.0/8 on any port',
    ]);
    expect(dangers([], [np({ ...spec, policyTypes: ['Egress'] })])).toEqual(['network NetworkPolicy mlflow/p: new policy allows egress to ipBlock 10.0.0.0/8 on any port']);
    expect(dangers([], [np({ podSelector: {}, ingress: spec.ingress })]).length).toBe(2);
  });

  test('a rule that gains a port restriction allows less; a removed policy that is no deny-all is not flagged; a removed deny-all of both directions', () => {
    const rule = (r: Obj) => np({ podSelector: {}, policyTypes: ['Egress'], egress: [r] });
    const to = [{ ipBlock: { cidr: '10.0.0.0/8' } }];
    expect(dangers([rule({ to })], [rule({ to, ports: [{ port: 443 }] })])).toEqual([]);
    expect(dangers([rule({ to })], [])).toEqual([]);
    expect(dangers([np({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }, 'deny-all')], [])).toEqual([
      'network NetworkPolicy mlflow/deny-all: removes a deny-all for Ingress and Egress: every pod in mlflow loses that isolation unless another policy selects them',
    ]);
    expect(dangers([np({ podSelector: {} }, 'deny-ingress')], [])).toEqual([
      'network NetworkPolicy mlflow/deny-ingress: removes a deny-all for Ingress: every pod in mlflow loses that isolation unless another policy selects them',
    ]);
  });

  test('policies that only move to another namespace are not flagged; one that changes on the way is; the ingress direction says "from"', () => {
    const spec = { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }] }] };
    expect(dangers([np(spec, 'p', 'old')], [np(spec, 'p', 'new')])).toEqual([]);
    expect(dangers([np(spec, 'p', 'old')], [np({ ...spec, ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }, { podSelector: {} }] }] }, 'p', 'new')])).toEqual([
      'network NetworkPolicy new/p: new policy allows ingress from podSelector {a=1}, podSelector {} on any port',
    ]);
    expect(dangers([np(spec)], [np({ ...spec, ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }, { podSelector: {} }] }] })])).toEqual([
      'network NetworkPolicy mlflow/p: ingress rule from podSelector {a=1} on any port: adds peer podSelector {}',
    ]);
  });

  describe('a policy that moves: removed in one namespace, added with the same name and spec in another, in the same folder', () => {
    // Allows ingress from {a=1} and denies all egress: its addition and its removal are each a danger of their own.
    const spec = { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }] }] };
    const added = (ns: string, name = 'p') => `network NetworkPolicy ${ns}/${name}: new policy allows ingress from podSelector {a=1} on any port`;
    const removed = (ns: string, name = 'p') => `network NetworkPolicy ${ns}/${name}: removes a deny-all for Egress: every pod in ${ns} loses that isolation unless another policy selects them`;

    test('each alone is a danger; together, unchanged, neither is', () => {
      expect(dangers([], [np(spec, 'p', 'new')])).toEqual([added('new')]);
      expect(dangers([np(spec, 'p', 'old')], [])).toEqual([removed('old')]);
      expect(dangers([np(spec, 'p', 'old')], [np(spec, 'p', 'new')])).toEqual([]);
    });

    test('another name, or another spec, is no move: both the removal and the addition are reported', () => {
      expect(dangers([np(spec, 'p', 'old')], [np(spec, 'q', 'new')])).toEqual([added('new', 'q'), removed('old')]);
      const other = { ...spec, ingress: [{ from: [{ podSelector: { matchLabels: { a: '2' } } }] }] };
      expect(dangers([np(spec, 'p', 'old')], [np(other, 'p', 'new')])).toEqual([
        'network NetworkPolicy new/p: new policy allows ingress from podSelector {a=2} on any port',
        removed('old'),
      ]);
    });

    test('one removed policy accounts for one added copy only: a second copy is a new policy', () => {
      expect(dangers([np(spec, 'p', 'old')], [np(spec, 'p', 'new'), np(spec, 'p', 'other')])).toEqual([added('other')]);
      expect(dangers([np(spec, 'p', 'old'), np(spec, 'p', 'older')], [np(spec, 'p', 'new'), np(spec, 'p', 'other')])).toEqual([]);
    });

    test('only a removed policy is a twin, of an added one: a policy that stays and changes from, or into, that spec is none', () => {
      const wider = { ...spec, ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }, { podSelector: {} }] }] };
      const widened = 'ingress rule from podSelector {a=1} on any port: adds peer podSelector {}';
      expect(dangers([np(spec, 'p', 'old')], [np(wider, 'p', 'old'), np(spec, 'p', 'new')])).toEqual([added('new'), `network NetworkPolicy old/p: ${widened}`]);
      // A removal next to a policy that narrows into the removed one's spec: the removal is reported, the narrowing is not a danger.
      expect(dangers([np(spec, 'p', 'old'), np(wider, 'p', 'new')], [np(spec, 'p', 'new')])).toEqual([removed('old')]);
    });

    test('a removed or an added policy without metadata is known by its file and pairs with no named one', () => {
      const bare = (file: string) => ({ path: `dist/dev/mlflow/${file}.yaml`, content: yaml.dump({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec }) });
      const named = file(np(spec, 'p', 'new'));
      const lines = (base: RenderedFile[], head: RenderedFile[]) => diffReport({ baseLabel: 'base', headLabel: 'head', base, head }).dangers.map((d) => `${d.kind} ${d.object}: ${d.message}`);
      expect(lines([bare('a')], [named])).toEqual(['network NetworkPolicy (no name): removes a deny-all for Egress: every pod in its namespace loses that isolation unless another policy selects them', added('new')]);
      expect(lines([file(np(spec, 'p', 'old'))], [bare('a')])).toEqual(['network NetworkPolicy (no name): new policy allows ingress from podSelector {a=1} on any port', removed('old')]);
    });
  });

  describe('a policy that is new with its namespace widens nothing: no pod was there before', () => {
    const spec = { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] };
    const namespace = (name: string): Obj => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations: { 'argocd.argoproj.io/sync-wave': '-3' } } });
    const added = (ns: string) => `network NetworkPolicy ${ns}/p: new policy allows ingress from podSelector {} on any port`;

    test('added with its Namespace: not flagged; added to a namespace that was there (or is not rendered here): flagged', () => {
      expect(dangers([], [namespace('new'), np(spec, 'p', 'new')])).toEqual([]);
      expect(dangers([namespace('mlflow')], [namespace('mlflow'), np(spec, 'p', 'mlflow')])).toEqual([added('mlflow')]);
      expect(dangers([], [namespace('other'), np(spec, 'p', 'new')])).toEqual([added('new')]);
    });

    test('a namespace renamed with a policy changed on the way is a move: the policy is still judged', () => {
      const before = { ...spec, ingress: [{ from: [{ podSelector: { matchLabels: { a: '1' } } }] }] };
      expect(dangers([namespace('old'), np(before, 'p', 'old')], [namespace('new'), np(spec, 'p', 'new')])).toEqual([
        'deletes Namespace old: deleting a Namespace deletes everything in it: volumes and their data, Secrets, and objects other tools put there',
        added('new'),
      ]);
    });
  });

  test('a removed deny-all without a namespace, or without any metadata (the report names it by its file), leaves "its namespace"', () => {
    const denyAll = { podSelector: {}, policyTypes: ['Ingress'] };
    const message = 'removes a deny-all for Ingress: every pod in its namespace loses that isolation unless another policy selects them';
    expect(dangers([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p' }, spec: denyAll }], [])).toEqual([`network NetworkPolicy p: ${message}`]);
    const bare = { path: 'dist/dev/mlflow/networkpolicy.yaml', content: yaml.dump({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', spec: denyAll }) };
    const r = diffReport({ baseLabel: 'base', headLabel: 'head', base: [bare], head: [] });
    expect(r.dangers.map((d) => `${d.kind} ${d.object}: ${d.message}`)).toEqual([`network NetworkPolicy (no name): ${message}`]);
  });

  test('without policyTypes, Egress is in effect only when egress rules exist', () => {
    const r = { to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] };
    expect(dangers([np({ podSelector: {}, egress: [r] })], [np({ podSelector: {}, egress: [r, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }] })])).toEqual([
      'network NetworkPolicy mlflow/p: adds an egress rule to ipBlock 0.0.0.0/0 (any address) on any port',
    ]);
  });
});

describe('the order of the dangers', () => {
  test('by heading: refused, deletes, migration, network, service type, rolls, wave', () => {
    const d = (wave: string, image: string): Obj => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('mlflow', { annotations: { 'argocd.argoproj.io/sync-wave': wave } }),
      spec: { selector: { matchLabels: { image } }, template: { spec: { containers: [{ name: 'mlflow', image }] } } },
    });
    const base = [d('1', 'ghcr.io/mlflow/mlflow:v3.17.0'), service({}), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'mlflow' } }, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('p'), spec: { podSelector: {}, policyTypes: ['Egress'] } }];
    const head = [d('2', 'ghcr.io/mlflow/mlflow:v3.18.0'), service({ type: 'NodePort' }), { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('p'), spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{}] } }];
    expect(dangers(base, head).map((l) => l.split(':')[0])).toEqual([
      'immutable Deployment mlflow/mlflow',
      'deletes Namespace mlflow',
      'migration Deployment mlflow/mlflow',
      'network NetworkPolicy mlflow/p',
      'service-type Service mlflow/mlflow',
      'rolls-pods Deployment mlflow/mlflow',
      'wave Deployment mlflow/mlflow',
    ]);
  });
});
