/**
 * `exposure.mode: gateway`: every guard with its exact message (the same host rules as the Ingress, the certificate
 * source, the class, the proxy-only subnet of the regional and internal classes), and what an omitted field means.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { validateEnvironment, formatProblem } from '../../lib/config/config';
import { ROOT } from '../../tools/environments';
import { gatewayDoc } from '../support/gateway';

function messages(mutate: (doc: any) => void): string[] {
  return validateEnvironment('config/prod.yaml', gatewayDoc(mutate)).problems.map(formatProblem);
}
const F = 'config/prod.yaml: exposure';

test('the variant as written is valid; the omitted class and draining timeout resolve to their defaults', () => {
  const r = validateEnvironment('config/prod.yaml', gatewayDoc());
  expect(r.problems).toEqual([]);
  expect(r.environment?.servers[0].exposure).toEqual({
    mode: 'gateway',
    hosts: ['mlflow.example.com', 'tracking.example.org', 'ml.example.net'],
    certificate: { source: 'cert-manager', clusterIssuer: 'letsencrypt-prod' },
    backendTimeoutSeconds: 900,
    className: 'gke-l7-global-external-managed',
    drainingTimeoutSeconds: 30,
  });
});

describe('hosts: the rules of the Ingress', () => {
  test.each<[string, (d: any) => void, string]>([
    ['a gateway without hosts', (d) => delete d.exposure.hosts, `${F}.hosts: required: expected a list of host names`],
    ['an empty list', (d) => (d.exposure.hosts = []), `${F}.hosts: expected at least one host name (got [])`],
    ['a host twice', (d) => (d.exposure.hosts = ['a.example.com', 'a.example.com']), `${F}.hosts: expected distinct host names (got ["a.example.com","a.example.com"])`],
    ['a wildcard', (d) => (d.exposure.hosts = ['mlflow.example.com', '*.example.com']), `${F}.hosts.1: expected a fully qualified lowercase host name such as 'mlflow.example.com' (got "*.example.com")`],
    ['a single label', (d) => (d.exposure.hosts = ['mlflow']), `${F}.hosts.0: expected a fully qualified lowercase host name such as 'mlflow.example.com' (got "mlflow")`],
    ['an IP address', (d) => (d.exposure.hosts = ['mlflow.example.com', '10.0.0.1']), `${F}.hosts.1: expected a DNS name, not an IP address: the API server refuses an IP as an Ingress or Gateway host (serve a name that resolves to it) (got "10.0.0.1")`],
  ])('%s is refused', (_what, mutate, message) => {
    expect(messages(mutate)).toEqual([message]);
  });
});

describe('certificate', () => {
  test.each<[string, (d: any) => void, string]>([
    ['no certificate section', (d) => delete d.exposure.certificate, `${F}.certificate: required: expected exposure.certificate.source 'cert-manager' or 'certificate-manager'`],
    ['an unknown source', (d) => (d.exposure.certificate = { source: 'acme' }), `${F}.certificate.source: expected exposure.certificate.source 'cert-manager' or 'certificate-manager' (got "acme")`],
    [
      'certificate-manager without a map name',
      (d) => (d.exposure.certificate = { source: 'certificate-manager' }),
      `${F}.certificate.mapName: required: expected a string: a Certificate Manager map name (lowercase letter first, then letters, digits, hyphens; max 63)`,
    ],
    [
      'a map name Google refuses',
      (d) => (d.exposure.certificate = { source: 'certificate-manager', mapName: 'Map_1' }),
      `${F}.certificate.mapName: expected a Certificate Manager map name (lowercase letter first, then letters, digits, hyphens; max 63) (got "Map_1")`,
    ],
    ['cert-manager without an issuer', (d) => (d.exposure.certificate = { source: 'cert-manager' }), `${F}.certificate.clusterIssuer: required: expected a string: a cert-manager ClusterIssuer name`],
    [
      'a map with an issuer (the other source’s field)',
      (d) => (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map', clusterIssuer: 'letsencrypt-prod' }),
      `${F}.certificate: unknown field 'clusterIssuer': remove or fix the spelling`,
    ],
    ['the Ingress’s issuer field on the gateway', (d) => (d.exposure.clusterIssuer = 'letsencrypt-prod'), `${F}: unknown field 'clusterIssuer': remove or fix the spelling`],
  ])('%s is refused', (_what, mutate, message) => {
    expect(messages(mutate)).toEqual([message]);
  });

  test('a map on a global class is accepted', () => {
    expect(messages((d) => (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map' }))).toEqual([]);
    expect(messages((d) => ((d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map' }), (d.exposure.className = 'gke-l7-gxlb')))).toEqual([]);
  });

  test('a map on a regional class is refused (maps attach to global load balancers only)', () => {
    expect(
      messages((d) => {
        d.exposure.className = 'gke-l7-regional-external-managed';
        d.exposure.proxyOnlySubnetCidr = '10.129.0.0/23';
        d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map' };
      }),
    ).toEqual([
      `${F}.certificate.source: a Certificate Manager map attaches only to a global load balancer, not to exposure.className 'gke-l7-regional-external-managed': use 'gke-l7-global-external-managed' or 'gke-l7-gxlb', or source 'cert-manager'`,
    ]);
  });
});

describe('class and proxy-only subnet', () => {
  test('an Ingress class is not a Gateway class', () => {
    expect(messages((d) => (d.exposure.className = 'gce'))).toEqual([
      `${F}.className: expected one of 'gke-l7-global-external-managed', 'gke-l7-gxlb', 'gke-l7-regional-external-managed', 'gke-l7-rilb' (got "gce")`,
    ]);
  });

  test.each(['gke-l7-regional-external-managed', 'gke-l7-rilb'])('%s needs the proxy-only subnet, and accepts it', (className) => {
    expect(messages((d) => (d.exposure.className = className))).toEqual([
      `${F}.proxyOnlySubnetCidr: required with exposure.className '${className}': its load balancer's proxies connect to the pods from the VPC's proxy-only subnet, which the server's NetworkPolicy must admit`,
    ]);
    expect(messages((d) => ((d.exposure.className = className), (d.exposure.proxyOnlySubnetCidr = '10.129.0.0/23')))).toEqual([]);
  });

  test.each([undefined, 'gke-l7-global-external-managed', 'gke-l7-gxlb'])('class %s (global) refuses a proxy-only subnet as unused', (className) => {
    const shown = className ?? 'gke-l7-global-external-managed';
    expect(messages((d) => ((d.exposure.className = className), (d.exposure.proxyOnlySubnetCidr = '10.129.0.0/23')))).toEqual([
      `${F}.proxyOnlySubnetCidr: unused: remove it (exposure.className '${shown}' is served by Google Front Ends, not from a proxy-only subnet)`,
    ]);
  });

  test.each(['10.129.0.0/33', '10.129.0/23', '300.1.0.0/16', 'fd00::/64'])('%s is not an IPv4 CIDR block', (cidr) => {
    expect(messages((d) => ((d.exposure.className = 'gke-l7-rilb'), (d.exposure.proxyOnlySubnetCidr = cidr)))).toEqual([
      `${F}.proxyOnlySubnetCidr: expected an IPv4 CIDR block such as '10.129.0.0/23' (got ${JSON.stringify(cidr)})`,
    ]);
  });
});

describe('the proxy-only subnet is admitted to the server, so only a private network range of a proxy-only size is', () => {
  const rilb = (cidr: string, extra: Record<string, unknown> = {}) =>
    messages((d) => Object.assign(d.exposure, { className: 'gke-l7-rilb', proxyOnlySubnetCidr: cidr }, extra));
  const P = `${F}.proxyOnlySubnetCidr`;
  const notPrivate = (cidr: string) =>
    `${P}: expected a range inside a private one (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10): the server admits this range as its load balancer's source; for a public range the VPC uses privately, also set exposure.proxyOnlySubnetPrivatelyUsedPublic: true (got "${cidr}")`;

  test.each(['10.129.0.0/23', '10.0.0.0/8', '172.16.0.0/12', '172.31.255.192/26', '192.168.0.0/16', '100.64.0.0/10', '100.127.255.0/24'])('%s is accepted', (cidr) => {
    expect(rilb(cidr)).toEqual([]);
  });

  test.each<[string, string]>([
    ['0.0.0.0/0', `${P}: a /0 is wider than any proxy-only subnet (at most /8): the server would admit it as its load balancer's source (got "0.0.0.0/0")`],
    ['0.0.0.0/1', `${P}: a /1 is wider than any proxy-only subnet (at most /8): the server would admit it as its load balancer's source (got "0.0.0.0/1")`],
    ['10.0.0.0/7', `${P}: a /7 is wider than any proxy-only subnet (at most /8): the server would admit it as its load balancer's source (got "10.0.0.0/7")`],
    ['10.129.0.1/23', `${P}: has host bits set: expected the network address '10.129.0.0/23' (got "10.129.0.1/23")`],
    ['10.129.1.0/23', `${P}: has host bits set: expected the network address '10.129.0.0/23' (got "10.129.1.0/23")`],
    ['10.129.0.0/27', `${P}: a /27 is smaller than Google Cloud's minimum proxy-only subnet (/26, 64 addresses; /23 recommended) (got "10.129.0.0/27")`],
    ['10.129.0.7/32', `${P}: a /32 is smaller than Google Cloud's minimum proxy-only subnet (/26, 64 addresses; /23 recommended) (got "10.129.0.7/32")`],
    ['8.8.0.0/16', notPrivate('8.8.0.0/16')],
    ['172.0.0.0/11', notPrivate('172.0.0.0/11')],
    ['100.0.0.0/8', notPrivate('100.0.0.0/8')],
  ])('%s is refused', (cidr, message) => {
    expect(rilb(cidr)).toEqual([message]);
  });

  test('a privately used public range needs the opt-in, and is then accepted', () => {
    expect(rilb('34.120.0.0/23', { proxyOnlySubnetPrivatelyUsedPublic: true })).toEqual([]);
  });

  test.each<[string, string]>([
    ['0.0.0.0/8', `${P}: overlaps 0.0.0.0/8, which is not a unicast range any subnet can use (got "0.0.0.0/8")`],
    ['127.0.0.0/16', `${P}: overlaps 127.0.0.0/8, which is not a unicast range any subnet can use (got "127.0.0.0/16")`],
    ['169.254.0.0/16', `${P}: overlaps 169.254.0.0/16, which is not a unicast range any subnet can use (got "169.254.0.0/16")`],
    ['224.0.0.0/8', `${P}: overlaps 224.0.0.0/3, which is not a unicast range any subnet can use (got "224.0.0.0/8")`],
    ['0.0.0.0/0', `${P}: a /0 is wider than any proxy-only subnet (at most /8): the server would admit it as its load balancer's source (got "0.0.0.0/0")`],
  ])('even with the opt-in, %s is refused', (cidr, message) => {
    expect(rilb(cidr, { proxyOnlySubnetPrivatelyUsedPublic: true })).toEqual([message]);
  });

  test('the opt-in is refused where it means nothing: with a private range, without a subnet, or set to false', () => {
    expect(rilb('10.129.0.0/23', { proxyOnlySubnetPrivatelyUsedPublic: true })).toEqual([
      `${F}.proxyOnlySubnetPrivatelyUsedPublic: unused: 10.129.0.0/23 is in a private range (remove the field)`,
    ]);
    expect(messages((d) => (d.exposure.proxyOnlySubnetPrivatelyUsedPublic = true))).toEqual([
      `${F}.proxyOnlySubnetPrivatelyUsedPublic: unused without exposure.proxyOnlySubnetCidr: remove it`,
    ]);
    expect(rilb('34.120.0.0/23', { proxyOnlySubnetPrivatelyUsedPublic: false })).toEqual([
      `${F}.proxyOnlySubnetPrivatelyUsedPublic: expected true (omit the field for a private range) (got false)`,
    ]);
  });
});

describe('timeouts', () => {
  test.each<[string, (d: any) => void, string]>([
    ['a backend timeout below 30 s', (d) => (d.exposure.backendTimeoutSeconds = 10), `${F}.backendTimeoutSeconds: expected a number of seconds from 30 to 86400 (got 10)`],
    ['no backend timeout', (d) => delete d.exposure.backendTimeoutSeconds, `${F}.backendTimeoutSeconds: required: expected a number of seconds from 30 to 86400`],
    ['draining above an hour', (d) => (d.exposure.drainingTimeoutSeconds = 3601), `${F}.drainingTimeoutSeconds: expected a number of seconds from 0 to 3600 (got 3601)`],
    ['fractional draining', (d) => (d.exposure.drainingTimeoutSeconds = 1.5), `${F}.drainingTimeoutSeconds: expected a number of seconds from 0 to 3600 (got 1.5)`],
  ])('%s is refused', (_what, mutate, message) => {
    expect(messages(mutate)).toEqual([message]);
  });

  test('draining at its bounds is accepted', () => {
    expect(messages((d) => (d.exposure.drainingTimeoutSeconds = 0))).toEqual([]);
    expect(messages((d) => (d.exposure.drainingTimeoutSeconds = 3600))).toEqual([]);
  });
});

test('the cert-manager add-on needs the ACME email with a cert-manager certificate, not with a map', () => {
  const addon = (d: any) => (d.gitops.addons = { externalSecrets: true, certManager: true });
  expect(messages(addon)).toEqual(['config/prod.yaml: gitops.addons.acmeEmail: expected an ACME account email for the ClusterIssuer installed with certManager']);
  expect(messages((d) => (addon(d), (d.exposure.certificate = { source: 'certificate-manager', mapName: 'mlflow-map' })))).toEqual([]);
});

test('the config snippet of docs/configuration.md is valid as written, and with each commented alternative it shows', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## GKE Gateway API'));
  const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  if (snippet === undefined) throw new Error('no yaml block in the docs/configuration.md section "GKE Gateway API"');
  const exposure = (yaml.load(snippet) as { exposure: Record<string, unknown> }).exposure;
  expect(exposure.mode).toBe('gateway');
  expect(messages((d) => (d.exposure = exposure))).toEqual([]);
  expect(messages((d) => (d.exposure = { ...exposure, certificate: { source: 'certificate-manager', mapName: 'mlflow-prod' } }))).toEqual([]);
  expect(messages((d) => (d.exposure = { ...exposure, className: 'gke-l7-rilb', proxyOnlySubnetCidr: '10.129.0.0/23' }))).toEqual([]);
});
