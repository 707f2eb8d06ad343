#!/usr/bin/env node
/**
 * `npm run mutate:sample -- [--size N] [--seed S] [--list]`: a mutation score for all the mutated code from a random
 * sample of its mutants, for machines where the full `npm run mutate` takes hours (docs/testing.md#mutation-testing).
 *
 * 1. Lists every mutant Stryker would make in the files of stryker.config.json's `mutate`, with Stryker's own instrumenter (the same
 *    mutators and locations as `npm run mutate`).
 * 2. Draws N of them with a seeded generator (same seed, same sample), stratified by nothing: every mutant of
 *    mutated code is equally likely, so files weigh in by their number of mutants, as in the full score.
 * 3. Runs Stryker with stryker.config.json, restricted to the sampled mutants' source ranges; the mutants
 *    nested in a range and not sampled are skipped (tools/mutation/mutate-sample-ignorer.mjs).
 * 4. Scores the sampled mutants only, as Stryker scores them ((killed + timeout) / (killed + timeout +
 *    survived + no coverage); static-ignored and runtime errors are not counted) with a 95 % Wilson interval,
 *    and lists every survivor. The report goes to reports/mutation/sample/.
 *
 * `--list` prints the sample and the size of the run without running it.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Instrumenter } from '@stryker-mutator/instrumenter';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outDir = path.join(root, 'reports', 'mutation', 'sample');

const USAGE = 'Usage: npm run mutate:sample -- [--size N] [--seed S] [--list]';
let flags;
try {
  ({ values: flags } = parseArgs({
    options: {
      size: { type: 'string', default: '200' },
      seed: { type: 'string', default: '1' },
      list: { type: 'boolean', default: false },
      'score-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (e) {
  process.stderr.write(`mutate:sample: ${e.message}\n${USAGE}\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(`${USAGE}

Scores the code npm run mutate mutates (stryker.config.json) by mutation testing a seeded random sample of its mutants (report: reports/mutation/sample/).

  --size N       mutants in the sample (default 200)
  --seed S       the generator's seed: the same seed draws the same sample (default 1)
  --list         print the sample and the size of the run, without running it
  --score-only   score the report of the last run again, without running Stryker
  -h, --help     print this text
`);
  process.exit(0);
}
const size = Number(flags.size);
const seed = Number(flags.seed);
if (!Number.isInteger(size) || size < 1 || !Number.isInteger(seed)) {
  process.stderr.write(`mutate:sample: --size must be a positive integer and --seed an integer\n${USAGE}\n`);
  process.exit(2);
}

/** mulberry32: a small seeded generator; Math.random cannot be seeded. */
function generator(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quiet = () => false;
const logger = {
  isTraceEnabled: quiet, isDebugEnabled: quiet, isInfoEnabled: quiet, isWarnEnabled: quiet,
  isErrorEnabled: () => true, isFatalEnabled: () => true,
  trace() {}, debug() {}, info() {}, warn() {}, error: console.error, fatal: console.error,
};

const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
// The files `npm run mutate` mutates (stryker.config.json `mutate`), as git lists them.
const names = execFileSync('git', ['ls-files', '--', ...base.mutate.map((p) => `:(glob)${p}`)], { cwd: root, encoding: 'utf8' }).trim().split('\n').sort();
const files = names.map((name) => ({ name, content: fs.readFileSync(path.join(root, name), 'utf8'), mutate: true }));
const { mutants } = await new Instrumenter(logger).instrument(files, { plugins: null, excludedMutations: [], ignorers: [], noHeader: true });

const key = (m) => `${m.fileName}|${m.location.start.line}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column}|${m.mutatorName}|${m.replacement}`;
const random = generator(seed);
const order = mutants.map((m) => ({ m, r: random() })).sort((a, b) => a.r - b.r);
const sample = order.slice(0, Math.min(size, mutants.length)).map((x) => x.m);
const inside = (outer, inner) =>
  (outer.start.line < inner.start.line || (outer.start.line === inner.start.line && outer.start.column <= inner.start.column)) &&
  (outer.end.line > inner.end.line || (outer.end.line === inner.end.line && outer.end.column >= inner.end.column));
const run = mutants.filter((m) => sample.some((s) => s.fileName === m.fileName && inside(s.location, m.location)));
// Stryker's range patterns: 1-based lines, 0-based columns (the instrumenter's lines are 0-based).
const ranges = sample.map((m) => `${m.fileName}:${m.location.start.line + 1}:${m.location.start.column}-${m.location.end.line + 1}:${m.location.end.column}`);

process.stdout.write(`${names.length} files, ${mutants.length} mutants; sample of ${sample.length} (seed ${seed}); ${run.length} mutants lie in the sampled ranges (the nested ones are skipped)\n`);
if (flags.list) {
  for (const m of sample) process.stdout.write(`  ${m.fileName}:${m.location.start.line + 1}:${m.location.start.column + 1} ${m.mutatorName} → ${JSON.stringify(m.replacement).slice(0, 80)}\n`);
  process.exit(0);
}

fs.mkdirSync(outDir, { recursive: true });
const sampleFile = path.join(outDir, 'sample.json');
const byFile = {};
for (const m of sample) (byFile[m.fileName] ??= []).push([m.location.start.line, m.location.start.column, m.location.end.line, m.location.end.column]);
fs.writeFileSync(sampleFile, `${JSON.stringify(byFile)}\n`);
const config = {
  ...base,
  $schema: undefined,
  mutate: ranges,
  plugins: ['@stryker-mutator/*', './tools/mutation/mutate-sample-ignorer.mjs'],
  ignorers: ['mutation-sample'],
  reporters: ['progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: path.relative(root, path.join(outDir, 'mutation.json')) },
  htmlReporter: { fileName: path.relative(root, path.join(outDir, 'mutation.html')) },
};
const configFile = path.join(outDir, 'stryker.config.json');
fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
let seconds = 0;
if (!flags['score-only']) {
const started = Date.now();
const stryker = spawnSync('npx', ['stryker', 'run', path.relative(root, configFile)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, MLFLOW_GITOPS_MUTATION_SAMPLE: sampleFile },
});
seconds = Math.round((Date.now() - started) / 1000);
if (stryker.status !== 0) {
  process.stderr.write(`mutate:sample: stryker exited with ${stryker.status}\n`);
  process.exit(1);
}
}

const report = JSON.parse(fs.readFileSync(path.join(outDir, 'mutation.json'), 'utf8'));
const results = new Map();
for (const [fileName, file] of Object.entries(report.files)) {
  // The report's locations are 1-based (lines and columns), the instrumenter's 0-based.
  for (const r of file.mutants) {
    const { start, end } = r.location;
    const location = { start: { line: start.line - 1, column: start.column - 1 }, end: { line: end.line - 1, column: end.column - 1 } };
    results.set(key({ ...r, fileName, location }), r);
  }
}
const counts = {};
const survivors = [];
for (const m of sample) {
  const r = results.get(key(m));
  const status = r?.status ?? 'NotRun';
  counts[status] = (counts[status] ?? 0) + 1;
  if (status === 'Survived' || status === 'NoCoverage') survivors.push({ m, status });
}
const detected = (counts.Killed ?? 0) + (counts.Timeout ?? 0);
const valid = detected + (counts.Survived ?? 0) + (counts.NoCoverage ?? 0);
const p = detected / valid;
const z = 1.96;
const centre = (p + (z * z) / (2 * valid)) / (1 + (z * z) / valid);
const half = (z * Math.sqrt((p * (1 - p)) / valid + (z * z) / (4 * valid * valid))) / (1 + (z * z) / valid);
const pct = (x) => `${(100 * x).toFixed(1)} %`;
const lines = [
  `# Mutation score from a sample (seed ${seed})`,
  '',
  `${names.length} files, ${mutants.length} mutants. Sample: ${sample.length} mutants drawn uniformly (seed ${seed}); the run took ${seconds} s.`,
  '',
  `Sampled mutants: ${Object.entries(counts).sort().map(([k, v]) => `${k} ${v}`).join(', ')}.`,
  `**Score ${pct(p)}** (${detected} of ${valid} detected), 95 % interval ${pct(centre - half)} – ${pct(centre + half)}.`,
  '',
  '| where | mutator | replacement | status |',
  '| --- | --- | --- | --- |',
  ...survivors.map(({ m, status }) => `| \`${m.fileName}:${m.location.start.line + 1}:${m.location.start.column + 1}\` | ${m.mutatorName} | \`${m.replacement.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 70)}\` | ${status} |`),
  '',
];
fs.writeFileSync(path.join(outDir, 'summary.md'), lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\n`);
