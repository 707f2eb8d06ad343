/**
 * jest's `beforeAll`, also under `npm run mutate`, where a plain `beforeAll` runs as a `beforeEach` so that Stryker
 * attributes what a fixture reaches to each test (tools/mutation/mutation-attribution.js says why). For set-up that
 * lib/ code does not depend on and that is costly to repeat (a git repository, a Terraform module read from disk).
 */
export const onceBeforeAll: typeof beforeAll = (globalThis as { __mlflowGitopsOnceBeforeAll?: typeof beforeAll }).__mlflowGitopsOnceBeforeAll ?? beforeAll;
