/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  // @middy/core ships ES modules only: Jest runs CommonJS, so SWC transforms it too.
  transformIgnorePatterns: ['/node_modules/(?!(aws-local-stepfunctions|@middy/core)/)'],
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  testTimeout: 60000,
  // Two workers on the 2-core CI machine: the e2e files spend much of their time waiting on the local cloud.
  maxWorkers: 2,
};
