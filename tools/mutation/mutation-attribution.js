/**
 * Jest setup of `npm run mutate` only (jest.mutate.config.js): every `beforeAll` of a suite runs as a `beforeEach`.
 *
 * Why: Stryker attributes a mutant to the tests that execute it, and it learns that while a test runs (between
 * jest's test_start and test_done events). A fixture built in `beforeAll` runs before the first test starts, so
 * Stryker counts the code it reaches as "static": with `ignoreStatic` it then runs only the tests that reach the
 * mutant themselves, never the ones that assert on the fixture, and a mutant only those would catch survives (or is
 * ignored when no test reaches it directly). As a `beforeEach`, the fixture is rebuilt inside each test, so each
 * test's assertions count. Plain `npm test` keeps `beforeAll` (one build per suite).
 *
 * A suite whose `beforeAll` must stay once per suite (costly set-up outside lib/, e.g. a git repository) uses
 * `onceBeforeAll` from test/support/once.ts, which is jest's own `beforeAll` in both runs.
 */
globalThis.__mlflowGitopsOnceBeforeAll = globalThis.beforeAll;
globalThis.beforeAll = globalThis.beforeEach;
