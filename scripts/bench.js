#!/usr/bin/env node
/**
 * `npm run bench`: wall time of `npm run synth` (tsx) against the cdk8s default on this same app —
 * `cdk8s synth` with `app: npx ts-node main.ts` — measured alternately in one run, so machine noise hits both.
 * ts-node cannot load TypeScript 7, so the baseline uses TypeScript 5.9 (the `typescript5` npm alias) through
 * TS_NODE_COMPILER; everything else is the cdk8s default. Prints each run, the medians and their ratio.
 */
const { execFileSync } = require('child_process');
const path = require('path');

const USAGE = `usage: npm run bench [-- RUNS]

Times \`npm run synth\` against \`cdk8s synth\` with ts-node, alternately, RUNS times each (default 5), and prints
the medians and their ratio. Both write dist/ as they synthesize.

  -h, --help   print this text`;
if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}

const root = path.resolve(__dirname, '..');
const runs = Number(process.argv[2] ?? 5);
const bin = (n) => path.join(root, 'node_modules', '.bin', n);

const candidates = {
  'npm run synth': () => execFileSync('npm', ['run', '-s', 'synth'], { cwd: root, stdio: 'pipe' }),
  'cdk8s synth (npx ts-node main.ts)': () =>
    execFileSync(bin('cdk8s'), ['synth', '--app', 'npx ts-node main.ts', '--output', 'dist'], {
      cwd: root,
      stdio: 'pipe',
      env: {
        ...process.env,
        CDK8S_CHECK_UPGRADE: 'false',
        TS_NODE_COMPILER: 'typescript5',
        TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: 'commonjs', moduleResolution: 'node' }),
      },
    }),
};

const times = Object.fromEntries(Object.keys(candidates).map((k) => [k, []]));
for (let i = 0; i < runs; i++) {
  for (const [name, run] of Object.entries(candidates)) {
    const t0 = process.hrtime.bigint();
    run();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    times[name].push(s);
    console.log(`run ${i + 1} ${name}: ${s.toFixed(2)} s`);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [ours, baseline] = Object.keys(candidates).map((k) => median(times[k]));
console.log(`\nmedian over ${runs} runs: npm run synth ${ours.toFixed(2)} s, cdk8s default ${baseline.toFixed(2)} s, ratio ${(ours / baseline).toFixed(3)} (target ≤ 0.2)`);
