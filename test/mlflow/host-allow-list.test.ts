/** The Host-header and CORS allow-lists (docs/design.md#host-and-cors): every legitimate Host, exactly. */
import { allowedHosts, corsOrigins } from '../../lib/mlflow/host-allow-list';

const SERVICE = [
  'mlflow',
  'mlflow:5000',
  'mlflow.ml',
  'mlflow.ml:5000',
  'mlflow.ml.svc',
  'mlflow.ml.svc:5000',
  'mlflow.ml.svc.cluster.local',
  'mlflow.ml.svc.cluster.local:5000',
];
const LOOPBACK = ['localhost', 'localhost:*', '127.0.0.1', '127.0.0.1:*'];

test('public hosts, the Service in every DNS form with and without port, loopback with any port', () => {
  expect(allowedHosts({ publicHosts: ['mlflow.example.com'], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false })).toEqual([
    'mlflow.example.com',
    ...SERVICE,
    ...LOOPBACK,
  ]);
});

test('several public hosts: every one is kept, in order', () => {
  expect(
    allowedHosts({ publicHosts: ['a.example.com', 'b.example.org', 'c.example.net'], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false }),
  ).toEqual(['a.example.com', 'b.example.org', 'c.example.net', ...SERVICE, ...LOOPBACK]);
});

test('no public host: the Service names and loopback only', () => {
  expect(allowedHosts({ publicHosts: [], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false })).toEqual([...SERVICE, ...LOOPBACK]);
});

test('the Service name, namespace and port come from the inputs', () => {
  expect(allowedHosts({ publicHosts: [], serviceName: 'tracking', namespace: 'team-a', port: 8080, scrapedByPodIp: true })).toEqual([
    'tracking',
    'tracking:8080',
    'tracking.team-a',
    'tracking.team-a:8080',
    'tracking.team-a.svc',
    'tracking.team-a.svc:8080',
    'tracking.team-a.svc.cluster.local',
    'tracking.team-a.svc.cluster.local:8080',
    ...LOOPBACK,
    '10.*:8080',
    '172.*:8080',
    '192.168.*:8080',
  ]);
});

test('pod-IP patterns (private ranges, serving port only) only when a collector scrapes by pod IP', () => {
  expect(allowedHosts({ publicHosts: [], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: true })).toEqual([
    ...SERVICE,
    ...LOOPBACK,
    '10.*:5000',
    '172.*:5000',
    '192.168.*:5000',
  ]);
});

test('no duplicates when a public host equals a Service name', () => {
  expect(allowedHosts({ publicHosts: ['mlflow'], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false })).toEqual([...SERVICE, ...LOOPBACK]);
});

test('CORS: the https origin of every public host, then the port-forward origins', () => {
  expect(corsOrigins(['a.example.com', 'b.example.com', 'c.example.net'], 5000)).toEqual([
    'https://a.example.com',
    'https://b.example.com',
    'https://c.example.net',
    'http://localhost:5000',
    'http://127.0.0.1:5000',
  ]);
  expect(corsOrigins([], 8080)).toEqual(['http://localhost:8080', 'http://127.0.0.1:8080']);
  expect(corsOrigins(['a.example.com', 'a.example.com'], 5000)).toEqual(['https://a.example.com', 'http://localhost:5000', 'http://127.0.0.1:5000']);
});
