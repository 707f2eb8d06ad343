/**
 * `npm run docs:config`: writes the config file's JSON Schema (`schemas/config.schema.json`, for editors) and its
 * reference (`docs/config.md`), both generated from the zod schema (`lib/config/schema.ts`, `lib/config/instances.ts`),
 * where the field descriptions are written. test/config/config-docs.test.ts fails when the committed files differ.
 */
import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { instancesSchema } from '../lib/config/instances';
import { environmentSchema } from '../lib/config/schema';

/** JSON Schema draft-07: the newest draft the YAML language server (VS Code, Neovim) reads; JetBrains reads it too. */
const TARGET = 'draft-7';

type Json = { [k: string]: unknown };

/** Both shapes of file: one server, or `instances:`. */
const configFileSchema = z.union([environmentSchema, instancesSchema]).meta({
  title: 'mlflow-gitops environment config (config/<env>.yaml)',
  description: 'One MLflow server, or several under `instances:`. Reference: docs/config.md.',
});

function toJsonSchema(schema: z.ZodType, reused: 'ref' | 'inline'): Json {
  // io 'input': the file as written, before any transform; 'throw' keeps the schema from silently accepting what zod refuses.
  return z.toJSONSchema(schema, { target: TARGET, io: 'input', unrepresentable: 'throw', reused }) as Json;
}

/** The text of `schemas/config.schema.json`. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(toJsonSchema(configFileSchema, 'inline'), null, 2)}\n`;
}

// ---------------------------------------------------------------------------------------------------------
// The reference: one row per field, read from the JSON Schema of each shape
// ---------------------------------------------------------------------------------------------------------

interface Row {
  path: string;
  when: string[];
  type: string;
  required: string;
  default: string;
  allowed: string;
  description: string;
}

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``.replace(/\|/g, '\\|');
const cell = (t: string) => t.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(s: Json): string {
  if (s.not !== undefined) return 'not allowed';
  if (s.oneOf !== undefined || s.anyOf !== undefined) return 'one of the variants below';
  if (s.type === 'array') return `list of ${typeOf(s.items as Json)}`;
  if (s.format !== undefined) return `${String(s.type)} (${String(s.format)})`;
  return String(s.type ?? 'any');
}

function allowedOf(s: Json): string {
  const out: string[] = [];
  if (Array.isArray(s.enum)) out.push(s.enum.map(code).join(', '));
  if (s.const !== undefined) out.push(code(s.const));
  if (s.minimum !== undefined || s.maximum !== undefined) out.push(`${String(s.minimum ?? '…')} to ${String(s.maximum ?? '…')}`);
  if (s.minItems !== undefined) out.push(`at least ${String(s.minItems)} item${s.minItems === 1 ? '' : 's'}`);
  if (typeof s.pattern === 'string') out.push(`pattern ${code(s.pattern)}`);
  if (s.type === 'array') {
    const item = allowedOf(s.items as Json);
    if (item !== '') out.push(`each: ${item}`);
  }
  return out.join('; ');
}

/** The rows of object schema `s` at `prefix`, descending into sections and the variants of unions. */
function rowsOf(s: Json, prefix: string, when: string[], out: Row[]): void {
  const properties = (s.properties ?? {}) as Record<string, Json>;
  const required = new Set((s.required ?? []) as string[]);
  for (const [name, p] of Object.entries(properties)) {
    const fieldPath = prefix === '' ? name : `${prefix}.${name}`;
    out.push({
      path: fieldPath,
      when,
      type: typeOf(p),
      required: required.has(name) ? 'yes' : 'no',
      default: p.default === undefined ? '' : code(p.default),
      allowed: allowedOf(p),
      description: typeof p.description === 'string' ? p.description : '',
    });
    if (p.type === 'object') rowsOf(p, fieldPath, when, out);
    if (p.type === 'array' && (p.items as Json).type === 'object') rowsOf(p.items as Json, `${fieldPath}[]`, when, out);
    const variants = (p.oneOf ?? p.anyOf) as Json[] | undefined;
    if (variants !== undefined) {
      const discriminator = Object.keys((variants[0].properties ?? {}) as Json)[0];
      for (const v of variants) {
        const value = ((v.properties as Record<string, Json>)[discriminator]).const;
        rowsOf(v, fieldPath, [...when, `${discriminator}: ${JSON.stringify(value)}`], out);
      }
    }
  }
}

/** Rows of the same field with the same content under several variants become one row naming all of them. */
function merged(rows: readonly Row[]): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    const same = out.find((o) => o.path === r.path && o.type === r.type && o.required === r.required && o.default === r.default && o.allowed === r.allowed && o.description === r.description);
    if (same === undefined) out.push({ ...r, when: [...r.when] });
    else if (r.when.length > 0 && same.when.length > 0) same.when.push(...r.when.filter((w) => !same.when.includes(w)));
  }
  return out;
}

