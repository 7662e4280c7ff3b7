/**
 * The one way tests start a Plex simulator: every exchange is recorded for the contract check,
 * and whatever a test leaves running is stopped at the end of the run.
 */
import { PlexSimulator } from '../../simulator';
import type { SimulatorOptions } from '../../simulator';
import { recordExchanges } from './exchange-log';

const running = new Set<PlexSimulator>();

export async function startSimulator(options?: SimulatorOptions): Promise<PlexSimulator> {
  // A test is short, and some read the log by index from a length taken before: keep it all.
  const sim = new PlexSimulator({ maxExchanges: Infinity, ...options });
  recordExchanges(sim);
  // A test that stops its simulator itself must not have it stopped a second time at the end.
  const stop = sim.stop.bind(sim);
  sim.stop = async (): Promise<void> => {
    running.delete(sim);
    await stop();
  };
  running.add(sim);
  try {
    await sim.start();
  } catch (error) {
    running.delete(sim);
    throw error;
  }
  return sim;
}

/** Stops every simulator still running; all are stopped even when some fail to. */
export async function stopAllSimulators(): Promise<void> {
  const results = await Promise.allSettled([...running].map((sim) => sim.stop()));
  const failures = results
    .filter((result): result is PromiseRejectedResult => result.status === 'rejected')
    .map((result) => result.reason as unknown);
  if (failures.length > 0) {
    throw new AggregateError(failures, `${failures.length} simulator(s) failed to stop`);
  }
}
