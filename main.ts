/**
 * Entry point: `npm run synth` (every config/*.yaml → dist/<env>/) or
 * `npm run synth -- --config <file> --out <dir>` (one file → <dir>). Only wiring: parse arguments, load and
 * validate configs, render, write atomically, report.
 */
import * as path from 'path';
import { ConfigError, configFilesIn, loadEnvironments } from './lib/config/config';
import { renderEnvironment, replaceDirectory, SynthError, type RenderedFile } from './lib/synth/synth';

function parseArgs(argv: readonly string[]): { config?: string; out?: string } {
  const out: { config?: string; out?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--config' || a === '--out') && argv[i + 1]) {
      out[a === '--config' ? 'config' : 'out'] = argv[++i];
    } else {
      throw new Error(`unknown argument '${a}'. Usage: synth [--config <file> --out <dir>]`);
    }
  }
  if ((out.config === undefined) !== (out.out === undefined)) throw new Error('--config and --out go together');
  // --out is replaced wholesale: never the repository itself or one of its parents.
  if (out.out !== undefined && path.relative(path.resolve(out.out), __dirname).split(path.sep)[0] !== '..') {
    throw new Error(`--out ${out.out} would replace this repository; choose a directory outside or below it`);
  }
  return out;
}

function under(dir: string, files: readonly RenderedFile[]): RenderedFile[] {
  return files.map((f) => ({ path: path.posix.join(dir, f.path), content: f.content }));
}

function main(): number {
  const root = __dirname;
  const args = parseArgs(process.argv.slice(2));
  if (args.config !== undefined && args.out !== undefined) {
    const [config] = loadEnvironments([args.config]);
    const out = renderEnvironment(config);
    replaceDirectory(args.out, [...out.dist, ...out.bootstrap.map((f) => ({ ...f, path: path.posix.join('argocd', f.path) }))]);
    console.log(`synthesized ${args.config} → ${args.out}`);
    return 0;
  }
  const configs = loadEnvironments(configFilesIn(path.join(root, 'config')));
  // Render everything before writing anything: an error leaves both trees as they were.
  const dist: RenderedFile[] = [];
  const bootstrap: RenderedFile[] = [];
  for (const c of configs) {
    const out = renderEnvironment(c);
    dist.push(...under(c.name, out.dist));
    bootstrap.push(...under(c.name, out.bootstrap));
  }
  replaceDirectory(path.join(root, 'dist'), dist);
  replaceDirectory(path.join(root, 'argocd'), bootstrap);
  console.log(`synthesized ${configs.map((c) => c.name).join(', ')} → dist/ (${dist.length} files), argocd/ (${bootstrap.length} files)`);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`Invalid configuration (${e.problems.length} problem${e.problems.length > 1 ? 's' : ''}); nothing was written:\n${e.message}`);
  } else if (e instanceof SynthError) {
    console.error(`Synthesis refused (${e.problems.length} problem${e.problems.length > 1 ? 's' : ''}); nothing was written:\n${e.message}`);
  } else {
    console.error(`synth failed; nothing was written: ${(e as Error).stack ?? e}`);
  }
  process.exitCode = 1;
}
