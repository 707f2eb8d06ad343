/** The Host-header and CORS allow-lists (DESIGN §1): every legitimate Host, exactly. */
import { allowedHosts, corsOrigins } from '../lib/mlflow/host-allow-list';

test('public hosts, the Service in every DNS form with and without port, loopback with any port', () => {
  expect(allowedHosts({ publicHosts: ['mlflow.example.com'], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false })).toEqual([
    'mlflow.example.com',
    'mlflow',
    'mlflow:5000',
    'mlflow.ml',
    'mlflow.ml:5000',
    'mlflow.ml.svc',
    'mlflow.ml.svc:5000',
    'mlflow.ml.svc.cluster.local',
    'mlflow.ml.svc.cluster.local:5000',
    'localhost',
    'localhost:*',
    '127.0.0.1',
    '127.0.0.1:*',
  ]);
});

test('pod-IP patterns (private ranges, serving port only) only when a collector scrapes by pod IP', () => {
  const hosts = allowedHosts({ publicHosts: [], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: true });
  expect(hosts.slice(-3)).toEqual(['10.*:5000', '172.*:5000', '192.168.*:5000']);
  expect(hosts).not.toContain('*');
});

test('no duplicates when a public host equals a Service name', () => {
  const hosts = allowedHosts({ publicHosts: ['mlflow'], serviceName: 'mlflow', namespace: 'ml', port: 5000, scrapedByPodIp: false });
  expect(new Set(hosts).size).toBe(hosts.length);
});

test('CORS: the public https origins and the port-forward origins', () => {
  expect(corsOrigins(['a.example.com', 'b.example.com'], 5000)).toEqual([
    'https://a.example.com',
    'https://b.example.com',
    'http://localhost:5000',
    'http://127.0.0.1:5000',
  ]);
});
