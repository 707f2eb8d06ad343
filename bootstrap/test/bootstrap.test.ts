/**
 * The bootstrap's resource graph, with Pulumi's mocks (`pulumi.runtime.setMocks`): no Pulumi CLI, no engine, no
 * cluster. The mock monitor is wrapped to record each registration's dependencies, so the ordering (the
 * AppProject and root Application after the Argo CD release) is checked on what Pulumi would send the engine.
 * What only a cluster shows: that the chart installs and becomes ready, and that Argo CD then syncs.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import * as yaml from 'js-yaml';
import { ARGO_CD_CHART, bootstrapArgoCd, RELEASE_NAME } from '../src/bootstrap';
import { ARGOCD_DIR, HEALTH_KEY, generatedEnvironments, readGenerated } from '../src/generated';

const REPO = path.resolve(__dirname, '..', '..');
const BOOTSTRAP = path.resolve(__dirname, '..');
const ENVIRONMENTS = generatedEnvironments();

interface Registration {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly inputs: Record<string, any>;
  /** Names of the resources it depends on (resolved from URNs). */
  dependsOn: string[];
  readonly dependencyUrns: readonly string[];
}

/**
 * Runs the bootstrap of `environment` under mocks and returns every resource registration. `program` builds the
 * resources (default: the bootstrap of `environment`) and returns outputs resolved once all are registered.
 */
async function graphOf(environment: string, program?: () => pulumi.Output<unknown>[]): Promise<Registration[]> {
  const registered: Registration[] = [];
  // The mocks' newResource sees no dependencies: the wrapped monitor below reads them from the request.
  const pending = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({
          type: args.type,
          name: args.name,
          urn: `urn:pulumi:${environment}::mlflow-gitops-bootstrap::${args.type}::${args.name}`,
          inputs: args.inputs,
          dependsOn: [],
          dependencyUrns: pending.get(`${args.type}::${args.name}`) ?? [],
        });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    'mlflow-gitops-bootstrap',
    environment,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    pending.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
    return register(req, callback);
  };

  const build =
    program ??
    (() => {
      const b = bootstrapArgoCd({ environment });
      return [b.release, ...b.projects, ...b.applications].map((r) => r.urn);
    });
  await new Promise<void>((resolve) => pulumi.all(build()).apply(() => resolve()));
  for (const r of registered) {
    r.dependsOn = r.dependencyUrns.map((u) => registered.find((x) => x.urn === u)?.name ?? u).sort();
  }
  return registered;
}

/** The one registration of `type` named `name`. */
function one(graph: readonly Registration[], type: string, name: string): Registration {
  const hits = graph.filter((r) => r.type === type && r.name === name);
  assert.equal(hits.length, 1, `expected one ${type} ${name}, found ${hits.length} in ${graph.map((r) => `${r.type} ${r.name}`).join(', ')}`);
  return hits[0];
}

/** The generated objects of an environment, read here with js-yaml directly (not through src/generated.ts). */
function generatedFiles(env: string): Array<Record<string, any>> {
  const dir = path.join(REPO, 'argocd', env);
  return fs.readdirSync(dir).sort().flatMap((f) => yaml.loadAll(fs.readFileSync(path.join(dir, f), 'utf8')) as Array<Record<string, any>>);
}

const RELEASE = 'kubernetes:helm.sh/v3:Release';
const CR = (kind: string) => `kubernetes:argoproj.io/v1alpha1:${kind}`;

