/** The schema validator: it accepts valid objects and can fail in every way the dist test relies on. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { knownKinds, validateManifest } from '../../tools/schema-validation';

const service = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 's' }) =>
  ({ apiVersion: 'v1', kind: 'Service', metadata, spec });

test('a valid core object passes (int-or-string ports both ways)', () => {
  expect(validateManifest(service({ ports: [{ port: 80, targetPort: 'http' }, { port: 81, targetPort: 8081 }] }))).toEqual([]);
});

test('unknown fields are rejected, in spec and in metadata', () => {
  expect(validateManifest(service({ prots: [] }, { name: 's', lables: {} }))).toEqual([
    '/metadata: unknown field "lables"',
    '/spec: unknown field "prots"',
  ]);
});

test('wrong types and missing required fields are rejected with the field path', () => {
  expect(validateManifest(service({ ports: [{ port: '80' }] }))).toEqual(['/spec/ports/0/port: must be integer']);
  expect(validateManifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: {} } }))
    .toEqual(["/spec: must have required property 'selector'"]);
});

test('custom resources validate against their CRD, metadata as ObjectMeta', () => {
  const es = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'e' }) =>
    ({ apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata, spec });
  expect(validateManifest(es({ refreshInterval: '1h0m0s', secretStoreRef: { name: 'gcp', kind: 'SecretStore' } }))).toEqual([]);
  expect(validateManifest(es({ refreshIntervall: '1h' }))).toEqual(['/spec: unknown field "refreshIntervall"']);
  expect(validateManifest(es({}, { name: 'e', annotations: { a: 1 } }))).toEqual(['/metadata/annotations/a: must be string']);
  expect(validateManifest(es({ secretStoreRef: { name: 'gcp', kind: 'Vault' } })).join('\n')).toContain('/spec/secretStoreRef/kind: must be equal to one of the allowed values');
});

/**
 * The validator from a fresh copy of its module. The schemas are loaded and made strict once per module, by the
 * first call: with a fresh copy that happens inside the test that calls it, so the test covers the loading too
 * (Stryker runs, for a mutant of the loading, only the tests that ran it).
 */
function freshValidateManifest(): typeof validateManifest {
  let fresh: typeof validateManifest | undefined;
  jest.isolateModules(() => {
    fresh = (require('../../tools/schema-validation') as typeof import('../../tools/schema-validation')).validateManifest;
  });
  return fresh!;
}

test('unknown fields are rejected inside list items too, at any depth (a typo in an ExternalSecret data entry)', () => {
  const validateManifest = freshValidateManifest();
  const es = (data: unknown[]) => ({
    apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'e' },
    spec: { secretStoreRef: { name: 'gcp', kind: 'SecretStore' }, data },
  });
  expect(validateManifest(es([{ secretKey: 'password', remoteRef: { key: 'mlflow-dev-db-password', version: 'latest' } }]))).toEqual([]);
  expect(validateManifest(es([
    { secretKey: 'username', remoteRef: { key: 'mlflow-dev-db-username' } },
    { secretKey: 'password', secretkey: 'password', remoteRef: { key: 'mlflow-dev-db-password', proprety: 'password' } },
  ]))).toEqual([
    '/spec/data/1: unknown field "secretkey"',
    '/spec/data/1/remoteRef: unknown field "proprety"',
  ]);
});

test('Go durations are the duration format (GMP intervals)', () => {
  const pm = (interval: string) => ({
    apiVersion: 'monitoring.googleapis.com/v1', kind: 'PodMonitoring', metadata: { name: 'p' },
    spec: { selector: {}, endpoints: [{ port: 'http', interval }] },
  });
  expect(validateManifest(pm('30s'))).toEqual([]);
  expect(validateManifest(pm('PT30S'))).toEqual(['/spec/endpoints/0/interval: must match format "duration"']);
});

