import { strict as assert } from 'node:assert';
import {
  ActivityWatcher,
  ButlerClient,
  CompletionTracker,
  isButlerError,
  parseActivityNotification,
  type ActivityEvent,
  type TlsOptions,
  type WatchOptions,
  type WatchState,
  type WatchStatus,
} from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { startSocketRefusingProxy } from '../support/socket-refusing-proxy';
import { selfSignedCertificate } from '../support/tls';
import { waitUntil } from '../support/wait';

const TOKEN = 'watch-Secret-Token-9931';
/** Short waits, so that reconnects and polls happen within a test. */
const FAST: WatchOptions = {
  reconnectInitialMs: 50,
  reconnectMaxMs: 200,
  pollIntervalMs: 100,
  webSocketRetryMs: 400,
};

describe('ActivityWatcher', function () {
  let sim: PlexSimulator;
  let watcher: ActivityWatcher | undefined;
  let events: ActivityEvent[];
  let states: WatchStatus[];

  function watch(options: WatchOptions = FAST, token = TOKEN, url = sim.url): ActivityWatcher {
    const created = new ActivityWatcher({ url, token, clientIdentifier: 'watch-test' }, options);
    created.on('activity', (event) => events.push(event));
    created.on('status', (status) => states.push(status));
    created.start();
    watcher = created;
    return created;
  }

  function stateIs(state: WatchState): () => boolean {
    return () => watcher?.status.state === state;
  }

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 400, progressIntervalMs: 100 });
    events = [];
    states = [];
  });
  afterEach(async () => {
    watcher?.close();
    watcher = undefined;
    await sim.stop();
  });

  it('emits started, updated and ended with the fields of the issue, token only in a header', async function () {
    watch();
    await waitUntil(stateIs('connected'));
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => events.some((event) => event.event === 'ended'));
    assert.equal(events[0].event, 'started');
    assert.ok(events.some((event) => event.event === 'updated'));
    assert.deepEqual(Object.keys(events[0]).sort(), [
      'cancellable',
      'event',
      'progress',
      'subtitle',
      'title',
      'type',
      'uuid',
    ]);
    assert.equal(events[0].title, 'Optimize Database');
    assert.equal(events.at(-1)?.progress, 100);
    assert.deepEqual(watcher?.running(), []);

    const handshake = sim.exchanges.find((e) => e.path === '/:/websockets/notifications');
    assert.equal(handshake?.url, '/:/websockets/notifications?filters=activity,playing');
    assert.equal(handshake?.headers['x-plex-token'], TOKEN);
    assert.equal(handshake?.headers['x-plex-client-identifier'], 'watch-test');
  });

  it('knows what runs already when it connects, without reporting it as new', async function () {
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    watch();
    await waitUntil(() => (watcher?.running().length ?? 0) === 1, 2000, 'snapshot');
    assert.equal(watcher?.running()[0].title, 'Backup Database');
    assert.ok(!events.some((event) => event.event === 'started'));
  });

  it('reconnects after the server restarts, and reports work that ended meanwhile', async function () {
    watch();
    await waitUntil(stateIs('connected'));
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => events.length >= 1);
    await sim.stop();
    await waitUntil(stateIs('reconnecting'));
    const reconnecting = watcher?.status;
    assert.ok(reconnecting?.error && isButlerError(reconnecting.error));
    assert.ok((reconnecting?.retryInMs ?? 0) > 0);
    await sim.start();
    await waitUntil(stateIs('connected'));
    // The restarted server runs nothing: the task's activity is reported ended by the snapshot.
    await waitUntil(() => events.at(-1)?.event === 'ended', 2000, 'ended after reconnect');
    assert.deepEqual(watcher?.running(), []);
    assert.equal(sim.stats.openNotificationSockets, 1);
  });

  it('backs off while the server stays down: waits grow, and stay under the maximum', async function () {
    watch({ ...FAST, reconnectInitialMs: 20, reconnectMaxMs: 160 });
    await waitUntil(stateIs('connected'));
    await sim.stop();
    await waitUntil(
      () => states.filter((s) => s.state === 'reconnecting').length >= 6,
      5000,
      'six reconnect attempts',
    );
    const waits = states
      .filter((s) => s.state === 'reconnecting')
      .map((s) => s.retryInMs ?? 0)
      .slice(0, 6);
    assert.ok(waits[0] <= 25 * 1.25, `first wait ${waits[0]}`);
    assert.ok(waits[3] > waits[0], `waits do not grow: ${waits.join(', ')}`);
    for (const wait of waits) assert.ok(wait <= 160 * 1.25, `wait ${wait} over the maximum`);
    const codes = new Set(states.map((s) => s.error?.code).filter(Boolean));
    assert.ok(codes.has('connection-refused'), [...codes].join(', '));
  });

  it('reconnects after a dropped connection', async function () {
    watch();
    await waitUntil(stateIs('connected'));
    sim.dropNotificationSockets();
    await waitUntil(stateIs('reconnecting'));
    await waitUntil(stateIs('connected'));
    await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
    await waitUntil(() => events.some((event) => event.event === 'started'));
  });

  it('polls GET /activities when the socket is refused, then returns to the socket', async function () {
    sim.setNotifications('refused');
    watch();
    await waitUntil(stateIs('polling'));
    assert.equal(watcher?.status.pollIntervalMs, 100);
    await plexRequest(sim, 'POST', '/butler/DeepMediaAnalysis');
    await waitUntil(() => events.some((event) => event.event === 'ended'), 3000, 'polled end');
    assert.equal(events[0].event, 'started');
    assert.equal(events[0].title, 'Perform Extensive Media Analysis');
    assert.ok((sim.stats.requestsByRoute['GET /activities'] ?? 0) >= 3);

    sim.setNotifications('websocket');
    await waitUntil(stateIs('connected'), 3000, 'back on the socket');
    const polls = sim.stats.requestsByRoute['GET /activities'] ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // One snapshot on connect at most; the polling itself has stopped.
    assert.ok((sim.stats.requestsByRoute['GET /activities'] ?? 0) <= polls + 1);
  });

  it('says polling once it knows what runs, so a task started after the word is reported', async function () {
    sim.setNotifications('refused');
    // The first list is slow to come: until it is in, a task started now would pass for one
    // that ran before the watcher looked.
    sim.injectFault({
      kind: 'latency',
      ms: 500,
      times: 1,
      match: { method: 'GET', path: '/activities' },
    });
    watch();
    await waitUntil(stateIs('polling'), 3000, 'polling');
    await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
    await waitUntil(() => events.some((e) => e.event === 'ended'), 3000, 'polled end');
    assert.deepEqual(
      events.map((e) => e.event).filter((e) => e !== 'updated'),
      ['started', 'ended'],
    );
  });

  for (const status of [403, 401]) {
    it(`polls when a proxy answers ${status} to the socket alone, the token working for the API`, async function () {
      const proxy = await startSocketRefusingProxy(sim.url, status);
      try {
        watch(FAST, TOKEN, proxy.url);
        await waitUntil(stateIs('polling'), 3000, 'polling');
        await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
        await waitUntil(() => events.some((e) => e.event === 'ended'), 3000, 'polled end');
        assert.equal(events[0].event, 'started');
        // The socket is tried again now and then, as when a proxy refuses it with 404.
        const refused = proxy.refused;
        await waitUntil(() => proxy.refused > refused, 3000, 'socket tried again');
        assert.equal(watcher?.status.state, 'polling');
        assert.ok(!states.some((s) => s.state === 'reconnecting'), 'never reconnecting');
        assert.ok(
          !states.some((s) => s.error?.code === 'unauthorized' || s.error?.code === 'forbidden'),
          'never shown as a rejected token',
        );
      } finally {
        watcher?.close();
        await proxy.stop();
      }
    });
  }

  it('says the token is rejected when the API refuses it too, behind a proxy that answers 403 to the socket', async function () {
    const proxy = await startSocketRefusingProxy(sim.url, 403);
    try {
      watch(FAST, 'not-the-token', proxy.url);
      await waitUntil(() => states.filter((s) => s.error?.code === 'forbidden').length >= 2);
      assert.equal(watcher?.status.state, 'reconnecting');
      assert.ok(!states.some((s) => s.state === 'polling'), 'never polling');
      // One read of the API per refused handshake, to tell the two apart.
      const reads = sim.stats.requestsByRoute['GET /activities'] ?? 0;
      assert.ok(reads >= 2 && reads <= proxy.refused, `${reads} reads, ${proxy.refused} refusals`);
    } finally {
      watcher?.close();
      await proxy.stop();
    }
  });

  it('says unauthorized for a rejected token, and keeps trying', async function () {
    watch(FAST, 'not-the-token');
    await waitUntil(() => states.filter((s) => s.error?.code === 'unauthorized').length >= 2);
    assert.equal(watcher?.status.state, 'reconnecting');
    const message = watcher?.status.error?.message ?? '';
    assert.match(message, /token rejected/);
    assert.doesNotMatch(message, /not-the-token/);
  });

  it('ignores other notification types and messages that are not JSON', async function () {
    watch();
    await waitUntil(stateIs('connected'));
    sim.broadcastNotification({ type: 'playing', size: 1, PlaySessionStateNotification: [{}] });
    sim.broadcastNotification({ type: 'activity', size: 1, ActivityNotification: [{}] });
    await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
    await waitUntil(() => events.length >= 1);
    assert.equal(events[0].title, 'Remove Old Bundles');
    assert.deepEqual(parseActivityNotification('not json'), []);
    assert.deepEqual(
      parseActivityNotification('{"NotificationContainer":{"type":"activity"}}'),
      [],
    );
  });

  it('close() closes the socket, stops every timer and emits nothing after', async function () {
    const created = watch();
    await waitUntil(stateIs('connected'));
    created.close();
    assert.equal(created.status.state, 'closed');
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 2000, 'socket closed');
    const count = events.length;
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(events.length, count);
  });
});

