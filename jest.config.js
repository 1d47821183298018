// ESM + ts-jest: execa is ESM-only, so jest runs with --experimental-vm-modules (see package.json).
// Four projects, so a developer runs what they touch (npm run test:unit, test:integration,
// test:docker, test:package); `npm test` runs them all. Only the projects that spawn the real
// Python environments build them (their globalSetup), and the bounds are generous on purpose:
// they stop a hung test, they never race real work on a slow machine.
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'test/tsconfig.json' }],
  },
};
const withPythonEnvs = { globalSetup: '<rootDir>/test/setup/global-setup.js' };
const slow = { setupFilesAfterEnv: ['<rootDir>/test/setup/slow-timeout.js'] };

/** @type {import('jest').Config} */
export default {
  verbose: true,
  // A bound that stops a hung test; real work never comes near it, even on a loaded machine.
  testTimeout: 180_000,
  projects: [
    // Pure logic on values and fixtures: no processes, no Python, seconds.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // The built CLI, real venvs, git, files and programs.
    { ...common, ...withPythonEnvs, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'] },
    // A real Docker engine (skips loudly without one; fails under CI).
    { ...common, ...withPythonEnvs, ...slow, displayName: 'docker', testMatch: ['<rootDir>/test/docker/**/*.test.ts'] },
    // The package as users install it: npm pack, install the tarball, run every command.
    { ...common, ...withPythonEnvs, ...slow, displayName: 'package', testMatch: ['<rootDir>/test/package/**/*.test.ts'] },
  ],
};
