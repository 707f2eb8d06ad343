/**
 * Several MLflow servers per environment, as synth writes them (in-process `run` of main.ts into temporary
 * directories): one folder `dist/<env>/<instance>/` and one Argo CD Application per instance under the shared
 * root app, the add-ons and the ClusterIssuer once, every object valid against its schema and Pod Security
 * restricted; synth's marker covers the nested folders; `npm run diff` and the Pulumi bootstrap read the layout.
 * The config is test/fixtures/instances/teams.yaml (team-a and team-b on one Cloud SQL instance).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { run } from '../../main';
import { readGenerated } from '../../bootstrap/src/generated';
import { treeOf } from '../../tools/diff/objects';
import { podSecurityViolations } from '../../lib/policy/pod-security';
import { validateManifest } from '../../tools/schema-validation';
import { renderWorkingTree } from '../../scripts/diff';
import { find, ofKind, ROOT } from '../../tools/environments';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'instances', 'teams.yaml');
const MARKER = '.mlflow-gitops-synth';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmpdir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `instances-${prefix}-`));
  scratch.push(d);
  return d;
}

function synth(args: readonly string[], root?: string) {
  let stdout = '';
  let stderr = '';
  const code = run(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } }, root);
  return { code, stdout, stderr };
}

/** Every file under `dir`, relative paths (not following links). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out.sort();
}

function entries(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? `${e.name}/` : e.name)).sort();
}

/** The objects of a folder of the output, parsed. */
function objectsIn(dir: string): any[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => yaml.load(fs.readFileSync(path.join(dir, f), 'utf8')) as any)
    .filter((o) => o.kind !== 'Kustomization');
}

/** A scratch repository whose config/ holds the fixture as `teams.yaml` (and `extra`, file name → text). */
function repository(extra: Record<string, string> = {}): string {
  const root = tmpdir('repo');
  fs.mkdirSync(path.join(root, 'config'));
  fs.copyFileSync(FIXTURE, path.join(root, 'config', 'teams.yaml'));
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(root, 'config', name), text);
  return root;
}

