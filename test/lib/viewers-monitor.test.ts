/**
 * ViewerMonitor against the simulator over real sockets: what a node waiting for an idle server
 * (or watching for someone to start) would see, and what it costs the server.
 */
import { strict as assert } from 'node:assert';
import {
  ActivityWatcher,
  ButlerClient,
  ViewerMonitor,
  isButlerError,
  type ButlerError,
  type ViewerMonitorOptions,
  type ViewerReading,
  type WatchOptions,
} from '../../lib';
import type { PlexSimulator, SimulatorOptions } from '../../simulator';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const TOKEN = 'monitor-Secret-Token-2210';
const FAST_WATCH: WatchOptions = {
  reconnectInitialMs: 50,
  reconnectMaxMs: 200,
  pollIntervalMs: 100,
  webSocketRetryMs: 60_000,
};
const MINUTE = 60_000;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ViewerMonitor', function () {
  this.timeout(15_000);
  let sim: PlexSimulator;
  let client: ButlerClient;
  let watcher: ActivityWatcher;
  let monitor: ViewerMonitor;
  let readings: ViewerReading[];
  let errors: ButlerError[];
  let playingEvents: number;

  async function setUp(
    options: {
      sim?: SimulatorOptions;
      monitor?: ViewerMonitorOptions;
      refused?: boolean;
    } = {},
  ): Promise<void> {
    sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 60_000, ...options.sim });
    if (options.refused) sim.setNotifications('refused');
    const server = { url: sim.url, token: TOKEN, clientIdentifier: 'monitor-test' };
    client = new ButlerClient({ ...server, retry: { retries: 0 } });
    watcher = new ActivityWatcher(server, FAST_WATCH);
    playingEvents = 0;
    watcher.on('playing', () => (playingEvents += 1));
    watcher.start();
    await waitUntil(
      () => watcher.status.state === (options.refused ? 'polling' : 'connected'),
      3000,
      'the watcher',
    );
    monitor = new ViewerMonitor(client, watcher, options.monitor);
    readings = [];
    errors = [];
    monitor.on('reading', (reading) => readings.push(reading));
    monitor.on('error', (error) => errors.push(error));
  }

  afterEach(async () => {
    monitor?.close();
    watcher?.close();
    client?.close();
    await sim?.stop();
  });

  const sessionReads = (): number => sim.stats.requestsByRoute['GET /status/sessions'] ?? 0;
  const last = (): ViewerReading | undefined => readings.at(-1);
  const lastIs = (inUse: boolean, count?: number) => (): boolean =>
    last()?.inUse === inUse && (count === undefined || last()?.sessions.length === count);

  /** No read under way and none due: the monitor has settled after the last change. */
  async function settled(): Promise<void> {
    let reads = sessionReads();
    for (;;) {
      await pause(400);
      if (sessionReads() === reads) return;
      reads = sessionReads();
    }
  }

  it('says in use when someone starts, and idle within 1.5 s of the last stop (the gate lifts)', async function () {
    await setUp();
    monitor.acquire();
    await waitUntil(lastIs(false), 2000, 'the first reading');
    assert.equal(monitor.state, 'idle');
    const first = sim.startPlayback({ user: 'ann', player: 'Kitchen', title: 'Heat' });
    const second = sim.startPlayback({ user: 'bob', player: 'Roku', transcode: true });
    await waitUntil(lastIs(true, 2), 2000, 'two sessions');
    assert.equal(monitor.state, 'in-use');
    assert.deepEqual(last()?.sessions[0], {
      kind: 'playback',
      user: 'ann',
      player: 'Kitchen',
      title: 'Heat',
      state: 'playing',
      transcode: false,
      location: 'lan',
    });
    sim.stopPlayback(first.sessionKey);
    await waitUntil(lastIs(true, 1), 2000, 'one session left');
    const stoppedAt = Date.now();
    sim.stopPlayback(second.sessionKey);
    await waitUntil(lastIs(false), 1500, 'idle after the last stop');
    const lifted = Date.now() - stoppedAt;
    assert.ok(lifted <= 1500, `idle ${lifted} ms after the last stop`);
    assert.equal(monitor.state, 'idle');
    assert.deepEqual(last()?.sessions, []);
    assert.ok(!Number.isNaN(Date.parse(last()?.at ?? '')));
  });

  it('does not read again for the position reports a player repeats while playing', async function () {
    await setUp({ sim: { timelineIntervalMs: 30 } });
    monitor.acquire();
    sim.startPlayback();
    await waitUntil(lastIs(true, 1), 2000, 'in use');
    await settled();
    const reads = sessionReads();
    const heard = playingEvents;
    await pause(600);
    assert.ok(playingEvents - heard >= 8, `only ${playingEvents - heard} repeats heard`);
    assert.equal(sessionReads(), reads);
  });

  it('reads once for a burst of notifications', async function () {
    await setUp();
    monitor.acquire();
    const { sessionKey } = sim.startPlayback();
    await waitUntil(lastIs(true, 1), 2000, 'in use');
    await settled();
    const reads = sessionReads();
    const heard = playingEvents;
    for (let i = 0; i < 10; i++) {
      sim.pausePlayback(sessionKey);
      sim.resumePlayback(sessionKey);
    }
    await waitUntil(() => playingEvents - heard === 20, 2000, 'twenty notifications');
    await settled();
    assert.equal(sessionReads(), reads + 1);
    assert.equal(last()?.sessions[0].state, 'playing');
  });

  it('stops counting a pause after the limit, from when it was first seen paused (clock)', async function () {
    let clock = Date.parse('2026-01-05T22:00:00.000Z');
    await setUp({ monitor: { now: () => clock } });
    monitor.acquire();
    const { sessionKey } = sim.startPlayback({ player: 'TV' });
    await waitUntil(lastIs(true, 1), 2000, 'in use');
    const pausedAt = clock;
    sim.pausePlayback(sessionKey);
    await waitUntil(() => last()?.sessions[0]?.state === 'paused', 2000, 'paused');
    assert.equal(last()?.sessions[0].pausedSince, new Date(pausedAt).toISOString());

    clock += 29 * MINUTE;
    assert.equal((await monitor.check()).inUse, true);
    clock += 1 * MINUTE;
    const after = await monitor.check();
    assert.equal(after.inUse, false);
    assert.deepEqual(
      after.ignored.map((session) => [session.player, session.reason, session.pausedSince]),
      [['TV', 'paused-too-long', new Date(pausedAt).toISOString()]],
    );
    assert.equal(monitor.state, 'idle');

    // Playing again counts at once, and a new pause starts a new count.
    sim.resumePlayback(sessionKey);
    await waitUntil(lastIs(true, 1), 2000, 'in use again');
    assert.equal(last()?.sessions[0].pausedSince, undefined);
    sim.pausePlayback(sessionKey);
    await waitUntil(() => last()?.sessions[0]?.state === 'paused', 2000, 'paused again');
    assert.equal(last()?.sessions[0].pausedSince, new Date(clock).toISOString());
  });

  it('takes a session first seen paused as paused since then (check only, no history)', async function () {
    let clock = Date.parse('2026-01-05T22:00:00.000Z');
    await setUp({ monitor: { now: () => clock, pausedLimitMinutes: 10 } });
    sim.startPlayback({ state: 'paused' });
    const first = await monitor.check();
    assert.equal(first.inUse, true);
    assert.equal(first.sessions[0].pausedSince, new Date(clock).toISOString());
    clock += 10 * MINUTE;
    assert.equal((await monitor.check()).inUse, false);
  });

  it('lets the limit pass without a request', async function () {
    await setUp({ monitor: { pausedLimitMinutes: 1 / 60 } });
    monitor.acquire();
    const { sessionKey } = sim.startPlayback();
    await waitUntil(lastIs(true, 1), 2000, 'in use');
    sim.pausePlayback(sessionKey);
    await waitUntil(() => last()?.sessions[0]?.state === 'paused', 2000, 'paused, still counted');
    const reads = sessionReads();
    await waitUntil(lastIs(false), 3000, 'idle once the second has passed');
    assert.equal(last()?.ignored[0].reason, 'paused-too-long');
    assert.equal(sessionReads(), reads);
  });

  it('reports a failed read as an error and an unknown state, never as idle, then recovers', async function () {
    await setUp({ monitor: { pollIntervalMs: 300 } });
    monitor.acquire();
    await waitUntil(lastIs(false), 2000, 'idle');
    const idleReadings = readings.length;
    sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' }, times: 2 });
    sim.startPlayback();
    await waitUntil(() => errors.length === 1, 2000, 'the error');
    assert.equal(errors[0].code, 'server-error');
    assert.equal(monitor.state, 'unknown');
    assert.equal(monitor.reading, undefined);
    assert.equal(monitor.error?.code, 'server-error');
    await assert.rejects(monitor.check(), (error: unknown) => {
      assert.ok(isButlerError(error));
      assert.equal(error.code, 'server-error');
      return true;
    });
    // A second failure of the same kind is not news.
    assert.equal(errors.length, 1);
    assert.equal(readings.length, idleReadings);
    await waitUntil(lastIs(true, 1), 2000, 'in use after the server recovered');
    assert.equal(monitor.error, undefined);
    assert.ok(readings.slice(idleReadings).every((reading) => reading.inUse));
  });

  it('reads at the poll interval while the socket is refused', async function () {
    await setUp({ refused: true });
    assert.equal(watcher.status.pollIntervalMs, 100);
    monitor.acquire();
    await waitUntil(lastIs(false), 2000, 'idle');
    const { sessionKey } = sim.startPlayback();
    await waitUntil(lastIs(true, 1), 1000, 'in use without a notification');
    const reads = sessionReads();
    await pause(1000);
    const polled = sessionReads() - reads;
    assert.ok(polled >= 5 && polled <= 15, `${polled} reads in a second at 100 ms`);
    sim.stopPlayback(sessionKey);
    await waitUntil(lastIs(false), 1000, 'idle without a notification');
  });

  it('reads now and then while connected: recordings send no notification', async function () {
    await setUp({ monitor: { safetyReadMs: 300 } });
    monitor.acquire();
    await waitUntil(lastIs(false), 2000, 'idle');
    sim.startRecording({ title: 'News', channel: 'BBC One' });
    sim.startBackgroundTranscode({ title: 'Up' });
    await waitUntil(lastIs(true, 1), 2000, 'the recording seen by a safety read');
    assert.deepEqual(
      last()?.sessions.map((session) => [session.kind, session.title]),
      [['recording', 'BBC One - News']],
    );
    assert.deepEqual(
      last()?.ignored.map((session) => [session.kind, session.reason]),
      [['background', 'background']],
    );
  });

  it('keeps reading when the socket is lost, and sees a stop it could not hear', async function () {
    await setUp({ monitor: { safetyReadMs: 60_000 } });
    monitor.acquire();
    const { sessionKey } = sim.startPlayback();
    await waitUntil(lastIs(true, 1), 2000, 'in use');
    sim.setNotifications('refused');
    sim.dropNotificationSockets();
    await waitUntil(() => watcher.status.state === 'polling', 2000, 'polling');
    sim.stopPlayback(sessionKey);
    await waitUntil(lastIs(false), 2000, 'idle from the polls');
  });

  it('makes no request while nobody uses it, and none after close()', async function () {
    await setUp({ monitor: { safetyReadMs: 100, pollIntervalMs: 100, debounceMs: 10 } });
    const playback = sim.startPlayback();
    sim.pausePlayback(playback.sessionKey);
    sim.stopPlayback(playback.sessionKey);
    await pause(300);
    assert.equal(sessionReads(), 0);
    assert.equal(monitor.state, 'unknown');

    const releaseFirst = monitor.acquire();
    const releaseSecond = monitor.acquire();
    await waitUntil(lastIs(false), 2000, 'idle');
    releaseFirst();
    releaseFirst(); // a second call gives nothing back twice
    assert.equal(monitor.userCount, 1);
    sim.startPlayback();
    await waitUntil(lastIs(true, 1), 2000, 'still kept current for the second user');
    releaseSecond();
    assert.equal(monitor.userCount, 0);
    assert.equal(monitor.state, 'unknown');
    await pause(100);
    const reads = sessionReads();
    const emitted = readings.length;
    const other = sim.startPlayback();
    sim.stopPlayback(other.sessionKey);
    await pause(400);
    assert.equal(sessionReads(), reads);
    assert.equal(readings.length, emitted);

    monitor.acquire();
    await waitUntil(() => sessionReads() > reads, 2000, 'a read for the new user');
    sim.injectFault({ kind: 'hang', match: { path: '/status/sessions' } });
    await pause(250);
    monitor.close();
    const closedReads = sessionReads();
    sim.clearFaults();
    sim.startPlayback();
    await pause(400);
    assert.equal(sessionReads(), closedReads);
    assert.deepEqual(errors, []);
    assert.equal(monitor.state, 'unknown');
    assert.throws(
      () => monitor.acquire(),
      (error: unknown) => isButlerError(error) && error.code === 'aborted',
    );
    await assert.rejects(
      monitor.check(),
      (error: unknown) => isButlerError(error) && error.code === 'aborted',
    );
  });

  it('refuses rule options that are not allowed', async function () {
    await setUp();
    assert.throws(
      () => new ViewerMonitor(client, watcher, { pausedLimitMinutes: -5 }),
      (error: unknown) => isButlerError(error) && error.code === 'invalid-config',
    );
  });
});
