/**
 * Validates synthesized objects against the schemas the API server would use: the Kubernetes 1.28 OpenAPI
 * definitions (`schemas/k8s/`) for core kinds and each CRD's `openAPIV3Schema` (`schemas/crds/`) for custom
 * resources, both copied into the repository with their provenance (`schemas/README.md`).
 *
 * Stricter than the raw schemas in one deliberate way: an object schema that lists `properties` and neither
 * sets `additionalProperties` nor `x-kubernetes-preserve-unknown-fields` rejects unknown fields. The API
 * server does the same with `kubectl apply --validate=strict` (Argo CD's default client-side validation
 * catches them too), and silently drops them otherwise — a typo in a field name would ship as a no-op.
 *
 * Not checked here (the API server checks them on a real cluster): CRD CEL rules (`x-kubernetes-validations`),
 * list-map key uniqueness, and admission webhooks.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type Ajv from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import * as yaml from 'js-yaml';
import { SCHEMA_FORMATS } from './schema-formats';

const SCHEMA_ROOT = path.join(__dirname, '..', 'schemas');
const K8S_DEFINITIONS = path.join(SCHEMA_ROOT, 'k8s', 'v1.28.0', '_definitions.json');
const CRD_DIR = path.join(SCHEMA_ROOT, 'crds');
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

type Schema = Record<string, any>;

/** Where the schema of one apiVersion + kind comes from. */
type SchemaSource =
  | { readonly from: 'k8s'; readonly definition: string }
  | { readonly from: 'crd'; readonly file: string; readonly served: boolean; readonly schema: Schema };

interface Registry {
  readonly ajv: Ajv;
  readonly sources: Map<string, SchemaSource>;
}

let registry: Registry | undefined;
/** Compiled (or loaded) validators of this process, by apiVersion + kind. */
const compiled = new Map<string, ValidateFunction>();
/** Where validators are cached as code, when {@link cacheValidatorsIn} was called. */
let cache: { readonly dir: string; digest?: string } | undefined;

/**
 * Caches each compiled validator as JavaScript under `dir` (Ajv's standalone code), so that the next process
 * loads it instead of parsing every schema and compiling it again (about 2 s per process for the kinds we
 * render). Only the test suite turns it on (test/support/validator-cache.ts): jest gives every suite a fresh module
registry, in which this module, its validators included, starts empty.
 * Entries live in a subdirectory named after a digest of everything that shapes a validator (the schema files,
 * this file and the formats module, Ajv's version and options), so a changed input never meets a stale entry;
 * each file is written to a temporary name and renamed, so parallel processes never read half a file.
 */
export function cacheValidatorsIn(dir: string): void {
  cache = { dir };
}

/**
 * Schema problems of one object, as `<path>: <message>` lines; empty when valid. An apiVersion/kind with no
 * schema in the repository, or a CRD version that is not served, is a problem too.
 */
export function validateManifest(obj: unknown): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return ['(root): must be an object'];
  const { apiVersion, kind } = obj as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return ['(root): apiVersion and kind must be strings'];
  const validate = validatorOf(apiVersion, kind);
  if (Array.isArray(validate)) return validate;
  return validate(obj) ? [] : formatErrors(validate.errors ?? []);
}

/**
 * The validator of one apiVersion + kind — this process's, the cache's, or compiled now (and cached) — or why there
 * is none.
 */
function validatorOf(apiVersion: string, kind: string): ValidateFunction | string[] {
  const key = gvkKey(apiVersion, kind);
  const known = compiled.get(key);
  if (known) return known;
  const file = cache === undefined ? undefined : path.join(cache.dir, (cache.digest ??= inputsDigest()), `${key.replace(/[^A-Za-z0-9.-]/g, '_')}.js`);
  if (file !== undefined && fs.existsSync(file)) {
    const loaded = require(file) as ValidateFunction;
    compiled.set(key, loaded);
    return loaded;
  }
  const reg = (registry ??= loadRegistry());
  const source = reg.sources.get(key);
  if (!source) return [`(root): no schema for ${apiVersion} ${kind} in schemas/ (add its CRD or check the apiVersion)`];
  if (source.from === 'crd' && !source.served) return [`(root): ${apiVersion} ${kind} is not a served version of its CRD (${source.file})`];
  const validate = source.from === 'k8s'
    ? reg.ajv.compile({ $ref: `k8s#/definitions/${source.definition}` })
    : reg.ajv.compile(source.schema);
  compiled.set(key, validate);
  if (file !== undefined) writeCached(file, reg.ajv, validate);
  return validate;
}

/**
 * Writes one validator's code to the cache; best effort (a cache that cannot be written only costs time). The
 * first entry of a new digest removes the entries of earlier digests (directories this cache made, named by a
 * digest), so the cache holds one set of validators.
 */
function writeCached(file: string, ajv: Ajv, validate: ValidateFunction): void {
  const dir = path.dirname(file);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    if (!fs.existsSync(dir)) {
      const parent = path.dirname(dir);
      if (fs.existsSync(parent)) {
        for (const old of fs.readdirSync(parent).filter((d) => /^[0-9a-f]{64}$/.test(d))) fs.rmSync(path.join(parent, old), { recursive: true, force: true });
      }
      fs.mkdirSync(dir, { recursive: true });
    }
    const standaloneCode = (require('ajv/dist/standalone') as typeof import('ajv/dist/standalone')).default;
    fs.writeFileSync(tmp, standaloneCode(ajv, validate));
    fs.renameSync(tmp, file);
  } catch {
    if (fs.existsSync(tmp)) fs.rmSync(tmp);
  }
}