describe('--config teams.yaml --out <dir>', () => {
  // Rendered for the cases below in beforeAll, not while jest collects (tools/mutation/mutation-attribution.js).
  let out = '';
  let result: ReturnType<typeof synth>;
  beforeAll(() => {
    out = path.join(tmpdir('out'), 'teams');
    result = synth(['--config', FIXTURE, '--out', out]);
  });

  test('exit 0; one folder per instance beside the shared apps/ and cluster-issuer/, no mlflow/', () => {
    const note = `note: its Argo CD Applications point at dist/teams/ in the Git repository, not at ${out}: Argo CD deploys what npm run synth writes to dist/\n`;
    expect(result).toEqual({ code: 0, stdout: `synthesized ${FIXTURE} → ${out}\n${note}`, stderr: '' });
    expect(entries(out)).toEqual([MARKER, 'apps/', 'argocd/', 'cluster-issuer/', 'team-a/', 'team-b/']);
  });

  test("each instance's folder holds a whole MLflow server in its own namespace, labelled with its instance", () => {
    for (const [instance, namespace] of [
      ['team-a', 'mlflow-team-a'],
      ['team-b', 'mlflow-team-b'],
    ]) {
      const objects = objectsIn(path.join(out, instance));
      expect(find(objects, 'Namespace', namespace).metadata.name).toBe(namespace);
      for (const o of objects.filter((x) => x.kind !== 'Namespace')) expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} ${namespace}`);
      const deployment = find(objects, 'Deployment', 'mlflow');
      expect(deployment.metadata.labels['app.kubernetes.io/instance']).toBe(`mlflow-teams-${instance}`);
      expect(deployment.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe(`mlflow-teams-${instance}`);
      expect(find(objects, 'Ingress', 'mlflow').spec.rules.map((r: any) => r.host)).toEqual([`mlflow-${instance.slice(-1)}.teams.example.com`]);
      const server = deployment.spec.template.spec.containers.find((c: any) => c.name === 'mlflow');
      const args: string[] = [...(server.command ?? []), ...(server.args ?? [])];
      expect(args[args.indexOf('--artifacts-destination') + 1]).toBe(`gs://example-mlflow-teams-artifacts/${instance}`);
      expect(find(objects, 'ExternalSecret', 'mlflow-database').spec.data.map((d: any) => d.remoteRef.key)).toEqual([
        `mlflow-${instance}-db-user`,
        `mlflow-${instance}-db-password`,
      ]);
      // The smoke test talks to its own instance's Service.
      const smoke = find(objects, 'Job', 'mlflow-smoke').spec.template.spec.containers[0];
      expect(JSON.stringify(smoke.env)).toContain(`http://mlflow.${namespace}.svc.cluster.local:5000`);
    }
    // team-b's own sizing, team-a the top level's.
    const sizing = (instance: string) => {
      const objects = objectsIn(path.join(out, instance));
      const c = find(objects, 'Deployment', 'mlflow').spec.template.spec.containers.find((x: any) => x.name === 'mlflow');
      const args: string[] = [...(c.command ?? []), ...(c.args ?? [])];
      return `${args[args.indexOf('--workers') + 1]} workers, ${c.resources.limits.memory}, HPA max ${find(objects, 'HorizontalPodAutoscaler', 'mlflow').spec.maxReplicas}`;
    };
    expect([sizing('team-a'), sizing('team-b')]).toEqual(['2 workers, 1536Mi, HPA max 3', '1 workers, 1024Mi, HPA max 2']);
  });

  test('one Application per instance in wave 0, each on its folder and namespace; the add-ons and the ClusterIssuer once', () => {
    const apps = objectsIn(path.join(out, 'apps'));
    expect(apps.map((a) => `${a.metadata.name} wave ${a.metadata.annotations['argocd.argoproj.io/sync-wave']}`).sort()).toEqual([
      'mlflow-teams-cert-manager wave -20',
      'mlflow-teams-cluster-issuer wave -10',
      'mlflow-teams-external-secrets wave -20',
      'mlflow-teams-team-a wave 0',
      'mlflow-teams-team-b wave 0',
    ]);
    for (const instance of ['team-a', 'team-b']) {
      const app = find(apps, 'Application', `mlflow-teams-${instance}`);
      expect(app.spec.project).toBe('mlflow-teams');
      expect(app.spec.source.path).toBe(`dist/teams/${instance}`);
      expect(app.spec.destination.namespace).toBe(`mlflow-${instance}`);
      expect(app.spec.ignoreDifferences).toEqual([{ group: 'apps', kind: 'Deployment', name: 'mlflow', namespace: `mlflow-${instance}`, jsonPointers: ['/spec/replicas'] }]);
    }
    expect(find(apps, 'Application', 'mlflow-teams-cluster-issuer').spec.source.path).toBe('dist/teams/cluster-issuer');
    expect(objectsIn(path.join(out, 'cluster-issuer')).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['ClusterIssuer/letsencrypt-staging']);
  });

  test('the bootstrap: one AppProject whose destinations are every instance namespace, one root app over apps/', () => {
    const boot = objectsIn(path.join(out, 'argocd'));
    expect(boot.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['AppProject/mlflow-teams', 'Application/mlflow-teams-root', 'ConfigMap/argocd-cm']);
    expect(find(boot, 'AppProject', 'mlflow-teams').spec.destinations.map((d: any) => d.namespace)).toEqual([
      'argocd',
      'mlflow-team-a',
      'mlflow-team-b',
      'external-secrets',
      'cert-manager',
    ]);
    expect(find(boot, 'Application', 'mlflow-teams-root').spec.source.path).toBe('dist/teams/apps');
  });

  test('every object validates against its schema and every pod passes Pod Security restricted; no Secret', () => {
    const all = ['apps', 'argocd', 'cluster-issuer', 'team-a', 'team-b'].flatMap((d) => objectsIn(path.join(out, d)).map((obj) => ({ file: `${d}/${obj.kind}/${obj.metadata.name}`, obj })));
    expect(all.length).toBeGreaterThan(50);
    expect(all.flatMap(({ file, obj }) => validateManifest(obj).map((e) => `${file}: ${e}`))).toEqual([]);
    expect(ofKind(all.map((a) => a.obj), 'Deployment').length + ofKind(all.map((a) => a.obj), 'Job').length).toBe(6);
    expect(all.flatMap(({ obj }) => podSecurityViolations(obj))).toEqual([]);
    expect(all.filter(({ obj }) => obj.kind === 'Secret')).toEqual([]);
  });

  test('the marker lists every file of the nested folders; synth replaces its own output again, and refuses a file it did not write there', () => {
    const listed = fs.readFileSync(path.join(out, MARKER), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(listed).toEqual(filesUnder(out).filter((f) => f !== MARKER));
    expect(listed).toContain('team-b/deployment-mlflow.yaml');
    expect(synth(['--config', FIXTURE, '--out', out]).code).toBe(0);
    fs.writeFileSync(path.join(out, 'team-a', 'notes.txt'), 'mine\n');
    expect(synth(['--config', FIXTURE, '--out', out])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `synth: refusing to replace ${out}: it holds files synth did not write (team-a/notes.txt); ` +
        `synth replaces only an empty directory or one it wrote (marked by ${MARKER}). Nothing was written.\n`,
    });
    fs.rmSync(path.join(out, 'team-a', 'notes.txt'));
  });

  test("the Pulumi bootstrap reads the environment's argocd/ as for a single server", () => {
    const generated = readGenerated('argocd', out);
    expect(generated.projects.map((p) => p.metadata.name)).toEqual(['mlflow-teams']);
    expect(generated.applications.map((a) => a.metadata.name)).toEqual(['mlflow-teams-root']);
  });
});

