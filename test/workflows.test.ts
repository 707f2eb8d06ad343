/**
 * The GitHub workflows: CI runs exactly the README's two commands (taken from the README here, so the two cannot
 * drift apart) and the same drift check as .ci/run; the pull-request diff comment and the opt-in dangers check
 * run `npm run diff`; actions are pinned by commit; permissions are least privilege.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { MARKDOWN_MARKER } from '../tools/diff/report';
import { ROOT } from '../tools/environments';

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; if?: string; env?: Record<string, string> };
type Job = { if?: string; permissions?: Record<string, string>; container?: { image: string }; steps: Step[] };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };

const load = (f: string) => yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'workflows', f), 'utf8')) as Workflow;
const ci = load('ci.yml');
const diff = load('diff.yml');
const workflows = { 'ci.yml': ci, 'diff.yml': diff };

/** The commands of the README's "Two commands" block, without their comments. */
function readmeCommands(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Two commands\n'));
  if (!section) throw new Error('README.md has no "## Two commands" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('the "Two commands" section has no ```sh block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.length > 0);
}

const DRIFT = 'git status --porcelain -- dist argocd';
const IMPORTS_DRIFT = 'bash scripts/check-imports.sh';

describe('ci.yml', () => {
  test('runs on every push and pull request', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect([ci.on.push, ci.on.pull_request]).toEqual([null, null]);
  });

  test("runs exactly the README's two commands, then the drift check of .ci/run", () => {
    expect(readmeCommands()).toEqual(['npm ci && npm run synth', 'npm test']);
    const runs = ci.jobs.build.steps.filter((s) => s.run !== undefined);
    expect(runs.map((s) => s.run)).toEqual([
      ...readmeCommands(),
      expect.stringContaining(`if [ -n "$(${DRIFT})" ]; then`),
      IMPORTS_DRIFT,
    ]);
    const drift = runs.find((s) => s.name === 'drift check');
    expect(drift?.run).toContain(`if [ -n "$(${DRIFT})" ]; then`);
    expect(drift?.run).toContain('exit 1');
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain(`if [ -n "$(${DRIFT})" ]; then`);
  });

  test('and the imports drift check of .ci/run (scripts/check-imports.sh)', () => {
    expect(ci.jobs.build.steps.find((s) => s.name === 'imports drift check')?.run).toBe(IMPORTS_DRIFT);
    expect(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8')).toContain(`\n${IMPORTS_DRIFT}\n`);
  });

  test('runs as root on Debian, where the test set-up installs MariaDB and PostgreSQL from Debian', () => {
    expect(ci.jobs.build.container?.image).toMatch(/^node:\d+-bookworm$/);
    expect(fs.readFileSync(path.join(ROOT, 'scripts', 'test-mariadb.sh'), 'utf8')).toContain('apt-get install');
    expect(fs.readFileSync(path.join(ROOT, 'scripts', 'test-postgres.sh'), 'utf8')).toContain('apt-get install -y -qq --no-install-recommends postgresql');
    const pretest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.pretest;
    expect(pretest).toBe(
      'bash scripts/test-mariadb.sh && bash scripts/test-postgres.sh && bash scripts/test-mlflow.sh && bash scripts/install-netpol-analyzer.sh && bash scripts/checkov.sh',
    );
  });

  test('sets up Go at the version the NetworkPolicy engine pins, which the test set-up builds it with', () => {
    const go = ci.jobs.build.steps.find((s) => s.uses?.startsWith('actions/setup-go@'));
    expect(go?.with).toEqual({ 'go-version-file': 'scripts/netpol-analyzer/go.mod', 'cache-dependency-path': 'scripts/netpol-analyzer/go.sum' });
    expect(fs.readFileSync(path.join(ROOT, 'scripts', 'install-netpol-analyzer.sh'), 'utf8')).toContain('go build');
  });
});

describe('diff.yml', () => {
  test('runs on pull requests only (never pull_request_target), also on label changes for the dangers check', () => {
    expect(Object.keys(diff.on)).toEqual(['pull_request']);
    expect(diff.on.pull_request).toEqual({ types: ['opened', 'synchronize', 'reopened', 'labeled', 'unlabeled'] });
  });

  test('the comment job renders the diff in Markdown against the base branch and updates the one comment carrying the marker', () => {
    const job = diff.jobs.comment;
    const run = job.steps.find((s) => s.name === 'diff')!;
    expect(run.env).toEqual({ BASE_REF: '${{ github.base_ref }}' });
    expect(run.run).toContain('npm run --silent diff -- --base "origin/$BASE_REF" --format markdown >diff.md');
    expect(run.run).toContain(`echo '${MARKDOWN_MARKER}'`);
    const post = job.steps.find((s) => s.uses?.startsWith('actions/github-script@'))!;
    const script = String(post.with!.script);
    expect(script).toContain(`const marker = '${MARKDOWN_MARKER}';`);
    expect(script).toContain('github.rest.issues.updateComment');
    expect(script).toContain('github.rest.issues.createComment');
    expect(job.steps.find((s) => s.uses?.startsWith('actions/checkout@'))!.with).toEqual({ 'fetch-depth': 0, 'persist-credentials': false });
  });

  test('the dangers check is opt-in (a repository variable), fails on dangers, and a reviewed label accepts them', () => {
    const job = diff.jobs.dangers;
    expect(job.if).toBe("vars.MLFLOW_GITOPS_FAIL_ON_DANGER == 'true'");
    const gate = job.steps.find((s) => s.run?.includes('npm run'))!;
    expect(gate.run).toBe('npm run --silent diff -- --base "origin/$BASE_REF" --fail-on danger');
    expect(gate.if).toBe("${{ !contains(github.event.pull_request.labels.*.name, 'dangers-reviewed') }}");
  });
});

describe('every workflow', () => {
  test('pins every action by full commit SHA', () => {
    for (const wf of Object.values(workflows)) {
      for (const job of Object.values(wf.jobs)) {
        for (const s of job.steps.filter((x) => x.uses !== undefined)) expect(s.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      }
    }
  });

  test('least privilege: contents read by default; only the comment job may write pull requests', () => {
    for (const [file, wf] of Object.entries(workflows)) {
      expect({ file, permissions: wf.permissions }).toEqual({ file, permissions: { contents: 'read' } });
      for (const [name, job] of Object.entries(wf.jobs)) {
        const expected = file === 'diff.yml' && name === 'comment' ? { contents: 'read', 'pull-requests': 'write' } : undefined;
        expect({ file, name, permissions: job.permissions }).toEqual({ file, name, permissions: expected });
      }
    }
  });

  test('Node pinned exactly in .node-version, read by every setup-node, with the npm cache; checkout keeps no credentials', () => {
    for (const wf of Object.values(workflows)) {
      for (const job of Object.values(wf.jobs)) {
        const node = job.steps.filter((s) => s.uses?.startsWith('actions/setup-node@'));
        expect(node.map((s) => s.with)).toEqual([{ 'node-version-file': '.node-version', cache: 'npm' }]);
        for (const s of job.steps.filter((x) => x.uses?.startsWith('actions/checkout@'))) expect(s.with?.['persist-credentials']).toBe(false);
      }
    }
  });

  test('the pinned Node is the one the project is tested on: the major of package.json engines, the CI container and this run', () => {
    const pinned = fs.readFileSync(path.join(ROOT, '.node-version'), 'utf8');
    expect(pinned).toMatch(/^\d+\.\d+\.\d+\n$/);
    const major = pinned.split('.')[0];
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(ci.jobs.build.container?.image).toBe(`node:${major}-bookworm`);
    expect(process.versions.node.split('.')[0]).toBe(major);
  });
});
