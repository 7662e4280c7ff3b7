/**
 * Saved flows keep working: the flows of release 0.1.0 (its five examples and a hand-made flow
 * with every option, none with a config version) load in this release's runtime and behave as
 * they did, and the shared client identifier of the 0.1.0 examples is no longer sent.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { derivedClientId } from '../../nodes/server/client-id';
import { editorRules } from '../../nodes/server/editor-contract';
import {
  CONFIG_VERSION,
  SHARED_EXAMPLE_CLIENT_ID,
  migrateConfig,
} from '../../nodes/core/migrations';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import {
  TEST_USER_DIR,
  collectMessages,
  helper,
  loadFlow,
  nextMessage,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-Release010-1618';
const FIXTURES = join(__dirname, '../fixtures/release-0.1.0');

interface Result {
  payload: { action: string; task: string; status: string; activities?: Array<{ title: string }> };
  parts?: { index: number; count: number };
  tasks?: { name: string; enabled: boolean };
}

/**
 * A 0.1.0 flow as it was saved, pointed at the simulator. Our nodes stay as they are; the core
 * nodes around them (inject, debug, change…) become helper nodes with the same ids, so that
 * the test sends what an inject would and reads what a debug node would show.
 */
function release010(file: string, sim: PlexSimulator): { flow: FlowNode[]; serverId: string } {
  const saved = JSON.parse(readFileSync(join(FIXTURES, `${file}.json`), 'utf8')) as FlowNode[];
  let serverId = '';
  const flow = saved.map((node): FlowNode => {
    assert.equal(node.version, undefined, '0.1.0 wrote no config version');
    if (node.type === 'plex-butler-server') {
      serverId = node.id;
      return { ...node, url: sim.url };
    }
    if (node.type === 'tab' || node.type.startsWith('plex-butler-')) return node;
    return { id: node.id, type: 'helper', z: node.z as string };
  });
  return { flow, serverId };
}

async function load(file: string, sim: PlexSimulator): Promise<void> {
  const { flow, serverId } = release010(file, sim);
  await loadFlow(flow, { [serverId]: { token: TOKEN } });
}

function receive(id: string, msg: Record<string, unknown> = {}): void {
  helper.getNode(id).receive(msg);
}

