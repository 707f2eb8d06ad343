/**
 * What a reviewer must not miss in a rendered diff: changes the API server refuses, deletions that take data
 * or shared objects with them, pod roll-outs, sync waves moving, NetworkPolicies that allow more, and MLflow
 * upgrades that migrate the database schema. Each rule reads one {@link ObjectChange} (the migration rule
 * reads a folder), and says what will happen and what to do.
 */
import type { EnvironmentDiff, ObjectChange } from './compare';
import { deepEqual, formatPath, isPlainObject, startsWith, type FieldChange } from './fields';
import { displayName, hookPhasesOf, isHook, waveOf, type KubeObject } from './objects';
import { PROMOTION_ANNOTATION } from '../../lib/names';

export type DangerKind = 'immutable' | 'deletes' | 'rolls-pods' | 'wave' | 'network' | 'migration' | 'service-type';

/** A heading for each kind, in the order the report lists them. */
export const DANGER_TITLES: Readonly<Record<DangerKind, string>> = {
  immutable: 'Kubernetes will refuse',
  deletes: 'deletes state or shared objects',
  migration: 'MLflow schema migration',
  'network': 'NetworkPolicy allows more',
  'service-type': 'Service type changes',
  'rolls-pods': 'rolls the pods',
  wave: 'sync wave moves',
};
const ORDER = Object.keys(DANGER_TITLES) as DangerKind[];

export interface Danger {
  readonly kind: DangerKind;
  readonly env: string;
  readonly folder: string;
  /** `Deployment mlflow/mlflow`. */
  readonly object: string;
  readonly message: string;
}

type Obj = Record<string, any>;
const spec = (o: KubeObject | undefined): Obj => (isPlainObject(o?.spec) ? (o.spec as Obj) : {});

function changedUnder(c: ObjectChange, ...prefix: string[]): FieldChange[] {
  return c.fields.filter((f) => startsWith(f.path, ...prefix));
}

function paths(fields: readonly FieldChange[]): string {
  return fields.map((f) => formatPath(f.path)).join(', ');
}

// ---------------------------------------------------------------------------------------------------------
// Fields the API server refuses to change
// ---------------------------------------------------------------------------------------------------------

const RECREATE_HINT = 'the sync fails with "field is immutable" until the object is deleted and re-created (Argo CD sync option Replace=true, or a manual delete)';

/** Kubernetes quantity in bytes (`10Gi`, `500M`, `1e3`); undefined when unparsable. */
export function quantityBytes(q: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(String(q ?? ''));
  if (!m) return undefined;
  const unit: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1);
}

function immutable(c: ObjectChange): string[] {
  if (c.status !== 'changed') return [];
  const before = spec(c.before);
  const after = spec(c.after);
  const out: string[] = [];
  const fixed = (field: string, why = RECREATE_HINT) => {
    const f = changedUnder(c, 'spec', field);
    if (f.length > 0) out.push(`spec.${field} is immutable (${paths(f)}): ${why}`);
  };
  switch (c.after?.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      fixed('selector', `${RECREATE_HINT}; re-creating stops every pod at once`);
      break;
    case 'StatefulSet':
      for (const f of ['selector', 'serviceName', 'volumeClaimTemplates', 'podManagementPolicy']) fixed(f);
      break;
    case 'Job':
      if (!isHook(c.after)) {
        fixed('template', `a Job that is not an Argo CD hook is never re-created: ${RECREATE_HINT}; or make it a hook`);
        fixed('selector');
      }
      break;
    case 'PersistentVolumeClaim': {
      for (const f of ['storageClassName', 'accessModes', 'volumeMode', 'volumeName']) {
        fixed(f, `a bound claim keeps its volume: ${RECREATE_HINT}, which deletes the data unless the volume is retained`);
      }
      const was = quantityBytes(before.resources?.requests?.storage);
      const now = quantityBytes(after.resources?.requests?.storage);
      if (was !== undefined && now !== undefined && now < was) {
        out.push(`spec.resources.requests.storage shrinks ${before.resources.requests.storage} → ${after.resources.requests.storage}: a claim can only grow; the API server refuses the update`);
      }
      break;
    }
    case 'Service': {
      const externalName = before.type === 'ExternalName' || after.type === 'ExternalName';
      const ip = [...changedUnder(c, 'spec', 'clusterIP'), ...changedUnder(c, 'spec', 'clusterIPs')];
      if (ip.length > 0 && !externalName) out.push(`spec.clusterIP is immutable (${paths(ip)}): ${RECREATE_HINT}; a new cluster IP breaks clients that cached the old one`);
      if (after.type === 'ExternalName' && (before.type ?? 'ClusterIP') !== 'ExternalName') {
        out.push(`type ${before.type ?? 'ClusterIP'} → ExternalName: the allocated spec.clusterIP must be cleared in the same update, and an apply does not clear it: the API server refuses the update`);
      }
      break;
    }
  }
  return out;
}

