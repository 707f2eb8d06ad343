/**
 * Jest for `npm run mutate` (Stryker, stryker.config.json): the behavioural tests that build what they check
 * inside each test. Left out:
 * - the drift test (test/synth/drift.test.ts: committed dist/ equals a fresh synth), which fails on any change of
 *   output, right or wrong; and every snapshot assertion, wherever it is (tools/mutation/snapshots-pass.js);
 * - suites that render the shipped environments while jest collects them (outside any test): Stryker counts
 *   every mutant such code reaches as "static" and would run the whole suite for each (test/synth/dist.test.ts);
 * - test/renovate.test.ts, which reads lib/gitops/addons.ts as text (Renovate's regex managers match the
 *   source), and the sandbox's copy is Stryker's instrumented one;
 * - suites that run real servers (test/scripts/, test/e2e/, test/apiserver/), which do not run
 *   lib/ in the test process.
 * test/tools/diff/diff.test.ts runs (`npm run diff` on real git commits): it builds its own throw-away repository from the
 * sandbox's files (lib/ as instrumented, no .git or tsconfig.json needed), and the base it renders in a child
 * process runs the same active mutant as the working tree rendered in-process (Stryker passes it in the
 * environment), so a mutant is killed by what the report shows, not by output differing from a clean base.
 */
const base = require('./jest.config');

// jest.config.js defines `projects`, and jest applies neither testPathIgnorePatterns nor setupFilesAfterEnv from the
// top level to a project: they are set on the unit project itself (the apiserver project is left out whole).
const unit = base.projects.find((p) => p.displayName === 'unit');

module.exports = {
  ...base,
  projects: [
    {
      ...unit,
      testPathIgnorePatterns: [
        '/node_modules/',
        '<rootDir>/test/synth/drift\\.test\\.ts$',
        '<rootDir>/test/synth/dist\\.test\\.ts$',
        '<rootDir>/test/renovate\\.test\\.ts$',
        '<rootDir>/test/docs\\.test\\.ts$',
        '<rootDir>/test/scripts/',
        '<rootDir>/test/e2e/',
        '<rootDir>/test/apiserver/',
      ],
      // Snapshot assertions pass; every beforeAll runs as a beforeEach, so that Stryker attributes fixtures to tests
      // (tools/mutation/mutation-attribution.js says why).
      setupFilesAfterEnv: [
        ...(unit.setupFilesAfterEnv ?? []),
        '<rootDir>/tools/mutation/snapshots-pass.js',
        '<rootDir>/tools/mutation/mutation-attribution.js',
      ],
      // No validator cache: a mutant of tools/schema-validation.ts compiles its own validators.
      setupFiles: (unit.setupFiles ?? []).filter((f) => !f.endsWith('/validator-cache.ts')),
    },
  ],
};