test('unknown kinds, unserved CRD versions and non-objects are problems, not passes', () => {
  expect(validateManifest({ apiVersion: 'v1', kind: 'Servce', metadata: { name: 'x' } })[0]).toContain('no schema for v1 Servce');
  expect(validateManifest({ apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', metadata: { name: 'x' } })).toEqual([
    '(root): external-secrets.io/v1beta1 ExternalSecret is not a served version of its CRD (schemas/crds/external-secrets/external-secrets.io_externalsecrets.yaml)',
  ]);
  expect(validateManifest({ apiVersion: 'external-secrets.io/v1alpha1', kind: 'ExternalSecret', metadata: { name: 'x' } })[0])
    .toContain('no schema for external-secrets.io/v1alpha1 ExternalSecret');
  expect(validateManifest({ apiVersion: 'v1', kind: 'Servce', metadata: { name: 'x' } })).toEqual([
    '(root): no schema for v1 Servce in schemas/ (add its CRD or check the apiVersion)',
  ]);
  expect(validateManifest({ apiVersion: 'external-secrets.io/v1alpha1', kind: 'ExternalSecret', metadata: { name: 'x' } })).toEqual([
    '(root): no schema for external-secrets.io/v1alpha1 ExternalSecret in schemas/ (add its CRD or check the apiVersion)',
  ]);
  for (const notAnObject of ['kind: Service', null, undefined, 0, 7, true, [], [{ apiVersion: 'v1', kind: 'Service' }]]) {
    expect({ input: notAnObject, problems: validateManifest(notAnObject) }).toEqual({ input: notAnObject, problems: ['(root): must be an object'] });
  }
  for (const untyped of [{ kind: 'Service' }, { apiVersion: 'v1' }, { apiVersion: 1, kind: 'Service' }, { apiVersion: 'v1', kind: ['Service'] }, {}]) {
    expect({ input: untyped, problems: validateManifest(untyped) }).toEqual({ input: untyped, problems: ['(root): apiVersion and kind must be strings'] });
  }
});

test('knows the core kinds of 1.28 and every CRD we copied', () => {
  const kinds = knownKinds();
  for (const k of ['apps/v1 Deployment', 'batch/v1 Job', 'networking.k8s.io/v1 NetworkPolicy', 'autoscaling/v2 HorizontalPodAutoscaler',
    'policy/v1 PodDisruptionBudget', 'v1 Namespace', 'argoproj.io/v1alpha1 Application', 'cert-manager.io/v1 ClusterIssuer',
    'external-secrets.io/v1 SecretStore', 'cloud.google.com/v1 BackendConfig', 'networking.gke.io/v1beta1 FrontendConfig',
    'monitoring.coreos.com/v1 ServiceMonitor', 'gateway.networking.k8s.io/v1 HTTPRoute']) {
    expect(kinds).toContain(k);
  }
});

test('an enum violation lists the allowed values', () => {
  const es = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'e' }, spec: { secretStoreRef: { name: 'gcp', kind: 'Vault' } } };
  expect(validateManifest(es)).toEqual(['/spec/secretStoreRef/kind: must be equal to one of the allowed values ("SecretStore", "ClusterSecretStore")']);
});

test('fields a schema leaves open (x-kubernetes-preserve-unknown-fields) accept anything', () => {
  const app = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'a', namespace: 'argocd' },
    spec: {
      project: 'p',
      destination: { server: 'https://kubernetes.default.svc', namespace: 'x' },
      source: { repoURL: 'https://charts.example.com', chart: 'c', targetRevision: '1.0.0', helm: { valuesObject: { anything: { at: ['all'] } } } },
    },
  };
  expect(validateManifest(app)).toEqual([]);
});

test('an int-or-string field of neither type: one line per field, without the lines of each branch', () => {
  expect(validateManifest(service({ ports: [{ port: 80, targetPort: true }] }))).toEqual(['/spec/ports/0/targetPort: must match exactly one schema in oneOf']);
  expect(validateManifest(service({ ports: [{ port: 80, targetPort: 1.5 }, { port: 81, targetPort: false }] }))).toEqual([
    '/spec/ports/0/targetPort: must match exactly one schema in oneOf',
    '/spec/ports/1/targetPort: must match exactly one schema in oneOf',
  ]);
});