/** A digest of every input of a compiled validator: the schema files, this file, the formats, Ajv's version and options. */
function inputsDigest(): string {
  const hash = createHash('sha256');
  const ajvVersion = (require('ajv/package.json') as { version: string }).version;
  hash.update(`ajv ${ajvVersion}\0${JSON.stringify(ajvOptions(true))}\0`);
  for (const file of [__filename, require.resolve('./schema-formats'), K8S_DEFINITIONS, ...yamlFilesUnder(CRD_DIR)]) {
    hash.update(`${file}\0`).update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Ajv's options. `code.optimize: false`: Ajv's optimizing pass over the generated code costs more than it saves
 * here (compiling the k8s PodSpec and ESO's SecretStore took about 40 % longer with it) and changes no result.
 * With `source` (for the cache), the formats are referenced as code, from the module that defines them.
 */
function ajvOptions(source: boolean): Options {
  const { _ } = require('ajv') as typeof import('ajv');
  return {
    strict: false,
    allErrors: true,
    validateFormats: true,
    formats: { ...SCHEMA_FORMATS },
    code: source
      ? { optimize: false, source: true, formats: _`require(${require.resolve('./schema-formats')}).SCHEMA_FORMATS` }
      : { optimize: false },
  };
}

/** The apiVersion/kind pairs the registry knows (core kinds and served CRD versions). */
export function knownKinds(): string[] {
  const reg = (registry ??= loadRegistry());
  return [...reg.sources.entries()].filter(([, s]) => s.from === 'k8s' || s.served).map(([k]) => k).sort();
}

function gvkKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

function loadRegistry(): Registry {
  // Ajv is loaded here, not at the top: a process whose validators all come from the cache never needs it.
  const AjvClass = (require('ajv') as typeof import('ajv')).default;
  const ajv = new AjvClass(ajvOptions(cache !== undefined));

  const sources = new Map<string, SchemaSource>();
  const definitions = (JSON.parse(fs.readFileSync(K8S_DEFINITIONS, 'utf8')) as { definitions: Record<string, Schema> }).definitions;
  for (const [name, def] of Object.entries(definitions)) {
    for (const gvk of (def['x-kubernetes-group-version-kind'] ?? []) as { group: string; version: string; kind: string }[]) {
      // Kinds like DeleteOptions/WatchEvent are listed under every group; only a definition's own group counts.
      if (!definitionBelongsTo(name, gvk.group, gvk.version)) continue;
      sources.set(gvkKey(gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version, gvk.kind), { from: 'k8s', definition: name });
    }
  }
  ajv.addSchema({ $id: 'k8s', definitions: mapValues(definitions, strictify) });

  for (const file of yamlFilesUnder(CRD_DIR)) {
    for (const doc of yaml.loadAll(fs.readFileSync(file, 'utf8')) as Schema[]) {
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      const { group, names, versions } = doc.spec;
      for (const v of versions as Schema[]) {
        const root = strictify(v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
        // Every object's metadata is ObjectMeta (CRDs leave it as a bare `type: object`).
        root.properties = { ...root.properties, metadata: { $ref: `k8s#/definitions/${OBJECT_META}` } };
        root.properties.apiVersion ??= { type: 'string' };
        root.properties.kind ??= { type: 'string' };
        sources.set(gvkKey(`${group}/${v.name}`, names.kind), {
          from: 'crd',
          file: path.relative(path.join(SCHEMA_ROOT, '..'), file),
          served: v.served === true,
          schema: root,
        });
      }
    }
  }
  return { ajv, sources };
}

/** `io.k8s.api.apps.v1.Deployment` belongs to apps/v1; `io.k8s.api.core.v1.Pod` to the core group (``). */
function definitionBelongsTo(name: string, group: string, version: string): boolean {
  const parts = name.split('.');
  const defVersion = parts[parts.length - 2];
  if (defVersion !== version) return false;
  const defGroup = parts[parts.length - 3];
  if (group === '') return defGroup === 'core' || name.startsWith('io.k8s.apimachinery.pkg.apis.meta.');
  return group.split('.')[0] === defGroup || group === defGroup;
}

/**
 * A copy of `schema` in which every object schema with `properties` (and no explicit `additionalProperties` or
 * `x-kubernetes-preserve-unknown-fields`) rejects unknown fields, and `x-kubernetes-int-or-string` accepts
 * both forms.
 */
function strictify(schema: Schema): Schema {
  if (Array.isArray(schema)) return schema.map(strictify) as unknown as Schema;
  if (!schema || typeof schema !== 'object') return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && v && typeof v === 'object') out[k] = mapValues(v as Record<string, Schema>, strictify);
    else if (k === 'description' || k === 'x-kubernetes-validations') continue;
    else if (typeof v === 'object' && v !== null) out[k] = strictify(v as Schema);
    else out[k] = v;
  }
  if (out.properties && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    out.additionalProperties = false;
  }
  if (out['x-kubernetes-int-or-string'] === true && out.type === undefined && !out.anyOf && !out.oneOf) {
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  return out;
}

function mapValues<T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

function yamlFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return yamlFilesUnder(p);
      return /\.ya?ml$/.test(e.name) ? [p] : [];
    });
}

/** One line per error; `oneOf`/`anyOf` noise from int-or-string branches is folded into its parent error. */
function formatErrors(errors: readonly ErrorObject[]): string[] {
  const branching = errors.filter((o) => o.keyword === 'oneOf' || o.keyword === 'anyOf');
  const lines = errors
    .filter((e) => !branching.some((o) => e.schemaPath.startsWith(`${o.schemaPath}/`)))
    .map((e) => {
      const where = e.instancePath || '(root)';
      if (e.keyword === 'additionalProperties') return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      if (e.keyword === 'enum') return `${where}: ${e.message} (${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
      return `${where}: ${e.message}`;
    });
  return [...new Set(lines)];
}
