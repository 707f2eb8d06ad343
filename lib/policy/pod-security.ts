/**
 * Pod Security Standards checks on synthesized objects: the `baseline` and `restricted` profiles as the
 * Kubernetes 1.28 Pod Security admission evaluates them, plus our own rule that every container declares CPU
 * and memory requests and limits. Synth refuses to write output that breaks either (see `synth.ts`), so a
 * namespace labelled `pod-security.kubernetes.io/enforce: restricted` never rejects our pods at sync time.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/ (v1.28)
 */

type Obj = Record<string, any>;

/** Kinds whose objects carry a pod spec, and where it sits. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  ReplicationController: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

/** Volume types `restricted` allows. */
const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

/** Sysctls `baseline` allows (the "safe" set as of 1.28). */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
]);

const ALLOWED_SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);

interface PodTemplate {
  readonly where: string;
  readonly metadata: Obj;
  readonly spec: Obj;
}

interface NamedContainer {
  readonly label: string;
  readonly container: Obj;
}

/** The pod template of a workload object (or the Pod itself); undefined for kinds without one. */
function podTemplateOf(obj: Obj): PodTemplate | undefined {
  const route = POD_SPEC_PATHS[obj?.kind];
  if (!route) return undefined;
  let node: any = obj;
  for (const key of route) node = node?.[key];
  if (!node || typeof node !== 'object') return undefined;
  return { where: `${obj.kind}/${obj.metadata?.name ?? '?'}`, metadata: node.metadata ?? {}, spec: node.spec ?? {} };
}

function containersOf(spec: Obj, includeEphemeral = true): NamedContainer[] {
  const groups: [string, string][] = [['containers', 'container'], ['initContainers', 'init container']];
  if (includeEphemeral) groups.push(['ephemeralContainers', 'ephemeral container']);
  return groups.flatMap(([field, label]) =>
    ((spec[field] ?? []) as Obj[]).map((c) => ({ label: `${label} "${c.name}"`, container: c })),
  );
}

/** `baseline` and `restricted` violations of one object (empty for objects without a pod template). */
export function podSecurityViolations(obj: Obj): string[] {
  const pod = podTemplateOf(obj);
  if (!pod) return [];
  const { spec, metadata, where } = pod;
  const problems: string[] = [];
  const fail = (msg: string) => problems.push(`${where}: ${msg}`);
  const podSc: Obj = spec.securityContext ?? {};
  const containers = containersOf(spec);

  // ── baseline ──
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (spec[field] === true) fail(`${field} must not be true`);
  }
  if (podSc.windowsOptions?.hostProcess === true) fail('securityContext.windowsOptions.hostProcess must not be true');
  for (const v of (spec.volumes ?? []) as Obj[]) {
    if (v.hostPath !== undefined) fail(`volume "${v.name}" must not be a hostPath`);
  }
  for (const s of (podSc.sysctls ?? []) as Obj[]) {
    if (!SAFE_SYSCTLS.has(s.name)) fail(`sysctl "${s.name}" is not in the safe set`);
  }
  checkSeLinux(podSc.seLinuxOptions, 'securityContext', fail);
  if (podSc.seccompProfile?.type === 'Unconfined') fail('securityContext.seccompProfile.type must not be Unconfined');
  for (const [key, value] of Object.entries((metadata.annotations ?? {}) as Record<string, string>)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      fail(`annotation ${key}: AppArmor profile must be runtime/default or localhost/*, not "${value}"`);
    }
  }
  for (const { label, container } of containers) {
    const sc: Obj = container.securityContext ?? {};
    if (sc.privileged === true) fail(`${label}: privileged must not be true`);
    if (sc.windowsOptions?.hostProcess === true) fail(`${label}: windowsOptions.hostProcess must not be true`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') fail(`${label}: procMount must be Default`);
    checkSeLinux(sc.seLinuxOptions, `${label}: securityContext`, fail);
    for (const p of (container.ports ?? []) as Obj[]) {
      if (p.hostPort !== undefined && p.hostPort !== 0) fail(`${label}: hostPort ${p.hostPort} is not allowed`);
    }
  }

  // ── restricted ──
  for (const v of (spec.volumes ?? []) as Obj[]) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const t of types) {
      if (!RESTRICTED_VOLUME_TYPES.has(t) && t !== 'hostPath') fail(`volume "${v.name}" has type ${t}, not allowed by restricted`);
    }
  }
  if (podSc.runAsUser === 0) fail('securityContext.runAsUser must not be 0');
  const podSeccompOk = isAllowedSeccomp(podSc.seccompProfile?.type);
  for (const { label, container } of containers) {
    const sc: Obj = container.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false) fail(`${label}: securityContext.allowPrivilegeEscalation must be false`);
    if (sc.runAsNonRoot === false) fail(`${label}: securityContext.runAsNonRoot must not be false`);
    else if (sc.runAsNonRoot !== true && podSc.runAsNonRoot !== true) {
      fail(`${label}: runAsNonRoot must be true (in the container or the pod securityContext)`);
    }
    if (sc.runAsUser === 0) fail(`${label}: securityContext.runAsUser must not be 0`);
    const type = sc.seccompProfile?.type;
    if (type !== undefined && !isAllowedSeccomp(type)) fail(`${label}: seccompProfile.type must be RuntimeDefault or Localhost, not ${type}`);
    else if (type === undefined && !podSeccompOk) fail(`${label}: seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)`);
    const caps: Obj = sc.capabilities ?? {};
    if (!((caps.drop ?? []) as string[]).includes('ALL')) fail(`${label}: capabilities.drop must include ALL`);
    for (const c of (caps.add ?? []) as string[]) {
      if (c !== 'NET_BIND_SERVICE') fail(`${label}: capabilities.add may only contain NET_BIND_SERVICE, not ${c}`);
    }
  }
  return problems;
}

function isAllowedSeccomp(type: string | undefined): boolean {
  return type === 'RuntimeDefault' || type === 'Localhost';
}

function checkSeLinux(options: Obj | undefined, where: string, fail: (msg: string) => void): void {
  if (!options) return;
  if (options.type !== undefined && !ALLOWED_SELINUX_TYPES.has(options.type)) fail(`${where}.seLinuxOptions.type "${options.type}" is not allowed`);
  if (options.user !== undefined) fail(`${where}.seLinuxOptions.user must not be set`);
  if (options.role !== undefined) fail(`${where}.seLinuxOptions.role must not be set`);
}

/** Containers (regular and init; ephemeral ones cannot have resources) without CPU and memory requests and limits. */
export function containerResourceViolations(obj: Obj): string[] {
  const pod = podTemplateOf(obj);
  if (!pod) return [];
  const problems: string[] = [];
  for (const { label, container } of containersOf(pod.spec, false)) {
    for (const kind of ['requests', 'limits'] as const) {
      for (const resource of ['cpu', 'memory'] as const) {
        if (container.resources?.[kind]?.[resource] === undefined) {
          problems.push(`${pod.where}: ${label}: resources.${kind}.${resource} is not set`);
        }
      }
    }
  }
  return problems;
}
