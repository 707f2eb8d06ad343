/** Jest: TypeScript through esbuild (test/support/esbuild-jest.js); type-checking is `tsc --noEmit`, run by `npm test` first. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': '<rootDir>/test/support/esbuild-jest.js' },
  testTimeout: 60000,
  // Two workers even on two cores: the slow suites mostly wait on child processes (node, python, MariaDB).
  maxWorkers: 2,
};