describe('the validator cache (what the unit suites share)', () => {
  const ROOT = path.join(__dirname, '..', '..');
  /** A fresh instance of the validator module (as in a new suite), caching in `dir`; by default the repository's. */
  const fresh = (dir: string, module = path.join(ROOT, 'tools', 'schema-validation.ts')): typeof import('../../tools/schema-validation') => {
    let mod: typeof import('../../tools/schema-validation') | undefined;
    jest.isolateModules(() => {
      mod = require(module);
    });
    mod!.cacheValidatorsIn(dir);
    return mod!;
  };
  const broken = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', lables: {} }, spec: { ports: [{ port: '80' }] } };
  const EXPECTED = ['/metadata: unknown field "lables"', '/spec/ports/0/port: must be integer'];
  const ACCEPT_ALL = 'module.exports = function v() { return true; };\n';
  const dirs: string[] = [];
  const tmp = () => {
    dirs.push(fs.mkdtempSync(path.join(os.tmpdir(), 'validator-cache-')));
    return dirs[dirs.length - 1];
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const entries = (dir: string) =>
    fs.readdirSync(dir).sort().flatMap((d) => fs.readdirSync(path.join(dir, d)).map((f) => `${d.length === 64 ? '<digest>' : d}/${f}`));

  test('a first process compiles and writes the validator, replacing an earlier digest\'s; the next loads it, same problems', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'a'.repeat(64)));
    fs.writeFileSync(path.join(dir, 'a'.repeat(64), 'v1_Service.js'), ACCEPT_ALL);
    fs.mkdirSync(path.join(dir, 'mine'));
    fs.writeFileSync(path.join(dir, 'mine', 'notes.txt'), 'kept\n');
    const first = fresh(dir);
    expect(first.validateManifest(broken)).toEqual(EXPECTED);
    // Unknown kinds have no validator to cache.
    expect(first.validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual([
      '(root): no schema for example.com/v1 Widget in schemas/ (add its CRD or check the apiVersion)',
    ]);
    expect(entries(dir)).toEqual(['<digest>/v1_Service.js', 'mine/notes.txt']);
    const file = path.join(dir, fs.readdirSync(dir).find((d) => d.length === 64)!, 'v1_Service.js');
    const written = fs.statSync(file).mtimeMs;

    const second = fresh(dir);
    expect(second.validateManifest(broken)).toEqual(EXPECTED);
    expect(second.validateManifest({ ...broken, metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } })).toEqual([]);
    expect(fs.statSync(file).mtimeMs).toBe(written);
    // What a process runs is the cached file: the same entry, tampered with, changes the verdict (in another
    // directory: jest keeps the text of a file it has loaded).
    const other = tmp();
    fs.mkdirSync(path.join(other, path.basename(path.dirname(file))));
    fs.writeFileSync(path.join(other, path.basename(path.dirname(file)), 'v1_Service.js'), ACCEPT_ALL);
    expect(fresh(other).validateManifest(broken)).toEqual([]);
  });

  test('a changed schema file never meets a validator cached before the change (the digest covers the schemas)', () => {
    // A copy of the validator and its schemas, so that a schema file can change without touching the repository's.
    const copy = tmp();
    for (const f of ['tools/schema-validation.ts', 'tools/schema-formats.ts', 'schemas/k8s', 'schemas/crds']) {
      fs.cpSync(path.join(ROOT, f), path.join(copy, f), { recursive: true });
    }
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    const copyOf = (dir: string) => fresh(dir, path.join(copy, 'tools', 'schema-validation.ts'));
    const cacheDir = path.join(copy, 'cache');
    const es = { apiVersion: 'external-secrets.io/v1', kind: 'ExternalSecret', metadata: { name: 'e' }, spec: { refreshInterval: '1h' } };
    expect(copyOf(cacheDir).validateManifest(es)).toEqual([]);
    expect(entries(cacheDir)).toEqual(['<digest>/external-secrets.io_v1_ExternalSecret.js']);

    // The CRD's served version no longer serves v1: the cached v1 validator must not answer.
    const crd = path.join(copy, 'schemas', 'crds', 'external-secrets', 'external-secrets.io_externalsecrets.yaml');
    const text = fs.readFileSync(crd, 'utf8');
    expect(text.match(/^    served: true$/gm)?.length).toBeGreaterThan(0);
    fs.writeFileSync(crd, text.replace(/^    served: true$/gm, '    served: false'));
    expect(copyOf(cacheDir).validateManifest(es)).toEqual([
      '(root): external-secrets.io/v1 ExternalSecret is not a served version of its CRD (schemas/crds/external-secrets/external-secrets.io_externalsecrets.yaml)',
    ]);
  });

  test('a cache directory that cannot be written only costs time', () => {
    const file = path.join(tmp(), 'not-a-directory');
    fs.writeFileSync(file, '');
    expect(fresh(file).validateManifest(broken)).toEqual(EXPECTED);
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });
});
