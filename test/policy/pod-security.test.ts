/** The Pod Security `restricted` checker and the resources rule: each rule can fail, and a compliant pod passes. */
import { containerResourceViolations, podSecurityViolations } from '../../lib/policy/pod-security';

/** A compliant Deployment; each case breaks one thing. */
function deployment(mutate: (spec: any, template: any) => void = () => {}): any {
  const template: any = {
    metadata: { labels: { app: 'x' } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: 'app',
        image: 'example/app:1',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } },
      }],
      initContainers: [{
        name: 'init',
        image: 'example/init:1',
        restartPolicy: 'Always',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true },
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
      }],
      volumes: [{ name: 'tmp', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }],
    },
  };
  mutate(template.spec, template);
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template } };
}

test('a compliant pod passes', () => {
  expect(podSecurityViolations(deployment())).toEqual([]);
  expect(containerResourceViolations(deployment())).toEqual([]);
});

test('objects without a pod template are not checked', () => {
  expect(podSecurityViolations({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: {} })).toEqual([]);
});

const cases: [string, (spec: any, template: any) => void, string[]][] = [
  ['hostNetwork', (s) => { s.hostNetwork = true; }, ['hostNetwork must not be true']],
  ['hostPID', (s) => { s.hostPID = true; }, ['hostPID must not be true']],
  ['hostIPC', (s) => { s.hostIPC = true; }, ['hostIPC must not be true']],
  ['pod hostProcess', (s) => { s.securityContext.windowsOptions = { hostProcess: true }; }, ['securityContext.windowsOptions.hostProcess must not be true']],
  ['container hostProcess', (s) => { s.containers[0].securityContext.windowsOptions = { hostProcess: true }; }, ['container "app": windowsOptions.hostProcess must not be true']],
  ['hostPath volume', (s) => { s.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, ['volume "h" must not be a hostPath']],
  ['non-restricted volume type', (s) => { s.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } }); }, ['volume "n" has type nfs, not allowed by restricted']],
  ['privileged', (s) => { s.containers[0].securityContext.privileged = true; }, ['container "app": privileged must not be true']],
  ['hostPort', (s) => { s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]; }, ['container "app": hostPort 80 is not allowed']],
  ['unsafe sysctl', (s) => { s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }, ['sysctl "kernel.msgmax" is not in the safe set']],
  ['procMount', (s) => { s.containers[0].securityContext.procMount = 'Unmasked'; }, ['container "app": procMount must be Default']],
  ['SELinux user', (s) => { s.securityContext.seLinuxOptions = { user: 'system_u' }; }, ['securityContext.seLinuxOptions.user must not be set']],
  ['SELinux role', (s) => { s.securityContext.seLinuxOptions = { role: 'object_r' }; }, ['securityContext.seLinuxOptions.role must not be set']],
  ['SELinux type', (s) => { s.containers[0].securityContext.seLinuxOptions = { type: 'spc_t' }; }, ['container "app": securityContext.seLinuxOptions.type "spc_t" is not allowed']],
  ['AppArmor unconfined', (_s, t) => { t.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }; }, ['annotation container.apparmor.security.beta.kubernetes.io/app: AppArmor profile must be runtime/default or localhost/*, not "unconfined"']],
  ['allowPrivilegeEscalation unset', (s) => { delete s.containers[0].securityContext.allowPrivilegeEscalation; }, ['container "app": securityContext.allowPrivilegeEscalation must be false']],
  ['allowPrivilegeEscalation on an init container', (s) => { s.initContainers[0].securityContext.allowPrivilegeEscalation = true; }, ['init container "init": securityContext.allowPrivilegeEscalation must be false']],
  ['runAsNonRoot nowhere', (s) => { delete s.securityContext.runAsNonRoot; }, ['container "app": runAsNonRoot must be true (in the container or the pod securityContext)']],
  ['runAsNonRoot false in a container', (s) => { s.containers[0].securityContext.runAsNonRoot = false; }, ['container "app": securityContext.runAsNonRoot must not be false']],
  ['runAsUser 0', (s) => { s.containers[0].securityContext.runAsUser = 0; }, ['container "app": securityContext.runAsUser must not be 0']],
  ['pod runAsUser 0', (s) => { s.securityContext.runAsUser = 0; }, ['securityContext.runAsUser must not be 0']],
  ['no seccomp anywhere', (s) => { delete s.securityContext.seccompProfile; }, [
    'container "app": seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)',
    'init container "init": seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)',
  ]],
  ['container seccomp Unconfined', (s) => { s.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; }, ['container "app": seccompProfile.type must be RuntimeDefault or Localhost, not Unconfined']],
  ['pod seccomp Unconfined', (s) => { s.securityContext.seccompProfile = { type: 'Unconfined' }; }, [
    'securityContext.seccompProfile.type must not be Unconfined',
    'container "app": seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)',
    'init container "init": seccompProfile must be RuntimeDefault or Localhost (in the container or the pod securityContext)',
  ]],
  ['capabilities not dropped', (s) => { s.containers[0].securityContext.capabilities = {}; }, ['container "app": capabilities.drop must include ALL']],
  ['capability added', (s) => { s.containers[0].securityContext.capabilities.add = ['NET_ADMIN']; }, ['container "app": capabilities.add may only contain NET_BIND_SERVICE, not NET_ADMIN']],
  ['ephemeral container', (s) => { s.ephemeralContainers = [{ name: 'debug', image: 'busybox' }]; }, [
    'ephemeral container "debug": securityContext.allowPrivilegeEscalation must be false',
    'ephemeral container "debug": capabilities.drop must include ALL',
  ]],
];

