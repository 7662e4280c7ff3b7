/**
 * The "when idle" node in a real Node-RED runtime against the simulator over real sockets: what
 * a flow sees on its two outputs and at its Catch node, and what the status shows, in each mode.
 */
import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import {
  delay,
  helper,
  lastStatus,
  loadFlow,
  recordActions,
  setLanguage,
  spied,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-Idle-Secret-5521';
const IDLE = 'idle';

interface Session {
  kind: string;
  user: string;
  player: string;
  title: string;
  state: string;
  transcode: boolean;
  location?: string;
  pausedSince?: string;
  reason?: string;
}

interface OutMessage {
  _msgid: string;
  payload: unknown;
  topic?: string;
  sessions: Session[] | null;
  ignored: Session[] | null;
  forced?: boolean;
  deadline?: unknown;
}

interface Caught {
  _msgid: string;
  error: { message: string; code?: string; source: { id: string } };
}

/** What left the node: port 1 (idle), port 2 (in use) or the Catch node, in order. */
interface Outcome {
  port: 1 | 2 | 'error';
  msg: OutMessage & Partial<Caught>;
  at: number;
}

describe('when idle (Node-RED)', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;
  let outcomes: Outcome[];

  before(async () => {
    sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 60_000 });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await helper.unload();
    setLanguage('en-US');
    sim.clearFaults();
    sim.setNotifications('websocket');
    for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
    for (const recording of sim.recordings()) sim.stopRecording(recording.key);
    for (const job of sim.backgroundTranscodes()) sim.stopBackgroundTranscode(job.id);
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 3000, 'sockets closed');
  });

  function idleNode(overrides: Record<string, unknown> = {}): FlowNode {
    return {
      id: IDLE,
      type: 'plex-butler-idle',
      server: 'server',
      mode: 'wait',
      inputs: 1,
      deadlineType: 'minutes',
      deadline: 60,
      deadlineTime: '05:00',
      pausedLimit: 30,
      countRecordings: true,
      countBackground: false,
      onlyTranscodes: false,
      ignorePlayers: '',
      minimumPlaybacks: 1,
      version: 2,
      wires: [['idle-out'], ['busy-out']],
      ...overrides,
    };
  }

  function flow(node: FlowNode, server: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'idle' },
      {
        id: 'server',
        type: 'plex-butler-server',
        name: 'Plex',
        url: sim.url,
        clientId: 'idle-node-test',
        timeout: 2000,
        retries: 0,
        pollInterval: 0.1,
        ...server,
      },
      { z: 'tab', ...node },
      { id: 'idle-out', type: 'helper', z: 'tab' },
      { id: 'busy-out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  async function load(
    overrides: Record<string, unknown> = {},
    server: Record<string, unknown> = {},
  ): Promise<void> {
    await loadFlow(flow(idleNode(overrides), server), { server: { token: TOKEN } });
    outcomes = [];
    const listen = (id: string, port: Outcome['port']): void => {
      (helper.getNode(id) as unknown as NodeJS.EventEmitter).on('input', (msg: OutMessage) =>
        outcomes.push({ port, msg, at: Date.now() }),
      );
    };
    listen('idle-out', 1);
    listen('busy-out', 2);
    listen('caught', 'error');
  }

  let sequence = 0;
  /** Sends a message in; resolves with its _msgid. */
  function send(fields: Record<string, unknown> = {}): string {
    const _msgid = `m${++sequence}`;
    helper.getNode(IDLE).receive({ _msgid, payload: { task: 'OptimizeDatabase' }, ...fields });
    return _msgid;
  }

  const outcomeOf = (id: string): Outcome | undefined =>
    outcomes.find((outcome) => outcome.msg._msgid === id);

  async function settled(id: string, timeoutMs = 4000): Promise<Outcome> {
    await waitUntil(() => outcomeOf(id) !== undefined, timeoutMs, `message ${id} leaving`);
    return outcomeOf(id) as Outcome;
  }

  const statusText = (): string => lastStatus(IDLE)?.text ?? '';
  const sessionReads = (): number => sim.stats.requestsByRoute['GET /status/sessions'] ?? 0;

  // ---- check --------------------------------------------------------------------------------

  describe('check mode', () => {
    it('routes to output 1 while idle and to output 2 while someone watches, payload unchanged', async () => {
      await load({ mode: 'check' });
      const first = await settled(send());
      assert.equal(first.port, 1);
      assert.deepEqual(first.msg.payload, { task: 'OptimizeDatabase' });
      assert.deepEqual(first.msg.sessions, []);
      assert.deepEqual(first.msg.ignored, []);
      assert.equal(first.msg.forced, false);
      assert.match(statusText(), /^idle \d\d:\d\d$/);
      assert.equal(lastStatus(IDLE)?.fill, 'green');

      sim.startPlayback({
        user: 'ann',
        player: 'Kitchen',
        title: 'Heat',
        transcode: true,
        location: 'wan',
      });
      const second = await settled(send());
      assert.equal(second.port, 2);
      assert.deepEqual(second.msg.payload, { task: 'OptimizeDatabase' });
      assert.deepEqual(second.msg.sessions, [
        {
          kind: 'playback',
          user: 'ann',
          player: 'Kitchen',
          title: 'Heat',
          state: 'playing',
          transcode: true,
          location: 'wan',
        },
      ]);
      assert.match(statusText(), /^1 watching \d\d:\d\d$/);
      assert.doesNotMatch(statusText(), /ann|Kitchen|Heat/);
    });

    it('reads nothing between messages', async () => {
      await load({ mode: 'check' });
      await settled(send());
      const reads = sessionReads();
      const playback = sim.startPlayback();
      sim.pausePlayback(playback.sessionKey);
      await delay(600);
      assert.equal(sessionReads(), reads);
      await settled(send());
      assert.equal(sessionReads(), reads + 1);
    });

    it('counts a pause for the paused limit from the notification, not from the next check', async () => {
      // 0.02 minutes: 1.2 s.
      await load({ mode: 'check', pausedLimit: 0.02 });
      const playback = sim.startPlayback({ player: 'TV' });
      assert.equal((await settled(send())).port, 2);
      sim.pausePlayback(playback.sessionKey);
      const pausedAt = Date.now();
      await delay(1400);
      const after = await settled(send());
      assert.equal(after.port, 1, 'paused longer than the limit: idle');
      assert.deepEqual(after.msg.sessions, []);
      assert.equal(after.msg.ignored?.[0].reason, 'paused-too-long');
      const since = Date.parse(after.msg.ignored?.[0].pausedSince ?? '');
      assert.ok(
        Math.abs(since - pausedAt) < 400,
        `paused since the pause (${since - pausedAt} ms)`,
      );
    });

    it('takes a session first seen paused as paused since it was first seen', async () => {
      sim.startPlayback({ state: 'paused', player: 'Bedroom' });
      await load({ mode: 'check', pausedLimit: 0.02 });
      const first = await settled(send());
      assert.equal(first.port, 2, 'a pause seen now counts for the limit');
      const firstSeen = Date.parse(first.msg.sessions?.[0].pausedSince ?? '');
      assert.ok(Math.abs(firstSeen - first.at) < 1000);
      await delay(1300);
      const second = await settled(send());
      assert.equal(second.port, 1);
      assert.equal(second.msg.ignored?.[0].pausedSince, first.msg.sessions?.[0].pausedSince);
    });

    it('counts a pause never with a limit of 0, and always with a long one', async () => {
      const playback = sim.startPlayback();
      sim.pausePlayback(playback.sessionKey);
      await load({ mode: 'check', pausedLimit: 0 });
      assert.equal((await settled(send())).port, 1);
      await helper.unload();
      await load({ mode: 'check', pausedLimit: 10_080 });
      assert.equal((await settled(send())).port, 2);
    });

    it('follows the rules: recordings, background work, transcodes only, players ignored, a minimum', async () => {
      const ports = async (overrides: Record<string, unknown>): Promise<Outcome> => {
        await load({ mode: 'check', ...overrides });
        const outcome = await settled(send());
        await helper.unload();
        return outcome;
      };
      const recording = sim.startRecording({ title: 'News', channel: 'BBC One' });
      assert.equal((await ports({})).port, 2, 'a recording counts by default');
      const without = await ports({ countRecordings: false });
      assert.equal(without.port, 1);
      assert.deepEqual(
        without.msg.ignored?.map((session) => [session.kind, session.reason]),
        [['recording', 'recording']],
      );
      sim.stopRecording(recording.key);

      sim.startBackgroundTranscode({ title: 'Up' });
      assert.equal((await ports({})).port, 1, 'background work does not count by default');
      assert.equal((await ports({ countBackground: true })).port, 2);
      for (const job of sim.backgroundTranscodes()) sim.stopBackgroundTranscode(job.id);

      sim.startPlayback({ player: 'Kids TV', playerId: 'kids-tv-0001', transcode: false });
      assert.equal((await ports({ onlyTranscodes: true })).port, 1);
      assert.equal((await ports({ ignorePlayers: 'kids tv' })).port, 1, 'by name, any case');
      const byId = await ports({ ignorePlayers: 'Attic, kids-tv-0001' });
      assert.equal(byId.port, 1, 'by machine identifier');
      assert.equal(byId.msg.ignored?.[0].reason, 'ignored-player');
      sim.startPlayback({ player: 'Roku', transcode: true });
      assert.equal((await ports({ minimumPlaybacks: 3 })).port, 1, 'two playbacks are not three');
      const two = await ports({ minimumPlaybacks: 2 });
      assert.equal(two.port, 2);
      assert.equal(two.msg.sessions?.length, 2);
      assert.equal((await ports({ minimumPlaybacks: 2, onlyTranscodes: true })).port, 1);
    });

    it('ends the message with the error when the read fails: no output, never idle', async () => {
      await load({ mode: 'check' });
      sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' } });
      const failed = await settled(send());
      assert.equal(failed.port, 'error');
      assert.equal(failed.msg.error?.code, 'server-error');
      assert.equal(failed.msg.error?.source.id, IDLE);
      assert.equal(lastStatus(IDLE)?.fill, 'red');
      assert.equal(statusText(), 'server error');
      await delay(200);
      assert.equal(outcomes.length, 1, 'no output besides the error');
    });

    it('ends the message with connection-refused when the server is down', async () => {
      await load({ mode: 'check' }, { url: 'http://127.0.0.1:1' });
      const failed = await settled(send());
      assert.equal(failed.port, 'error');
      assert.equal(failed.msg.error?.code, 'connection-refused');
      assert.equal(statusText(), 'connection refused');
    });
  });

  // ---- wait ---------------------------------------------------------------------------------

  describe('wait mode', () => {
    it('holds a message while two watch and lets it go on output 1 after the last stop', async () => {
      await load();
      const first = sim.startPlayback({ user: 'ann', title: 'Heat' });
      const second = sim.startPlayback({ user: 'bob', title: 'Alien' });
      const id = send();
      await waitUntil(() => statusText() === 'waiting · 2 watching', 3000, 'waiting status');
      assert.equal(lastStatus(IDLE)?.fill, 'blue');
      sim.stopPlayback(first.sessionKey);
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'one left');
      assert.equal(outcomeOf(id), undefined, 'still held');
      const stoppedAt = Date.now();
      sim.stopPlayback(second.sessionKey);
      const released = await settled(id, 3000);
      assert.equal(released.port, 1);
      assert.ok(
        released.at - stoppedAt <= 1500,
        `left ${released.at - stoppedAt} ms after the stop`,
      );
      assert.deepEqual(released.msg.payload, { task: 'OptimizeDatabase' });
      assert.deepEqual(released.msg.sessions, []);
      assert.equal(released.msg.forced, false);
      assert.match(statusText(), /^idle \d\d:\d\d$/);
    });

    it('lets a message through at once when the server is idle, and rests while none is held', async () => {
      await load();
      const out = await settled(send(), 2000);
      assert.equal(out.port, 1);
      await delay(300);
      const reads = sessionReads();
      const playback = sim.startPlayback();
      sim.stopPlayback(playback.sessionKey);
      await delay(600);
      assert.equal(sessionReads(), reads, 'no read while nothing is held');
    });

    it('lifts when a pause outlasts the paused limit, without a request', async () => {
      await load({ pausedLimit: 0.02 });
      const playback = sim.startPlayback();
      const id = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      sim.pausePlayback(playback.sessionKey);
      await delay(400);
      const reads = sessionReads();
      const released = await settled(id, 3000);
      assert.equal(released.port, 1);
      assert.equal(released.msg.ignored?.[0].reason, 'paused-too-long');
      assert.equal(sessionReads(), reads, 'the limit passed on the clock');
    });

    it('keeps a deadline per message: output 2 at each one, the rest leaves when idle', async () => {
      await load();
      const playback = sim.startPlayback({ user: 'carol', title: 'Up' });
      const sentAt = Date.now();
      const soon = send({ deadline: 0.02 });
      const later = send({ deadline: '0.05' });
      const whenIdle = send();
      const first = await settled(soon, 3000);
      assert.equal(first.port, 2);
      assert.ok(first.at - sentAt >= 1100, `${first.at - sentAt} ms`);
      assert.equal(first.msg.sessions?.[0].user, 'carol');
      assert.deepEqual(first.msg.payload, { task: 'OptimizeDatabase' });
      assert.equal(outcomeOf(later), undefined, 'the later deadline has not come');
      assert.equal(statusText(), 'waiting · 1 watching', 'the others still wait');
      const second = await settled(later, 4000);
      assert.equal(second.port, 2);
      assert.ok(second.at - sentAt >= 2900, `${second.at - sentAt} ms`);
      await delay(300);
      assert.equal(outcomeOf(whenIdle), undefined, 'the node deadline (60 min) is far');
      sim.stopPlayback(playback.sessionKey);
      assert.equal((await settled(whenIdle, 3000)).port, 1);
    });

    it('shows "deadline passed" once the last held message left on output 2', async () => {
      await load({ deadline: 0.01 });
      sim.startPlayback();
      assert.equal((await settled(send(), 3000)).port, 2);
      assert.match(statusText(), /^deadline passed \d\d:\d\d$/);
      assert.equal(lastStatus(IDLE)?.fill, 'yellow');
    });

    it('takes a time of day from msg.deadline, and from the node', async () => {
      await load();
      sim.startPlayback();
      const now = new Date();
      // One minute ago: the next one is tomorrow, so the message stays held.
      const past = new Date(now.getTime() - 60_000);
      const clock = `${String(past.getHours()).padStart(2, '0')}:${String(past.getMinutes()).padStart(2, '0')}`;
      const id = send({ deadline: clock });
      await waitUntil(() => statusText().startsWith('waiting'), 3000, 'waiting');
      await delay(500);
      assert.equal(outcomeOf(id), undefined);
      for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
      assert.equal((await settled(id, 3000)).port, 1);
      await helper.unload();

      // The node's own deadline is 0.02 minutes: msg.deadline replaces it, it does not add one.
      await load({ deadline: 0.02 });
      sim.startPlayback();
      const overridden = send({ deadline: clock });
      await delay(1600);
      assert.equal(outcomeOf(overridden), undefined, 'msg.deadline, not the node deadline');
      await helper.unload();

      // A time of day chosen in the node wins over its minutes field, which is 0.01 here.
      await load({ deadlineType: 'time', deadlineTime: clock, deadline: 0.01 });
      sim.startPlayback();
      const fromNode = send();
      await delay(1200);
      assert.equal(outcomeOf(fromNode), undefined, 'held until tomorrow at the latest');
    });

    it('refuses a bad msg.deadline with an error naming both allowed forms', async () => {
      await load();
      sim.startPlayback();
      for (const [value, shown] of [
        [-5, '-5'],
        [0, '0'],
        [10_081, '10081'],
        ['25:00', '"25:00"'],
        ['5:7', '"5:7"'],
        ['soon', '"soon"'],
        [Number.NaN, 'NaN'],
        [true, 'a boolean'],
        [{ minutes: 5 }, 'a object'],
        [[5], 'an array'],
      ] as const) {
        const failed = await settled(send({ deadline: value }));
        assert.equal(failed.port, 'error', JSON.stringify(value));
        assert.equal(failed.msg.error?.code, 'invalid-config');
        assert.equal(
          failed.msg.error?.message,
          `ButlerError: msg.deadline must be a number of minutes above 0, up to 10080, or a time of day such as "05:00" (HH:MM, 00:00 to 23:59) (got ${shown})`,
        );
      }
      assert.equal(
        outcomes.filter((outcome) => outcome.port !== 'error').length,
        0,
        'none was held or sent',
      );
    });

    it('lets a message through at once with msg.force, and says so', async () => {
      await load();
      sim.startPlayback({ user: 'dave' });
      const held = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      const forced = await settled(send({ force: true }), 1000);
      assert.equal(forced.port, 1);
      assert.equal(forced.msg.forced, true);
      assert.equal(forced.msg.sessions?.[0].user, 'dave', 'what the node knows while it waits');
      assert.equal(outcomeOf(held), undefined, 'the other message still waits');
      const notForced = send({ force: false });
      await delay(300);
      assert.equal(outcomeOf(notForced), undefined, 'force false waits like any message');
      const refused = await settled(send({ force: 'yes' }));
      assert.equal(refused.port, 'error');
      assert.equal(refused.msg.error?.code, 'invalid-config');
      assert.match(
        refused.msg.error?.message ?? '',
        /msg\.force must be true or false \(got "yes"\)/,
      );
    });

    it('gives msg.force sessions of null when the node is not following the server', async () => {
      await load({ mode: 'check' });
      sim.startPlayback();
      const forced = await settled(send({ force: true }), 1000);
      assert.equal(forced.port, 1);
      assert.equal(forced.msg.forced, true);
      assert.equal(forced.msg.sessions, null);
      assert.equal(forced.msg.ignored, null);
      assert.match(statusText(), /^forced \d\d:\d\d$/);
    });

    it('stays held while reads fail, and leaves once a read shows the server idle', async () => {
      await load();
      sim.startPlayback();
      const id = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' } });
      for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
      await waitUntil(() => statusText() === 'server error', 3000, 'the error shown');
      assert.equal(lastStatus(IDLE)?.fill, 'yellow');
      await delay(500);
      assert.equal(outcomeOf(id), undefined, 'a failed read is never idle');
      sim.clearFaults();
      assert.equal((await settled(id, 3000)).port, 1);
    });

    it('ends a held message with the last error when its deadline comes while reads fail', async () => {
      await load();
      sim.startPlayback();
      sim.injectFault({ kind: 'status', status: 503, match: { path: '/status/sessions' } });
      const id = send({ deadline: 0.02 });
      const failed = await settled(id, 4000);
      assert.equal(failed.port, 'error');
      assert.equal(failed.msg.error?.code, 'server-error');
      await delay(200);
      assert.equal(outcomes.length, 1, 'not on output 2');
    });

    it('ends held messages with "aborted" on redeploy, sends nothing, and holds none after', async () => {
      await load();
      sim.startPlayback();
      send();
      send({ deadline: 0.02 });
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      const errorSpy = spied(IDLE).error as unknown as { args: unknown[][] };
      const actions = recordActions(IDLE);
      await helper.unload();
      const errors = errorSpy.args.map(([error]) => error as { code?: string; message: string });
      assert.deepEqual(
        errors.map((error) => [error.code, error.message]),
        [
          ['aborted', 'the node was stopped or redeployed'],
          ['aborted', 'the node was stopped or redeployed'],
        ],
      );
      assert.equal(
        actions.calls().filter((call) => call.startsWith('send')).length,
        0,
        'nothing sent',
      );
      await delay(1500);
      assert.equal(
        actions.calls().filter((call) => call.startsWith('send')).length,
        0,
        'not even when the short deadline would have come',
      );
      // Deployed again (as after a restart): nothing was kept to send.
      await load();
      for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
      await delay(800);
      assert.deepEqual(outcomes, []);
    });

    it('keeps waiting through a server restart and lifts once the server is back and idle', async () => {
      await load();
      const playback = sim.startPlayback();
      const id = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      sim.stopPlayback(playback.sessionKey);
      // The server goes down before the stop could be read: reads fail, the message stays.
      await sim.stop();
      await waitUntil(() => statusText() === 'connection refused', 4000, 'the crash shown');
      assert.equal(lastStatus(IDLE)?.fill, 'yellow');
      await delay(500);
      assert.equal(outcomeOf(id), undefined, 'an unreachable server is never idle');
      await sim.start();
      // Someone is watching again as soon as the server is back.
      const again = sim.startPlayback();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 4000, 'waiting again');
      assert.equal(outcomeOf(id), undefined);
      sim.stopPlayback(again.sessionKey);
      assert.equal((await settled(id, 3000)).port, 1);
    });

    it('polls at the server poll interval when the socket is refused, and still lifts', async () => {
      sim.setNotifications('refused');
      await load();
      const playback = sim.startPlayback();
      const id = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      sim.stopPlayback(playback.sessionKey);
      assert.equal((await settled(id, 3000)).port, 1);
    });

    it('speaks German on the status line', async () => {
      setLanguage('de');
      await load();
      sim.startPlayback();
      send();
      await waitUntil(() => statusText() === 'wartet · 1 Zuschauer', 3000, 'German status');
    });
  });

  // ---- watch --------------------------------------------------------------------------------

  describe('watch mode', () => {
    it('sends the state it first finds once, then only changes', async () => {
      await load({ mode: 'watch', inputs: 0 });
      await waitUntil(() => outcomes.length === 1, 3000, 'the first state');
      assert.equal(outcomes[0].port, 1);
      assert.equal(outcomes[0].msg.payload, 'idle');
      assert.deepEqual(outcomes[0].msg.sessions, []);
      assert.match(statusText(), /^idle \d\d:\d\d$/);

      const first = sim.startPlayback({ user: 'erin', title: 'Brazil' });
      await waitUntil(() => outcomes.length === 2, 3000, 'in use');
      assert.equal(outcomes[1].port, 2);
      assert.equal(outcomes[1].msg.payload, 'in-use');
      assert.equal(outcomes[1].msg.sessions?.[0].user, 'erin');
      assert.match(statusText(), /^1 watching \d\d:\d\d$/);

      // Changes within "in use" update the status and send nothing.
      const second = sim.startPlayback({ user: 'finn' });
      await waitUntil(() => statusText().startsWith('2 watching'), 3000, 'two watching');
      sim.pausePlayback(first.sessionKey);
      sim.resumePlayback(first.sessionKey);
      sim.stopPlayback(second.sessionKey);
      await waitUntil(() => statusText().startsWith('1 watching'), 3000, 'one again');
      await delay(300);
      assert.equal(outcomes.length, 2);

      sim.stopPlayback(first.sessionKey);
      await waitUntil(() => outcomes.length === 3, 3000, 'idle again');
      assert.equal(outcomes[2].port, 1);
      assert.equal(outcomes[2].msg.payload, 'idle');
      assert.ok(!outcomes.some((outcome) => outcome.port === 'error'));
    });

    it('sends "in-use" first when someone watches at deploy', async () => {
      sim.startPlayback();
      await load({ mode: 'watch', inputs: 0 });
      await waitUntil(() => outcomes.length === 1, 3000, 'the first state');
      assert.equal(outcomes[0].port, 2);
      assert.equal(outcomes[0].msg.payload, 'in-use');
    });

    it('sends nothing while reads fail and shows the error; only a change after', async () => {
      await load({ mode: 'watch', inputs: 0 });
      await waitUntil(() => outcomes.length === 1, 3000, 'the first state');
      sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' } });
      const playback = sim.startPlayback();
      sim.stopPlayback(playback.sessionKey);
      await waitUntil(() => statusText() === 'server error', 3000, 'the error shown');
      await delay(400);
      assert.equal(outcomes.length, 1, 'nothing sent, not even "idle"');
      sim.clearFaults();
      await waitUntil(() => statusText().startsWith('idle'), 3000, 'reads work again');
      await delay(300);
      assert.equal(outcomes.length, 1, 'still idle: no message');
      sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' } });
      sim.startPlayback();
      await waitUntil(() => statusText() === 'server error', 3000, 'failing again');
      sim.clearFaults();
      await waitUntil(() => outcomes.length === 2, 3000, 'the change after recovery');
      assert.equal(outcomes[1].msg.payload, 'in-use');
    });

    it('shares one monitor and one socket with other nodes of the same rules', async () => {
      await loadFlow(
        [
          ...flow(idleNode({ mode: 'watch', inputs: 0 })),
          { ...idleNode({ id: 'idle-2', mode: 'watch', inputs: 0 }), z: 'tab' },
          { ...idleNode({ id: 'idle-3', mode: 'wait' }), z: 'tab' },
          {
            id: 'watch',
            type: 'plex-butler-watch',
            z: 'tab',
            server: 'server',
            updates: 'none',
            wires: [[]],
          },
        ],
        { server: { token: TOKEN } },
      );
      await waitUntil(() => lastStatus('idle-2')?.fill === 'green', 3000, 'idle-2 reading');
      await waitUntil(() => lastStatus(IDLE)?.fill === 'green', 3000, 'idle reading');
      await delay(300);
      const reads = sessionReads();
      sim.startPlayback();
      await waitUntil(() => lastStatus(IDLE)?.fill === 'blue', 3000, 'in use');
      await waitUntil(() => lastStatus('idle-2')?.fill === 'blue', 3000, 'in use');
      await delay(400);
      assert.equal(sessionReads() - reads, 1, 'one read for both watch nodes');
      assert.equal(sim.stats.openNotificationSockets, 1);
    });
  });

  // ---- privacy ------------------------------------------------------------------------------

  describe('privacy', () => {
    /** Every status the node showed, and nothing but counts and state words in them. */
    const COUNTS_ONLY =
      /^(idle|\d+ watching|waiting|waiting · \d+ watching|checking…|reading…|forced|deadline passed|server error)( \d\d:\d\d)?$/;
    const PRIVATE = ['Zelda Quist', 'Attic Shield', 'Solaris 1972', 'Evening Bulletin'];

    it('shows counts only: names, players and titles are in the message and nowhere else', async () => {
      const statuses: string[] = [];
      const collect = (): void => {
        for (const [status] of spied(IDLE).status.args) statuses.push(String(status?.text ?? ''));
      };
      const watcher = sim.startPlayback({
        user: 'Zelda Quist',
        player: 'Attic Shield',
        title: 'Solaris 1972',
      });
      sim.startRecording({ title: 'Evening Bulletin', channel: 'One' });

      await load({ mode: 'check' });
      const checked = await settled(send());
      assert.equal(checked.port, 2);
      assert.equal(checked.msg.sessions?.[0].user, 'Zelda Quist', 'the message has the names');
      sim.injectFault({ kind: 'status', status: 500, match: { path: '/status/sessions' } });
      assert.equal((await settled(send())).port, 'error');
      sim.clearFaults();
      collect();
      await helper.unload();

      await load();
      const held = send();
      send({ deadline: 0.01 });
      await settled(send({ force: true }));
      await waitUntil(() => outcomes.length === 2, 3000, 'the short deadline');
      sim.pausePlayback(watcher.sessionKey);
      for (const recording of sim.recordings()) sim.stopRecording(recording.key);
      sim.stopPlayback(watcher.sessionKey);
      await settled(held);
      collect();
      await helper.unload();

      sim.startPlayback({ user: 'Zelda Quist', player: 'Attic Shield', title: 'Solaris 1972' });
      await load({ mode: 'watch', inputs: 0 });
      await waitUntil(() => outcomes.length === 1, 3000, 'the first state');
      for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
      await waitUntil(() => outcomes.length === 2, 3000, 'idle');
      collect();

      assert.ok(statuses.length >= 10, `statuses seen: ${statuses.length}`);
      for (const text of statuses) assert.match(text, COUNTS_ONLY);
      const logged = JSON.stringify((helper.log() as unknown as { args: unknown[][] }).args);
      for (const secret of [...PRIVATE, TOKEN]) {
        assert.ok(!statuses.join('\n').includes(secret), `${secret} in a status`);
        assert.ok(!logged.includes(secret), `${secret} in the log`);
      }
    });
  });

  // ---- configuration ---------------------------------------------------------------------------

  describe('configuration', () => {
    it('refuses a paused limit, a minimum or a deadline out of range, naming what is allowed', async () => {
      for (const [overrides, pattern] of [
        [
          { pausedLimit: -1 },
          /the paused limit must be a number of minutes from 0 to 10080 \(got -1\)/,
        ],
        [
          { minimumPlaybacks: 1.5 },
          /the minimum number of playbacks must be a whole number of playbacks above 0, up to 1000 \(got 1.5\)/,
        ],
        [{ deadline: 0 }, /"Deadline" must be a number of minutes above 0, up to 10080 \(got 0\)/],
        [
          { deadlineType: 'time', deadlineTime: '24:00' },
          /"Deadline" \(time of day\) must be a time of day such as "05:00" \(HH:MM, 00:00 to 23:59\) \(got "24:00"\)/,
        ],
      ] as const) {
        await load(overrides);
        assert.equal(lastStatus(IDLE)?.fill, 'red');
        assert.equal(statusText(), 'invalid config');
        const failed = await settled(send());
        assert.equal(failed.port, 'error');
        assert.equal(failed.msg.error?.code, 'invalid-config');
        assert.match(failed.msg.error?.message ?? '', pattern);
        await helper.unload();
      }
    });

    it('refuses a mode it does not know, naming the three; without a mode it waits', async () => {
      await load({ mode: 'Watch' });
      assert.equal(statusText(), 'invalid config');
      const failed = await settled(send());
      assert.equal(failed.msg.error?.code, 'invalid-config');
      assert.match(
        failed.msg.error?.message ?? '',
        /"Mode" must be one of check, wait, watch \(got "Watch"\)/,
      );
      await helper.unload();
      await load({ mode: '' });
      sim.startPlayback();
      const held = send();
      await waitUntil(() => statusText() === 'waiting · 1 watching', 3000, 'waiting');
      for (const playback of sim.playbacks()) sim.stopPlayback(playback.sessionKey);
      assert.equal((await settled(held)).port, 1);
    });

    it('ignores the deadline fields outside wait mode', async () => {
      await load({ mode: 'check', deadline: 0, deadlineTime: 'soon' });
      assert.equal((await settled(send())).port, 1);
    });

    it('says "no server" and fails each message without one', async () => {
      await load({ server: '' });
      assert.equal(statusText(), 'no server');
      const failed = await settled(send());
      assert.equal(failed.port, 'error');
      assert.equal(failed.msg.error?.code, 'invalid-config');
      assert.match(failed.msg.error?.message ?? '', /No Plex server configured/);
    });
  });
});
