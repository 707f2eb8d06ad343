/**
 * The sizing rules (lib/config/sizing.ts) as a user meets them: the config guards' exact messages, and the shipped
 * configs against the rules. The figures themselves come from `npm run measure:sizing` on the real server
 * (docs/configuration.md#sizing); the numbers below are written out, never computed with the code under test.
 */
import { validateEnvironment, formatProblem, type ConfigProblem } from '../../lib/config/config';
import { connectionBudget, memoryFootprintMiB } from '../../lib/config/sizing';
import { rawConfig, shippedConfig } from '../../tools/environments';

function problems(name: string, mutate: (doc: any) => void): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems.map((p: ConfigProblem) => formatProblem(p));
}

describe('memory: parent 256 + supervisors 32 + 608 MiB per worker', () => {
  test('the footprint of 1, 2 and 4 workers', () => {
    expect([1, 2, 4].map(memoryFootprintMiB)).toEqual([896, 1504, 2720]);
  });

  test("dev's old 1Gi limit for 2 workers is refused with every number and the fix", () => {
    expect(problems('dev', (d) => (d.server.resources.limits.memory = '1Gi'))).toEqual([
      'config/dev.yaml: server.resources.limits.memory: memory limit 1Gi (1024 MiB) is below the measured footprint of 2 ' +
        'workers: parent 256 + supervisors 32 + workers 2 × 608 MiB = 1504 MiB; raise the limit to at least 1504Mi or ' +
        'lower server.workers',
    ]);
  });

  test('more workers in the same limit are refused; the exact footprint is accepted', () => {
    expect(problems('prod', (d) => (d.server.workers = 3))).toEqual([
      'config/prod.yaml: server.resources.limits.memory: memory limit 1536Mi (1536 MiB) is below the measured footprint of 3 ' +
        'workers: parent 256 + supervisors 32 + workers 3 × 608 MiB = 2112 MiB; raise the limit to at least 2112Mi or ' +
        'lower server.workers',
    ]);
    expect(problems('prod', (d) => Object.assign(d.server, { workers: 3, resources: { ...d.server.resources, limits: { cpu: '2', memory: '2112Mi' } } }))).toEqual([]);
  });

  test('every shipped config fits: limit ≥ footprint of its workers', () => {
    const shipped = ['dev', 'prod', 'local'].map((name) => {
      const c = shippedConfig(name);
      return { name, workers: c.server.workers, limit: c.server.resources.limits.memory };
    });
    expect(shipped).toEqual([
      { name: 'dev', workers: 2, limit: '1536Mi' },
      { name: 'prod', workers: 2, limit: '1536Mi' },
      { name: 'local', workers: 1, limit: '1Gi' },
    ]);
    // 1504 ≤ 1536, 1504 ≤ 1536, 896 ≤ 1024.
    expect([memoryFootprintMiB(2) <= 1536, memoryFootprintMiB(1) <= 1024]).toEqual([true, true]);
    for (const name of ['dev', 'prod', 'local']) expect(problems(name, () => undefined)).toEqual([]);
  });
});

describe('connections: (maxReplicas + surge) × (parent 3 + workers × stores × (pool + overflow))', () => {
  test('the parent process is counted per pod', () => {
    // dev: 4 pods × (3 + 2 × 3 × 10) = 252; without the parent it would be 240.
    expect(connectionBudget({ maxReplicas: 3, workers: 2, authEnabled: true, poolSize: 5, maxOverflow: 5, maxConnections: 400 })).toMatchObject({
      surge: 1,
      stores: 3,
      parentConnections: 3,
      perPod: 63,
      peak: 252,
      headroom: 40,
      available: 360,
      fits: true,
    });
    expect(connectionBudget({ maxReplicas: 1, workers: 1, authEnabled: false, poolSize: 5, maxOverflow: 0, maxConnections: 36 })).toMatchObject({
      stores: 2,
      perPod: 13,
      peak: 26,
      headroom: 10,
      available: 26,
      fits: true,
    });
  });

  test("a max_connections that only fits without the parent's connections is refused, naming every number", () => {
    // 270 − 27 headroom leaves 243: enough for the workers' 240, not for 252 with the parents.
    expect(problems('dev', (d) => (d.database.maxConnections = 270))).toEqual([
      'config/dev.yaml: database.pool: connection budget exceeded: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × ' +
        'stores 3 × (pool.size 5 + pool.maxOverflow 5)) = 252 connections, but max_connections 270 − headroom 27 leaves ' +
        '243; lower the pool, workers or maxReplicas, or raise database.maxConnections',
    ]);
  });

  test('the shipped GKE configs fit their instances', () => {
    expect(problems('dev', () => undefined)).toEqual([]);
    expect(problems('prod', () => undefined)).toEqual([]);
    const prod = shippedConfig('prod');
    if (prod.database.engine !== 'mysql' || !prod.server.autoscaling) throw new Error('prod: expected MySQL with autoscaling');
    // prod: 7 pods × 63 = 441 of 1000 − 100.
    expect(
      connectionBudget({
        maxReplicas: prod.server.autoscaling.maxReplicas,
        workers: prod.server.workers,
        authEnabled: prod.auth !== undefined,
        poolSize: prod.database.pool.size,
        maxOverflow: prod.database.pool.maxOverflow,
        maxConnections: prod.database.maxConnections,
      }),
    ).toMatchObject({ peak: 441, available: 900, fits: true });
  });
});