test.each(cases)('%s is a violation, with its exact message', (_name, mutate, messages) => {
  expect(podSecurityViolations(deployment(mutate))).toEqual(messages.map((m) => `Deployment/web: ${m}`));
});

test('allowed values pass: Localhost seccomp, runtime/default and localhost/* AppArmor, allowed SELinux types, port 0, safe sysctls', () => {
  expect(podSecurityViolations(deployment((s, t) => {
    s.securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' };
    s.securityContext.sysctls = [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65535' }];
    s.securityContext.seLinuxOptions = { type: 'container_t', level: 's0:c1,c2' };
    s.containers[0].securityContext.procMount = 'Default';
    s.containers[0].ports = [{ containerPort: 8080, hostPort: 0 }];
    t.metadata.annotations = {
      'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default',
      'container.apparmor.security.beta.kubernetes.io/init': 'localhost/custom',
    };
  }))).toEqual([]);
});

test('NET_BIND_SERVICE is the one capability that may be added', () => {
  expect(podSecurityViolations(deployment((s) => { s.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE']; }))).toEqual([]);
});

test('pod templates are found in every workload kind', () => {
  const bad = deployment((s) => { s.hostNetwork = true; }).spec.template;
  const wrap: Record<string, any> = {
    Pod: { spec: bad.spec },
    Job: { spec: { template: bad } },
    StatefulSet: { spec: { template: bad } },
    DaemonSet: { spec: { template: bad } },
    CronJob: { spec: { jobTemplate: { spec: { template: bad } } } },
  };
  for (const [kind, body] of Object.entries(wrap)) {
    expect(podSecurityViolations({ kind, metadata: { name: 'x' }, ...body })).toEqual([`${kind}/x: hostNetwork must not be true`]);
  }
});

test('every container, init containers included, needs CPU and memory requests and limits', () => {
  const problems = containerResourceViolations(deployment((s) => {
    delete s.containers[0].resources.limits.memory;
    s.initContainers[0].resources = {};
  }));
  expect(problems).toEqual([
    'Deployment/web: container "app": resources.limits.memory is not set',
    'Deployment/web: init container "init": resources.requests.cpu is not set',
    'Deployment/web: init container "init": resources.requests.memory is not set',
    'Deployment/web: init container "init": resources.limits.cpu is not set',
    'Deployment/web: init container "init": resources.limits.memory is not set',
  ]);
});