describe('flows saved by release 0.1.0', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 300, progressIntervalMs: 100 });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await helper.unload();
    await plexRequest(sim, 'DELETE', '/butler');
    sim.resetStats();
  });

  it('01 list tasks: the list, and the enabled tasks one by one with msg.parts', async () => {
    await load('01 - list tasks', sim);
    const listed = nextMessage<Result & { payload: unknown[] }>('b1a0c0d0e0f00005');
    receive('b1a0c0d0e0f00004');
    assert.equal((await listed).payload.length, 22);
    const enabled = sim.exchanges.length;
    const oneByOne = collectMessages<Result>('b1a0c0d0e0f00008', 3);
    receive('b1a0c0d0e0f00007');
    const parts = await oneByOne;
    assert.ok(sim.exchanges.length > enabled);
    assert.deepEqual(
      parts.map((msg) => msg.parts?.index),
      [0, 1, 2],
    );
  });

  it('02 start a task: started, then already running', async () => {
    await load('02 - start a task', sim);
    let result = nextMessage<Result>('b2a0c0d0e0f00005');
    receive('b2a0c0d0e0f00004');
    assert.equal((await result).payload.status, 'started');
    result = nextMessage<Result>('b2a0c0d0e0f00005');
    receive('b2a0c0d0e0f00004');
    assert.equal((await result).payload.status, 'already-running');
  });

  it('03 stop a task: msg.task from the inject, and all tasks', async () => {
    await load('03 - stop a task', sim);
    await plexRequest(sim, 'POST', '/butler/DeepMediaAnalysis');
    let result = nextMessage<Result>('b3a0c0d0e0f00005');
    receive('b3a0c0d0e0f00004', { task: 'DeepMediaAnalysis', payload: '' });
    assert.deepEqual((await result).payload, {
      action: 'stop',
      task: 'DeepMediaAnalysis',
      status: 'stopped',
      server: 'Plex',
    });
    result = nextMessage<Result>('b3a0c0d0e0f00008');
    receive('b3a0c0d0e0f00007');
    assert.equal((await result).payload.status, 'stopped');
    assert.equal((await result).payload.task, 'all');
  });

  it('04 nightly maintenance: optimise, then back up', async () => {
    await load('04 - nightly maintenance', sim);
    const optimised = nextMessage<Result>('b4a0c0d0e0f00005');
    receive('b4a0c0d0e0f00004');
    assert.equal((await optimised).payload.task, 'OptimizeDatabase');
    const backedUp = nextMessage<Result>('b4a0c0d0e0f00007');
    receive('b4a0c0d0e0f00006');
    assert.equal((await backedUp).payload.status, 'started');
  });

  it('05 optimise, back up, notify: the wait ends with "finished", the watch node reports', async () => {
    await load('05 - optimise, back up, notify', sim);
    const watched = nextMessage<{ payload: { event: string } }>('b5a0c0d0e0f0000a');
    const kept = nextMessage<Result>('b5a0c0d0e0f00005', 8000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    receive('b5a0c0d0e0f00004');
    assert.equal((await watched).payload.event, 'started');
    const finished = await kept;
    assert.equal(finished.payload.status, 'finished');
    assert.equal(finished.payload.task, 'OptimizeDatabase');
  });

  it("the examples' shared client identifier is not sent: a derived one, the same after a restart", async () => {
    await load('02 - start a task', sim);
    const first = nextMessage<Result>('b2a0c0d0e0f00005');
    receive('b2a0c0d0e0f00004');
    await first;
    const sent = sim.exchanges.at(-1)?.headers['x-plex-client-identifier'];
    assert.notEqual(sent, SHARED_EXAMPLE_CLIENT_ID);
    assert.equal(sent, derivedClientId(TEST_USER_DIR, '5e7a1c0b9d2f4a61'));
    await helper.unload();
    await load('02 - start a task', sim);
    const again = nextMessage<Result>('b2a0c0d0e0f00005');
    receive('b2a0c0d0e0f00004');
    await again;
    assert.equal(sim.exchanges.at(-1)?.headers['x-plex-client-identifier'], sent);
  });

  describe('a hand-made flow with every option', () => {
    beforeEach(async () => {
      process.env.PLEX_BUTLER_FIXTURE_TASK = 'all';
      await load('every option', sim);
    });
    afterEach(() => {
      delete process.env.PLEX_BUTLER_FIXTURE_TASK;
    });

    it('its own client identifier, the timeout and retries as saved (strings)', async () => {
      const listed = collectMessages<Result>('f0e0d0c0b0a00010', 1);
      receive('f0e0d0c0b0a00003');
      const [first] = await listed;
      assert.equal(first.tasks?.enabled, true, 'enabled only, into msg.tasks');
      assert.equal(
        sim.exchanges.at(-1)?.headers['x-plex-client-identifier'],
        'c1d2e3f4-0000-4000-8000-00000000e0e0',
      );
    });

    it('start from msg.job, from flow context, and all from an environment variable', async () => {
      let result = nextMessage<Result>('f0e0d0c0b0a00010');
      receive('f0e0d0c0b0a00004', { job: 'BackupDatabase' });
      assert.equal((await result).payload.task, 'BackupDatabase');
      helper.getNode('f0e0d0c0b0a00005').context().flow.set('nightlyTask', 'CleanOldBundles');
      result = nextMessage<Result>('f0e0d0c0b0a00010');
      receive('f0e0d0c0b0a00005');
      assert.equal((await result).payload.task, 'CleanOldBundles');
      result = nextMessage<Result>('f0e0d0c0b0a00010');
      receive('f0e0d0c0b0a00006');
      assert.equal((await result).payload.task, 'all');
    });

    it('wait with type and title filters: finished, with the EPG activity', async () => {
      const finished = nextMessage<Result>('f0e0d0c0b0a00011', 8000);
      const watched = nextMessage<{ payload: { type: string } }>('f0e0d0c0b0a00012');
      await new Promise((resolve) => setTimeout(resolve, 300));
      receive('f0e0d0c0b0a00007');
      assert.equal((await watched).payload.type, 'provider.epg.load');
      const done = await finished;
      assert.equal(done.payload.status, 'finished');
      assert.deepEqual(
        done.payload.activities?.map((activity) => activity.title),
        ['Refreshing EPG'],
      );
    });

    it('stop with an empty task takes msg.task, else a string msg.payload', async () => {
      await plexRequest(sim, 'POST', '/butler/MusicAnalysis');
      let result = nextMessage<Result>('f0e0d0c0b0a00010');
      receive('f0e0d0c0b0a00008', { payload: 'MusicAnalysis' });
      assert.equal((await result).payload.status, 'stopped');
      result = nextMessage<Result>('f0e0d0c0b0a00010');
      receive('f0e0d0c0b0a00008', { task: 'MusicAnalysis' });
      assert.equal((await result).payload.status, 'not-running');
    });
  });

  describe('migrateConfig', () => {
    it('gives a config without a version the current one, and drops the shared client id', () => {
      const migrated = migrateConfig('plex-butler-server', {
        id: 's',
        clientId: SHARED_EXAMPLE_CLIENT_ID,
      });
      assert.equal(migrated.version, CONFIG_VERSION);
      assert.equal(migrated.clientId, '');
      assert.equal(
        migrateConfig('plex-butler-server', { clientId: 'mine' }).clientId,
        'mine',
        'a client identifier of its own is kept',
      );
      assert.equal(migrateConfig('plex-butler-watch', { rate: '2' }).version, CONFIG_VERSION);
    });

    it('leaves a config of a newer release as it is', () => {
      const future = { clientId: SHARED_EXAMPLE_CLIENT_ID, version: CONFIG_VERSION + 1 };
      assert.deepEqual(migrateConfig('plex-butler-server', future), future);
    });

    it('derives different identifiers for different installations, each stable', () => {
      const elsewhere = mkdtempSync(join(tmpdir(), 'plex-butler-other-'));
      try {
        const here = derivedClientId(TEST_USER_DIR, 'node-1');
        assert.equal(derivedClientId(TEST_USER_DIR, 'node-1'), here);
        assert.notEqual(derivedClientId(TEST_USER_DIR, 'node-2'), here);
        assert.notEqual(derivedClientId(elsewhere, 'node-1'), here);
        assert.match(here, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      } finally {
        rmSync(elsewhere, { recursive: true, force: true });
      }
    });

    it('the editor saves the version the runtime reads, and holds no copy of it', () => {
      assert.equal(editorRules().configVersion, CONFIG_VERSION);
      const editor = readFileSync(join(__dirname, '../../resources/common.js'), 'utf8');
      assert.doesNotMatch(editor, /CONFIG_VERSION|version\W+\d/);
    });
  });
});
