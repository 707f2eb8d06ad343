/**
 * Checkov, the infrastructure-as-code scanner, over the committed `dist/` and the Terraform module in one run: no
 * failed check, no global skip list, and every skip listed here with its object and reason, so a new one shows in
 * review. The pinned Checkov comes from scripts/checkov.sh (npm test's pretest). What it proves: docs/testing.md#checkov.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { ROOT } from './support/environments';

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

let reports: Report[];

beforeAll(() => {
  const binFile = path.join(ROOT, '.checkov-bin');
  if (!fs.existsSync(binFile)) throw new Error('.checkov-bin is missing: run `bash scripts/checkov.sh` (npm test runs it first)');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlflow-gitops-checkov-'));
  try {
    const args = ['-d', 'dist', '-d', 'terraform', '--framework', 'kubernetes', 'terraform', '--skip-download', '--compact', '-o', 'json', '--output-file-path', out];
    // Its stdout repeats the report: not read (it would overflow the pipe's buffer). Exit 1 means failed checks.
    const r = spawnSync(fs.readFileSync(binFile, 'utf8').trim(), args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0 && r.status !== 1) throw new Error(`checkov ${args.join(' ')} failed (exit ${r.status}, ${r.signal ?? r.error}):\n${r.stderr}`);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'results_json.json'), 'utf8'));
    // One report per framework, in no fixed order.
    reports = (Array.isArray(report) ? report : [report]).sort((a: Report, b: Report) => a.check_type.localeCompare(b.check_type));
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 180_000);

/** `dist/…` for a Kubernetes result, `terraform/…` (and the example calling the module) for a Terraform one. */
function whereOf(type: string, r: CheckResult): string {
  if (type === 'kubernetes') return `${r.file_path.replace(/^\//, '')} ${r.resource}`;
  return `terraform${r.file_path} ${r.resource} (from terraform${r.caller_file_path ?? ''})`;
}
const each = (pick: (r: Report) => CheckResult[]) => reports.flatMap((rep) => pick(rep).map((r) => ({ type: rep.check_type, r })));

test('the pinned Checkov scanned the Kubernetes objects and the Terraform, parsing every file', () => {
  const pinned = /^checkov==(\S+)$/m.exec(fs.readFileSync(LOCK, 'utf8'))![1];
  expect(reports.map((r) => [r.check_type, r.summary.checkov_version, r.summary.parsing_errors])).toEqual([
    ['kubernetes', pinned, 0],
    ['terraform', pinned, 0],
  ]);
  // Every workload in dist/ was checked (the pod checks are what most findings are about).
  const workloads = fs
    .readdirSync(path.join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => ({ f: `dist/${f}`, obj: yaml.load(fs.readFileSync(path.join(ROOT, 'dist', f), 'utf8')) as any }))
    .filter(({ obj }) => ['Deployment', 'Job', 'CronJob'].includes(obj.kind))
    .map(({ f }) => f);
  const checked = new Set(each((r) => r.results.passed_checks).filter(({ type }) => type === 'kubernetes').map(({ r }) => r.file_path.replace(/^\//, '')));
  expect(workloads.length).toBeGreaterThanOrEqual(7);
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
const SERVER_ENV =
  'MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY from Secrets: mlflow server reads them only from the environment or its command line (which the process list shows), never from a file';
const MIGRATE_ENV =
  'MLFLOW_BACKEND_STORE_URI, MLFLOW_FLASK_SERVER_SECRET_KEY, MLFLOW_METRICS_PASSWORD, MLFLOW_SMOKE_USERNAME, MLFLOW_SMOKE_PASSWORD from Secrets: ' +
  "the script passes them to MLflow, which reads its backend store URI and Flask secret key only from the environment or its command line (never a file); the script reads the users' passwords the same way";
const SMOKE_ENV =
  'MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD from Secrets: the MLflow client takes its login from these variables (its only file form, ~/.mlflow/credentials, would hold the same Secret in the same container)';
const BUCKET_LOG =
  'Access is recorded by Cloud Audit Logs, the method Google recommends over usage logs (Data Access logs of Cloud Storage are a project setting: docs/testing.md); usage logs would need a second bucket';

test('every skip, by object, with its reason', () => {
  const server = (env: string) => `dist/${env}/mlflow/deployment-mlflow.yaml Deployment.mlflow.mlflow`;
  const migrate = (env: string) => `dist/${env}/mlflow/job-mlflow-migrate.yaml Job.mlflow.mlflow-migrate`;
  const smoke = (env: string) => `dist/${env}/mlflow/job-mlflow-smoke.yaml Job.mlflow.mlflow-smoke`;
  const bucket = (env: string) => `terraform/main.tf module.mlflow.google_storage_bucket.artifacts (from terraform/examples/${env}/main.tf)`;
  const expected = [
    ...['dev', 'prod'].flatMap((env) => [
      [server(env), 'CKV_K8S_43', DIGEST],
      [server(env), 'CKV_K8S_15', PULL],
      [server(env), 'CKV_K8S_35', SERVER_ENV],
      [migrate(env), 'CKV_K8S_43', DIGEST],
      [migrate(env), 'CKV_K8S_15', PULL],
      [migrate(env), 'CKV_K8S_35', MIGRATE_ENV],
      [smoke(env), 'CKV_K8S_43', DIGEST],
      [smoke(env), 'CKV_K8S_15', PULL],
      [smoke(env), 'CKV_K8S_35', SMOKE_ENV],
      [bucket(env), 'CKV_GCP_62', BUCKET_LOG],
    ]),
    // local: SQLite on the pod's volume, no Secrets.
    [server('local'), 'CKV_K8S_43', DIGEST],
    [server('local'), 'CKV_K8S_15', PULL],
  ];
  const skipped = each((r) => r.results.skipped_checks).map(({ type, r }) => [whereOf(type, r), r.check_id, r.check_result.suppress_comment]);
  const order = (rows: unknown[][]) => rows.map((x) => JSON.stringify(x)).sort();
  expect(order(skipped)).toEqual(order(expected));
});

test('a skip covers only what its reason names: the tag-pinned MLflow image, the Secret variables it lists', () => {
  const configs = Object.fromEntries(
    ['dev', 'local', 'prod'].map((env) => [env, (yaml.load(fs.readFileSync(path.join(ROOT, 'config', `${env}.yaml`), 'utf8')) as any).image]),
  );
  const problems: string[] = [];
  for (const { r } of each((x) => x.results.skipped_checks).filter(({ type }) => type === 'kubernetes')) {
    const file = r.file_path.replace(/^\//, '');
    const obj = yaml.load(fs.readFileSync(path.join(ROOT, file), 'utf8')) as any;
    const spec = (obj.kind === 'CronJob' ? obj.spec.jobTemplate.spec : obj.spec).template.spec;
    const containers = [...(spec.initContainers ?? []), ...spec.containers];
    const image = configs[file.split('/')[1]];
    if (r.check_id === 'CKV_K8S_43' || r.check_id === 'CKV_K8S_15') {
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
