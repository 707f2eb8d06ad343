/** Jest: TypeScript through esbuild (test/support/esbuild-jest.js); type-checking is `tsc --noEmit`, run by `npm test` first. */
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-jest.js' },
};
module.exports = {
  testTimeout: 60000,
  // Two workers even on two cores: the slow suites mostly wait on child processes (node, python, MariaDB).
  maxWorkers: 2,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/apiserver/'],
      // Compiled schema validators cached between suites (the file says why).
      setupFiles: ['<rootDir>/test/support/validator-cache.ts'],
    },
    // Suites against a real kube-apiserver: one server per run, started only when one of them is selected.
    {
      ...shared,
      displayName: 'apiserver',
      roots: ['<rootDir>/test/apiserver'],
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/apiserver/setup.ts',
      globalTeardown: '<rootDir>/test/apiserver/teardown.ts',
    },
  ],
};
