/**
 * `npm run diff` on real git histories: a temporary repository holding this project's code and configs
 * (`main`), with one commit per kind of change on a branch. The base is rendered for real (git archive + the
 * base's own main.ts in a child process); the working tree in-process. Each case asserts the exact report.
 *
 * Renderings of a base commit are shared between cases (one child process per commit), so the suite runs
 * three synths in all, concurrently.
 *
 * The repository is built from the files of the checkout the suite runs in, so it needs no `.git` of its own
 * and runs in Stryker's sandbox too (`npm run mutate`), where lib/ is Stryker's instrumented copy: the base
 * renders in a child process with the same code (and the same active mutant, which Stryker passes in the
 * environment) as the working tree in this process. The code change below therefore edits whole lines, found
 * by what they start with, not by their exact text.
 */
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import type { RenderedFile } from '../../../lib/synth/synth';
import { renderCommit, runDiff, type Base } from '../../../scripts/diff';
import { ROOT, RUN_TS } from '../../../tools/environments';
import { onceBeforeAll } from '../../support/once';

/** What a synth reads. */
const COPIED = ['config', 'lib', 'main.ts', 'imports', 'schemas', 'package.json', 'package-lock.json'];
/**
 * Copied when present: only `tsc` needs it, tsx renders the same without it (esbuild's defaults), and Stryker's
 * sandbox has none (stryker.config.json leaves it out).
 */
const COPIED_IF_PRESENT = ['tsconfig.json'];
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  // Fixed dates: the same files give the same commits on every run, so a base renders in the same directory
  // and tsx's transform cache is warm.
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
};

let repo: string;
const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const short = (ref: string) => git('rev-parse', '--short=7', ref);