function serviceType(c: ObjectChange): string[] {
  if (c.status !== 'changed' || c.after?.kind !== 'Service') return [];
  const was: string = spec(c.before).type ?? 'ClusterIP';
  const now: string = spec(c.after).type ?? 'ClusterIP';
  if (was === now || now === 'ExternalName') return [];
  const effects: string[] = [];
  if (was === 'ExternalName') effects.push('a cluster IP is allocated and the DNS name stops being a CNAME');
  if (was === 'LoadBalancer') effects.push('the cloud load balancer and its external IP are released');
  if (now === 'LoadBalancer') effects.push('a cloud load balancer with a new external IP is created');
  if (was === 'NodePort' || was === 'LoadBalancer') if (now === 'ClusterIP') effects.push('the node ports are released');
  if (now === 'NodePort' && was !== 'LoadBalancer') effects.push('a port is opened on every node');
  return [`type ${was} → ${now}: ${effects.join('; ')}`];
}

// ---------------------------------------------------------------------------------------------------------
// Deletions that take data or shared objects with them
// ---------------------------------------------------------------------------------------------------------

function deletion(c: ObjectChange): string[] {
  const o = c.before;
  if (c.status !== 'removed' || !o) return [];
  const s = spec(o);
  switch (o.kind) {
    case 'Namespace':
      return ['deleting a Namespace deletes everything in it: volumes and their data, Secrets, and objects other tools put there'];
    case 'PersistentVolumeClaim':
      return ['deleting the claim deletes its volume and the data on it (reclaim policy Delete, the default of dynamic provisioning)'];
    case 'ExternalSecret': {
      const target: string = s.target?.name ?? o.metadata?.name ?? '?';
      const policy: string = s.target?.creationPolicy ?? 'Owner';
      return policy === 'Owner'
        ? [`deletes its target Secret ${target} with it (creationPolicy Owner): pods that read it fail to start`]
        : [`its target Secret ${target} stays (creationPolicy ${policy}) but is no longer refreshed from the secret store`];
    }
    case 'CustomResourceDefinition':
      return ['deleting a CustomResourceDefinition deletes every object of that kind in the cluster'];
    case 'Application': {
      const finalizers = (o.metadata?.finalizers as string[] | undefined) ?? [];
      return finalizers.some((f) => f.startsWith('resources-finalizer.argocd.argoproj.io'))
        ? ['deleting the Application deletes every object it manages (resources finalizer)']
        : [];
    }
  }
  return [];
}

/** The annotations that make GKE's Ingress controller use a reserved (static) IP address, which outlives the Ingress. */
const STATIC_IP_ANNOTATIONS = ['kubernetes.io/ingress.global-static-ip-name', 'kubernetes.io/ingress.regional-static-ip-name'];

/** The hosts an Ingress or a Gateway's routes serve, for the message: `mlflow.example.com`, or `its hosts`. */
function servedHostsOf(o: KubeObject): string {
  const hosts = ((spec(o).rules as Obj[] | undefined) ?? []).map((r) => r.host).filter((h): h is string => typeof h === 'string');
  return hosts.length > 0 ? [...new Set(hosts)].join(', ') : 'its hosts';
}

/**
 * A removed Ingress or Gateway takes its cloud load balancer with it, and with it the external IP address unless that
 * is a reserved one: DNS still points at the old address (e.g. when `exposure.mode` switches between ingress and
 * gateway, the new load balancer gets a new address).
 */
