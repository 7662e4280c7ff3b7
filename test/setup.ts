/**
 * Mocha root hooks: at the end of the run, stop leftover simulators and check every recorded
 * exchange against both OpenAPI specs. A contract problem fails the run. Without the spec files
 * (a clone with nothing beside it) the check cannot run, and the run says so in one line.
 */
import { describeProblems, SPEC_NAMES, validateExchange } from './contract/openapi-contract';
import { locateSpecs } from './contract/spec-location';
import { allExchanges, pathPrefixOf, serviceOf } from './support/exchange-log';
import { stopAllSimulators } from './support/simulator';

/** Tests that send invalid requests on purpose (e.g. no token, to see the 401) set this header. */
const EXPECT_VIOLATION_HEADER = 'x-contract-expect-violation';

function checkExchanges(): void {
  const exchanges = allExchanges();
  const checked = exchanges.filter((e) => e.headers[EXPECT_VIOLATION_HEADER] !== '1');
  const results = checked.map((exchange) => ({
    exchange,
    problems: validateExchange(exchange, {
      pathPrefix: pathPrefixOf(exchange),
      ...(serviceOf(exchange) ? { service: serviceOf(exchange) } : {}),
    }),
  }));
  const problemCount = results.reduce((sum, r) => sum + r.problems.length, 0);
  const exempt = exchanges.length - checked.length;
  console.log(
    `contract: ${checked.length} exchanges checked against ${SPEC_NAMES.length} specs, ` +
      `${problemCount} problems${exempt > 0 ? ` (${exempt} deliberate violations not checked)` : ''}`,
  );
  if (problemCount > 0) throw new Error(describeProblems(results));
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context): Promise<void> {
    // Loading the specs takes a moment; the default test timeout is not meant for it.
    this.timeout(60_000);
    let stopError: unknown;
    try {
      await stopAllSimulators();
    } catch (error) {
      stopError = error;
    }
    const location = locateSpecs();
    if (location.found) {
      checkExchanges();
    } else {
      // .mocharc.js left the contract suite out and fails the run where the check is required.
      console.log(
        `contract: the OpenAPI check did not run, ${allExchanges().length} exchanges unchecked: ` +
          location.reason,
      );
    }
    if (stopError !== undefined) throw stopError;
  },
};