/** Edits a file of the temporary repository in place (asserting the edit applies). */
function edit(file: string, from: string, to: string): void {
  const p = path.join(repo, file);
  const text = fs.readFileSync(p, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${JSON.stringify(from)}: update this test`);
  fs.writeFileSync(p, text.replace(from, to));
}

/**
 * Replaces the one line of a file that starts (after its indentation) with `start` by `lines`, indented alike:
 * the rest of the line may be any form of the same code (Stryker's instrumented copy wraps values in mutant
 * switches and drops trailing commas).
 */
function replaceLine(file: string, start: string, lines: readonly string[]): void {
  const p = path.join(repo, file);
  const text = fs.readFileSync(p, 'utf8').split('\n');
  const hits = text.flatMap((l, i) => (l.trimStart().startsWith(start) ? [i] : []));
  if (hits.length !== 1) throw new Error(`${file} has ${hits.length} lines starting with ${JSON.stringify(start)}: update this test`);
  const indent = /^\s*/.exec(text[hits[0]])![0];
  text.splice(hits[0], 1, ...lines.map((l) => `${indent}${l}`));
  fs.writeFileSync(p, text.join('\n'));
}

function editYaml(file: string, change: (doc: any) => void): void {
  const p = path.join(repo, file);
  const doc = yaml.load(fs.readFileSync(p, 'utf8'));
  change(doc);
  fs.writeFileSync(p, yaml.dump(doc));
}

/** Commits `change` on a new branch off main and leaves it checked out. */
function branch(name: string, change: () => void): void {
  git('checkout', '-q', '-B', name, 'main');
  change();
  git('commit', '-q', '-am', name);
}

// One rendering per base commit, shared by every case (the real renderCommit, memoized).
const renderings = new Map<string, Promise<RenderedFile[]>>();
const renderBase = (root: string, base: Base) => {
  if (!renderings.has(base.commit)) renderings.set(base.commit, renderCommit(root, base));
  return renderings.get(base.commit)!;
};

async function diff(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runDiff(argv, { root: repo, stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), renderBase });
  return { code, stdout, stderr };
}

/** The CLI as a user runs it, in this repository: a usage error. */
let cliUsageError: Promise<{ code: number | null; stdout: string; stderr: string }>;

// Once per suite also under `npm run mutate` (test/support/once.ts).
onceBeforeAll(async () => {
  cliUsageError = new Promise((resolve) => {
    execFile(process.execPath, [...RUN_TS, 'scripts/diff.ts', '--format', 'html'], { cwd: ROOT }, (err, stdout, stderr) =>
      resolve({ code: err ? (err as { code?: number }).code ?? null : 0, stdout, stderr }),
    );
  });
  repo = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-diff-test-'));
  for (const f of COPIED) fs.cpSync(path.join(ROOT, f), path.join(repo, f), { recursive: true });
  for (const f of COPIED_IF_PRESENT.filter((f) => fs.existsSync(path.join(ROOT, f)))) fs.cpSync(path.join(ROOT, f), path.join(repo, f));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(repo, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(repo, '.gitignore'), 'node_modules\n');
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'base');
  // A code change: the selector labels gain a label, ConfigMaps move a wave later.
  branch('code-change', () => {
    replaceLine('lib/conventions.ts', '[COMPONENT_LABEL]: component', ['[COMPONENT_LABEL]: component,', "'app.kubernetes.io/part-of': APP_NAME,"]);
    replaceLine('lib/conventions.ts', 'ConfigMap: ', ['ConfigMap: -1,']);
  });
  branch('invalid', () => editYaml('config/dev.yaml', (d) => (d.server.workers = 0)));
  git('checkout', '-q', 'main');
  // Labels as the command makes them: they appear in a failed rendering's message.
  const base = (ref: string): Base => ({ commit: git('rev-parse', ref), label: `${ref} (${short(ref)})` });
  // Start the three base renderings at once; the invalid one is awaited by its case.
  for (const ref of ['main', 'code-change', 'invalid']) renderBase(repo, base(ref)).catch(() => undefined);
  await Promise.all([renderBase(repo, base('main')), renderBase(repo, base('code-change'))]);
});

afterAll(() => {
  if (repo) fs.rmSync(repo, { recursive: true, force: true });
});

afterEach(() => {
  git('checkout', '-q', '-f', 'main');
});

const header = () => `Rendered manifests: main (merge base ${short('main')}) → working tree\n\n`;

describe('the report for each kind of change (base: main, working tree: one commit on a branch)', () => {
  test('a worker count change rolls the server pods (RollingUpdate)', async () => {
    // Fewer workers: more would need a higher memory limit too (the footprint guard), a second changed field.
    branch('workers', () => editYaml('config/dev.yaml', (d) => (d.server.workers = 1)));
    const r = await diff('--env', 'dev');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (1):
  rolls the pods:
    ! dev Deployment mlflow/mlflow: the pod template changes (1 field): every pod is replaced, RollingUpdate (maxSurge 1, maxUnavailable 0)

dev: 1 changed
  dist/dev/mlflow (Application mlflow-dev)
    ~ Deployment mlflow/mlflow (wave 1)
        spec.template.spec.containers[name=mlflow].command[7]: "2" → "1"
`);
  });

  test('an image crossing an MLflow minor version: schema migration, rollback needs a database restore', async () => {
    branch('minor', () => editYaml('config/local.yaml', (d) => (d.image.tag = 'v3.18.0-full')));
    const r = await diff('--env', 'local');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (2):
  MLflow schema migration:
    ! local Deployment mlflow/mlflow: MLflow 3.17.0 → 3.18.0 crosses a minor version: the database schema is migrated on deploy, forward only; rolling back needs a database restore (take a backup before merging)
  rolls the pods:
    ! local Deployment mlflow/mlflow: the pod template changes (3 fields): every pod is replaced, Recreate: every pod stops before the new ones start (downtime)

local: 1 changed
  dist/local/mlflow
    ~ Deployment mlflow/mlflow (wave 1)
        metadata.labels["app.kubernetes.io/version"]: "3.17.0" → "3.18.0"
        spec.template.metadata.labels["app.kubernetes.io/version"]: "3.17.0" → "3.18.0"
        spec.template.spec.containers[name=mlflow].image: "ghcr.io/mlflow/mlflow:v3.17.0-full" → "ghcr.io/mlflow/mlflow:v3.18.0-full"
        spec.template.spec.initContainers[name=migrate].image: "ghcr.io/mlflow/mlflow:v3.17.0-full" → "ghcr.io/mlflow/mlflow:v3.18.0-full"
`);
  });

  test('a patch release rolls the pods (Recreate: downtime) and migrates nothing', async () => {
    branch('patch', () => editYaml('config/local.yaml', (d) => (d.image.tag = 'v3.17.1-full')));
    const r = await diff('--env', 'local');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (1):
  rolls the pods:
    ! local Deployment mlflow/mlflow: the pod template changes (3 fields): every pod is replaced, Recreate: every pod stops before the new ones start (downtime)

local: 1 changed
  dist/local/mlflow
    ~ Deployment mlflow/mlflow (wave 1)
        metadata.labels["app.kubernetes.io/version"]: "3.17.0" → "3.17.1"
        spec.template.metadata.labels["app.kubernetes.io/version"]: "3.17.0" → "3.17.1"
        spec.template.spec.containers[name=mlflow].image: "ghcr.io/mlflow/mlflow:v3.17.0-full" → "ghcr.io/mlflow/mlflow:v3.17.1-full"
        spec.template.spec.initContainers[name=migrate].image: "ghcr.io/mlflow/mlflow:v3.17.0-full" → "ghcr.io/mlflow/mlflow:v3.17.1-full"
`);
  });

  test('an image bump changes only what runs MLflow: the migration hook, the server, the served model, the smoke hook (the version label is on nothing else)', async () => {
    branch('dev-patch', () => editYaml('config/dev.yaml', (d) => (d.image.tag = 'v3.17.1-full')));
    const r = await diff('--env', 'dev');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const objects = r.stdout.split('\n').filter((l) => /^ {4}[~+-] /.test(l));
    expect(objects).toEqual([
      '    ~ Job mlflow/mlflow-migrate (wave 0, Sync hook)',
      '    ~ Deployment mlflow/mlflow (wave 1)',
      '    ~ Job mlflow/mlflow-smoke (wave 0, PostSync hook)',
      '    ~ Deployment mlflow/serve-iris (wave 1)',
    ]);
    expect(r.stdout).toContain('\ndev: 4 changed\n');
  });

  test("a promotion: the served model rolling, named as a promotion, and the count in the server's access plan (its sync runs the migration Job)", async () => {
    branch('promote-iris', () => editYaml('config/dev.yaml', (d) => (d.serving[0].promotion = 1)));
    const r = await diff('--env', 'dev');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe(`${header()}DANGER (1):
  rolls the pods:
    ! dev Deployment mlflow/serve-iris: a promotion (mlflow-gitops/promotion 0 → 1): every pod is replaced, RollingUpdate (maxSurge 1, maxUnavailable 0), and the new pods resolve the served model's alias again

dev: 2 changed
  dist/dev/mlflow (Application mlflow-dev)
    ~ ConfigMap mlflow/mlflow-access-plan (wave -2)
        data["access.json"]: text changed
            @@ line 43
            -       "promotion": 0
            +       "promotion": 1
  dist/dev/serving/mlflow (Application mlflow-dev-serving)
    ~ Deployment mlflow/serve-iris (wave 1)
        spec.template.metadata.annotations["mlflow-gitops/promotion"]: "0" → "1"
`);
  });

  test('shrinking the volume: Kubernetes refuses', async () => {
    branch('shrink', () => editYaml('config/local.yaml', (d) => (d.volume.size = '5Gi')));
    const r = await diff('--env', 'local');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (1):
  Kubernetes will refuse:
    ! local PersistentVolumeClaim mlflow/mlflow-data: spec.resources.requests.storage shrinks 10Gi → 5Gi: a claim can only grow; the API server refuses the update

local: 1 changed
  dist/local/mlflow
    ~ PersistentVolumeClaim mlflow/mlflow-data (wave -2)
        spec.resources.requests.storage: "10Gi" → "5Gi"
`);
  });

  test('renaming the namespace deletes the Namespace and the volume (NetworkPolicies that only move are not flagged)', async () => {
    branch('namespace', () => editYaml('config/local.yaml', (d) => (d.namespace = 'mlflow-tracking')));
    const r = await diff('--env', 'local');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (2):
  deletes state or shared objects:
    ! local Namespace mlflow: deleting a Namespace deletes everything in it: volumes and their data, Secrets, and objects other tools put there
    ! local PersistentVolumeClaim mlflow/mlflow-data: deleting the claim deletes its volume and the data on it (reclaim policy Delete, the default of dynamic provisioning)

local: 8 added, 8 removed
  dist/local/mlflow
    - Namespace mlflow (wave -3)
    + Namespace mlflow-tracking (wave -3)
    + ServiceAccount mlflow-tracking/mlflow (wave -3)
    - ServiceAccount mlflow/mlflow (wave -3)
    + NetworkPolicy mlflow-tracking/default-deny (wave -3)
    + NetworkPolicy mlflow-tracking/mlflow-egress (wave -3)
    - NetworkPolicy mlflow/default-deny (wave -3)
    - NetworkPolicy mlflow/mlflow-egress (wave -3)
    + ConfigMap mlflow-tracking/mlflow-migrate-script (wave -2)
    - ConfigMap mlflow/mlflow-migrate-script (wave -2)
    + PersistentVolumeClaim mlflow-tracking/mlflow-data (wave -2)
    - PersistentVolumeClaim mlflow/mlflow-data (wave -2)
    + Service mlflow-tracking/mlflow (wave 1)
    - Service mlflow/mlflow (wave 1)
    + Deployment mlflow-tracking/mlflow (wave 1)
    - Deployment mlflow/mlflow (wave 1)
`);
  });

  test('turning metrics off deletes an ExternalSecret with its target Secret; a removed peer is not flagged', async () => {
    branch('metrics-off', () => editYaml('config/dev.yaml', (d) => {
        d.metrics = 'none';
        delete d.auth.metricsUsername;
        delete d.auth.metricsPasswordSecret;
      }));
    const r = await diff('--env', 'dev');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (2):
  deletes state or shared objects:
    ! dev ExternalSecret mlflow/mlflow-metrics-auth: deletes its target Secret mlflow-metrics-auth with it (creationPolicy Owner): pods that read it fail to start
  rolls the pods:
    ! dev Deployment mlflow/mlflow: the pod template changes (5 fields): every pod is replaced, RollingUpdate (maxSurge 1, maxUnavailable 0)

dev: 3 changed, 4 removed
  dist/dev/mlflow (Application mlflow-dev)
    ~ NetworkPolicy mlflow/mlflow-server-ingress (wave -3)
        spec.ingress[0].from[4]: {"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"gmp-system"}}} → (none)
    - Role mlflow/gmp-collector-read-mlflow-metrics-auth (wave -3)
    - RoleBinding mlflow/gmp-collector-read-mlflow-metrics-auth (wave -3)
    - ExternalSecret mlflow/mlflow-metrics-auth (wave -1)
    ~ Job mlflow/mlflow-migrate (wave 0, Sync hook)
        metadata.annotations["checkov.io/skip3"]: "CKV_K8S_35=MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY, MLFLOW_METRICS_PASSWORD, MLFLOW_SMOKE_USERNAME, MLFLOW_SMOKE_PASSWORD from Secrets: the script passes them to MLflow, which reads its backend store URI and Flask secret key only from the environment or its command line (never a file); the script reads the users' passwords the same way" → "CKV_K8S_35=MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY, MLFLOW_SMOKE_USERNAME, MLFLOW_SMOKE_PASSWORD from Secrets: the script passes them to MLflow, which reads its backend store URI and Flask secret key only from the environment or its command line (never a file); the script reads the users' passwords the same way"
        spec.template.spec.containers[name=migrate].env[name=MLFLOW_METRICS_USERNAME]: {"name":"MLFLOW_METRICS_USERNAME","value":"metrics-scraper"} → (none)
        spec.template.spec.containers[name=migrate].env[name=MLFLOW_METRICS_PASSWORD]: {"name":"MLFLOW_METRICS_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"mlflow-metrics-auth"}}} → (none)
    ~ Deployment mlflow/mlflow (wave 1)
        spec.template.spec.containers[name=mlflow].command: removes "--expose-prometheus", "/mlflow/metrics" from [12]
        spec.template.spec.containers[name=mlflow].env[name=MLFLOW_SERVER_ALLOWED_HOSTS].value: "mlflow.dev.example.com,mlflow,mlflow:5000,mlflow.mlflow,mlflow.mlflow:5000,mlflow.mlflow.svc,mlflow.mlflow.svc:5000,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,localhost,localhost:*,127.0.0.1,127.0.0.1:*,10.*:5000,172.*:5000,192.168.*:5000" → "mlflow.dev.example.com,mlflow,mlflow:5000,mlflow.mlflow,mlflow.mlflow:5000,mlflow.mlflow.svc,mlflow.mlflow.svc:5000,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,localhost,localhost:*,127.0.0.1,127.0.0.1:*"
        spec.template.spec.containers[name=mlflow].env[name=MLFLOW_BASIC_AUTH_FAIL_CLOSED]: {"name":"MLFLOW_BASIC_AUTH_FAIL_CLOSED","value":"false"} → (none)
        spec.template.spec.containers[name=mlflow].volumeMounts[name=metrics]: {"mountPath":"/mlflow/metrics","name":"metrics"} → (none)
        spec.template.spec.volumes[name=metrics]: {"emptyDir":{"sizeLimit":"256Mi"},"name":"metrics"} → (none)
    - PodMonitoring mlflow/mlflow (wave 2)
`);
  });

  test('turning metrics on adds an ingress NetworkPolicy: flagged as allowing more', async () => {
    branch('metrics-on', () => editYaml('config/local.yaml', (d) => (d.metrics = 'gmp')));
    const r = await diff('--env', 'local');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}DANGER (2):
  NetworkPolicy allows more:
    ! local NetworkPolicy mlflow/mlflow-server-ingress: new policy allows ingress from namespaceSelector {kubernetes.io/metadata.name=gmp-system} on TCP/5000
  rolls the pods:
    ! local Deployment mlflow/mlflow: the pod template changes (4 fields): every pod is replaced, Recreate: every pod stops before the new ones start (downtime)

local: 1 changed, 2 added
  dist/local/mlflow
    + NetworkPolicy mlflow/mlflow-server-ingress (wave -3)
    ~ Deployment mlflow/mlflow (wave 1)
        spec.template.spec.containers[name=mlflow].command: inserts "--expose-prometheus", "/mlflow/metrics" at [10]
        spec.template.spec.containers[name=mlflow].env[name=MLFLOW_SERVER_ALLOWED_HOSTS].value: "mlflow,mlflow:5000,mlflow.mlflow,mlflow.mlflow:5000,mlflow.mlflow.svc,mlflow.mlflow.svc:5000,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,localhost,localhost:*,127.0.0.1,127.0.0.1:*" → "mlflow,mlflow:5000,mlflow.mlflow,mlflow.mlflow:5000,mlflow.mlflow.svc,mlflow.mlflow.svc:5000,mlflow.mlflow.svc.cluster.local,mlflow.mlflow.svc.cluster.local:5000,localhost,localhost:*,127.0.0.1,127.0.0.1:*,10.*:5000,172.*:5000,192.168.*:5000"
        spec.template.spec.containers[name=mlflow].volumeMounts[name=metrics]: (none) → {"mountPath":"/mlflow/metrics","name":"metrics"}
        spec.template.spec.volumes[name=metrics]: (none) → {"emptyDir":{"sizeLimit":"256Mi"},"name":"metrics"}
    + PodMonitoring mlflow/mlflow (wave 2)
`);
  });

  test('switching exposure.mode from ingress to gateway: the Ingress goes with its load balancer and IP address', async () => {
    branch('gateway', () => editYaml('config/dev.yaml', (d) => {
        const { hosts, clusterIssuer, backendTimeoutSeconds } = d.exposure;
        d.exposure = { mode: 'gateway', hosts, certificate: { source: 'cert-manager', clusterIssuer }, backendTimeoutSeconds };
      }));
    const r = await diff('--env', 'dev');
    expect([r.code, r.stderr]).toEqual([0, '']);
    const dangers = r.stdout.slice(0, r.stdout.indexOf('\n\ndev: '));
    expect(dangers).toBe(`${header()}DANGER (1):
  deletes state or shared objects:
    ! dev Ingress mlflow/mlflow: deleting the Ingress deletes its load balancer and releases its external IP address: requests to mlflow.dev.example.com fail until DNS points at the address of what replaces it`);
    expect(r.stdout).toContain('\n    - Ingress mlflow/mlflow (wave 2)\n');
    expect(r.stdout).toContain('\n    + Gateway mlflow/mlflow (wave 2)\n');
  });

  test('a new environment raises no danger: its NetworkPolicies come with its namespace', async () => {
    branch('new-env', () => {
      fs.copyFileSync(path.join(repo, 'config/local.yaml'), path.join(repo, 'config/staging.yaml'));
      git('add', 'config/staging.yaml');
    });
    const r = await diff('--env', 'staging', '--fail-on', 'danger');
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout.startsWith(`${header()}No dangers found.\n\nstaging: 8 added (new environment)\n`)).toBe(true);
    expect(r.stdout).toContain('\n    + NetworkPolicy mlflow/default-deny (wave -3)\n');
    expect(r.stdout).toContain('\n    + NetworkPolicy mlflow/mlflow-egress (wave -3)\n');
  });

  test('ExternalSecret templates appear as their template text, never rendered', async () => {
    branch('dbname', () => editYaml('config/prod.yaml', (d) => (d.database.name = 'tracking')));
    const r = await diff('--env', 'prod');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${header()}No dangers found.

prod: 2 changed
  dist/prod/mlflow (Application mlflow-prod)
    ~ ExternalSecret mlflow/mlflow-auth (wave -1)
        spec.target.template.data["basic_auth.ini"]: text changed
            @@ line 3
            - database_uri = mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:3306/mlflow
            + database_uri = mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:3306/tracking
    ~ ExternalSecret mlflow/mlflow-database (wave -1)
        spec.target.template.data.MLFLOW_BACKEND_STORE_URI: "mysql+pymysql://{{ .user | urlquery | replace \\"+\\" \\"%20\\" }}:{{ .password | urlquery | replace \\"+\\" \\"%20\\" }}@127.0.0.1:3306/mlflow" → "mysql+pymysql://{{ .user | urlquery | replace \\"+\\" \\"%20\\" }}:{{ .password | urlquery | replace \\"+\\" \\"%20\\" }}@127.0.0.1:3306/tracking"
`);
  });

  test('a code change (base: a commit whose selector labels and ConfigMap wave differ): immutable selector, wave move', async () => {
    const r = await diff('--base', 'code-change', '--env', 'local');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Rendered manifests: code-change (${short('code-change')}) → working tree

DANGER (2):
  Kubernetes will refuse:
    ! local Deployment mlflow/mlflow: spec.selector is immutable (spec.selector.matchLabels["app.kubernetes.io/part-of"]): the sync fails with "field is immutable" until the object is deleted and re-created (Argo CD sync option Replace=true, or a manual delete); re-creating stops every pod at once
  sync wave moves:
    ! local ConfigMap mlflow/mlflow-migrate-script: sync wave -1 → -2: it is applied in a different order relative to the other objects

local: 3 changed
  dist/local/mlflow
    ~ ConfigMap mlflow/mlflow-migrate-script (wave -1 → -2)
        metadata.annotations["argocd.argoproj.io/sync-wave"]: "-1" → "-2"
    ~ Service mlflow/mlflow (wave 1)
        spec.selector["app.kubernetes.io/part-of"]: "mlflow" → (none)
    ~ Deployment mlflow/mlflow (wave 1)
        spec.selector.matchLabels["app.kubernetes.io/part-of"]: "mlflow" → (none)
`);
  });
});