describe('every config/*.yaml of a repository (no options)', () => {
  test('an environment with instances goes to dist/<env>/<instance>/ beside a single-server one', () => {
    const root = repository({ 'local.yaml': fs.readFileSync(path.join(ROOT, 'config', 'local.yaml'), 'utf8') });
    const r = synth([], root);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^synthesized local, teams → dist\/ \(\d+ files\), argocd\/ \(4 files\)\n$/);
    expect(entries(path.join(root, 'dist'))).toEqual([MARKER, 'local/', 'teams/']);
    expect(entries(path.join(root, 'dist', 'teams'))).toEqual(['apps/', 'cluster-issuer/', 'team-a/', 'team-b/']);
    expect(entries(path.join(root, 'dist', 'local'))).toEqual(['mlflow/']);
    expect(entries(path.join(root, 'argocd'))).toEqual([MARKER, 'teams/']);
  });

  test('instances without gitops: one folder each, no Applications and no bootstrap (kubectl apply per folder)', () => {
    const local = yaml.load(fs.readFileSync(path.join(ROOT, 'config', 'local.yaml'), 'utf8')) as any;
    delete local.namespace;
    local.instances = [
      { name: 'a', namespace: 'mlflow-a' },
      { name: 'b', namespace: 'mlflow-b' },
    ];
    const root = tmpdir('local');
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config', 'sandbox.yaml'), yaml.dump(local));
    expect(synth([], root).stdout).toMatch(/^synthesized sandbox → dist\/ \(\d+ files\), argocd\/ \(0 files\)\n$/);
    expect(entries(path.join(root, 'dist', 'sandbox'))).toEqual(['a/', 'b/']);
    expect(entries(path.join(root, 'argocd'))).toEqual([MARKER]);
    // Each its own SQLite volume in its own namespace.
    for (const ns of ['a', 'b']) expect(find(objectsIn(path.join(root, 'dist', 'sandbox', ns)), 'PersistentVolumeClaim', 'mlflow-data').metadata.namespace).toBe(`mlflow-${ns}`);
  });

  test('turning a single server into instances: the old mlflow/ folder goes, the instance folders come', () => {
    const single = yaml.load(fs.readFileSync(path.join(ROOT, 'config', 'dev.yaml'), 'utf8')) as any;
    const root = tmpdir('switch');
    fs.mkdirSync(path.join(root, 'config'));
    fs.writeFileSync(path.join(root, 'config', 'teams.yaml'), yaml.dump(single));
    expect(synth([], root).code).toBe(0);
    expect(entries(path.join(root, 'dist', 'teams'))).toEqual(['apps/', 'clients/', 'cluster-issuer/', 'mlflow/', 'serving/']);
    fs.copyFileSync(FIXTURE, path.join(root, 'config', 'teams.yaml'));
    expect(synth([], root).code).toBe(0);
    expect(entries(path.join(root, 'dist', 'teams'))).toEqual(['apps/', 'cluster-issuer/', 'team-a/', 'team-b/']);
    expect(fs.existsSync(path.join(root, 'dist', 'teams', 'apps', 'application-mlflow-teams.yaml'))).toBe(false);
  });

  test('an invalid instance: exit 1, the problem at its path, nothing written', () => {
    const text = fs.readFileSync(FIXTURE, 'utf8').replace('namespace: mlflow-team-b', 'namespace: mlflow-team-a');
    const root = repository();
    fs.writeFileSync(path.join(root, 'config', 'teams.yaml'), text);
    const file = path.join(root, 'config', 'teams.yaml');
    expect(synth([], root)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'Invalid configuration (1 problem); nothing was written:\n' +
        `${file}: instances.1.namespace: namespace 'mlflow-team-a' is already used by instance 'team-a' (instances.0): each instance needs its own namespace ` +
        "(the servers' objects have the same names)\n",
    });
    expect(fs.readdirSync(root)).toEqual(['config']);
  });

  test('two instances that derive different settings for one ClusterIssuer: refused at synth, nothing written', () => {
    const text = fs.readFileSync(FIXTURE, 'utf8').replace(/(hosts: \[mlflow-b[^\n]*\n\s*clusterIssuer: letsencrypt-staging\n\s*className: )gce/, '$1gce-internal');
    expect(text).toContain('gce-internal');
    const root = repository();
    fs.writeFileSync(path.join(root, 'config', 'teams.yaml'), text);
    const r = synth([], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Synthesis refused (1 problem); nothing was written:\n' +
        "teams: ClusterIssuer 'letsencrypt-staging' is shared by mlflow-teams-team-a " +
        '({"name":"letsencrypt-staging","email":"platform-team@example.com","server":"staging","ingressClass":"gce"}) and mlflow-teams-team-b ' +
        '({"name":"letsencrypt-staging","email":"platform-team@example.com","server":"staging","ingressClass":"gce-internal"}), ' +
        'which derive different settings for it: give their exposures different clusterIssuer names, or the same settings\n',
    );
    expect(fs.readdirSync(root)).toEqual(['config']);
  });
});

test('npm run diff reads the nested layout: one folder per instance, in the environment', () => {
  const tree = treeOf(renderWorkingTree(repository()));
  expect([...tree.keys()]).toEqual(['teams']);
  expect([...(tree.get('teams')?.keys() ?? [])].sort()).toEqual(['argocd/teams', 'dist/teams/apps', 'dist/teams/cluster-issuer', 'dist/teams/team-a', 'dist/teams/team-b']);
  expect(tree.get('teams')?.get('dist/teams/team-b')?.get('apps/Deployment/mlflow-team-b/mlflow')?.file).toBe('dist/teams/team-b/deployment-mlflow.yaml');
});