describe('ActivityWatcher: a catch-up list that left the server before an end', function () {
  let sim: PlexSimulator;
  let watcher: ActivityWatcher;
  let events: ActivityEvent[];

  const listReads = (): number => sim.stats.requestsByRoute['GET /activities'] ?? 0;

  beforeEach(async () => {
    // The task runs until the test stops it.
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000, progressIntervalMs: 100 });
    const options = { url: sim.url, token: TOKEN, clientIdentifier: 'race-test' };
    watcher = new ActivityWatcher(options, FAST);
    events = [];
    watcher.on('activity', (event) => events.push(event));
    watcher.start();
    await waitUntil(() => watcher.status.state === 'connected');
    // The first list, read on connecting, is answered.
    await waitUntil(() => sim.exchanges.some((e) => e.path === '/activities' && e.status === 200));
  });
  afterEach(async () => {
    watcher.close();
    await sim.stop();
  });

  /**
   * Drops the socket while the task runs; the list read after the reconnect is answered as it
   * was when it reached the server, but 800 ms later (a busy server, or a proxy that buffers
   * HTTP but not the socket). The task is stopped once that read has reached the server, so
   * its end comes on the new socket before the list that still shows it running. Resolves with
   * the activity's uuid once the client has had that list for a while.
   */
  async function endOvertakesList(): Promise<string> {
    await waitUntil(() => events.some((e) => e.event === 'started'), 2000, 'started');
    const uuid = events[0].uuid;
    sim.injectFault({
      kind: 'held',
      ms: 800,
      times: 1,
      match: { method: 'GET', path: '/activities' },
    });
    const reads = listReads();
    sim.dropNotificationSockets();
    await waitUntil(() => listReads() > reads, 3000, 'the catch-up read reached the server');
    await plexRequest(sim, 'DELETE', '/butler/OptimizeDatabase');
    await waitUntil(() => events.some((e) => e.event === 'ended'), 2000, 'ended on the socket');
    const endSeenAt = Date.now();
    await waitUntil(
      () => sim.exchanges.filter((e) => e.path === '/activities' && e.status === 200).length >= 2,
      3000,
      'the held list sent',
    );
    const list = sim.exchanges.filter((e) => e.path === '/activities').at(-1);
    // The race did happen: the list was read before the end reached us, and shows the activity.
    assert.ok(list && list.time < endSeenAt, 'list read before the end');
    assert.ok(list.responseBody.includes(uuid), 'the list shows the ended activity');
    await new Promise((resolve) => setTimeout(resolve, 200));
    return uuid;
  }

  it('keeps the activity ended: no second started, nothing running', async function () {
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    const uuid = await endOvertakesList();
    const mine = events.filter((e) => e.uuid === uuid).map((e) => e.event);
    assert.equal(mine.filter((event) => event === 'started').length, 1, mine.join(', '));
    assert.equal(mine.at(-1), 'ended', mine.join(', '));
    assert.deepEqual(watcher.running(), []);
  });

  it('lets a wait for the task finish instead of waiting for it again', async function () {
    const client = new ButlerClient({ url: sim.url, token: TOKEN, clientIdentifier: 'race' });
    try {
      // The default quiet time (2 s) is still running when the held list comes.
      const tracker = new CompletionTracker(watcher, { timeoutMs: 6000 });
      const result = await client.startTask('OptimizeDatabase');
      const waiting = tracker.wait(result.status === 'already-running');
      waiting.catch(() => undefined);
      await endOvertakesList();
      const report = await waiting;
      assert.deepEqual(
        report.activities.map((activity) => [activity.title, activity.event]),
        [['Optimize Database', 'ended']],
      );
    } finally {
      client.close();
    }
  });
});