describe('the resource graph of each stack', () => {
  for (const env of ENVIRONMENTS) {
    test(`${env}: the pinned argo-cd chart, its health check, then the generated AppProjects and root Application`, async () => {
      const graph = await graphOf(env);
      const files = generatedFiles(env);
      const projects = files.filter((o) => o.kind === 'AppProject');
      // The environment's, and with clients (dev) the clients'.
      assert.deepEqual(projects.map((p) => p.metadata.name).sort(), env === 'dev' ? ['mlflow-dev', 'mlflow-dev-clients'] : [`mlflow-${env}`]);
      const root = files.find((o) => o.kind === 'Application')!;
      const cm = files.find((o) => o.data?.[HEALTH_KEY] !== undefined)!;

      assert.deepEqual(
        graph.map((r) => `${r.type} ${r.name}`).sort(),
        [...projects.map((p) => `${CR('AppProject')} appproject-${p.metadata.name}`), `${CR('Application')} application-${root.metadata.name}`, `${RELEASE} argo-cd`].sort(),
      );

      const release = one(graph, RELEASE, 'argo-cd');
      assert.equal(release.inputs.chart, 'argo-cd');
      assert.equal(release.inputs.version, '10.3.3');
      assert.deepEqual(release.inputs.repositoryOpts, { repo: 'https://argoproj.github.io/argo-helm' });
      assert.equal(release.inputs.name, RELEASE_NAME);
      assert.equal(release.inputs.namespace, 'argocd');
      assert.equal(release.inputs.createNamespace, true);
      // Ready before anything depends on it: Pulumi awaits the release's objects unless skipAwait is set.
      assert.equal(release.inputs.skipAwait ?? false, false);
      assert.equal(release.inputs.timeout, 600);
      // The values are exactly the health check, byte for byte the generated Lua: no argocd-cm patch on this path.
      assert.deepEqual(release.inputs.values, { configs: { cm: { [HEALTH_KEY]: cm.data[HEALTH_KEY] } } });
      assert.match(cm.data[HEALTH_KEY], /^hs = \{\}\n[\s\S]*obj\.status\.health\.status[\s\S]*return hs\n$/);
      assert.deepEqual(release.dependsOn, []);

      for (const project of projects) {
        const appProject = one(graph, CR('AppProject'), `appproject-${project.metadata.name}`);
        assert.deepEqual(appProject.inputs, project);
        assert.deepEqual(appProject.dependsOn, ['argo-cd']);
      }

      const application = one(graph, CR('Application'), `application-${root.metadata.name}`);
      assert.deepEqual(application.inputs, root);
      assert.equal(application.inputs.spec.source.path, `dist/${env}/apps`);
      assert.deepEqual(application.dependsOn, [...projects.map((p) => `appproject-${p.metadata.name}`), 'argo-cd'].sort());
    });
  }

  test('no secret values: no Secret, no credential-like field, values carry only the health check', async () => {
    for (const env of ENVIRONMENTS) {
      const graph = await graphOf(env);
      assert.deepEqual(graph.filter((r) => /Secret/.test(r.type) || r.inputs.kind === 'Secret'), []);
      const credentialKeys: string[] = [];
      const walk = (v: unknown, at: string) => {
        if (v === null || typeof v !== 'object') return;
        for (const [k, x] of Object.entries(v)) {
          if (/password|passwd|token|secret|bcrypt|private.?key|credential/i.test(k)) credentialKeys.push(`${at}.${k}`);
          walk(x, `${at}.${k}`);
        }
      };
      for (const r of graph) walk(r.inputs, `${r.type} ${r.name}`);
      assert.deepEqual(credentialKeys, []);
      assert.deepEqual(Object.keys(one(graph, RELEASE, 'argo-cd').inputs.values), ['configs']);
    }
  });
});

describe('the entry point (index.ts), as `pulumi up --stack <env>` runs it', () => {
  test('builds the graph of the environment its stack config names', async () => {
    pulumi.runtime.setAllConfig({ 'mlflow-gitops-bootstrap:environment': 'prod' });
    let exported: Record<string, pulumi.Output<unknown>> = {};
    const graph = await graphOf('prod', () => {
      exported = require('../index');
      return [exported.argoCdNamespace, exported.rootApplications];
    });
    assert.deepEqual(graph.map((r) => r.name).sort(), ['application-mlflow-prod-root', 'appproject-mlflow-prod', 'argo-cd']);
    assert.equal(exported.argoCdChart, 'argo-cd 10.3.3 (Argo CD v3.5.1)');
    const roots = await new Promise((resolve) => exported.rootApplications.apply(resolve));
    assert.deepEqual(roots, ['mlflow-prod-root']);
  });
});

