/**
 * Jest for `npm run mutate` (Stryker, stryker.config.json): the behavioural tests that build what they check
 * inside each test. Left out:
 * - the drift test (test/drift.test.ts: committed dist/ equals a fresh synth), which fails on any change of
 *   output, right or wrong; and every snapshot assertion, wherever it is (test/support/snapshots-pass.js);
 * - suites that render the shipped environments while jest collects them (outside any test): Stryker counts
 *   every mutant such code reaches as "static" and would run the whole suite for each (test/dist.test.ts,
 *   test/conventions.test.ts, test/gitops/gitops.test.ts, test/migration.test.ts);
 * - suites that run real servers or `cdk8s import` (test/scripts/, test/e2e/, test/apiserver/,
 *   test/imports.test.ts), which do not run lib/ in the test process.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/drift\\.test\\.ts$',
    '<rootDir>/test/dist\\.test\\.ts$',
    '<rootDir>/test/conventions\\.test\\.ts$',
    '<rootDir>/test/gitops/gitops\\.test\\.ts$',
    '<rootDir>/test/migration\\.test\\.ts$',
    '<rootDir>/test/imports\\.test\\.ts$',
    '<rootDir>/test/scripts/',
    '<rootDir>/test/e2e/',
    '<rootDir>/test/apiserver/',
  ],
  setupFilesAfterEnv: [...(base.setupFilesAfterEnv ?? []), '<rootDir>/test/support/snapshots-pass.js'],
};
