/**
 * Checkov, the infrastructure-as-code scanner, over the committed `dist/`, the Terraform module and one rendering of
 * the options no shipped environment uses (gc, Gateway, PostgreSQL with IAM login, prometheus-operator), in one run:
 * no failed check, no global skip list, and every skip listed here with its object and reason, so a new one shows in
 * review. The pinned Checkov comes from scripts/checkov.sh (npm test's pretest). What it proves: docs/testing.md#checkov.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { mlflowManifests, type Manifest } from '../../lib/synth/synth';
import { configFrom, ROOT } from '../../tools/environments';
import { gatewayDoc } from '../support/gateway';

const LOCK = path.join(ROOT, 'scripts', 'checkov-requirements.txt');

interface CheckResult {
  readonly check_id: string;
  readonly check_name: string;
  readonly check_result: { readonly result: string; readonly suppress_comment?: string };
  readonly file_path: string;
  readonly caller_file_path?: string | null;
  readonly resource: string;
}
interface Report {
  readonly check_type: string;
  readonly summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number; checkov_version: string };
  readonly results: { passed_checks: CheckResult[]; failed_checks: CheckResult[]; skipped_checks: CheckResult[] };
}

/** prod exposed through a Gateway, on PostgreSQL with IAM login, garbage-collected, scraped by prometheus-operator. */
function optionsManifests(): Manifest[] {
  const doc = gatewayDoc((d) => {
    d.database.engine = 'postgres';
    d.database.login = 'iam';
    delete d.database.userSecret;
    delete d.database.passwordSecret;
    d.gc = { schedule: '17 3 * * *', olderThanDays: 30 };
    d.metrics = 'prometheus-operator';
  });
  return mlflowManifests(configFrom('options', doc));
}

let reports: Report[];
let options: Manifest[];
/** Where the options are written for the scan; their results are reported as `options/<file>`. */
let optionsDir: string;

beforeAll(() => {
  const binFile = path.join(ROOT, '.checkov-bin');
  if (!fs.existsSync(binFile)) throw new Error('.checkov-bin is missing: run `bash scripts/checkov.sh` (npm test runs it first)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-checkov-'));
  try {
    options = optionsManifests();
    optionsDir = path.join(out, 'options');
    fs.mkdirSync(optionsDir);
    for (const m of options) fs.writeFileSync(path.join(optionsDir, `${m.kind.toLowerCase()}-${m.metadata.name}.yaml`), yaml.dump(m));
    const reportDir = path.join(out, 'report');
    const args = ['-d', 'dist', '-d', 'terraform', '-d', optionsDir, '--framework', 'kubernetes', 'terraform', '--skip-download', '--compact', '-o', 'json', '--output-file-path', reportDir];
    // Its stdout repeats the report: not read (it would overflow the pipe's buffer). Exit 1 means failed checks.
    const r = spawnSync(fs.readFileSync(binFile, 'utf8').trim(), args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0 && r.status !== 1) throw new Error(`checkov ${args.join(' ')} failed (exit ${r.status}, ${r.signal ?? r.error}):\n${r.stderr}`);
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'results_json.json'), 'utf8'));
    // One report per framework, in no fixed order.
    reports = (Array.isArray(report) ? report : [report]).sort((a: Report, b: Report) => a.check_type.localeCompare(b.check_type));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 180_000);

