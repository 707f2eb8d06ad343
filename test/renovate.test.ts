/**
 * renovate.json covers every pinned version in the repository. The pins are found here independently of
 * Renovate (config files parsed, image references scanned, add-ons imported, the CRD table read, package.json
 * read); then renovate.json's own regex managers are run over the same files, the way Renovate runs them
 * (managerFilePatterns select the files, every matchStrings regex is applied globally), and each pin must be
 * among the dependencies they extract.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseHcl } from '@cdktf/hcl2json';
import * as yaml from 'js-yaml';
import * as addons from '../lib/gitops/addons';
import { ROOT } from '../tools/environments';

interface CustomManager {
  readonly customType: string;
  readonly managerFilePatterns: string[];
  readonly matchStrings: string[];
  readonly datasourceTemplate: string;
}
interface PackageRule {
  readonly matchDepNames?: string[];
  readonly matchDatasources?: string[];
  readonly matchManagers?: string[];
  readonly matchFileNames?: string[];
  readonly matchDepTypes?: string[];
  readonly matchUpdateTypes?: string[];
  readonly groupName?: string;
  readonly enabled?: boolean;
  readonly dependencyDashboardApproval?: boolean;
}
const renovate = JSON.parse(fs.readFileSync(path.join(ROOT, 'renovate.json'), 'utf8')) as {
  enabledManagers: string[];
  ignoreDeps?: string[];
  ignorePaths?: string[];
  customManagers: CustomManager[];
  packageRules: PackageRule[];
};

/** A dependency as a manager extracts it. */
interface Dep {
  readonly file: string;
  readonly manager: string;
  readonly datasource: string;
  readonly depName: string;
  readonly packageName?: string;
  readonly currentValue: string;
  readonly registryUrl?: string;
  /** The text the regex matched. */
  readonly text?: string;
}

/** Every file of the repository (relative, '/'-separated), outside node_modules and .git. */
function repositoryFiles(dir = ROOT, rel = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === '.git') return [];
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? repositoryFiles(path.join(dir, e.name), r) : [r];
  });
}
const FILES = repositoryFiles();
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

/** `/^config\/.+$/` → RegExp (Renovate's syntax for a regex file pattern). */
function filePattern(p: string): RegExp {
  const m = /^\/(.*)\/([a-z]*)$/.exec(p);
  if (!m) throw new Error(`only regex file patterns are used here: ${p}`);
  return new RegExp(m[1], m[2]);
}

/** What renovate.json's regex managers extract from the repository. */
const extracted: Dep[] = renovate.customManagers.flatMap((m) =>
  FILES.filter((f) => m.managerFilePatterns.some((p) => filePattern(p).test(f))).flatMap((file) =>
    m.matchStrings.flatMap((s) =>
      [...read(file).matchAll(new RegExp(s, 'g'))].map((x) => ({
        file,
        manager: 'custom.regex',
        datasource: m.datasourceTemplate,
        depName: x.groups!.depName,
        packageName: x.groups!.packageName,
        currentValue: x.groups!.currentValue,
        registryUrl: x.groups!.registryUrl,
        text: x[0],
      })),
    ),
  ),
);

function extractedIn(file: string): Dep[] {
  return extracted.filter((d) => d.file === file);
}

/** The group a dependency lands in: the last matching package rule with a groupName, as Renovate merges them. */
function groupOf(d: Dep): string | undefined {
  const matches = renovate.packageRules.filter(
    (r) =>
      (r.matchDepNames === undefined || r.matchDepNames.includes(d.depName)) &&
      (r.matchDatasources === undefined || r.matchDatasources.includes(d.datasource)) &&
      (r.matchManagers === undefined || r.matchManagers.includes(d.manager)),
  );
  return matches.filter((r) => r.groupName !== undefined).at(-1)?.groupName;
}

/** Image references with a registry host and a version tag: `gcr.io/x/y:2.23.0`, `ghcr.io/mlflow/mlflow:v3.17.0-full`. */
const IMAGE_REFERENCE = /([a-z0-9-]+(?:\.[a-z0-9-]+)+\/[a-z0-9._/-]+):(v?\d+\.\d+\.\d+[A-Za-z0-9._-]*)/g;