describe('the examples in docs/reviewing.md', () => {
  const examples = () => [...fs.readFileSync(path.join(ROOT, 'docs', 'reviewing.md'), 'utf8').matchAll(/^````markdown\n([\s\S]*?)````$/gm)].map((m) => m[1]);
  const withBase = (md: string) => md.replace(/merge base [0-9a-f]{7}/, `merge base ${short('main')}`);

  test('are real output: a worker count change (rolls the pods) and a smaller volume (refused)', async () => {
    expect(examples()).toHaveLength(2);
    branch('readme-workers', () => edit('config/dev.yaml', '\n  workers: 2\n', '\n  workers: 1\n'));
    expect((await diff('--env', 'dev', '--format', 'markdown')).stdout).toBe(withBase(examples()[0]));
    branch('readme-volume', () => edit('config/local.yaml', '\n  size: 10Gi\n', '\n  size: 5Gi\n'));
    expect((await diff('--format', 'markdown')).stdout).toBe(withBase(examples()[1]));
  });
});

test('a base with other locked dependencies is rendered with this checkout\'s, and the report says so', async () => {
  edit('package-lock.json', '"name": "mlflow-gitops",', '"name": "mlflow-gitops", "_changed": true,');
  const r = await diff('--env', 'local');
  expect(r.stdout).toBe(
    `Rendered manifests: main (merge base ${short('main')}) → working tree\nNote: package-lock.json differs from the base's: the base was rendered with this checkout's node_modules\n\nNo dangers found.\n\nNo changes: local.\n`,
  );
});

