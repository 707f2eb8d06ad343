/** The Pod Security `restricted` checker and the resources rule: each rule can fail, and a compliant pod passes. */
import { containerResourceViolations, podSecurityViolations } from '../lib/policy/pod-security';

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

const cases: [string, (spec: any, template: any) => void, string][] = [
  ['hostNetwork', (s) => { s.hostNetwork = true; }, 'hostNetwork must not be true'],
  ['hostPID', (s) => { s.hostPID = true; }, 'hostPID must not be true'],
  ['hostIPC', (s) => { s.hostIPC = true; }, 'hostIPC must not be true'],
  ['hostPath volume', (s) => { s.volumes.push({ name: 'h', hostPath: { path: '/' } }); }, 'volume "h" must not be a hostPath'],
  ['non-restricted volume type', (s) => { s.volumes.push({ name: 'n', nfs: { server: 'x', path: '/' } }); }, 'volume "n" has type nfs'],
  ['privileged', (s) => { s.containers[0].securityContext.privileged = true; }, 'container "app": privileged must not be true'],
  ['hostPort', (s) => { s.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]; }, 'hostPort 80 is not allowed'],
  ['unsafe sysctl', (s) => { s.securityContext.sysctls = [{ name: 'kernel.msgmax', value: '1' }]; }, 'sysctl "kernel.msgmax"'],
  ['procMount', (s) => { s.containers[0].securityContext.procMount = 'Unmasked'; }, 'procMount must be Default'],
  ['SELinux user', (s) => { s.securityContext.seLinuxOptions = { user: 'system_u' }; }, 'seLinuxOptions.user must not be set'],
  ['AppArmor unconfined', (_s, t) => { t.metadata.annotations = { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }; }, 'AppArmor profile'],
  ['allowPrivilegeEscalation unset', (s) => { delete s.containers[0].securityContext.allowPrivilegeEscalation; }, 'container "app": securityContext.allowPrivilegeEscalation must be false'],
  ['allowPrivilegeEscalation on an init container', (s) => { s.initContainers[0].securityContext.allowPrivilegeEscalation = true; }, 'init container "init": securityContext.allowPrivilegeEscalation'],
  ['runAsNonRoot nowhere', (s) => { delete s.securityContext.runAsNonRoot; }, 'container "app": runAsNonRoot must be true'],
  ['runAsNonRoot false in a container', (s) => { s.containers[0].securityContext.runAsNonRoot = false; }, 'runAsNonRoot must not be false'],
  ['runAsUser 0', (s) => { s.containers[0].securityContext.runAsUser = 0; }, 'container "app": securityContext.runAsUser must not be 0'],
  ['pod runAsUser 0', (s) => { s.securityContext.runAsUser = 0; }, 'securityContext.runAsUser must not be 0'],
  ['no seccomp anywhere', (s) => { delete s.securityContext.seccompProfile; }, 'seccompProfile must be RuntimeDefault or Localhost'],
  ['container seccomp Unconfined', (s) => { s.containers[0].securityContext.seccompProfile = { type: 'Unconfined' }; }, 'not Unconfined'],
  ['pod seccomp Unconfined', (s) => { s.securityContext.seccompProfile = { type: 'Unconfined' }; }, 'seccompProfile.type must not be Unconfined'],
  ['capabilities not dropped', (s) => { s.containers[0].securityContext.capabilities = {}; }, 'capabilities.drop must include ALL'],
  ['capability added', (s) => { s.containers[0].securityContext.capabilities.add = ['NET_ADMIN']; }, 'not NET_ADMIN'],
  ['ephemeral container', (s) => { s.ephemeralContainers = [{ name: 'debug', image: 'busybox' }]; }, 'ephemeral container "debug"'],
];

test.each(cases)('%s is a violation', (_name, mutate, message) => {
  const problems = podSecurityViolations(deployment(mutate));
  expect(problems.join('\n')).toContain(message);
  expect(problems.every((p) => p.startsWith('Deployment/web: '))).toBe(true);
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
