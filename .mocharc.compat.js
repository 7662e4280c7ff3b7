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
  // Left to npm test, to keep CI in its time: suites that never load Node-RED and check our
  // parsers, docs and package (the library's own suite still runs here, on Node 22).
  {
    exit: false,
    ignore: [
      'test/reliability/parse-fuzz.test.ts',
      'test/reliability/journal-fuzz.test.ts',
      'test/e2e/docs.test.ts',
      'test/e2e/scorecard.test.ts',
    ],
  },
);
