import type { Tuning } from './client-copy';

/**
 * The tunings /tmp/bench-proposal.diff adopts into lib/client.ts: the behaviour-neutral ones
 * that measured a gain in bench/tuning.ts.
 */
export const PROPOSED: Tuning = {
  keepAliveMsecs: true,
  plainAxios: true,
  adapterHttp: true,
  noTransformResponse: true,
  lifetimeSet: true,
  cachedNames: true,
};
