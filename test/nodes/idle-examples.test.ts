/**
 * The two "when idle" examples, as a user imports them, in a Node-RED runtime against the
 * simulator: debug nodes become test helpers and the server is the simulator; nothing else is
 * changed.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import {
  allNodes,
  coreNodes,
  delay,
  helper,
  nextMessage,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-IdleExamples-7311';

/** Core nodes the examples use, from the Node-RED under test. */
const exampleNodes = coreNodes(
  'common/20-inject',
  'common/90-comment',
  'function/10-function',
  'function/10-switch',
  'function/15-change',
);

type ExampleNode = FlowNode & { name?: string };

describe('when idle: the examples', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;
  let example: ExampleNode[];

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 300, timelineIntervalMs: 60_000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  async function loadExample(file: string): Promise<void> {
    example = JSON.parse(
      readFileSync(path.join(__dirname, '../../examples', file), 'utf8'),
    ) as ExampleNode[];
    const flow = example.map((node) =>
      node.type === 'debug'
        ? { ...node, type: 'helper' }
        : node.type === 'plex-butler-server'
          ? { ...node, url: sim.url }
          : node,
    );
    const serverId = example.find((node) => node.type === 'plex-butler-server')?.id ?? '';
    await helper.load([...allNodes, ...exampleNodes], flow as never, {
      [serverId]: { token: TOKEN },
    });
  }

  const idOf = (name: string): string => {
    const node = example.find((entry) => entry.name === name);
    assert.ok(node, name);
    return node.id;
  };

  /** Every message helper node `name` receives from now on. */
  function collect(name: string): Array<Record<string, unknown>> {
    const seen: Array<Record<string, unknown>> = [];
    (helper.getNode(idOf(name)) as unknown as NodeJS.EventEmitter).on(
      'input',
      (msg: Record<string, unknown>) => seen.push(msg),
    );
    return seen;
  }

  const butlerCalls = (): string[] =>
    sim.exchanges
      .filter((exchange) => exchange.path.startsWith('/butler/'))
      .map((exchange) => `${exchange.method} ${exchange.path}`);

  describe('never disturb a viewer', () => {
    it('starts nothing while someone watches; optimises, backs up and notifies once they stop', async () => {
      const playback = sim.startPlayback({ user: 'ann', title: 'Heat' });
      await loadExample('08 - never disturb a viewer.json');
      const failures = collect('failure');
      const notified = nextMessage<{ payload: string }>(idOf('notify'), 8000);
      helper.getNode(idOf('every day at 02:00')).receive({});
      await delay(800);
      assert.deepEqual(butlerCalls(), [], 'held while ann watches');
      sim.stopPlayback(playback.sessionKey);
      const { payload } = await notified;
      assert.match(
        payload,
        /^Plex maintenance done: database optimised in \d+ s, backed up in \d+ s$/,
      );
      assert.deepEqual(butlerCalls(), [
        'POST /butler/OptimizeDatabase',
        'POST /butler/BackupDatabase',
      ]);
      assert.deepEqual(failures, []);
    });

    it('says the night was busy when the deadline comes first, with counts only, and starts nothing', async () => {
      sim.startPlayback({ user: 'ann', title: 'Heat' });
      await loadExample('08 - never disturb a viewer.json');
      const notified = nextMessage<{ payload: string }>(idOf('notify'), 4000);
      // The node waits until 05:00; msg.deadline gives this one message 0.02 minutes.
      helper.getNode(idOf('nobody watching?')).receive({ payload: Date.now(), deadline: 0.02 });
      const { payload } = await notified;
      assert.equal(payload, 'Plex maintenance skipped: still 1 watching at the deadline');
      assert.deepEqual(butlerCalls(), []);
    });
  });

  describe('pause heavy work while someone watches', () => {
    const behaviorsOnServer = (): Record<string, unknown> =>
      Object.fromEntries(
        sim.preferences
          .list()
          .filter((setting) => setting.id.endsWith('Behavior'))
          .map((setting) => [setting.id, setting.value]),
      );

    it('stops deep analysis and pauses the heavy behaviours while in use, puts each back once idle', async () => {
      await plexRequest(sim, 'PUT', '/:/prefs?GenerateBIFBehavior=scheduled');
      const before = behaviorsOnServer();
      const switchBefore = sim.preferences.taskSwitch('DeepMediaAnalysis');
      await loadExample('09 - pause heavy work while someone watches.json');
      const failures = collect('failure');
      const now = collect('now');
      // Idle at deploy with nothing remembered: nothing is written.
      await waitUntil(
        () => sim.exchanges.some((exchange) => exchange.path === '/status/sessions'),
        3000,
        'the first read',
      );
      await delay(500);
      assert.equal(
        sim.exchanges.filter((exchange) => exchange.method === 'PUT').length,
        1,
        'only the setup PUT',
      );

      assert.equal(await plexRequest(sim, 'POST', '/butler/DeepMediaAnalysis'), 200);
      const playback = sim.startPlayback();
      await waitUntil(() => now.length === 1, 4000, 'paused');
      const never = Object.fromEntries(Object.keys(before).map((id) => [id, 'never']));
      assert.deepEqual(now[0].payload, { DeepMediaAnalysis: false, behaviors: never });
      assert.deepEqual(behaviorsOnServer(), never);
      assert.ok(butlerCalls().includes('DELETE /butler/DeepMediaAnalysis'), 'stopped');

      sim.stopPlayback(playback.sessionKey);
      await waitUntil(() => now.length === 2, 4000, 'put back');
      assert.deepEqual(now[1].payload, { DeepMediaAnalysis: switchBefore, behaviors: before });
      assert.deepEqual(behaviorsOnServer(), before);
      assert.equal(sim.preferences.taskSwitch('DeepMediaAnalysis'), switchBefore);
      assert.deepEqual(failures, []);
    });
  });
});