function loadBalancerDeletion(c: ObjectChange): string[] {
  const o = c.before;
  if (c.status !== 'removed' || !o) return [];
  if (o.kind === 'Ingress' && o.apiVersion?.startsWith('networking.k8s.io/')) {
    const annotations = (o.metadata?.annotations as Record<string, string> | undefined) ?? {};
    const reserved = STATIC_IP_ANNOTATIONS.map((a) => annotations[a]).find((v) => v !== undefined);
    const effect =
      reserved !== undefined
        ? `; its reserved IP address ${reserved} stays: requests to ${servedHostsOf(o)} fail until a load balancer that uses ${reserved} serves them`
        : ` and releases its external IP address: requests to ${servedHostsOf(o)} fail until DNS points at the address of what replaces it`;
    return [`deleting the Ingress deletes its load balancer${effect}`];
  }
  if (o.kind === 'Gateway' && o.apiVersion?.startsWith('gateway.networking.k8s.io/')) {
    const named = ((spec(o).addresses as Obj[] | undefined) ?? []).some((a) => a.type === 'NamedAddress');
    const effect = named
      ? '; its named (reserved) address stays: requests to the hosts of its routes fail until a load balancer that uses it serves them'
      : ' and releases its IP address: requests to the hosts of its routes fail until DNS points at the address of what replaces it';
    return [`deleting the Gateway deletes its load balancer${effect}`];
  }
  return [];
}

function externalSecretTarget(c: ObjectChange): string[] {
  if (c.status !== 'changed' || c.after?.kind !== 'ExternalSecret') return [];
  const was: string = spec(c.before).target?.name ?? c.before?.metadata?.name;
  const now: string = spec(c.after).target?.name ?? c.after?.metadata?.name;
  if (was === now || (spec(c.before).target?.creationPolicy ?? 'Owner') !== 'Owner') return [];
  return [`target Secret ${was} → ${now}: ${was} is deleted (creationPolicy Owner); pods that still read it fail to start`];
}

// ---------------------------------------------------------------------------------------------------------
// Roll-outs and ordering
// ---------------------------------------------------------------------------------------------------------

function rollsPods(c: ObjectChange): string[] {
  if (c.status !== 'changed' || !['Deployment', 'StatefulSet', 'DaemonSet'].includes(c.after?.kind ?? '')) return [];
  const f = changedUnder(c, 'spec', 'template');
  if (f.length === 0) return [];
  const strategy = spec(c.after).strategy ?? spec(c.after).updateStrategy ?? {};
  const how =
    strategy.type === 'Recreate'
      ? 'Recreate: every pod stops before the new ones start (downtime)'
      : strategy.type === 'OnDelete'
        ? 'OnDelete: pods change only when deleted'
        : `${strategy.type ?? 'RollingUpdate'}${strategy.rollingUpdate ? ` (maxSurge ${strategy.rollingUpdate.maxSurge ?? '25%'}, maxUnavailable ${strategy.rollingUpdate.maxUnavailable ?? '25%'})` : ''}`;
  const promotion = ['spec', 'template', 'metadata', 'annotations', PROMOTION_ANNOTATION];
  if (f.every((x) => deepEqual(x.path, promotion))) {
    const count = (o: KubeObject | undefined) => (spec(o).template?.metadata?.annotations?.[PROMOTION_ANNOTATION] as string | undefined) ?? '(none)';
    return [`a promotion (${PROMOTION_ANNOTATION} ${count(c.before)} → ${count(c.after)}): every pod is replaced, ${how}, and the new pods resolve the served model's alias again`];
  }
  return [`the pod template changes (${f.length} field${f.length > 1 ? 's' : ''}): every pod is replaced, ${how}`];
}

