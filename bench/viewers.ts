/**
 * Who is watching, measured as a node waiting for an idle server would live it: (a) how long
 * after the last `stopped` notification the ViewerMonitor says idle, and (b) how many requests
 * it costs the server while someone watches all night with the notification socket up.
 *
 * The simulator runs in this process here: these are a latency and a request count, not CPU
 * figures, and the session control (startPlayback(), stopPlayback() …) is the simulator
 * object's. (b) compresses an hour `speedUp` times: the players' position reports, the episode
 * lengths, the pause, the monitor's safety read and its debounce all shrink by that factor (a
 * debounce of real length would swallow the compressed reports, and with them a monitor that
 * wrongly read on each).
 */
import { performance } from 'node:perf_hooks';
import { ActivityWatcher, ButlerClient, ViewerMonitor, type ViewerReading } from '../lib';
import { PlexSimulator } from '../simulator';
import { median, percentile, sleep } from './load';

const TOKEN = 'bench-viewers-token';
/** What players and the monitor do in real time (the simulator's and monitor's defaults). */
const TIMELINE_MS = 10_000;
const SAFETY_READ_MS = 300_000;
const DEBOUNCE_MS = 250;
const HOUR_MS = 3_600_000;
const EPISODE_MS = 45 * 60_000;
const PAUSE_AFTER_MS = 20 * 60_000;
const PAUSE_MS = 5 * 60_000;

export interface ViewerSettings {
  /** Rounds of "two watch, both stop" for (a). */
  stopRounds: number;
  /** How many times faster than real time the night of (b) runs. */
  speedUp: number;
}

export interface ViewerFigures {
  idleAfterStop: { rounds: number; p50Ms: number; p95Ms: number; maxMs: number };
  allNight: {
    speedUp: number;
    simulatedHours: number;
    requests: number;
    requestsPerHour: number;
    sessionListReadsPerHour: number;
    playingNotificationsPerHour: number;
  };
}

interface Rig {
  sim: PlexSimulator;
  client: ButlerClient;
  watcher: ActivityWatcher;
  monitor: ViewerMonitor;
  release: () => void;
  /** Resolves with the first reading that satisfies `wanted`, and when it came (performance.now). */
  next(wanted: (reading: ViewerReading) => boolean): Promise<number>;
}

async function rig(timelineMs: number, safetyReadMs: number, debounceMs: number): Promise<Rig> {
  const sim = new PlexSimulator({ token: TOKEN, timelineIntervalMs: timelineMs, maxExchanges: 0 });
  await sim.start();
  const server = { url: sim.url, token: TOKEN, clientIdentifier: 'bench-viewers' };
  const client = new ButlerClient(server);
  const watcher = new ActivityWatcher(server);
  watcher.start();
  while (watcher.status.state !== 'connected') await sleep(10);
  const monitor = new ViewerMonitor(client, watcher, { safetyReadMs, debounceMs });
  const next = (wanted: (reading: ViewerReading) => boolean): Promise<number> =>
    new Promise((resolve) => {
      const current = monitor.reading;
      if (current && wanted(current)) {
        resolve(performance.now());
        return;
      }
      const onReading = (reading: ViewerReading): void => {
        if (!wanted(reading)) return;
        monitor.off('reading', onReading);
        resolve(performance.now());
      };
      monitor.on('reading', onReading);
    });
  const release = monitor.acquire();
  await next(() => true);
  return { sim, client, watcher, monitor, release, next };
}

async function teardown(setup: Rig): Promise<void> {
  setup.release();
  setup.monitor.close();
  setup.watcher.close();
  setup.client.close();
  await setup.sim.stop();
}

