/** Unit specs beside the code, end-to-end suites in test/ against a real Redis the suites start. */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] };
// .ci/nestjs-12 holds a second package.json of this package (the NestJS 12 manifest)
const modulePathIgnorePatterns = ['<rootDir>/.ci/'];

module.exports = {
  // per-project testTimeout is ignored by Jest 30; e2e suites start servers and wait on conditions
  testTimeout: 30_000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/lib/**/*.spec.ts'],
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      transform,
      modulePathIgnorePatterns,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
    },
  ],
};
