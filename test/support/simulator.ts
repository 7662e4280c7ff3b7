/**
 * The one way tests start a Plex simulator: every exchange is recorded for the contract check,
 * and whatever a test leaves running is stopped at the end of the run.
 */
import { PlexSimulator, PlexTvSimulator } from '../../simulator';
import type { PlexTvSimulatorOptions, SimulatorOptions } from '../../simulator';
import { recordExchanges } from './exchange-log';

const running = new Set<{ stop(): Promise<void> }>();

/**
 * The simulators' clock in tests unless a test sets one: noon, outside the default maintenance
 * window (02-05), so that start-all starts everything at once whatever the hour of the run.
 */
export const TEST_NOON = (): Date => new Date(2026, 0, 5, 12, 0, 0);

export async function startSimulator(options?: SimulatorOptions): Promise<PlexSimulator> {
  // A test is short, and some read the log by index from a length taken before: keep it all.
  const sim = new PlexSimulator({ maxExchanges: Infinity, now: TEST_NOON, ...options });
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

/** A plex.tv stand-in; its /user and /resources exchanges are checked against the specs. */
export async function startPlexTv(options?: PlexTvSimulatorOptions): Promise<PlexTvSimulator> {
  const standIn = new PlexTvSimulator(options);
  recordExchanges(standIn, 'plex.tv');
  const stop = standIn.stop.bind(standIn);
  standIn.stop = async (): Promise<void> => {
    running.delete(standIn);
    await stop();
  };
  running.add(standIn);
  try {
    await standIn.start();
  } catch (error) {
    running.delete(standIn);
    throw error;
  }
  return standIn;
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