function table(rows: readonly Row[]): string {
  const head = '| field | when | type | required | default | allowed | description |\n| --- | --- | --- | --- | --- | --- | --- |';
  const lines = rows.map((r) => `| \`${r.path}\` | ${cell(r.when.map((w) => `\`${w}\``).join(' or '))} | ${cell(r.type)} | ${r.required} | ${r.default} | ${r.allowed} | ${cell(r.description)} |`);
  return [head, ...lines].join('\n');
}

/** Rules of zod that a JSON Schema cannot state: the editor accepts such a file, `npm run synth` refuses it. */
export const RULES_ONLY_ZOD = [
  'across fields (lib/config/guards.ts): `gcp` with Cloud SQL, GCS, basic-auth or IAM login; the secrets of `database.login`; the metrics and smoke users under basic-auth; `volume` exactly when SQLite or volume artifacts use it; `server.autoscaling` with Cloud SQL and without SQLite or a volume; the proxy-only subnet of regional Gateway classes; `gc` only with Cloud SQL; `gitops.addons.acmeEmail` with cert-manager; the Cloud SQL connection budget',
  "`clients` and `serving` (docs/clients.md): only with basic-auth; a client's namespace not the server's; distinct client and serving names, and MLflow users (clients, `serve-<name>`, the metrics and smoke users) distinct; `serving[]`: `alias` or `version`, not both, `promotion` only with `alias`, `clients` naming listed clients, `serve-<name>` at most 63 characters; permission keys: experiment and registered model names MLflow accepts",
  '`server.resources` and `serving[].resources`: limits at least the requests; `server.autoscaling` and `serving[].autoscaling`: `minReplicas` at most `maxReplicas`',
  '`image.tag`: an exact version, not `latest` or a floating tag; `exposure.hosts`: distinct, not an IP address; `gc.schedule`: a valid cron schedule; `exposure.proxyOnlySubnetCidr`: a network address in a private range',
  'with `instances:`: each instance, merged with the top level, must hold every required section; distinct names, namespaces, hosts, databases and artifact locations across instances',
  'across files: one file per environment name (the file name is the environment name), no two environments on the same host, database, artifact location or Argo CD destination',
] as const;

/** The text of `docs/config.md`. */
export function configReferenceText(): string {
  const single = merged((() => {
    const rows: Row[] = [];
    rowsOf(toJsonSchema(environmentSchema, 'inline'), '', [], rows);
    return rows;
  })());
  const instances = toJsonSchema(instancesSchema, 'inline');
  const env = new Set(Object.keys(environmentSchema.shape));
  const own = (s: Json) => Object.fromEntries(Object.entries(s.properties as Record<string, Json>).filter(([k]) => !env.has(k) || k === 'namespace' || k === 'gitops'));
  const item = (instances.properties as Record<string, Json>).instances.items as Json;
  const instanceRows: Row[] = [];
  rowsOf({ ...instances, properties: own(instances) }, '', [], instanceRows);
  const kept = instanceRows.filter((r) => !r.path.startsWith('instances[].') && !r.path.startsWith('gitops.'));
  const itemRows: Row[] = [];
  rowsOf({ ...item, properties: own(item) }, 'instances[]', [], itemRows);
  const sections = [...env].filter((k) => k !== 'namespace' && k !== 'gitops').map((k) => `\`${k}\``).join(', ');
  return `<!-- Generated by \`npm run docs:config\` from lib/config/schema.ts and lib/config/instances.ts: edit the descriptions there. -->
# Configuration reference

One file per environment: \`config/<env>.yaml\`, where \`<env>\` is the environment's name (\`dist/<env>/\`). Start one with
\`npm run new-env -- <name>\`. Every file begins with

\`\`\`yaml
# yaml-language-server: $schema=../schemas/config.schema.json
\`\`\`

so an editor with the YAML language server (VS Code's YAML extension, Neovim, JetBrains IDEs) completes and checks the
fields as you type, from [schemas/config.schema.json](../schemas/config.schema.json) (JSON Schema draft-07).

The JSON Schema states each field's type, allowed values, range and pattern. \`npm run synth\` checks more; these rules
are not in the JSON Schema, so an editor accepts a file that breaks one and synth refuses it with the field and the fix:

${RULES_ONLY_ZOD.map((r) => `- ${r}`).join('\n')}

Fields marked "when" belong to one variant of their section, chosen by the field named there (\`database.engine\`,
\`artifacts.store\`, \`exposure.mode\`, \`exposure.certificate.source\`, \`auth.enabled\`). A default is what an omitted field
means. Unknown fields are refused everywhere.

## A file with one server

${table(single)}

## A file with several servers (\`instances:\`)

The same fields, arranged so: ${sections} may be set at the top level (shared by every instance) or in an instance
(which then replaces the top level's section as a whole); each instance, merged so, must hold every required section of
the table above. These fields differ:

${table([...kept, ...itemRows])}
`;
}

/** The generated files, by path relative to the repository root. */
export function generatedFiles(): Record<string, string> {
  return { 'schemas/config.schema.json': configJsonSchemaText(), 'docs/config.md': configReferenceText() };
}

const USAGE = `Usage: npm run docs:config

Writes schemas/config.schema.json and docs/config.md from the config schema (lib/config/schema.ts, lib/config/instances.ts).

  -h, --help   print this text`;

if (require.main === module) {
  const argv = process.argv.slice(2);
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    process.stdout.write(`${USAGE}\n`);
  } else if (argv.length > 0) {
    process.stderr.write(`docs:config: takes no arguments\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else {
    const root = path.join(__dirname, '..');
    for (const [file, text] of Object.entries(generatedFiles())) {
      fs.writeFileSync(path.join(root, file), text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
}