describe('the pins and the stacks', () => {
  test('the chart carries the Argo CD version of schemas/crds/argo-cd', () => {
    const readme = fs.readFileSync(path.join(REPO, 'schemas', 'crds', 'README.md'), 'utf8');
    const row = /^\| argo-cd \| github\.com\/argoproj\/argo-cd \| (v\d+\.\d+\.\d+) /m.exec(readme);
    assert.ok(row, 'schemas/crds/README.md has no argo-cd row');
    // On failure: pick the argo-helm argo-cd chart release whose appVersion is the CRDs' version.
    assert.equal(ARGO_CD_CHART.appVersion, row[1]);
  });

  test('one stack per generated environment, each naming its environment', () => {
    const stacks = fs.readdirSync(BOOTSTRAP).filter((f) => /^Pulumi\.[a-z0-9-]+\.yaml$/.test(f)).sort();
    assert.deepEqual(stacks, ENVIRONMENTS.map((e) => `Pulumi.${e}.yaml`));
    for (const env of ENVIRONMENTS) {
      const stack = yaml.load(fs.readFileSync(path.join(BOOTSTRAP, `Pulumi.${env}.yaml`), 'utf8')) as any;
      assert.deepEqual(stack.config, { 'mlflow-gitops-bootstrap:environment': env });
    }
    const project = yaml.load(fs.readFileSync(path.join(BOOTSTRAP, 'Pulumi.yaml'), 'utf8')) as any;
    assert.equal(project.name, 'mlflow-gitops-bootstrap');
    assert.deepEqual(project.runtime, { name: 'nodejs', options: { typescript: true } });
  });

  test('the exact package versions are pinned', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(BOOTSTRAP, 'package.json'), 'utf8'));
    for (const [name, version] of Object.entries<string>({ ...pkg.dependencies, ...pkg.devDependencies })) {
      assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is not pinned exactly: ${version}`);
    }
  });
});

describe('reading argocd/<env>/: anything unexpected is refused, naming the file', () => {
  const sandboxes: string[] = [];
  after(() => sandboxes.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  /** A copy of argocd/dev as `<tmp>/dev`, changed by `change`; returns the copy's argocd dir. */
  function copyOfDev(change: (dir: string) => void): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bootstrap-argocd-'));
    sandboxes.push(root);
    fs.cpSync(path.join(ARGOCD_DIR, 'dev'), path.join(root, 'dev'), { recursive: true });
    change(path.join(root, 'dev'));
    return root;
  }
  const refused = (argocdDir: string, env = 'dev') => {
    try {
      readGenerated(env, argocdDir);
    } catch (e) {
      return (e as Error).message.replace(argocdDir, '<argocd>');
    }
    return 'not refused';
  };

  test('an environment that was not generated', () => {
    const dir = copyOfDev(() => {});
    assert.equal(refused(dir, 'staging'), '<argocd>/staging does not exist: run `npm run synth` in the repository first (environments generated: dev)');
  });

  test("synth's marker file beside the environments is not an environment", () => {
    const dir = copyOfDev(() => {});
    fs.writeFileSync(path.join(dir, '.mlflow-gitops-synth'), 'dev/kustomization.yaml\n');
    assert.deepEqual(generatedEnvironments(dir), ['dev']);
    assert.equal(
      refused(dir, '.mlflow-gitops-synth'),
      '<argocd>/.mlflow-gitops-synth does not exist: run `npm run synth` in the repository first (environments generated: dev)',
    );
  });

  test('a kind the bootstrap does not apply', () => {
    const dir = copyOfDev((d) => fs.writeFileSync(path.join(d, 'secret.yaml'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: repo-creds\n  namespace: argocd\n'));
    assert.equal(
      refused(dir),
      '<argocd>/dev/secret.yaml: Secret repo-creds: not handled by the bootstrap, which applies the AppProject and Application objects and puts the argocd-cm health check into the chart values',
    );
  });

  /** The generated file holding the health check, whatever its name. */
  const healthFile = (d: string) => fs.readdirSync(d).find((f) => fs.readFileSync(path.join(d, f), 'utf8').includes(HEALTH_KEY))!;

  test('no health check, or argocd-cm keys besides it', () => {
    const without = copyOfDev((d) => fs.rmSync(path.join(d, healthFile(d))));
    assert.equal(refused(without), `<argocd>/dev: expected the argocd-cm health check (${HEALTH_KEY}) once, found it 0 times`);
    let file = '';
    const extra = copyOfDev((d) => {
      file = healthFile(d);
      const cm = yaml.load(fs.readFileSync(path.join(d, file), 'utf8')) as any;
      cm.data.url = 'https://argocd.example.com';
      fs.writeFileSync(path.join(d, file), yaml.dump(cm));
    });
    assert.equal(
      refused(extra),
      `<argocd>/dev/${file}: ConfigMap argocd-cm: carries argocd-cm keys besides the health check (url); set them in the chart values`,
    );
  });

  test('no AppProject', () => {
    const dir = copyOfDev((d) => fs.readdirSync(d).filter((f) => f.startsWith('appproject-')).forEach((f) => fs.rmSync(path.join(d, f))));
    assert.equal(refused(dir), "<argocd>/dev: expected the environment's AppProject, found none");
  });

  test('objects outside one namespace', () => {
    const dir = copyOfDev((d) => {
      const f = fs.readdirSync(d).find((x) => x.startsWith('appproject-'))!;
      const p = yaml.load(fs.readFileSync(path.join(d, f), 'utf8')) as any;
      p.metadata.namespace = 'gitops';
      fs.writeFileSync(path.join(d, f), yaml.dump(p));
    });
    assert.equal(refused(dir), '<argocd>/dev: the AppProject and Applications must all be in Argo CD\'s namespace, found gitops, argocd');
  });
});
