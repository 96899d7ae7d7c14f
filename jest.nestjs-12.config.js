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
    // @nestjs/*, and path-to-regexp 9 (ES modules only) under platform-fastify's @fastify/middie
    transformIgnorePatterns: ['/node_modules/(?!@nestjs/|@fastify/middie/|path-to-regexp/)'],
    // suites that exercise Redis, the client and the store, not NestJS (the first pass and the
    // ioredis 5 pass run them): left out here to keep CI under its time budget
    testPathIgnorePatterns: [
      ...(project.testPathIgnorePatterns ?? ['/node_modules/']),
      '/test/cluster/(lost-replies|fault-history|mixed-fleet|update-)',
      '/test/topologies/',
      '/test/store/account-',
      // the account page in Chromium: the sample on NestJS 12 runs in sample-cluster and npm-start
      '/test/sample/account-page',
      // what a clone's npm ci prints: the main manifest's, not the NestJS 12 one CI installs here
      '/test/package/install-warnings',
    ],
  })),
};
