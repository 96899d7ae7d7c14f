/**
 * The suites on NestJS 12 (CI installs .ci/nestjs-12's lock). NestJS 12 ships only ES modules,
 * which Node 20.19+ lets our CommonJS build require but Jest's own loader cannot (below Node 24.9):
 * inside Jest, the @nestjs/* packages are compiled to CommonJS as they load. Suites that start
 * processes (the sample, the packed app, the GraphQL/WebSocket app) load them natively.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  projects: base.projects.map((project) => ({
    ...project,
    transform: {
      ...project.transform,
      '^.+\\.m?js$': '<rootDir>/test/support/esm-package.transform.cjs',
    },
    transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  })),
};