describe('ActivityWatcher.retarget: the server found at a new address', function () {
  this.timeout(30_000);
  it('leaves the old address and connects to the new one', async function () {
    const before = await startSimulator({ token: TOKEN });
    const after = await startSimulator({ token: TOKEN });
    const watcher = new ActivityWatcher(
      { url: before.url, token: TOKEN, clientIdentifier: 'retarget-test' },
      FAST,
    );
    try {
      watcher.start();
      await waitUntil(() => before.stats.openNotificationSockets === 1, 8000, 'first socket');
      watcher.retarget({ url: after.url, token: TOKEN, clientIdentifier: 'retarget-test' });
      await waitUntil(
        () => after.stats.openNotificationSockets === 1,
        3000,
        'socket at the new address',
      );
      await waitUntil(() => before.stats.openNotificationSockets === 0, 8000, 'old socket closed');
      // The simulator counts the socket before the client has seen the handshake's answer.
      await waitUntil(() => watcher.status.state === 'connected', 3000, 'connected again');
      assert.equal(after.stats.openNotificationSockets, 1);
    } finally {
      watcher.close();
      await before.stop();
      await after.stop();
    }
  });
});

describe('ActivityWatcher over HTTPS', function () {
  let secure: PlexSimulator;
  let watcher: ActivityWatcher | undefined;

  before(async () => {
    secure = await startSimulator({ token: TOKEN, tls: selfSignedCertificate() });
  });
  after(async () => {
    await secure.stop();
  });
  afterEach(() => {
    watcher?.close();
    watcher = undefined;
  });

  function watchSecure(url: string, tls: TlsOptions): ActivityWatcher {
    watcher = new ActivityWatcher({ url, token: TOKEN, clientIdentifier: 'tls-test', tls }, FAST);
    watcher.start();
    return watcher;
  }

  it('connects with the CA from the server config (wss://, certificate for localhost)', async function () {
    const url = secure.url.replace('127.0.0.1', 'localhost');
    const created = watchSecure(url, { ca: selfSignedCertificate().cert });
    await waitUntil(() => created.status.state === 'connected', 4000, 'connected over TLS');
  });

  it('refuses an untrusted certificate with tls-error, and connects with verification off', async function () {
    const strict = watchSecure(secure.url, {});
    await waitUntil(() => strict.status.error !== undefined, 4000, 'a TLS failure');
    assert.equal(strict.status.state, 'reconnecting');
    assert.equal(strict.status.error?.code, 'tls-error');
    strict.close();
    const lenient = watchSecure(secure.url, { verify: false });
    await waitUntil(() => lenient.status.state === 'connected', 4000, 'connected, unverified');
  });
});

