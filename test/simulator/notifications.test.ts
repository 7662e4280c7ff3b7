import { strict as assert } from 'node:assert';
import WebSocket from 'ws';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const TOKEN = 'sim-notify-token';

interface Notification {
  NotificationContainer: {
    type: string;
    size: number;
    ActivityNotification: Array<{
      event: string;
      uuid: string;
      Activity: Record<string, unknown>;
    }>;
  };
}

/** Opens a notification socket; resolves with it once open, or with the refusal status. */
function connect(
  sim: PlexSimulator,
  options: { token?: string; path?: string; query?: string } = {},
): Promise<{ socket?: WebSocket; status?: number; messages: Notification[] }> {
  const path = options.path ?? '/:/websockets/notifications';
  const url = `${sim.url.replace(/^http/, 'ws')}${path}${options.query ?? '?filters=activity'}`;
  const headers: Record<string, string> = {
    'X-Plex-Client-Identifier': 'notifications-test',
    'X-Plex-Product': 'node-red-plex-butler',
    'X-Plex-Version': '0.1.0',
    'X-Plex-Platform': 'Node.js',
    'X-Plex-Platform-Version': process.versions.node,
    'X-Plex-Device': 'test',
    'X-Plex-Device-Name': 'test',
  };
  if (options.token !== undefined) headers['X-Plex-Token'] = options.token;
  // No token at all is a request the specs forbid: sent on purpose, so exempt from the check.
  else headers['X-Contract-Expect-Violation'] = '1';
  const messages: Notification[] = [];
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Notification));
    socket.on('open', () => resolve({ socket, messages }));
    socket.on('unexpected-response', (_req, res) => {
      res.resume();
      socket.terminate();
      resolve({ status: res.statusCode, messages });
    });
    socket.on('error', (error) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

describe('simulator: notification WebSocket', function () {
  let sim: PlexSimulator;
  const open: WebSocket[] = [];

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 300, progressIntervalMs: 100 });
  });
  afterEach(async () => {
    for (const socket of open.splice(0)) socket.terminate();
    await sim.stop();
  });

  it('sends started, updated with rising progress, and ended for a task it runs', async function () {
    const { socket, messages } = await connect(sim, { token: TOKEN });
    assert.ok(socket);
    open.push(socket);
    assert.equal(await plexRequest(sim, 'POST', '/butler/OptimizeDatabase'), 200);
    await waitUntil(() =>
      messages.some((m) => m.NotificationContainer.ActivityNotification[0].event === 'ended'),
    );
    const events = messages.map((m) => {
      assert.equal(m.NotificationContainer.type, 'activity');
      assert.equal(m.NotificationContainer.size, 1);
      return m.NotificationContainer.ActivityNotification[0];
    });
    assert.equal(events[0].event, 'started');
    assert.equal(events.at(-1)?.event, 'ended');
    const updates = events.filter((event) => event.event === 'updated');
    assert.ok(updates.length >= 1, 'no progress update');
    const progress = events.map((event) => event.Activity.progress as number);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
    assert.equal(progress.at(-1), 100);
    const uuids = new Set(events.map((event) => event.uuid));
    assert.equal(uuids.size, 1);
    assert.deepEqual(Object.keys(events[0].Activity).sort(), [
      'cancellable',
      'progress',
      'subtitle',
      'title',
      'type',
      'userID',
      'uuid',
    ]);
    assert.equal(events[0].Activity.title, 'Optimize Database');
    assert.equal(events[0].Activity.type, 'simulator.OptimizeDatabase');
  });

  it('sends the type and title seen from real servers for a task that has them', async function () {
    const { socket, messages } = await connect(sim, { token: TOKEN });
    assert.ok(socket);
    open.push(socket);
    await plexRequest(sim, 'POST', '/butler/RefreshEpgGuides');
    await waitUntil(() => messages.length > 0);
    const [first] = messages[0].NotificationContainer.ActivityNotification;
    assert.equal(first.event, 'started');
    assert.equal(first.Activity.type, 'provider.epg.load');
    assert.equal(first.Activity.title, 'Refreshing EPG');
  });

  it('ends an activity at its current progress when the task is stopped', async function () {
    const { socket, messages } = await connect(sim, { token: TOKEN });
    assert.ok(socket);
    open.push(socket);
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    await plexRequest(sim, 'DELETE', '/butler/BackupDatabase');
    await waitUntil(() => messages.length >= 2);
    const ended = messages[1].NotificationContainer.ActivityNotification[0];
    assert.equal(ended.event, 'ended');
    assert.ok((ended.Activity.progress as number) < 100);
  });

  it('answers 401 without a valid token and opens nothing', async function () {
    assert.equal((await connect(sim)).status, 401);
    assert.equal((await connect(sim, { token: 'wrong' })).status, 401);
    assert.equal(sim.stats.openNotificationSockets, 0);
  });

  it('serves the path the spec writes as well as the one real servers use', async function () {
    const { socket } = await connect(sim, { token: TOKEN, path: '/:/websocket/notifications' });
    assert.ok(socket);
    open.push(socket);
    assert.equal(sim.stats.openNotificationSockets, 1);
  });

  it('refuses the handshake with 404 like a proxy without WebSockets, when told to', async function () {
    sim.setNotifications('refused');
    assert.equal((await connect(sim, { token: TOKEN })).status, 404);
    sim.setNotifications('websocket');
    const { socket } = await connect(sim, { token: TOKEN });
    assert.ok(socket);
    open.push(socket);
  });

  it('honours filters: a socket that excludes activity gets none', async function () {
    const excluded = await connect(sim, { token: TOKEN, query: '?filters=-activity' });
    const onlyOther = await connect(sim, { token: TOKEN, query: '?filters=playing' });
    const everything = await connect(sim, { token: TOKEN, query: '' });
    for (const opened of [excluded, onlyOther, everything]) {
      assert.ok(opened.socket);
      open.push(opened.socket);
    }
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => everything.messages.length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(excluded.messages.length, 0);
    assert.equal(onlyOther.messages.length, 0);
  });

  it('cuts every socket without a close frame on stop() and on dropNotificationSockets()', async function () {
    const first = await connect(sim, { token: TOKEN });
    assert.ok(first.socket);
    const code = new Promise<number>((resolve) => first.socket?.on('close', resolve));
    sim.dropNotificationSockets();
    assert.equal(await code, 1006);

    const second = await connect(sim, { token: TOKEN });
    assert.ok(second.socket);
    const closed = new Promise<number>((resolve) => second.socket?.on('close', resolve));
    await sim.stop();
    assert.equal(await closed, 1006);
    assert.equal(sim.stats.openNotificationSockets, 0);
  });

  it('counts handshakes in its stats and records them for the contract check', async function () {
    const { socket } = await connect(sim, { token: TOKEN });
    assert.ok(socket);
    open.push(socket);
    assert.equal(sim.stats.notificationSockets, 1);
    assert.equal(sim.stats.requestsByRoute['GET /:/websockets/notifications'], 1);
    const handshake = sim.exchanges.at(-1);
    assert.equal(handshake?.status, 101);
    assert.equal(handshake?.path, '/:/websockets/notifications');
    assert.equal(handshake?.headers.upgrade, 'websocket');
  });
});
