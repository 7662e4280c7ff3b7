import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { deleteJournal, journalPath } from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { startSimulator } from '../support/simulator';
import { TEST_USER_DIR, helper, loadFlow } from '../support/node-red-helper';
import { selfSignedCertificate } from '../support/tls';
import {
  SERVER_ID,
  loadReliabilityFlow,
  plexRequest,
  reliabilityFlow,
  sendAndSettle,
  statusTexts,
} from './harness';

const TOKEN = 'SECRET-plex-Tok3n-9q8w7e';

/** Everything a user or a log could see during the run, as text. */
class Exposure {
  private readonly seen: string[] = [];

  add(label: string, value: unknown): void {
    const text =
      value instanceof Error
        ? `${value.message}\n${value.stack ?? ''}\n${JSON.stringify(value)}`
        : typeof value === 'string'
          ? value
          : (JSON.stringify(value, (_key, inner: unknown) =>
              inner instanceof Error ? { message: inner.message, stack: inner.stack } : inner,
            ) ?? String(value));
    this.seen.push(`${label}: ${text}`);
  }

  /** The runtime's log calls and every status of the node under test and the server node. */
  collectRuntime(): void {
    const log = helper.log() as unknown as { args: unknown[][] };
    for (const args of log.args) this.add('log', args);
    this.add('node status', statusTexts());
    this.add('server status', statusTexts(SERVER_ID));
  }

  assertClean(secret: string, what = 'the token'): void {
    const leaks = this.seen.filter((text) => text.includes(secret));
    assert.deepEqual(leaks, [], `${what} appears nowhere`);
    assert.ok(this.seen.length > 50, `enough was captured to mean something (${this.seen.length})`);
  }
}

