/**
 * Jest for `npm run mutate` (Stryker, stryker.config.json): the behavioural tests only. Left out, because they
 * would kill every mutant that changes output, right or wrong, or only cost time without exercising lib/:
 * - the drift test (test/dist.test.ts: committed dist/ equals a fresh synth) and every snapshot assertion
 *   (test/support/snapshots-pass.js makes them pass, wherever they are);
 * - the suites that run real servers (test/scripts/, test/e2e/, test/apiserver/) and `cdk8s import`
 *   (test/imports.test.ts), which do not run lib/ in the test process.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/dist\\.test\\.ts$',
    '<rootDir>/test/imports\\.test\\.ts$',
    '<rootDir>/test/scripts/',
    '<rootDir>/test/e2e/',
    '<rootDir>/test/apiserver/',
  ],
  setupFilesAfterEnv: [...(base.setupFilesAfterEnv ?? []), '<rootDir>/test/support/snapshots-pass.js'],
};