describe('every pinned version is matched by a Renovate rule', () => {
  const configs = FILES.filter((f) => /^config\/[^/]+\.ya?ml$/.test(f));

  test('the MLflow image of every config/<env>.yaml, one group for all environments', () => {
    expect(configs.length).toBeGreaterThanOrEqual(3);
    for (const file of configs) {
      const { image } = yaml.load(read(file)) as { image: { repository: string; tag: string } };
      expect(extractedIn(file)).toContainEqual(expect.objectContaining({ depName: image.repository, currentValue: image.tag, datasource: 'docker' }));
      expect(groupOf({ file, manager: 'custom.regex', datasource: 'docker', depName: image.repository, currentValue: image.tag })).toBe('MLflow image');
    }
  });

  test('every image reference with a version in config/ and lib/ (code and comments), each occurrence', () => {
    const sources = FILES.filter((f) => (/^config\//.test(f) && /\.ya?ml$/.test(f)) || (/^lib\//.test(f) && f.endsWith('.ts')));
    const found = sources.flatMap((file) => [...read(file).matchAll(IMAGE_REFERENCE)].map((m) => ({ file, depName: m[1], currentValue: m[2] })));
    // The Cloud SQL proxy is pinned in lib/ (default and its doc); the MLflow image once more in a comment of prod.yaml.
    expect(found).toContainEqual(expect.objectContaining({ file: 'lib/mlflow/database-access.ts', depName: 'gcr.io/cloud-sql-connectors/cloud-sql-proxy' }));
    for (const ref of found) {
      const same = (x: { depName: string; currentValue: string }) => x.depName === ref.depName && x.currentValue === ref.currentValue;
      // Renovate rewrites each match, so each occurrence needs its own (one whose text is this reference).
      const renovateMatches = extractedIn(ref.file).filter((d) => d.datasource === 'docker' && same(d) && d.text!.includes(`${ref.depName}:${ref.currentValue}`)).length;
      expect({ ...ref, renovateMatches }).toEqual({ ...ref, renovateMatches: found.filter((x) => x.file === ref.file && same(x)).length });
    }
  });

  test('the add-on charts, each grouped with its CRD set in one pull request, at the same release', () => {
    const charts = Object.values(addons).filter((a): a is addons.Addon => typeof a === 'object' && a !== null && 'chart' in a);
    expect(charts.map((a) => a.chart).sort()).toEqual(['cert-manager', 'external-secrets']);
    const crds = extractedIn('schemas/crds/README.md');
    const groups = new Set<string>();
    for (const a of charts) {
      const chart = extractedIn('lib/gitops/addons.ts').find((d) => d.depName === a.chart);
      expect(chart).toEqual(expect.objectContaining({ datasource: 'helm', depName: a.chart, currentValue: a.version, registryUrl: a.repoURL }));
      const crd = crds.find((d) => d.depName === a.chart);
      expect(crd?.currentValue.replace(/^v/, '')).toBe(a.version.replace(/^v/, ''));
      expect(groupOf(chart!)).toBeDefined();
      expect(groupOf(crd!)).toBe(groupOf(chart!));
      groups.add(groupOf(chart!)!);
    }
    expect(groups.size).toBe(charts.length);
  });

  test('every CRD set of schemas/crds/README.md (both tables)', () => {
    const rows = read('schemas/crds/README.md')
      .split('\n')
      .map((l) => l.split('|').map((c) => c.trim()))
      .filter((c) => c.length >= 5 && /^github\.com\//.test(c[2]) && /^v\d+\.\d+\.\d+ \(/.test(c[3]));
    expect(rows.length).toBeGreaterThanOrEqual(9);
    for (const [, project, repo, tag] of rows) {
      expect(extractedIn('schemas/crds/README.md')).toContainEqual(
        expect.objectContaining({ depName: project, packageName: repo.replace(/^github\.com\//, ''), currentValue: tag.split(' ')[0], datasource: 'github-tags' }),
      );
    }
  });

  test('the Argo CD chart the bootstrap installs, in one pull request with the Argo CD CRD set', () => {
    // The pin as the bootstrap declares it: the ARGO_CD_CHART object literal of bootstrap/src/bootstrap.ts.
    const literal = /export const ARGO_CD_CHART = (\{[^}]*\}) as const;/.exec(read('bootstrap/src/bootstrap.ts'))![1];
    const pin = Function(`return (${literal});`)() as { chart: string; repository: string; version: string };
    const chart = extractedIn('bootstrap/src/bootstrap.ts').filter((d) => d.datasource === 'helm');
    expect(chart).toEqual([expect.objectContaining({ depName: pin.chart, registryUrl: pin.repository, currentValue: pin.version })]);
    const crd = extractedIn('schemas/crds/README.md').find((d) => d.depName === 'argo-cd')!;
    expect(groupOf(chart[0])).toBe('Argo CD chart and CRDs');
    expect(groupOf(crd)).toBe(groupOf(chart[0]));
  });

  describe('every Terraform provider pinned in terraform/examples/', () => {
    const examples = FILES.filter((f) => /^terraform\/examples\/[^/]+\/[^/]+\.tf$/.test(f));
    const applies = (r: PackageRule, file: string, depType: string) =>
      (r.matchManagers === undefined || r.matchManagers.includes('terraform')) &&
      (r.matchFileNames === undefined || r.matchFileNames.includes(file)) &&
      (r.matchDepTypes === undefined || r.matchDepTypes.includes(depType)) &&
      r.matchDepNames === undefined &&
      r.matchDatasources === undefined;

    test('the terraform manager is enabled (it reads every *.tf) and no rule turns the examples\' providers off', async () => {
      expect(renovate.enabledManagers).toContain('terraform');
      expect((renovate as { terraform?: unknown }).terraform).toBeUndefined();
      expect(examples.length).toBeGreaterThanOrEqual(2);
      const pins: Array<{ file: string; provider: string; version: string }> = [];
      for (const file of examples) {
        const hcl = (await parseHcl(file, read(file))) as { terraform?: Array<{ required_providers?: Array<Record<string, { source: string; version: string }>> }> };
        for (const block of (hcl.terraform ?? []).flatMap((t) => t.required_providers ?? [])) {
          for (const p of Object.values(block)) pins.push({ file, provider: p.source, version: p.version });
        }
      }
      expect(pins.map((p) => p.provider).sort()).toEqual(['hashicorp/google', 'hashicorp/google', 'hashicorp/random', 'hashicorp/random']);
      for (const pin of pins) {
        expect(pin.version).toMatch(/^\d+\.\d+\.\d+$/);
        const off = renovate.packageRules.filter((r) => r.enabled === false && applies(r, pin.file, 'required_provider') && r.matchUpdateTypes === undefined);
        expect({ ...pin, disabledBy: off.length, ignored: renovate.ignorePaths?.some((g) => pin.file.startsWith(g.replace(/\*.*$/, ''))) ?? false }).toEqual({ ...pin, disabledBy: 0, ignored: false });
      }
    });

    test("the module's ranges and Terraform's required_version are not pinned; a major provider release waits for approval", () => {
      const off = (file: string, depType: string) => renovate.packageRules.some((r) => r.enabled === false && applies(r, file, depType));
      expect(off('terraform/versions.tf', 'required_provider')).toBe(true);
      expect(off('terraform/examples/dev/main.tf', 'required_version')).toBe(true);
      const major = renovate.packageRules.filter((r) => r.matchManagers?.includes('terraform') && r.matchUpdateTypes?.includes('major'));
      expect(major).toEqual([expect.objectContaining({ dependencyDashboardApproval: true })]);
    });
  });

  test('Node in .node-version (read by the workflows): the nodenv manager, within its major', () => {
    expect(renovate.enabledManagers).toContain('nodenv');
    expect(read('.node-version')).toMatch(/^\d+\.\d+\.\d+\n$/);
    const rules = renovate.packageRules.filter((r) => r.matchManagers?.includes('nodenv'));
    expect(rules).toEqual([expect.objectContaining({ matchUpdateTypes: ['major'], enabled: false })]);
  });

  test('every package.json dependency is left to the npm manager, pinned exactly', () => {
    expect(renovate.enabledManagers).toEqual(expect.arrayContaining(['npm', 'github-actions', 'custom.regex']));
    expect((renovate as { rangeStrategy?: string }).rangeStrategy).toBe('pin');
    const manifests = FILES.filter((f) => /(^|\/)package\.json$/.test(f));
    expect(manifests).toContain('package.json');
    for (const file of manifests) {
      const pkg = JSON.parse(read(file)) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      const deps = { ...pkg.dependencies, ...pkg.devDependencies };
      expect(Object.keys(deps).length).toBeGreaterThan(0);
      for (const name of Object.keys(deps)) {
        const disabled = renovate.packageRules.filter(
          (r) => r.enabled === false && (r.matchDepNames === undefined || r.matchDepNames.includes(name)) && (r.matchManagers === undefined || r.matchManagers.includes('npm')),
        );
        expect({ file, name, ignored: renovate.ignoreDeps?.includes(name) ?? false, disabledBy: disabled.length }).toEqual({ file, name, ignored: false, disabledBy: 0 });
      }
      expect(renovate.ignorePaths ?? []).not.toContain(file);
    }
  });

  test('every action in .github/workflows is pinned by commit with the version comment Renovate updates', () => {
    const workflows = FILES.filter((f) => /^\.github\/workflows\/.+\.ya?ml$/.test(f));
    expect(workflows.length).toBeGreaterThan(0);
    for (const file of workflows) {
      for (const line of read(file).split('\n').filter((l) => /^\s*-?\s*uses:/.test(l))) {
        expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/);
      }
    }
  });
});