/** The file of a Kubernetes result: `dist/…` or `options/…`. */
function fileOf(r: CheckResult & { file_abs_path: string }): string {
  return r.file_abs_path.startsWith(`${optionsDir}/`) ? `options${r.file_path}` : r.file_path.replace(/^\//, '');
}
/** `dist/…` or `options/…` for a Kubernetes result, `terraform/…` (and the example calling the module) for a Terraform one. */
function whereOf(type: string, r: CheckResult): string {
  if (type === 'kubernetes') return `${fileOf(r as any)} ${r.resource}`;
  return `terraform${r.file_path} ${r.resource} (from terraform${r.caller_file_path ?? ''})`;
}
/** Every scanned Kubernetes object by its file as {@link fileOf} names it. */
function scannedObjects(): Map<string, any> {
  const files = new Map<string, any>();
  for (const f of fs.readdirSync(path.join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter((x) => x.endsWith('.yaml'))) {
    files.set(`dist/${f}`, yaml.load(fs.readFileSync(path.join(ROOT, 'dist', f), 'utf8')));
  }
  for (const m of options) files.set(`options/${m.kind.toLowerCase()}-${m.metadata.name}.yaml`, m);
  return files;
}
const each = (pick: (r: Report) => CheckResult[]) => reports.flatMap((rep) => pick(rep).map((r) => ({ type: rep.check_type, r })));

test('the pinned Checkov scanned the Kubernetes objects and the Terraform, parsing every file', () => {
  const pinned = /^checkov==(\S+)$/m.exec(fs.readFileSync(LOCK, 'utf8'))![1];
  expect(reports.map((r) => [r.check_type, r.summary.checkov_version, r.summary.parsing_errors])).toEqual([
    ['kubernetes', pinned, 0],
    ['terraform', pinned, 0],
  ]);
  // Every workload was checked (the pod checks are what most findings are about).
  const workloads = [...scannedObjects()].filter(([, obj]) => ['Deployment', 'Job', 'CronJob'].includes(obj.kind)).map(([f]) => f);
  const checked = new Set(each((r) => r.results.passed_checks).filter(({ type }) => type === 'kubernetes').map(({ r }) => fileOf(r as any)));
  expect(workloads.filter((f) => f.startsWith('options/')).sort()).toEqual([
    'options/cronjob-mlflow-gc.yaml',
    'options/deployment-mlflow.yaml',
    'options/job-mlflow-migrate.yaml',
    'options/job-mlflow-smoke.yaml',
  ]);
  expect(workloads.length).toBeGreaterThanOrEqual(11);
  expect(workloads.filter((f) => !checked.has(f))).toEqual([]);
  const terraform = reports.find((r) => r.check_type === 'terraform')!;
  expect(terraform.results.passed_checks.map((r) => r.resource)).toContain('module.mlflow.google_sql_database_instance.mlflow');
});

test('no failed check', () => {
  expect(each((r) => r.results.failed_checks).map(({ type, r }) => `${r.check_id} ${whereOf(type, r)}: ${r.check_name}`)).toEqual([]);
});

// The reasons, as the objects carry them.
const DIGEST = "the MLflow image is pinned by its release tag only: set image.digest in the environment's config to pin the digest";
const PULL =
  "IfNotPresent: the MLflow image's release tag names one build, and Always would make every pod start depend on the registry (image.digest satisfies the check)";
const SERVER_ENV = 'mlflow server reads them only from the environment or its command line (which the process list shows), never from a file';
const MIGRATE_ENV =
  "the script passes them to MLflow, which reads its backend store URI and Flask secret key only from the environment or its command line (never a file); the script reads the users' passwords the same way";
const SMOKE_ENV =
  'the MLflow client takes its login from these variables (its only file form, ~/.mlflow/credentials, would hold the same Secret in the same container)';
const GC_ENV =
  'mlflow gc takes the backend store URI only on its command line (expanded from the variable by the kubelet) and the MLflow client its login from the environment';
const BUCKET_LOG =
  'Access is recorded by Cloud Audit Logs, the method Google recommends over usage logs (Data Access logs of Cloud Storage are a project setting: docs/testing.md); usage logs would need a second bucket';
const secrets = (names: string, why: string) => `${names} from Secrets: ${why}`;

test('every skip, by object, with its reason', () => {
  const server = (dir: string) => `${dir}/deployment-mlflow.yaml Deployment.mlflow.mlflow`;
  const migrate = (dir: string) => `${dir}/job-mlflow-migrate.yaml Job.mlflow.mlflow-migrate`;
  const smoke = (dir: string) => `${dir}/job-mlflow-smoke.yaml Job.mlflow.mlflow-smoke`;
  const serving = (dir: string, name: string) => `${dir}/deployment-${name}.yaml Deployment.mlflow.${name}`;
  const gc = (dir: string) => `${dir}/cronjob-mlflow-gc.yaml CronJob.mlflow.mlflow-gc`;
  const bucket = (env: string) => `terraform/main.tf module.mlflow.google_storage_bucket.artifacts (from terraform/examples/${env}/main.tf)`;
  const image = (where: string) => [
    [where, 'CKV_K8S_43', DIGEST],
    [where, 'CKV_K8S_15', PULL],
  ];
  const smokeLogin = 'MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD';
  const expected = [
    ...['dev', 'prod'].flatMap((env) => {
      const dir = `dist/${env}/mlflow`;
      return [
        ...image(server(dir)),
        [server(dir), 'CKV_K8S_35', secrets('MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY', SERVER_ENV)],
        ...image(migrate(dir)),
        [migrate(dir), 'CKV_K8S_35', secrets('MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY, MLFLOW_METRICS_PASSWORD, MLFLOW_SMOKE_USERNAME, MLFLOW_SMOKE_PASSWORD', MIGRATE_ENV)],
        ...image(smoke(dir)),
        [smoke(dir), 'CKV_K8S_35', secrets(smokeLogin, SMOKE_ENV)],
        [bucket(env), 'CKV_GCP_62', BUCKET_LOG],
      ];
    }),
    // dev's served model runs the MLflow image and logs in like the smoke test.
    ...image(serving('dist/dev/serving/mlflow', 'serve-iris')),
    [serving('dist/dev/serving/mlflow', 'serve-iris'), 'CKV_K8S_35', secrets(smokeLogin, SMOKE_ENV)],
    // local: SQLite on the pod's volume, no Secrets.
    ...image(server('dist/local/mlflow')),
    // The options: IAM login puts no Secret in the backend store URI.
    ...image(server('options')),
    [server('options'), 'CKV_K8S_35', secrets('MLFLOW_FLASK_SERVER_SECRET_KEY', SERVER_ENV)],
    ...image(migrate('options')),
    [migrate('options'), 'CKV_K8S_35', secrets('MLFLOW_FLASK_SERVER_SECRET_KEY, MLFLOW_METRICS_PASSWORD, MLFLOW_SMOKE_USERNAME, MLFLOW_SMOKE_PASSWORD', MIGRATE_ENV)],
    ...image(smoke('options')),
    [smoke('options'), 'CKV_K8S_35', secrets(smokeLogin, SMOKE_ENV)],
    ...image(gc('options')),
    [gc('options'), 'CKV_K8S_35', secrets(smokeLogin, GC_ENV)],
  ];
  const skipped = each((r) => r.results.skipped_checks).map(({ type, r }) => [whereOf(type, r), r.check_id, r.check_result.suppress_comment]);
  const order = (rows: unknown[][]) => rows.map((x) => JSON.stringify(x)).sort();
  expect(order(skipped)).toEqual(order(expected));
});

test('a skip covers only what its reason names: the tag-pinned MLflow image, the Secret variables it lists', () => {
  // The options are prod's config with other options: prod's image.
  const imageOf = (file: string) => (yaml.load(fs.readFileSync(path.join(ROOT, 'config', `${file.startsWith('options/') ? 'prod' : file.split('/')[1]}.yaml`), 'utf8')) as any).image;
  const objects = scannedObjects();
  const problems: string[] = [];
  for (const { r } of each((x) => x.results.skipped_checks).filter(({ type }) => type === 'kubernetes')) {
    const file = fileOf(r as any);
    const obj = objects.get(file);
    const spec = (obj.kind === 'CronJob' ? obj.spec.jobTemplate.spec : obj.spec).template.spec;
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    if (r.check_id === 'CKV_K8S_43' || r.check_id === 'CKV_K8S_15') {
      const image = imageOf(file);
      const tagOnly = [...new Set(containers.map((c: any) => c.image as string).filter((i) => !i.includes('@')))];
      if (JSON.stringify(tagOnly) !== JSON.stringify([`${image.repository}:${image.tag}`])) problems.push(`${file} ${r.check_id}: images without a digest ${tagOnly.join(', ')}`);
    }
    if (r.check_id === 'CKV_K8S_35') {
      const fromSecrets = containers.flatMap((c: any) => (c.env ?? []).filter((e: any) => e.valueFrom?.secretKeyRef).map((e: any) => e.name));
      const named = r.check_result.suppress_comment!.split(' from Secrets:')[0].split(', ');
      if (JSON.stringify([...new Set(fromSecrets)].sort()) !== JSON.stringify([...named].sort())) problems.push(`${file}: Secret variables ${fromSecrets.join(', ')}, skip names ${named.join(', ')}`);
    }
  }
  expect(problems).toEqual([]);
});
