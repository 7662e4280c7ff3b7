/**
 * The Butler panel's feed in the runtime: views go over comms to the editor connection of the
 * panel that follows, never to every editor and never with the token; a closed editor releases
 * the server's socket; last night's report comes from the journal a report node keeps.
 * (Permissions with adminAuth: test/e2e/panel-routes.test.ts; the page: test/browser/panel.test.ts.)
 */
import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { deleteJournal, openJournal } from '../../lib';
import { closePanelFeed } from '../../nodes/server/panel-routes';
import type { PlexSimulator } from '../../simulator';
import { flatAnswer } from '../support/editor-answer';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import { TEST_USER_DIR, helper, loadFlow } from '../support/node-red-helper';

const TOKEN = 'tok-Secret-4711-panel';
const KEY = 'panelKeyOfEditorOne01';
const OTHER_KEY = 'panelKeyOfEditorTwo02';
const SERVER_ID = 'panel-server';

interface CommsEvent {
  topic: string;
  data: {
    running?: Array<{ title: string; progress: number; startSeen: boolean }>;
    ended?: Array<{ title: string; duration?: string }>;
  };
  session?: string;
}

describe('Butler panel feed (runtime)', () => {
  let sim: PlexSimulator;
  let sent: CommsEvent[];
  /** Node-RED's runtime events, where comms messages come and go. */
  let events: EventEmitter;
  const record = (event: CommsEvent): void => {
    if (event.topic.startsWith('plex-butler/')) sent.push(event);
  };

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 1500, progressIntervalMs: 200 });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(async () => {
    sent = [];
    await loadFlow(
      [
        {
          id: SERVER_ID,
          type: 'plex-butler-server',
          name: 'Den Plex',
          url: sim.url,
          clientId: 'c0ffee00-0000-4000-8000-0000000000aa',
          verifyTls: true,
          ca: '',
          timeout: 2000,
          retries: 0,
        },
      ],
      { [SERVER_ID]: { token: TOKEN } },
    );
    // The helper's RED.events, the one the nodes were given.
    events = (helper as unknown as { _events: EventEmitter })._events;
    events.on('comms', record);
  });
  afterEach(async () => {
    events.off('comms', record);
    // A closed editor: every panel lease ends with it.
    events.emit('comms:connection-removed', { session: 'editor-1' });
    await helper.unload();
  });

  async function post(
    path: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const response = await helper.request().post(`/plex-butler/panel/${path}`).send(body);
    return flatAnswer(response.body);
  }

  it('sends views to the following editor only, without the token, from start to end of a task', async () => {
    events.emit('comms:message:plex-butler/panel/hello', {
      session: 'editor-1',
      data: { panel: KEY },
    });
    const watched = await post('watch', { panel: KEY, server: SERVER_ID });
    assert.equal(watched.live, true);
    assert.equal(watched.server, SERVER_ID);
    // A second panel that never said hello over comms follows too, but hears nothing.
    const other = await post('watch', { panel: OTHER_KEY, server: SERVER_ID });
    assert.equal(other.live, false);

    const started = await post('start', { server: SERVER_ID, task: 'BackupDatabase' });
    assert.equal(started.status, 'started');
    await waitUntil(
      () => sent.some((event) => (event.data.running ?? []).some((entry) => entry.progress > 0)),
      8000,
      'a view with progress',
    );
    await waitUntil(
      () => sent.some((event) => (event.data.ended ?? []).some((entry) => entry.duration)),
      8000,
      'a view with the activity ended',
    );
    assert.ok(sent.length > 0);
    for (const event of sent) {
      assert.equal(event.session, 'editor-1', 'never broadcast to every editor');
      assert.equal(event.topic, `plex-butler/panel/view/${SERVER_ID}`);
      assert.ok(!JSON.stringify(event).includes(TOKEN), 'no token in a comms message');
    }
  });

  it("holds the server's one socket while followed and gives it back when the editor goes", async () => {
    assert.equal(sim.stats.openNotificationSockets, 0);
    events.emit('comms:message:plex-butler/panel/hello', {
      session: 'editor-1',
      data: { panel: KEY },
    });
    await post('watch', { panel: KEY, server: SERVER_ID });
    await post('watch', { panel: OTHER_KEY, server: SERVER_ID });
    await waitUntil(() => sim.stats.openNotificationSockets === 1, 4000, 'one socket');
    await post('unwatch', { panel: OTHER_KEY });
    // One panel still follows: the socket stays.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sim.stats.openNotificationSockets, 1);
    events.emit('comms:connection-removed', { session: 'editor-1' });
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 4000, 'the socket closed');
  });

  it('stops following everything when the package is removed from the palette', async () => {
    await post('watch', { panel: KEY, server: SERVER_ID });
    await waitUntil(() => sim.stats.openNotificationSockets === 1, 4000, 'one socket');
    // What the plugin's onremove does.
    closePanelFeed();
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 4000, 'the socket closed');
    const after = await post('watch', { panel: KEY, server: SERVER_ID });
    assert.equal(after.server, null);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(sim.stats.openNotificationSockets, 0);
  });

  it("shows last night's report only when a report node keeps a journal", async () => {
    const without = await post('watch', { panel: KEY, server: SERVER_ID });
    assert.deepEqual((without.view as { lastNight: unknown }).lastNight, { kind: 'no-journal' });
    await post('unwatch', { panel: KEY });

    const journal = openJournal({ directory: TEST_USER_DIR, serverId: SERVER_ID, sync: false });
    try {
      const watched = await post('watch', { panel: KEY, server: SERVER_ID });
      const lastNight = (watched.view as { lastNight: { kind: string; message?: string } })
        .lastNight;
      assert.equal(lastNight.kind, 'report');
      assert.match(lastNight.message ?? '', /\S/);
    } finally {
      await journal.release();
      // Other suites count the journal files in the shared user directory.
      await deleteJournal(TEST_USER_DIR, SERVER_ID);
    }
  });
});