describe('reliability: the token never shows', function () {
  this.timeout(30_000);
  let sim: PlexSimulator;
  let secure: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 100 });
    secure = await startSimulator({ token: TOKEN, tls: selfSignedCertificate() });
  });
  after(async () => {
    await sim.stop();
    await secure.stop();
  });
  afterEach(async () => {
    await helper.unload();
    sim.clearFaults();
  });

  async function everyPath(exposure: Exposure, tokenSetting: string): Promise<void> {
    const flows: Array<[Record<string, unknown>, Array<Record<string, unknown>>]> = [
      [{ type: 'plex-butler-tasks', property: 'payload' }, [{}]],
      [
        { type: 'plex-butler-start', task: 'task', taskType: 'msg' },
        [
          { task: 'BackupDatabase' },
          { task: 'BackupDatabase' },
          { task: 'nope' },
          { task: '../x' },
          { task: 42 },
          {},
        ],
      ],
      [{ type: 'plex-butler-stop', task: '', taskType: 'all' }, [{}]],
      [{ type: 'plex-butler-stop', task: 'BackupDatabase', taskType: 'str' }, [{}, {}]],
      [
        { type: 'plex-butler-schedule', property: 'payload' },
        [
          {},
          { payload: { window: { startHour: 1, endHour: 5 } } },
          { payload: { tasks: { DeepMediaAnalysis: false } } },
          { payload: { settings: { FriendlyName: 'x' } } },
          { payload: { window: { startHour: 25, endHour: 5 } } },
          { payload: { backupPath: 7 } },
          { payload: 'nonsense' },
        ],
      ],
    ];
    for (const [node, messages] of flows) {
      await loadReliabilityFlow(sim, node, tokenSetting, { retries: 0, timeout: 300 });
      for (const msg of messages) exposure.add('outcome', (await sendAndSettle(msg)).msg);
      // The first message and the second (for the schedule node, a write) meet each fault.
      for (const msg of messages.slice(0, 2)) {
        for (const kind of ['html', 'drop', 'malformed', 'hang'] as const) {
          sim.injectFault({ kind, times: 1 });
          exposure.add(`outcome ${kind}`, (await sendAndSettle(msg)).msg);
        }
        sim.injectFault({ kind: 'status', status: 401, times: 1 });
        exposure.add('outcome 401', (await sendAndSettle(msg)).msg);
      }
      exposure.collectRuntime();
      await helper.unload();
    }
    // The watch node and a start node that waits: the socket, its events, polling, TLS failure.
    const watchedMessages: unknown[] = [];
    for (const [server, refused] of [
      [{}, false],
      [{}, true],
      [{ url: secure.url }, false],
    ] as const) {
      sim.setNotifications(refused ? 'refused' : 'websocket');
      await loadReliabilityFlow(sim, { type: 'plex-butler-watch', updates: 'all' }, tokenSetting, {
        ...server,
        retries: 0,
        pollInterval: 0.1,
      });
      (helper.getNode('out') as unknown as NodeJS.EventEmitter).on('input', (msg: unknown) =>
        watchedMessages.push(msg),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
      await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
      await new Promise((resolve) => setTimeout(resolve, 250));
      exposure.collectRuntime();
      await helper.unload();
    }
    sim.setNotifications('websocket');
    assert.ok(watchedMessages.length >= 4, `${watchedMessages.length} watch messages`);
    exposure.add('watch messages', watchedMessages);
    await loadReliabilityFlow(
      sim,
      {
        type: 'plex-butler-start',
        task: 'OptimizeDatabase',
        taskType: 'str',
        wait: true,
        waitTimeout: 0.001,
        outputs: 2,
      },
      tokenSetting,
      { retries: 0 },
    );
    exposure.add('wait outcome', (await sendAndSettle({})).msg);
    exposure.add('wait timeout', (await sendAndSettle({})).msg);
    exposure.collectRuntime();
    await helper.unload();

    // The when idle node in each mode, with someone watching, over the socket and polling.
    for (const refused of [false, true]) {
      sim.setNotifications(refused ? 'refused' : 'websocket');
      const viewer = sim.startPlayback({ user: 'Quentin Vale', title: 'Harbour Lights' });
      for (const mode of ['check', 'wait', 'watch']) {
        await loadReliabilityFlow(
          sim,
          {
            type: 'plex-butler-idle',
            mode,
            deadline: 0.005,
            inputs: mode === 'watch' ? 0 : 1,
            wires: [['out'], ['out']],
          },
          tokenSetting,
          { retries: 0, timeout: 300, pollInterval: 0.1 },
        );
        if (mode !== 'watch') {
          sim.injectFault({ kind: 'status', status: 401, times: 1 });
          exposure.add('idle 401', (await sendAndSettle({ payload: 1 })).msg);
          exposure.add('idle forced', (await sendAndSettle({ force: true })).msg);
        } else {
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        exposure.collectRuntime();
        await helper.unload();
      }
      sim.stopPlayback(viewer.sessionKey);
    }
    sim.setNotifications('websocket');

    // Failures that happen before any request, and over TLS.
    for (const server of [
      { url: secure.url },
      { url: `${sim.url}/?X-Plex-Token=${TOKEN}` },
      { url: 'http://plex.invalid:32400' },
    ]) {
      await loadReliabilityFlow(
        sim,
        { type: 'plex-butler-tasks', property: 'payload' },
        tokenSetting,
        { ...server, retries: 0 },
      );
      exposure.add('outcome config', (await sendAndSettle({})).msg);
      exposure.collectRuntime();
      await helper.unload();
    }
    // The editor's admin endpoints.
    await loadReliabilityFlow(
      sim,
      { type: 'plex-butler-tasks', property: 'payload' },
      tokenSetting,
    );
    for (const body of [
      { id: SERVER_ID, url: sim.url, token: '__PWRD__' },
      { id: SERVER_ID, url: secure.url, token: '__PWRD__' },
      { id: SERVER_ID, url: sim.url, token: 'wrong' },
      { id: 'other', url: sim.url },
    ]) {
      exposure.add(
        'test-connection',
        (await helper.request().post('/plex-butler/test-connection').send(body)).text,
      );
      exposure.add(
        'tasks',
        (
          await helper
            .request()
            .post('/plex-butler/tasks')
            .send({ ...body, server: body.id })
        ).text,
      );
    }
    exposure.collectRuntime();
  }

  it('in logs, statuses, messages, errors, stacks and admin answers', async () => {
    const exposure = new Exposure();
    await everyPath(exposure, TOKEN);
    exposure.assertClean(TOKEN);
  });

  it('the same with the token given as ${PLEX_BUTLER_SECRET}', async () => {
    process.env.PLEX_BUTLER_SECRET = TOKEN;
    const exposure = new Exposure();
    await everyPath(exposure, '${PLEX_BUTLER_SECRET}');
    delete process.env.PLEX_BUTLER_SECRET;
    exposure.assertClean(TOKEN);
    assert.ok(
      sim.exchanges.some((exchange) => exchange.headers['x-plex-token'] === TOKEN),
      'the environment variable was used as the token',
    );
  });
  it("viewers' names, players and titles reach the message a user asked for, never a status or the log", async () => {
    const viewers = { user: 'Quentin Vale', player: 'Loft Projector', title: 'Harbour Lights' };
    const recording = { title: 'Midnight Gazette', channel: 'Coastline TV' };
    const runtime = new Exposure();
    const messages: unknown[] = [];
    for (const refused of [false, true]) {
      sim.setNotifications(refused ? 'refused' : 'websocket');
      for (const mode of ['check', 'wait', 'watch']) {
        const playback = sim.startPlayback(viewers);
        const live = sim.startRecording(recording);
        await loadReliabilityFlow(
          sim,
          {
            type: 'plex-butler-idle',
            mode,
            deadline: 0.005,
            pausedLimit: 0.005,
            inputs: mode === 'watch' ? 0 : 1,
            wires: [['out'], ['out']],
          },
          TOKEN,
          { retries: 0, timeout: 300, pollInterval: 0.1 },
        );
        (helper.getNode('out') as unknown as NodeJS.EventEmitter).on('input', (msg: unknown) =>
          messages.push(msg),
        );
        if (mode !== 'watch') {
          // In use, then a failed read, then a pause that outlasts the limit.
          messages.push((await sendAndSettle({ payload: 1 })).msg);
          sim.injectFault({ kind: 'status', status: 500, times: 1 });
          messages.push((await sendAndSettle({ payload: 2 })).msg);
          sim.pausePlayback(playback.sessionKey);
          sim.stopRecording(live.key);
          await new Promise((resolve) => setTimeout(resolve, 500));
          messages.push((await sendAndSettle({ payload: 3 })).msg);
        } else {
          await new Promise((resolve) => setTimeout(resolve, 300));
          sim.stopRecording(live.key);
          sim.stopPlayback(playback.sessionKey);
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        runtime.collectRuntime();
        await helper.unload();
        for (const left of sim.playbacks()) sim.stopPlayback(left.sessionKey);
      }
    }
    sim.setNotifications('websocket');
    const told = JSON.stringify(messages);
    for (const secret of [...Object.values(viewers), recording.title]) {
      assert.ok(told.includes(secret), `${secret} is in a message (so the check can fail)`);
      runtime.assertClean(secret, secret);
    }
    runtime.assertClean(TOKEN);
  });
  it('the journal file and the report hold no token, no URL credentials and no viewer names', async () => {
    const VIEWER = 'Viewer-Rosalind-7731';
    const TITLE = 'Secret-Movie-Title-4412';
    const PASSWORD = 'url-Passw0rd-5521';
    const exposure = new Exposure();
    const file = journalPath(TEST_USER_DIR, SERVER_ID);
    await deleteJournal(TEST_USER_DIR, SERVER_ID);
    try {
      // A report node, a start node and a stop node of one server, named by its address only.
      const flow = reliabilityFlow(
        sim,
        { type: 'plex-butler-report', period: 'last-24-hours' },
        { name: '', retries: 0, pollInterval: 0.1 },
      );
      const extra = [
        {
          id: 'start',
          type: 'plex-butler-start',
          z: 'tab',
          server: SERVER_ID,
          name: 'nightly',
          task: 'OptimizeDatabase',
          taskType: 'str',
          wait: true,
          waitTimeout: 1,
          outputs: 2,
          wires: [['out'], ['out']],
        },
        {
          id: 'stop',
          type: 'plex-butler-stop',
          z: 'tab',
          server: SERVER_ID,
          name: '',
          task: '',
          taskType: 'all',
          wires: [['out']],
        },
      ];
      await loadFlow([...flow, ...extra], { [SERVER_ID]: { token: TOKEN } });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const playback = sim.startPlayback({ user: VIEWER, title: TITLE, transcode: true });
      helper.getNode('start').receive({});
      await new Promise((resolve) => setTimeout(resolve, 600));
      helper.getNode('stop').receive({});
      sim.injectFault({ kind: 'status', status: 401, times: 1 });
      helper.getNode('stop').receive({});
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const msg of [{}, { since: Date.now() - 60_000 }, { period: 'maintenance-window' }]) {
        exposure.add('report', (await sendAndSettle(msg)).msg);
      }
      sim.stopPlayback(playback.sessionKey);
      exposure.collectRuntime();
      await helper.unload();
      assert.ok(existsSync(file), 'a journal was written');
      const journal = readFileSync(file, 'utf8');
      assert.match(journal, /"k":"action","t":\d+,"action":"start","task":"OptimizeDatabase"/);
      assert.match(journal, /"error":"unauthorized"/, 'the failed stop too');
      exposure.add('journal', journal);

      // A server address with credentials is refused: nothing of it is journaled or shown.
      await loadFlow(
        reliabilityFlow(
          sim,
          { type: 'plex-butler-report' },
          { name: '', url: sim.url.replace('//', `//butler:${PASSWORD}@`) },
        ),
        { [SERVER_ID]: { token: TOKEN } },
      );
      exposure.add('refused config', (await sendAndSettle({})).msg);
      exposure.collectRuntime();
      await helper.unload();
      exposure.add('journal after', existsSync(file) ? readFileSync(file, 'utf8') : '');
      for (const secret of [TOKEN, PASSWORD, VIEWER, TITLE]) exposure.assertClean(secret);
    } finally {
      await deleteJournal(TEST_USER_DIR, SERVER_ID);
    }
  });
});
