'use strict';
// Builds the mocha configuration of .mocharc.js and .mocharc.compat.js. The OpenAPI check needs
// Plex's spec files, which a clone of the repository does not have: without them the suites
// that need them are left out of the run (not skipped), test/setup.ts prints one line saying
// so, and with PLEX_OPENAPI_REQUIRED=1 (CI) the run fails before any test instead.
const { require: tsxRequire } = require('tsx/cjs/api');

/** Suites that only mean something with the specs: the checker's own tests. */
const SPEC_BOUND = ['test/contract/**/*.test.ts'];

module.exports = function mochaConfig(spec, { exit, ignore = [] }) {
  const { locateSpecs } = tsxRequire('../contract/spec-location.ts', module.filename);
  const location = locateSpecs();
  if (!location.found && location.required) {
    // A thrown error would reach the user as mocha's "Unable to read/parse .mocharc.js" and a stack.
    console.error(`contract: the OpenAPI check must run but cannot: ${location.reason}`);
    process.exit(1);
  }
  return {
    require: ['tsx/cjs', 'test/setup.ts'],
    extension: ['ts'],
    spec,
    ignore: location.found ? ignore : [...ignore, ...SPEC_BOUND],
    timeout: 10000,
    exit,
    reporter: './test/support/reporter.js',
  };
};
