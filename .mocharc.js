'use strict';
// npm test: every suite on Node-RED 4.x (see test/support/mocha-config.js for the spec check).
module.exports = require('./test/support/mocha-config')(
  [
    'test/lib/**/*.test.ts',
    'test/simulator/**/*.test.ts',
    'test/oracle/**/*.test.ts',
    'test/nodes/**/*.test.ts',
    'test/contract/**/*.test.ts',
    'test/reliability/**/*.test.ts',
    'test/e2e/**/*.test.ts',
    'test/browser/**/*.test.ts',
  ],
  { exit: true },
);