describe('CompletionTracker', function () {
  let sim: PlexSimulator;
  let watcher: ActivityWatcher;
  let client: ButlerClient;

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 300, progressIntervalMs: 100 });
    const options = { url: sim.url, token: TOKEN, clientIdentifier: 'completion-test' };
    watcher = new ActivityWatcher(options, FAST);
    watcher.start();
    client = new ButlerClient(options);
    await waitUntil(() => watcher.status.state === 'connected');
  });
  afterEach(async () => {
    watcher.close();
    client.close();
    await sim.stop();
  });

  it('ends when the task activity ends, with its duration', async function () {
    const tracker = new CompletionTracker(watcher, { timeoutMs: 5000, quietMs: 100 });
    const result = await client.startTask('OptimizeDatabase');
    const progress: number[] = [];
    const report = await tracker.wait(result.status === 'already-running', (event) =>
      progress.push(event.progress),
    );
    assert.ok(report.durationMs >= 250 && report.durationMs < 1500, `${report.durationMs} ms`);
    assert.deepEqual(
      report.activities.map((activity) => [activity.title, activity.event]),
      [['Optimize Database', 'ended']],
    );
    assert.ok(progress.length >= 2);
  });

  it('counts only activities that match the filter', async function () {
    await client.startTask('BackupDatabase');
    const tracker = new CompletionTracker(watcher, {
      timeoutMs: 5000,
      quietMs: 100,
      match: { titleContains: 'OPTIMIZE' },
    });
    await client.startTask('OptimizeDatabase');
    await client.startTask('CleanOldBundles');
    const report = await tracker.wait(false);
    assert.deepEqual(
      report.activities.map((activity) => activity.title),
      ['Optimize Database'],
    );
  });

  it('adopts the running activity when the task was already running (202)', async function () {
    await client.startTask('RefreshEpgGuides');
    await waitUntil(() => watcher.running().length === 1);
    const tracker = new CompletionTracker(watcher, {
      timeoutMs: 5000,
      quietMs: 50,
      match: { typePrefix: 'provider.epg.' },
    });
    const result = await client.startTask('RefreshEpgGuides');
    assert.equal(result.status, 'already-running');
    const report = await tracker.wait(true);
    assert.equal(report.activities.length, 1);
    assert.equal(report.activities[0].type, 'provider.epg.load');
    assert.equal(report.activities[0].title, 'Refreshing EPG');
  });

  it('waits for work that runs in steps, within the quiet time', async function () {
    const tracker = new CompletionTracker(watcher, { timeoutMs: 5000, quietMs: 400 });
    await client.startTask('OptimizeDatabase');
    // The second step starts shortly after the first ended.
    await new Promise<void>((resolve) => {
      const onActivity = (event: ActivityEvent): void => {
        if (event.event !== 'ended') return;
        watcher.off('activity', onActivity);
        resolve();
      };
      watcher.on('activity', onActivity);
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.startTask('BackupDatabase');
    const report = await tracker.wait(false);
    assert.deepEqual(
      report.activities.map((activity) => activity.title),
      ['Optimize Database', 'Backup Database'],
    );
    assert.ok(report.durationMs >= 650, `${report.durationMs} ms`);
  });

  it('ends after the appear window when no activity shows up', async function () {
    const tracker = new CompletionTracker(watcher, {
      timeoutMs: 5000,
      appearWithinMs: 200,
      match: { typePrefix: 'no.such.type' },
    });
    const started = Date.now();
    await client.startTask('OptimizeDatabase');
    const report = await tracker.wait(false);
    assert.deepEqual(report.activities, []);
    assert.equal(report.durationMs, 200);
    assert.ok(Date.now() - started < 1000);
  });

  it('gives up with a timeout error naming what still runs', async function () {
    const tracker = new CompletionTracker(watcher, { timeoutMs: 150 });
    await client.startTask('OptimizeDatabase');
    await assert.rejects(tracker.wait(false), (error: unknown) => {
      assert.ok(isButlerError(error));
      assert.equal(error.code, 'timeout');
      assert.match(error.message, /still running after 0 s: Optimize Database/);
      return true;
    });
  });

  it('stops waiting when its signal aborts, and leaves no listener behind', async function () {
    const controller = new AbortController();
    const before = watcher.listenerCount('activity');
    const tracker = new CompletionTracker(watcher, { timeoutMs: 5000, signal: controller.signal });
    await client.startTask('OptimizeDatabase');
    const waiting = tracker.wait(false);
    controller.abort();
    await assert.rejects(
      waiting,
      (error: unknown) => isButlerError(error) && error.code === 'aborted',
    );
    assert.equal(watcher.listenerCount('activity'), before);
  });
});
