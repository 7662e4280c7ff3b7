/**
 * The nodes report only what happened: they read the task where the config says, refuse a
 * config they cannot follow before any request, send nothing for a name they could not check,
 * and keep working for the nodes a partial deploy did not touch.
 */
import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import {
  delay,
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-Truthful-8841';

interface CaughtMessage {
  error: { message: string; code?: string };
}
interface ActionMessage {
  payload: { task: string; status: string };
}

describe('Node-RED nodes: truthful results', function () {
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    sim.resetStats();
  });
  afterEach(async () => {
    await helper.unload();
    sim.clearFaults();
    sim.setLatency(0);
    await plexRequest(sim, 'DELETE', '/butler');
  });

  function flow(node: Record<string, unknown>, server: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab' },
      {
        id: 'server',
        type: 'plex-butler-server',
        name: 'Plex',
        url: sim.url,
        clientId: 'truthful-client',
        verifyTls: true,
        ca: '',
        timeout: 2000,
        retries: 0,
        ...server,
      },
      {
        id: 'node',
        z: 'tab',
        server: 'server',
        wires: [['out']],
        type: 'plex-butler-start',
        ...node,
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  const credentials = { server: { token: TOKEN } };

  /** Starts and stops that reached the server. */
  function actions(): number {
    return Object.entries(sim.stats.requestsByRoute)
      .filter(([route]) => /^(POST|DELETE) \/butler/.test(route))
      .reduce((sum, [, count]) => sum + count, 0);
  }

  async function failure(msg: Record<string, unknown>): Promise<CaughtMessage['error']> {
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('node').receive(msg);
    return (await caught).error;
  }

  describe('the task is read where the node says', () => {
    it('msg.myTask missing: invalid-task naming msg.myTask, even with a string payload', async () => {
      await loadFlow(flow({ task: 'myTask', taskType: 'msg' }), credentials);
      const error = await failure({ payload: 'OptimizeDatabase' });
      assert.equal(error.code, 'invalid-task');
      assert.match(error.message, /msg\.myTask is empty or missing/);
      assert.equal(actions(), 0);
      const received = nextMessage<ActionMessage>('out');
      helper.getNode('node').receive({ myTask: 'BackupDatabase', payload: 'OptimizeDatabase' });
      assert.equal((await received).payload.task, 'BackupDatabase');
    });

    it('msg.task missing: a string payload stands in, as the help says', async () => {
      await loadFlow(flow({ task: 'task', taskType: 'msg' }), credentials);
      const received = nextMessage<ActionMessage>('out');
      helper.getNode('node').receive({ payload: 'CleanOldBundles' });
      assert.equal((await received).payload.task, 'CleanOldBundles');
    });

    it('"all" from a message or a context value means every task', async () => {
      await loadFlow(flow({ task: 'nightly', taskType: 'flow' }), credentials);
      helper.getNode('node').context().flow.set('nightly', 'all');
      const received = nextMessage<ActionMessage>('out');
      helper.getNode('node').receive({});
      assert.equal((await received).payload.task, 'all');
      assert.equal(sim.stats.requestsByRoute['POST /butler'], 1);
    });

    it('a malformed property path is a config error, not a crash', async () => {
      await loadFlow(flow({ task: 'a[', taskType: 'msg' }), credentials);
      const error = await failure({});
      assert.equal(error.code, 'invalid-config');
      assert.match(error.message, /not a valid property path/);
    });
  });

  describe('config checks before any request', () => {
    const serverCases: Array<[string, Record<string, unknown>, Record<string, unknown>, RegExp]> = [
      ['a token of spaces', {}, { server: { token: '   ' } }, /no token set/],
      [
        'a timeout that is no number',
        { timeout: 'abc' },
        credentials,
        /timeout must be a number of milliseconds from 100 to 600000 \(got "abc"\)/,
      ],
      ['a timeout of 0', { timeout: 0 }, credentials, /from 100 to 600000/],
      [
        '11 retries',
        { retries: 11 },
        credentials,
        /retries must be a whole number of retries from 0 to 10/,
      ],
      ['1.5 retries', { retries: '1.5' }, credentials, /whole number/],
      [
        'a poll interval of 0',
        { pollInterval: 0 },
        credentials,
        /poll interval must be a number of seconds from 0.1 to 3600/,
      ],
    ];
    for (const [name, server, creds, message] of serverCases) {
      it(`${name}: invalid-config with what is allowed, and no request`, async () => {
        await loadFlow(flow({ task: 'OptimizeDatabase', taskType: 'str' }, server), creds);
        const error = await failure({});
        assert.equal(error.code, 'invalid-config');
        assert.match(error.message, message);
        assert.equal(lastStatus('node')?.text, 'invalid config');
        assert.equal(sim.stats.requests, 0);
      });
    }

    it('a start node whose "Give up after" is no number fails each message before a request', async () => {
      await loadFlow(
        flow({
          task: 'OptimizeDatabase',
          taskType: 'str',
          wait: true,
          waitTimeout: 'soon',
          outputs: 2,
        }),
        credentials,
      );
      const error = await failure({});
      assert.equal(error.code, 'invalid-config');
      assert.match(
        error.message,
        /"Give up after" must be a number of minutes above 0, up to 10080/,
      );
      await delay(100);
      assert.equal(sim.stats.requests, 0);
      assert.equal(sim.stats.notificationSockets, 0, 'no socket opened for it');
    });

    it('a watch node with a rate of 0 says so and opens no socket', async () => {
      await loadFlow(
        [
          ...flow({ task: 'x', taskType: 'str' }).filter((node) => node.id !== 'node'),
          {
            id: 'node',
            type: 'plex-butler-watch',
            z: 'tab',
            server: 'server',
            updates: 'limit',
            rate: 0,
            wires: [['out']],
          },
        ],
        credentials,
      );
      await delay(300);
      assert.deepEqual(lastStatus('node'), { fill: 'red', shape: 'ring', text: 'invalid config' });
      assert.equal(sim.stats.notificationSockets, 0);
    });
  });

  describe('no start or stop without a checked name', () => {
    for (const type of ['plex-butler-start', 'plex-butler-stop']) {
      it(`${type}: a server that answers a 200 HTML page gets no POST or DELETE`, async () => {
        await loadFlow(flow({ type, task: 'OptimizeDatabase', taskType: 'str' }), credentials);
        sim.injectFault({ kind: 'html', match: { method: 'GET', path: '/butler' } });
        const error = await failure({});
        assert.equal(error.code, 'bad-response');
        assert.equal(lastStatus('node')?.text, 'bad response');
        assert.equal(actions(), 0);
      });
    }
  });

  describe('a partial deploy', () => {
    it('restarts only the changed node; the others go on, and join no aborted shared call', async () => {
      const lister = (id: string, name: string, wires: string): FlowNode => ({
        id,
        type: 'plex-butler-tasks',
        z: 'tab',
        server: 'server',
        name,
        property: 'payload',
        wires: [[wires]],
      });
      const nodes = (name: string): FlowNode[] => [
        ...flow({ task: 'BackupDatabase', taskType: 'str' }),
        lister('changed', name, 'listed'),
        lister('untouched', 'the other lister', 'listed'),
        { id: 'listed', type: 'helper', z: 'tab' },
      ];
      await loadFlow(nodes('before'), credentials);
      // A first list fills the client's name cache: the start below goes straight to its POST.
      const primed = nextMessage('listed');
      helper.getNode('untouched').receive({});
      await primed;
      // Mid-request when the deploy comes: the list of the node that changes (alone on the
      // shared GET /butler), and a start that does not change.
      sim.setLatency(300);
      const started = nextMessage<ActionMessage>('out', 5000);
      helper.getNode('changed').receive({});
      helper.getNode('node').receive({});
      await delay(100);
      // The moment the changed node lets go of the shared list call, another node asks for it.
      const listed = nextMessage<{ payload: unknown[] }>('listed', 5000);
      let caught: unknown;
      helper.getNode('caught').on('input', (msg: unknown) => (caught = msg));
      helper.getNode('changed').on('close', () => helper.getNode('untouched').receive({}));
      await helper.setFlows(nodes('after') as never, 'nodes', credentials as never);
      assert.ok((await listed).payload.length > 0, 'the untouched node got the list');
      assert.equal(caught, undefined, 'and no "aborted" error');
      // The untouched start node was not restarted: its request went on and was answered.
      assert.equal((await started).payload.status, 'started');
      assert.deepEqual(sim.runningTasks(), ['BackupDatabase']);
      assert.equal(helper.getNode('changed').name, 'after');
    });
  });
});
