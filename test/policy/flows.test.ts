/**
 * The flow table (flows.ts) against a real NetworkPolicy engine: for every shipped environment, its committed
 * dist/ as Argo CD syncs it; for each option the shipped files do not use, a variant rendered in memory. The
 * engine sees the manifests plus the pods that exist only at run time (the HTTP-01 solver, the metrics collector,
 * kube-dns, a client pod in another namespace). A failure names the flow, the expected verdict and the engine's
 * explanation (the policies that select each side).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { validateEnvironment } from '../../lib/config/config';
import type { Server } from '../../lib/config/model';
import { mlflowManifests, servingManifests } from '../../lib/synth/synth';
import { servingPath } from '../../lib/names';
import { rawConfig, ROOT, shippedConfigs } from '../../tools/environments';
import { describeFlow, flowsOf, runtimePods, type Flow } from './flows';
import { PolicyWorld } from './netpol-analyzer';

interface Case {
  readonly name: string;
  readonly servers: readonly Server[];
  /** Every server's manifests, as the cluster holds them together. */
  readonly manifests: () => object[];
}

function readDir(dir: string): object[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')) as object);
}

/** A shipped environment: its server's folder under dist/, and its served models' (their own Application, the same namespace). */
function shipped(config: Server): Case {
  const serving = path.join(ROOT, 'dist', config.name, servingPath('mlflow'));
  return {
    name: `${config.name} (dist/${config.name}/mlflow)`,
    servers: [config],
    manifests: () => [...readDir(path.join(ROOT, 'dist', config.name, 'mlflow')), ...(fs.existsSync(serving) ? readDir(serving) : [])],
  };
}

/** A variant config document, rendered in memory. */
function variant(name: string, env: string, doc: Record<string, unknown>): Case {
  const r = validateEnvironment(`config/${env}.yaml`, doc);
  if (!r.environment) throw new Error(`${name}: ${r.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const servers = r.environment.servers;
  return { name, servers, manifests: () => servers.flatMap((s) => [...mlflowManifests(s), ...servingManifests(s)]) };
}

function withChanges(env: string, change: (doc: any) => void): Record<string, unknown> {
  const doc = rawConfig(env);
  change(doc);
  return doc;
}

const teams = (): Record<string, unknown> => {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml'), 'utf8')) as any;
  const a = doc.instances.find((i: any) => i.name === 'team-a');
  a.database = {
    engine: 'postgres',
    login: 'iam',
    instanceConnectionName: 'example-mlflow-teams:europe-west1:mlflow-pg',
    privateIp: true,
    name: 'mlflow_team_a',
    pool: { size: 5, maxOverflow: 5, recycleSeconds: 1800 },
    maxConnections: 400,
  };
  a.exposure = {
    mode: 'gateway',
    hosts: ['mlflow-a.teams.example.com'],
    certificate: { source: 'cert-manager', clusterIssuer: 'letsencrypt-staging-gateway' },
    backendTimeoutSeconds: 600,
  };
  a.gc = { schedule: '17 3 * * *', olderThanDays: 14 };
  return doc;
};

const CASES: Case[] = [
  ...shippedConfigs().map(shipped),
  variant(
    'regional Gateway class with its proxy-only subnet, cert-manager HTTP-01, prometheus-operator',
    'dev',
    withChanges('dev', (d) => {
      d.exposure = {
        mode: 'gateway',
        hosts: ['mlflow.dev.example.com'],
        className: 'gke-l7-regional-external-managed',
        proxyOnlySubnetCidr: '10.129.0.0/23',
        certificate: { source: 'cert-manager', clusterIssuer: 'letsencrypt-staging-gateway' },
        backendTimeoutSeconds: 600,
      };
      d.metrics = 'prometheus-operator';
    }),
  ),
  variant(
    'global Gateway class with a Certificate Manager map (no HTTP-01), no metrics',
    'prod',
    withChanges('prod', (d) => {
      d.exposure = { mode: 'gateway', hosts: ['mlflow.example.com'], certificate: { source: 'certificate-manager', mapName: 'mlflow' }, backendTimeoutSeconds: 900 };
      d.metrics = 'none';
      delete d.auth.metricsUsername;
      delete d.auth.metricsPasswordSecret;
    }),
  ),
  variant(
    'GMP on an Autopilot cluster',
    'prod',
    withChanges('prod', (d) => (d.gcp.clusterKind = 'autopilot')),
  ),
  variant('two servers: PostgreSQL + IAM login + global Gateway + gc beside MySQL + Ingress', 'teams', teams()),
  variant(
    'a served model for a client with a pod selector, and a pinned version for nobody',
    'dev',
    withChanges('dev', (d) => {
      d.serving[0].clients = ['iris-trainer', 'iris-predictor'];
      d.serving.push({ ...d.serving[0], name: 'iris-v1', version: 1, passwordSecret: 'mlflow-dev-serving-iris-v1-password' });
      delete d.serving[1].alias;
      delete d.serving[1].clients;
    }),
  ),
];

describe.each(CASES)('$name', (c) => {
  let world: PolicyWorld;
  beforeAll(() => {
    // Namespaces shared by several servers' models (kube-system, the collector's) are given once.
    const seen = new Set<string>();
    const models = c.servers.flatMap(runtimePods).filter((m: any) => {
      const key = `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
      return seen.has(key) ? false : (seen.add(key), true);
    });
    world = new PolicyWorld([...c.manifests(), ...models]);
  });
  afterAll(() => world?.dispose());

  const rows: Flow[] = c.servers.flatMap((s) => [
    ...flowsOf(s),
    // Several servers: each is another namespace's pod to the others.
    ...c.servers
      .filter((o) => o !== s)
      .map((o): Flow => ({
        from: { workload: `${o.namespace}/mlflow[Deployment]` },
        to: { workload: `${s.namespace}/mlflow[Deployment]` },
        protocol: 'TCP',
        port: 5000,
        verdict: 'deny',
        what: 'another MLflow server of the environment to this one',
      })),
  ]);

  test('every pod the table names is in the manifests or the models (a misspelt one would pass every deny row)', () => {
    const objects: any[] = [...c.manifests(), ...c.servers.flatMap(runtimePods)];
    const present = new Set(objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}[${o.kind}]`));
    const named = rows.flatMap((f) => [f.from, f.to]).flatMap((p) => ('workload' in p ? [p.workload] : []));
    expect([...new Set(named)].filter((w) => !present.has(w))).toEqual([]);
  });

  test.each(rows.map((f) => [describeFlow(f), f] as const))('%s', (_name, flow) => {
    const verdict = world.allows(flow.from, flow.to, flow.protocol, flow.port) ? 'allow' : 'deny';
    if (verdict !== flow.verdict) {
      throw new Error(
        `flow ${describeFlow(flow)}\nexpected: ${flow.verdict}, the engine says: ${verdict}\n\nthe engine's explanation:\n${world.explain(flow.from, flow.to)}`,
      );
    }
  });
});