/** (a): from the watcher hearing the last `stopped` to the monitor's idle reading. */
async function idleAfterStop(rounds: number): Promise<ViewerFigures['idleAfterStop']> {
  const setup = await rig(TIMELINE_MS, SAFETY_READ_MS, DEBOUNCE_MS);
  const latencies: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const first = setup.sim.startPlayback({ user: 'ann' });
      const second = setup.sim.startPlayback({ user: 'bob' });
      await setup.next((reading) => reading.inUse && reading.sessions.length === 2);
      setup.sim.stopPlayback(first.sessionKey);
      await setup.next((reading) => reading.sessions.length === 1);
      const heard = new Promise<number>((resolve) => {
        const onPlaying = (event: { sessionKey: string; state: string }): void => {
          if (event.sessionKey !== second.sessionKey || event.state !== 'stopped') return;
          setup.watcher.off('playing', onPlaying);
          resolve(performance.now());
        };
        setup.watcher.on('playing', onPlaying);
      });
      const idle = setup.next((reading) => !reading.inUse);
      setup.sim.stopPlayback(second.sessionKey);
      const [heardAt, idleAt] = await Promise.all([heard, idle]);
      latencies.push(idleAt - heardAt);
    }
  } finally {
    await teardown(setup);
  }
  return {
    rounds,
    p50Ms: Math.round(median(latencies)),
    p95Ms: Math.round(percentile(latencies, 95)),
    maxMs: Math.round(Math.max(...latencies)),
  };
}

/**
 * (b): one viewer, episode after episode (45 min each, a 5-minute pause 20 min in), for one
 * hour compressed `speedUp` times; every request the server gets meanwhile is counted.
 */
async function allNight(speedUp: number): Promise<ViewerFigures['allNight']> {
  const scaled = (ms: number): number => ms / speedUp;
  const setup = await rig(scaled(TIMELINE_MS), scaled(SAFETY_READ_MS), scaled(DEBOUNCE_MS));
  let notifications = 0;
  setup.watcher.on('playing', () => (notifications += 1));
  const { sim } = setup;
  const startedAt = performance.now();
  const hourEnds = startedAt + scaled(HOUR_MS);
  const before = sim.stats.requests;
  const readsBefore = sim.stats.requestsByRoute['GET /status/sessions'] ?? 0;
  try {
    let episode = 1;
    while (performance.now() < hourEnds) {
      const { sessionKey } = sim.startPlayback({
        user: 'night-owl',
        player: 'Living Room TV',
        title: `Episode ${episode}`,
        grandparentTitle: 'The Long Show',
        type: 'episode',
      });
      const episodeEnds = performance.now() + scaled(EPISODE_MS);
      await sleep(Math.min(scaled(PAUSE_AFTER_MS), Math.max(0, hourEnds - performance.now())));
      if (performance.now() < hourEnds) {
        sim.pausePlayback(sessionKey);
        await sleep(scaled(PAUSE_MS));
        sim.resumePlayback(sessionKey);
        await sleep(Math.max(0, Math.min(episodeEnds, hourEnds) - performance.now()));
      }
      sim.stopPlayback(sessionKey);
      episode += 1;
    }
  } finally {
    await teardown(setup);
  }
  const hours = (performance.now() - startedAt) / scaled(HOUR_MS);
  const requests = sim.stats.requests - before;
  const reads = (sim.stats.requestsByRoute['GET /status/sessions'] ?? 0) - readsBefore;
  return {
    speedUp,
    simulatedHours: Math.round(hours * 100) / 100,
    requests,
    requestsPerHour: Math.round(requests / hours),
    sessionListReadsPerHour: Math.round(reads / hours),
    playingNotificationsPerHour: Math.round(notifications / hours),
  };
}

export async function viewers(
  settings: ViewerSettings,
  judge: (id: string, what: string, figure: string, target: string, pass: boolean) => void,
): Promise<ViewerFigures> {
  const stop = await idleAfterStop(settings.stopRounds);
  judge(
    'viewers.idle-after-stop',
    `idle reported after the last stopped notification (p95 of ${stop.rounds}, socket)`,
    `${stop.p95Ms} ms (p50 ${stop.p50Ms}, max ${stop.maxMs})`,
    '≤ 1500 ms',
    stop.p95Ms <= 1500,
  );
  const night = await allNight(settings.speedUp);
  judge(
    'viewers.requests-per-hour',
    `requests per hour while someone watches all night (socket; an hour run ${settings.speedUp}× faster)`,
    `${night.requestsPerHour} (${night.playingNotificationsPerHour} notifications/h)`,
    '≤ 120',
    night.requestsPerHour <= 120,
  );
  return { idleAfterStop: stop, allNight: night };
}
