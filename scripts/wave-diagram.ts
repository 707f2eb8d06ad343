/** `npm run docs:waves`: writes the generated sync-wave picture of `dev` into docs/deploying.md (between the markers). */
import * as fs from 'fs';
import * as path from 'path';
import * as yaml from 'js-yaml';
import { configFilesIn, loadEnvironments } from '../lib/config/config';
import { renderEnvironment, type Manifest } from '../lib/synth/synth';
import { servingPath } from '../lib/names';
import { waveDiagram } from '../tools/wave-diagram';

const USAGE = `usage: npm run docs:waves

Writes the sync-wave picture of dev (config/dev.yaml) into docs/deploying.md, between the waves markers, and prints it.

  -h, --help   print this text (and write nothing)`;

function main(): void {
  const root = path.resolve(__dirname, '..');
  const dev = loadEnvironments(configFilesIn(path.join(root, 'config'))).find((c) => c.name === 'dev');
  if (!dev) throw new Error('config/dev.yaml is missing');
  const out = renderEnvironment(dev);
  const under = (dir: string) => out.dist.filter((f) => f.path.startsWith(`${dir}/`)).map((f) => yaml.load(f.content) as Manifest);
  const diagram = waveDiagram('dev', under('apps'), under('mlflow'), under(servingPath('mlflow')));
  const readmePath = path.join(root, 'docs', 'deploying.md');
  const readme = fs.readFileSync(readmePath, 'utf8');
  const updated = readme.replace(/(<!-- waves:begin -->\n```text\n)[\s\S]*?(\n```\n<!-- waves:end -->)/, `$1${diagram}$2`);
  if (updated === readme && !readme.includes(diagram)) throw new Error('docs/deploying.md has no waves markers');
  fs.writeFileSync(readmePath, updated);
  console.log(diagram);
}

if (process.argv.includes('--help') || process.argv.includes('-h')) console.log(USAGE);
else main();
