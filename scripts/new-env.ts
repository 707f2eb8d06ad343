/**
 * `npm run new-env -- <name>`: writes `config/<name>.yaml`, a first config a new user can synthesize as it is: the
 * local environment's (SQLite and artifacts on a volume, no cloud account), each section commented with its
 * description from the schema, and the editor's schema line on top. Refuses a bad name or an existing file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { z } from 'zod';
import { ENVIRONMENT_NAME_RULE, isEnvironmentName } from '../lib/config/config';
import { environmentSchema } from '../lib/config/schema';

const EXIT_OK = 0;
const EXIT_USAGE = 2;

/** The environment a new one starts from: it needs no cloud account, so the file synthesizes as it is. */
const SOURCE = 'config/local.yaml';

const USAGE = `Usage: npm run new-env -- <name>

Writes config/<name>.yaml from ${SOURCE} (MLflow with SQLite on any cluster), commented, for you to edit;
npm run synth then renders it into dist/<name>/. Every field: docs/config.md.

  -h, --help   print this text`;

interface Io {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/** The text of a new environment's file: `sourceText` with its own header replaced and each section described. */
export function newEnvironmentText(name: string, sourceText: string): string {
  const doc = parseDocument(sourceText);
  if (!isMap(doc.contents)) throw new Error(`${SOURCE} is not a mapping`);
  const properties = (z.toJSONSchema(environmentSchema, { target: 'draft-7', io: 'input' }) as { properties: Record<string, { description?: string }> }).properties;
  // The source's header describes the source: replaced by one saying what this file is.
  doc.commentBefore =
    ' yaml-language-server: $schema=../schemas/config.schema.json\n' +
    ` Environment '${name}', started by npm run new-env from ${SOURCE}: MLflow with SQLite on any cluster.\n` +
    ' Every field, its default and allowed values: docs/config.md.';
  doc.contents.commentBefore = undefined;
  for (const item of doc.contents.items) {
    if (!isScalar(item.key)) continue;
    const description = properties[String(item.key.value)]?.description;
    item.key.commentBefore = description === undefined ? undefined : ` ${description}`;
  }
  return doc.toString({ lineWidth: 0 });
}

/** The command: `argv` without node and script; returns the exit code. */
export function run(argv: readonly string[], io: Io, root: string = path.join(__dirname, '..')): number {
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    io.stdout.write(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (argv.length !== 1) {
    io.stderr.write(`new-env: expected one environment name\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  const [name] = argv;
  if (!isEnvironmentName(name)) {
    io.stderr.write(`new-env: '${name}' is not an environment name: ${ENVIRONMENT_NAME_RULE}\n`);
    return EXIT_USAGE;
  }
  const file = `config/${name}.yaml`;
  if (fs.existsSync(path.join(root, file))) {
    io.stderr.write(`new-env: ${file} exists already: edit it, or choose another name\n`);
    return EXIT_USAGE;
  }
  fs.writeFileSync(path.join(root, file), newEnvironmentText(name, fs.readFileSync(path.join(root, SOURCE), 'utf8')), { flag: 'wx' });
  io.stdout.write(`wrote ${file}: edit it, then npm run synth\n`);
  return EXIT_OK;
}

if (require.main === module) process.exitCode = run(process.argv.slice(2), process);