function waveMoves(c: ObjectChange): string[] {
  if (c.status !== 'changed' || !c.before || !c.after) return [];
  const out: string[] = [];
  if (waveOf(c.before) !== waveOf(c.after)) out.push(`sync wave ${waveOf(c.before)} → ${waveOf(c.after)}: it is applied in a different order relative to the other objects`);
  const was = hookPhasesOf(c.before).join('+') || 'none';
  const now = hookPhasesOf(c.after).join('+') || 'none';
  if (was !== now) out.push(`hook ${was} → ${now}: it runs in a different sync phase`);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// NetworkPolicies: rules are allow-lists, so any addition allows more
// ---------------------------------------------------------------------------------------------------------

const ANY_ADDRESS = ['0.0.0.0/0', '::/0'];

function selector(s: Obj | undefined): string {
  if (!s) return '{}';
  const labels = Object.entries((s.matchLabels as Record<string, string>) ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = ((s.matchExpressions as Obj[]) ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${(e.values as string[]).join(',')})` : ''}`);
  return `{${[...labels, ...exprs].join(', ')}}`;
}

function peer(p: Obj): string {
  if (p.ipBlock) {
    const any = ANY_ADDRESS.includes(p.ipBlock.cidr) ? ' (any address)' : '';
    return `ipBlock ${p.ipBlock.cidr}${any}${p.ipBlock.except?.length ? ` except ${(p.ipBlock.except as string[]).join(',')}` : ''}`;
  }
  const parts: string[] = [];
  if (p.namespaceSelector) parts.push(`namespaceSelector ${selector(p.namespaceSelector)}`);
  if (p.podSelector) parts.push(`podSelector ${selector(p.podSelector)}`);
  return parts.join(' + ') || '{}';
}

function port(p: Obj): string {
  return `${p.protocol ?? 'TCP'}/${p.port ?? 'any'}${p.endPort ? `-${p.endPort}` : ''}`;
}

interface Direction {
  readonly name: 'ingress' | 'egress';
  readonly type: 'Ingress' | 'Egress';
  readonly peers: 'from' | 'to';
  readonly word: 'from' | 'to';
}
const DIRECTIONS: readonly Direction[] = [
  { name: 'ingress', type: 'Ingress', peers: 'from', word: 'from' },
  { name: 'egress', type: 'Egress', peers: 'to', word: 'to' },
];

function ruleText(d: Direction, r: Obj): string {
  const peers = (r[d.peers] as Obj[] | undefined) ?? [];
  const ports = (r.ports as Obj[] | undefined) ?? [];
  return `${d.word} ${peers.length > 0 ? peers.map(peer).join(', ') : 'anywhere'} on ${ports.length > 0 ? ports.map(port).join(', ') : 'any port'}`;
}

/** Policy types in effect (the API server's default: Ingress, plus Egress when egress rules exist). */
function policyTypes(s: Obj): string[] {
  return (s.policyTypes as string[] | undefined) ?? ['Ingress', ...(s.egress ? ['Egress'] : [])];
}

function widenedRule(d: Direction, was: Obj, now: Obj): string[] {
  const out: string[] = [];
  const peersWas = (was[d.peers] as Obj[] | undefined) ?? [];
  const peersNow = (now[d.peers] as Obj[] | undefined) ?? [];
  const portsWas = (was.ports as Obj[] | undefined) ?? [];
  const portsNow = (now.ports as Obj[] | undefined) ?? [];
  const among = (list: readonly Obj[], x: Obj) => list.some((y) => deepEqual(x, y));
  const where = `${d.name} rule ${ruleText(d, was)}`;
  if (peersWas.length > 0 && peersNow.length === 0) out.push(`${where}: the peer restriction is removed (${d.word} anywhere)`);
  for (const p of peersNow) {
    if (peersWas.length === 0 || among(peersWas, p)) continue;
    const sameCidr = p.ipBlock && peersWas.find((q) => q.ipBlock?.cidr === p.ipBlock.cidr);
    if (sameCidr) {
      const dropped = ((sameCidr.ipBlock.except as string[]) ?? []).filter((e) => !((p.ipBlock.except as string[]) ?? []).includes(e));
      if (dropped.length > 0) out.push(`${where}: ipBlock ${p.ipBlock.cidr} no longer excepts ${dropped.join(',')}`);
      continue;
    }
    out.push(`${where}: adds peer ${peer(p)}`);
  }
  if (portsWas.length > 0 && portsNow.length === 0) out.push(`${where}: the port restriction is removed (any port)`);
  const added = portsWas.length > 0 ? portsNow.filter((p) => !among(portsWas, p)) : [];
  if (added.length > 0) out.push(`${where}: adds port ${added.map(port).join(', ')}`);
  return out;
}

function networkWidening(c: ObjectChange): string[] {
  if ((c.after ?? c.before)?.kind !== 'NetworkPolicy') return [];
  const was = spec(c.before);
  const now = spec(c.after);
  const out: string[] = [];
  if (c.status === 'added') {
    for (const d of DIRECTIONS) {
      if (!policyTypes(now).includes(d.type)) continue;
      for (const r of (now[d.name] as Obj[] | undefined) ?? []) out.push(`new policy allows ${d.name} ${ruleText(d, r)}`);
    }
    return out;
  }
  if (c.status === 'removed') {
    const denies = DIRECTIONS.filter((d) => policyTypes(was).includes(d.type) && ((was[d.name] as Obj[] | undefined) ?? []).length === 0);
    const pods = Object.keys(was.podSelector ?? {}).length === 0 ? `every pod in ${c.before?.metadata?.namespace ?? 'its namespace'} loses` : `the pods ${selector(was.podSelector)} lose`;
    return denies.length > 0 ? [`removes a deny-all for ${denies.map((d) => d.type).join(' and ')}: ${pods} that isolation unless another policy selects them`] : [];
  }
  if (!deepEqual(was.podSelector, now.podSelector)) out.push(`podSelector ${selector(was.podSelector)} → ${selector(now.podSelector)}: the rules now apply to other pods`);
  for (const d of DIRECTIONS) {
    if (policyTypes(was).includes(d.type) && !policyTypes(now).includes(d.type)) {
      out.push(`policyTypes no longer include ${d.type}: ${d.name} of the selected pods is no longer restricted by this policy`);
      continue;
    }
    if (!policyTypes(now).includes(d.type)) continue;
    const rulesWas = (was[d.name] as Obj[] | undefined) ?? [];
    const rulesNow = (now[d.name] as Obj[] | undefined) ?? [];
    // Unchanged rules match themselves; the remaining new rules pair, in order, with the remaining old ones.
    const oldLeft = rulesWas.filter((r) => !rulesNow.some((n) => deepEqual(n, r)));
    for (const r of rulesNow.filter((n) => !rulesWas.some((o) => deepEqual(n, o)))) {
      const pair = oldLeft.shift();
      out.push(...(pair ? widenedRule(d, pair, r) : [`adds an ${d.name} rule ${ruleText(d, r)}`]));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// MLflow version crossing a minor release: the migration Job migrates the schema, forward only
// ---------------------------------------------------------------------------------------------------------

/** Images in the pod template of an object: container name → image. */
function imagesOf(o: KubeObject | undefined): Map<string, string> {
  const pod = spec(o).template?.spec ?? spec(o).jobTemplate?.spec?.template?.spec ?? {};
  const containers = [...((pod.initContainers as Obj[]) ?? []), ...((pod.containers as Obj[]) ?? [])];
  return new Map(containers.filter((x) => typeof x.image === 'string').map((x) => [String(x.name), String(x.image)]));
}

/** `…/mlflow:v3.17.0-full` → `3.17.0`, when the image is MLflow's (its repository name contains `mlflow`). */
export function mlflowVersionOf(image: string): { version: string; major: number; minor: number } | undefined {
  const at = image.indexOf('@');
  const ref = at === -1 ? image : image.slice(0, at);
  const colon = ref.lastIndexOf(':');
  if (colon === -1 || ref.lastIndexOf('/') > colon) return undefined;
  const name = ref.slice(ref.lastIndexOf('/') + 1, colon);
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(ref.slice(colon + 1));
  if (!name.includes('mlflow') || !m) return undefined;
  return { version: `${m[1]}.${m[2]}.${m[3]}`, major: Number(m[1]), minor: Number(m[2]) };
}

function migrations(folderChanges: readonly ObjectChange[]): { objects: string[]; message: string }[] {
  const byCrossing = new Map<string, string[]>();
  for (const c of folderChanges) {
    if (c.status !== 'changed') continue;
    const before = imagesOf(c.before);
    for (const [container, image] of imagesOf(c.after)) {
      const was = before.get(container) && mlflowVersionOf(before.get(container)!);
      const now = mlflowVersionOf(image);
      if (!was || !now || (was.major === now.major && was.minor === now.minor)) continue;
      const k = `${was.version} → ${now.version}`;
      const objects = byCrossing.get(k) ?? [];
      if (!objects.includes(displayName(c.after!))) objects.push(displayName(c.after!));
      byCrossing.set(k, objects);
    }
  }
  return [...byCrossing].map(([crossing, objects]) => {
    const [was, now] = crossing.split(' → ').map((v) => v.split('.').map(Number));
    const up = now[0] > was[0] || (now[0] === was[0] && now[1] > was[1]);
    return {
      objects,
      message: up
        ? `MLflow ${crossing} crosses a minor version: the database schema is migrated on deploy, forward only; rolling back needs a database restore (take a backup before merging)`
        : `MLflow ${crossing} goes back a minor version: the older server refuses a newer schema; restore the database backup taken before the upgrade together with this change`,
    };
  });
}

/**
 * NetworkPolicies added together with their namespace: the namespace is new in this comparison (its Namespace object
 * is added), so before it no pod there was reachable or isolated by anything, and its policies widen nothing. A
 * removed policy of the same name elsewhere makes it a move, judged as before ({@link movedPolicies}).
 */
function newWithNamespace(e: EnvironmentDiff): Set<ObjectChange> {
  const changes = e.folders.flatMap((f) => f.changes);
  const added = (kind: string) => changes.filter((c) => c.status === 'added' && c.after?.kind === kind);
  const namespaces = new Set(added('Namespace').map((c) => c.after?.metadata?.name));
  const removedNames = new Set(changes.filter((c) => c.status === 'removed' && c.before?.kind === 'NetworkPolicy').map((c) => c.before?.metadata?.name));
  return new Set(
    added('NetworkPolicy').filter((c) => {
      const namespace = c.after?.metadata?.namespace;
      return namespace !== undefined && namespaces.has(namespace) && !removedNames.has(c.after?.metadata?.name);
    }),
  );
}

/**
 * NetworkPolicies that move to another namespace unchanged (removed there, added here with the same name
 * and spec, e.g. when the environment's namespace is renamed): they allow nothing new.
 */
function movedPolicies(changes: readonly ObjectChange[]): Set<ObjectChange> {
  const policies = changes.filter((c) => (c.after ?? c.before)?.kind === 'NetworkPolicy');
  const moved = new Set<ObjectChange>();
  for (const added of policies.filter((c) => c.status === 'added')) {
    const twin = policies.find((r) => r.status === 'removed' && !moved.has(r) && r.before?.metadata?.name === added.after?.metadata?.name && deepEqual(r.before?.spec, added.after?.spec));
    if (twin) moved.add(added).add(twin);
  }
  return moved;
}

// ---------------------------------------------------------------------------------------------------------

const OBJECT_RULES: readonly [DangerKind, (c: ObjectChange) => string[]][] = [
  ['immutable', immutable],
  ['deletes', deletion],
  ['deletes', externalSecretTarget],
  ['deletes', loadBalancerDeletion],
  ['network', networkWidening],
  ['service-type', serviceType],
  ['rolls-pods', rollsPods],
  ['wave', waveMoves],
];

/** Every danger of a comparison, grouped by kind (in {@link DANGER_TITLES} order), then in report order. */
export function dangersOf(envs: readonly EnvironmentDiff[]): Danger[] {
  const out: Danger[] = [];
  for (const e of envs) {
    const withNamespace = newWithNamespace(e);
    for (const f of e.folders) {
      for (const m of migrations(f.changes)) out.push({ kind: 'migration', env: e.env, folder: f.folder, object: m.objects.join(', '), message: m.message });
      const moved = movedPolicies(f.changes);
      for (const c of f.changes) {
        const object = displayName((c.after ?? c.before)!);
        for (const [kind, rule] of OBJECT_RULES) {
          if (kind === 'network' && (moved.has(c) || withNamespace.has(c))) continue;
          for (const message of rule(c)) out.push({ kind, env: e.env, folder: f.folder, object, message });
        }
      }
    }
  }
  return ORDER.flatMap((k) => out.filter((d) => d.kind === k));
}