describe('exit codes', () => {
  test('--fail-on danger: exit 1 and a line on stderr when there are dangers, 0 when there are none', async () => {
    const clean = await diff('--fail-on', 'danger', '--env', 'local');
    expect([clean.code, clean.stderr]).toEqual([0, '']);
    expect(clean.stdout).toBe(`${header()}No dangers found.\n\nNo changes: local.\n`);
    branch('shrink', () => editYaml('config/local.yaml', (d) => (d.volume.size = '5Gi')));
    const dangerous = await diff('--fail-on', 'danger', '--env', 'local');
    expect([dangerous.code, dangerous.stderr]).toEqual([1, 'diff: 1 danger found (--fail-on danger)\n']);
  });

  const USAGE = 'usage: npm run diff -- [--base <git-ref>] [--env <name>]... [--format text|markdown] [--fail-on danger]\n';
  test.each([
    [['--frobnicate'], `diff: Unknown option '--frobnicate'\n${USAGE}`],
    [['--base'], `diff: Option '--base <value>' argument missing\n${USAGE}`],
    [['HEAD~1'], `diff: Unexpected argument 'HEAD~1'\n${USAGE}`],
    [['--format', 'html'], `diff: --format html: expected 'text' or 'markdown'\n${USAGE}`],
    [['--fail-on', 'warnings'], `diff: --fail-on warnings: expected 'danger'\n${USAGE}`],
    [['--base', 'no-such-branch'], 'diff: --base no-such-branch: not a commit in this repository\n'],
    [['--env', 'staging'], `diff: --env staging: no such environment (base: dev, local, prod; working tree: dev, local, prod)\n${USAGE}`],
  ])('%j: exit 2, one line', async (argv, stderr) => {
    const r = await diff(...argv);
    expect([r.code, r.stderr, r.stdout]).toEqual([2, stderr, '']);
  });

  test('a base whose configuration is invalid: exit 2, its first problem in one line', async () => {
    const r = await diff('--base', 'invalid', '--env', 'local');
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe(`diff: base invalid (${short('invalid')}): its configuration is invalid: config/dev.yaml: server.workers: expected a worker count from 1 to 16 (got 0)\n`);
  });

  test('a working tree whose configuration is invalid: exit 2, its first problem in one line', async () => {
    editYaml('config/local.yaml', (d) => (d.server.workers = 99));
    const r = await diff('--env', 'local');
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toBe('diff: working tree: its configuration is invalid: config/local.yaml: server.workers: expected a worker count from 1 to 16 (got 99)\n');
  });

  test('no --base and no main branch: exit 2, asks for --base', async () => {
    git('branch', '-q', '-m', 'main', 'trunk');
    try {
      const r = await diff();
      expect([r.code, r.stderr]).toEqual([2, `diff: no --base given and neither main nor origin/main exists: pass --base <git-ref>\n${USAGE}`]);
    } finally {
      git('branch', '-q', '-m', 'trunk', 'main');
    }
  });

  test('the command itself: a usage error is one line and the usage, exit 2, no stack trace', async () => {
    const r = await cliUsageError;
    expect(r).toEqual({ code: 2, stdout: '', stderr: `diff: --format html: expected 'text' or 'markdown'\n${USAGE}` });
  });
});
