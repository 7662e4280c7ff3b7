'use strict';
// npm run test:compat: the suites that involve Node-RED, on Node-RED 5.x with Node 22.
module.exports = require('./test/support/mocha-config')(
  [
    'test/lib/**/*.test.ts',
    'test/nodes/**/*.test.ts',
    'test/reliability/**/*.test.ts',
    'test/e2e/**/*.test.ts',
    'test/browser/**/*.test.ts',
  ],
  { exit: false },
);
