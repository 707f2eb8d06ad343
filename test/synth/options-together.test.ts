/**
 * The opt-in options of one environment, together (each has its own suite; this one checks that they compose):
 * two instances, team-a on Cloud SQL for PostgreSQL with IAM login, exposed through the GKE Gateway API and
 * garbage-collected nightly; team-b on MySQL with password login behind an Ingress, without gc. Synthesized
 * in-process with main.ts's `run` into a temporary directory, then read back as a user would read dist/.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { run } from '../../main';
import { podSecurityViolations } from '../../lib/policy/pod-security';
import { validateManifest } from '../../tools/schema-validation';
import { allContainers, envOf, find, ofKind, ROOT } from '../../tools/environments';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml');

/** The teams fixture with team-a moved to PostgreSQL + IAM login + Gateway + gc. */
function together(): any {
  const doc = yaml.load(fs.readFileSync(FIXTURE, 'utf8')) as any;
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
    hosts: ['mlflow-a.teams.example.com', 'tracking-a.teams.example.com'],
    // Its own ClusterIssuer: the HTTP-01 solver of a Gateway differs from an Ingress's (refused below otherwise).
    certificate: { source: 'cert-manager', clusterIssuer: 'letsencrypt-staging-gateway' },
    backendTimeoutSeconds: 600,
  };
  a.gc = { schedule: '17 3 * * *', olderThanDays: 14 };
  return doc;
}

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function synth(doc: unknown) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'options-together-'));
  scratch.push(dir);
  const file = path.join(dir, 'teams.yaml');
  fs.writeFileSync(file, yaml.dump(doc));
  let stderr = '';
  const out = path.join(dir, 'out');
  const code = run(['--config', file, '--out', out], { stdout: { write: () => true }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stderr, out };
}

function objectsIn(dir: string): any[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')) as any)
    .filter((o) => o.kind !== 'Kustomization');
}

function argv(container: any): string[] {
  return [...(container.command ?? []), ...(container.args ?? [])];
}

describe('PostgreSQL + IAM login + Gateway + gc in one instance, beside a MySQL + password + Ingress instance', () => {
  let result: ReturnType<typeof synth>;
  let a: any[];
  let b: any[];
  beforeAll(() => {
    result = synth(together());
    if (result.code !== 0) throw new Error(result.stderr);
    a = objectsIn(path.join(result.out, 'team-a'));
    b = objectsIn(path.join(result.out, 'team-b'));
  });

  test('synthesizes; every object is valid against its schema, every pod is restricted, no Secret is written', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const all = [...a, ...b];
    expect(all.flatMap((o) => validateManifest(o).map((e) => `${o.kind}/${o.metadata.name}: ${e}`))).toEqual([]);
    expect(all.flatMap((o) => podSecurityViolations(o))).toEqual([]);
    expect(all.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  test("team-a's database: PostgreSQL on 5432 through the proxy with --auto-iam-authn, a password-less URI, no database ExternalSecret", () => {
    const proxy = allContainers(find(a, 'Deployment', 'mlflow').spec.template.spec).find((c: any) => c.name === 'cloud-sql-proxy');
    expect(argv(proxy)).toEqual(expect.arrayContaining(['--auto-iam-authn', '--port=5432', 'example-mlflow-teams:europe-west1:mlflow-pg']));
    const server = find(a, 'Deployment', 'mlflow').spec.template.spec.containers.find((c: any) => c.name === 'mlflow');
    // PostgreSQL's IAM user of a service account is its email without `.gserviceaccount.com`, URL-encoded.
    expect(envOf(server).MLFLOW_BACKEND_STORE_URI).toBe('postgresql+psycopg2://mlflow-server%40example-mlflow-teams.iam@127.0.0.1:5432/mlflow_team_a');
    expect(ofKind(a, 'ExternalSecret').map((e) => e.metadata.name)).not.toContain('mlflow-database');
    // The basic-auth secrets stay.
    expect(ofKind(a, 'ExternalSecret').map((e) => e.metadata.name)).toContain('mlflow-auth');
  });

  test("team-b keeps MySQL with a password from Secret Manager", () => {
    const proxy = allContainers(find(b, 'Deployment', 'mlflow').spec.template.spec).find((c: any) => c.name === 'cloud-sql-proxy');
    expect(argv(proxy)).toEqual(expect.arrayContaining(['--port=3306']));
    expect(argv(proxy)).not.toContain('--auto-iam-authn');
    expect(find(b, 'ExternalSecret', 'mlflow-database').spec.data.map((d: any) => d.remoteRef.key)).toEqual(['mlflow-team-b-db-user', 'mlflow-team-b-db-password']);
  });

  test("team-a is exposed by a Gateway whose routes, certificate and the server's Host allow-list all carry both hosts; team-b by its Ingress", () => {
    const hosts = ['mlflow-a.teams.example.com', 'tracking-a.teams.example.com'];
    expect(ofKind(a, 'Ingress')).toEqual([]);
    expect(ofKind(a, 'Gateway').length).toBe(1);
    const routes = ofKind(a, 'HTTPRoute');
    expect(routes.length).toBe(2);
    for (const r of routes) expect(r.spec.hostnames).toEqual(hosts);
    expect(ofKind(a, 'Certificate')[0].spec.dnsNames).toEqual(hosts);
    const server = find(a, 'Deployment', 'mlflow').spec.template.spec.containers.find((c: any) => c.name === 'mlflow');
    expect(envOf(server).MLFLOW_SERVER_ALLOWED_HOSTS.split(',')).toEqual(expect.arrayContaining(hosts));
    expect(envOf(server).MLFLOW_SERVER_CORS_ALLOWED_ORIGINS.split(',')).toEqual(expect.arrayContaining(hosts.map((h) => `https://${h}`)));
    expect(ofKind(b, 'Gateway')).toEqual([]);
    expect(find(b, 'Ingress', 'mlflow').spec.rules.map((r: any) => r.host)).toEqual(['mlflow-b.teams.example.com']);
  });

  test('team-a has the gc CronJob on its own database URI and Service; team-b has none', () => {
    const cronJob = find(a, 'CronJob', 'mlflow-gc');
    expect(cronJob.spec.concurrencyPolicy).toBe('Forbid');
    const pod = cronJob.spec.jobTemplate.spec.template.spec;
    const gc = pod.containers.find((c: any) => c.name === 'gc');
    expect(argv(gc).join(' ')).toContain('--older-than 14d');
    expect(argv(gc).join(' ')).toContain('--tracking-uri http://mlflow.mlflow-team-a.svc.cluster.local:5000');
    expect(envOf(gc).MLFLOW_BACKEND_STORE_URI).toEqual(envOf(find(a, 'Deployment', 'mlflow').spec.template.spec.containers.find((c: any) => c.name === 'mlflow')).MLFLOW_BACKEND_STORE_URI);
    const proxy = allContainers(pod).find((c: any) => c.name === 'cloud-sql-proxy');
    expect(argv(proxy)).toEqual(expect.arrayContaining(['--auto-iam-authn', '--port=5432']));
    expect(ofKind(b, 'CronJob')).toEqual([]);
  });

  test('one ClusterIssuer name for the Gateway instance and the Ingress instance: refused at synth, both named', () => {
    const doc = together();
    doc.instances.find((i: any) => i.name === 'team-a').exposure.certificate.clusterIssuer = 'letsencrypt-staging';
    const r = synth(doc);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ClusterIssuer 'letsencrypt-staging' is shared by mlflow-teams-team-a (");
    expect(r.stderr).toContain('which derive different settings for it: give their exposures different clusterIssuer names, or the same settings');
    expect(fs.existsSync(r.out)).toBe(false);
  });

  test("the two instances are on different Cloud SQL instances, so each budget stands alone; team-a's gc counts in its own", () => {
    // Lower team-a's instance until its own peak + gc no longer fits: team-a (3 + 1) × 63 + gc 2 = 254.
    const doc = together();
    doc.instances.find((i: any) => i.name === 'team-a').database.maxConnections = 270; // 270 − 27 = 243 < 254
    const r = synth(doc);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('instances.0.database.pool: connection budget exceeded');
    expect(r.stderr).toContain('+ gc 2');
    // team-b (on the MySQL instance, 600) is not mentioned.
    expect(r.stderr).not.toContain('instances.1');
  });
});
