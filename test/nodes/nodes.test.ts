import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { STATIC_TASK_NAMES } from '../../lib';
import { derivedClientId } from '../../nodes/server/client-id';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { selfSignedCertificate } from '../support/tls';
import { waitUntil } from '../support/wait';
import {
  collectMessages,
  delay,
  helper,
  lastStatus,
  loadFlow,
  NODE_RED_MODULE,
  nextMessage,
  recordActions,
  TEST_USER_DIR,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-Secret-4711-nodes';
const CLIENT_ID = '3f1c5d3e-7f2b-4c9a-9e1d-00000000000a';

interface ActionPayload {
  action: string;
  task: string;
  status: string;
  server: string;
}
interface CaughtMessage {
  error: { message: string; code?: string; source: { id: string } };
  topic?: string;
}

describe('Node-RED nodes', function () {
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 600 });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    sim.clearFaults();
    sim.resetStats();
  });
  afterEach(async () => {
    await helper.unload();
    sim.clearFaults();
    sim.setLatency(0);
    // Stop whatever a test started, so the next one sees a quiet server.
    await plexRequest(sim, 'DELETE', '/butler');
  });

  function server(overrides: Record<string, unknown> = {}): FlowNode {
    return {
      id: 'server',
      type: 'plex-butler-server',
      name: 'Living room Plex',
      url: sim.url,
      clientId: CLIENT_ID,
      verifyTls: true,
      ca: '',
      timeout: 2000,
      retries: 0,
      ...overrides,
    };
  }

  /** The node under test wired to a helper, plus a Catch node wired to another. */
  function flow(node: FlowNode, serverOverrides: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      server(serverOverrides),
      { server: 'server', z: 'tab', ...node, wires: [['out']] },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  const credentials = { server: { token: TOKEN } };

  /** What node `id` logged as errors: what the debug sidebar shows when no Catch node takes it. */
  function errorsLogged(id: string): unknown[] {
    const log = helper.log() as unknown as {
      ERROR: number;
      args: [{ level: number; id?: string; msg: unknown }][];
    };
    return log.args
      .map(([entry]) => entry)
      .filter((entry) => entry.id === id && entry.level === log.ERROR)
      .map((entry) => entry.msg);
  }

  async function send(msg: Record<string, unknown>, nodeId = 'node'): Promise<void> {
    helper.getNode(nodeId).receive(msg);
  }

  it('runs inside the Node-RED release under test (4.x, or 5.x for test:compat)', () => {
    const runtime = (helper as unknown as { _RED: { version(): string } })._RED;
    const expectedMajor = NODE_RED_MODULE === 'node-red-5' ? '5.' : '4.';
    assert.ok(runtime.version().startsWith(expectedMajor), runtime.version());
  });

  describe('plex-butler-start', () => {
    it('starts a named task and reports started, then already-running; other properties pass through', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: 'OptimizeDatabase', taskType: 'str' }),
        credentials,
      );
      let received = nextMessage<{ payload: ActionPayload; topic: string; _msgid: string }>('out');
      await send({ topic: 'nightly', payload: 'ignored' });
      const first = await received;
      assert.deepEqual(first.payload, {
        action: 'start',
        task: 'OptimizeDatabase',
        status: 'started',
        server: 'Living room Plex',
      });
      assert.equal(first.topic, 'nightly');
      assert.deepEqual(sim.runningTasks(), ['OptimizeDatabase']);
      assert.equal(lastStatus('node')?.fill, 'green');
      assert.match(lastStatus('node')?.text ?? '', /started \d\d:\d\d$/);

      received = nextMessage('out');
      await send({});
      assert.equal(((await received).payload as ActionPayload).status, 'already-running');
      assert.equal(lastStatus('node')?.fill, 'yellow');
      assert.match(lastStatus('node')?.text ?? '', /^already running \d\d:\d\d$/);
    });

    it('shows blue "requesting" while the request is under way', async () => {
      sim.setLatency(150);
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: 'BackupDatabase', taskType: 'str' }),
        credentials,
      );
      const received = nextMessage('out');
      await send({});
      await delay(50);
      assert.equal(lastStatus('node')?.fill, 'blue');
      assert.match(lastStatus('node')?.text ?? '', /requesting/);
      await received;
      sim.setLatency(0);
    });

    it('starts every task with the "all" type', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: '', taskType: 'all' }),
        credentials,
      );
      const received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.deepEqual((await received).payload, {
        action: 'start',
        task: 'all',
        status: 'started',
        server: 'Living room Plex',
      });
      assert.equal(sim.stats.requestsByRoute['POST /butler'], 1);
      assert.ok(sim.runningTasks().length > 1);
    });

    it('takes the task from msg.task, else from a string msg.payload (msg type)', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: 'task', taskType: 'msg' }),
        credentials,
      );
      let received = nextMessage<{ payload: ActionPayload }>('out');
      await send({ task: 'CleanOldBundles', payload: 'BackupDatabase' });
      assert.equal((await received).payload.task, 'CleanOldBundles');
      received = nextMessage<{ payload: ActionPayload }>('out');
      await send({ payload: 'BackupDatabase' });
      assert.equal((await received).payload.task, 'BackupDatabase');
      received = nextMessage<{ payload: ActionPayload }>('out');
      await send({ task: 'all' });
      assert.equal((await received).payload.task, 'all');
    });

    it('uses msg.task when the task field is left empty', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: '', taskType: 'str' }),
        credentials,
      );
      const received = nextMessage<{ payload: ActionPayload }>('out');
      await send({ task: 'RefreshLibraries' });
      assert.equal((await received).payload.task, 'RefreshLibraries');
    });

    it('reads the task from an environment variable (env type)', async () => {
      process.env.PLEX_BUTLER_TEST_TASK = 'GenerateBlurHashes';
      await loadFlow(
        flow({
          id: 'node',
          type: 'plex-butler-start',
          task: 'PLEX_BUTLER_TEST_TASK',
          taskType: 'env',
        }),
        credentials,
      );
      const received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.equal((await received).payload.task, 'GenerateBlurHashes');
      delete process.env.PLEX_BUTLER_TEST_TASK;
    });

    it('reads the task from flow and global context', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: 'nightlyTask', taskType: 'flow' }),
        credentials,
      );
      helper.getNode('node').context().flow.set('nightlyTask', 'LoudnessAnalysis');
      let received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.equal((await received).payload.task, 'LoudnessAnalysis');
      await helper.unload();

      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-start', task: 'plexTask', taskType: 'global' }),
        credentials,
      );
      helper.getNode('node').context().global.set('plexTask', 'MusicAnalysis');
      received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.equal((await received).payload.task, 'MusicAnalysis');
    });
  });

  describe('plex-butler-stop', () => {
    it('stops a running task (stopped), then reports not-running without an error', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-stop', task: 'DeepMediaAnalysis', taskType: 'str' }),
        credentials,
      );
      await plexRequest(sim, 'POST', '/butler/DeepMediaAnalysis');
      let received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.deepEqual((await received).payload, {
        action: 'stop',
        task: 'DeepMediaAnalysis',
        status: 'stopped',
        server: 'Living room Plex',
      });
      assert.equal(lastStatus('node')?.fill, 'green');
      let caught = 0;
      helper.getNode('caught').on('input', () => caught++);
      received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.equal((await received).payload.status, 'not-running');
      assert.equal(lastStatus('node')?.fill, 'yellow');
      await delay(50);
      assert.equal(caught, 0, 'no error reached the Catch node');
      assert.deepEqual(errorsLogged('node'), [], 'and none the log');
    });

    it('stops everything with the "all" type', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-stop', task: '', taskType: 'all' }),
        credentials,
      );
      await plexRequest(sim, 'POST', '/butler');
      const received = nextMessage<{ payload: ActionPayload }>('out');
      await send({});
      assert.deepEqual((await received).payload, {
        action: 'stop',
        task: 'all',
        status: 'stopped',
        server: 'Living room Plex',
      });
      assert.deepEqual(sim.runningTasks(), []);
    });
  });

  describe('plex-butler-tasks', () => {
    it('lists the tasks as one array in msg.payload', async () => {
      await loadFlow(
        flow({
          id: 'node',
          type: 'plex-butler-tasks',
          enabledOnly: false,
          split: false,
          property: 'payload',
        }),
        credentials,
      );
      const received = nextMessage<{
        payload: Array<{ name: string; enabled: boolean }>;
        topic: string;
      }>('out');
      await send({ topic: 'keep me' });
      const msg = await received;
      assert.equal(msg.payload.length, STATIC_TASK_NAMES.length);
      assert.equal(msg.topic, 'keep me');
      assert.ok(
        msg.payload.some((task) => !task.enabled),
        'disabled tasks included',
      );
      assert.match(lastStatus('node')?.text ?? '', /\d\d:\d\d$/);
    });

    it('lists only enabled tasks, into another property', async () => {
      await loadFlow(
        flow({
          id: 'node',
          type: 'plex-butler-tasks',
          enabledOnly: true,
          split: false,
          property: 'tasks.list',
        }),
        credentials,
      );
      const received = nextMessage<{
        tasks: { list: Array<{ enabled: boolean }> };
        payload: string;
      }>('out');
      await send({ payload: 'untouched' });
      const msg = await received;
      assert.ok(msg.tasks.list.length > 0 && msg.tasks.list.length < STATIC_TASK_NAMES.length);
      assert.ok(msg.tasks.list.every((task) => task.enabled));
      assert.equal(msg.payload, 'untouched');
    });

    it('sends one message per task with msg.parts for a Join node', async () => {
      await loadFlow(
        flow({
          id: 'node',
          type: 'plex-butler-tasks',
          enabledOnly: false,
          split: true,
          property: 'payload',
        }),
        credentials,
      );
      const received = collectMessages<{
        payload: { name: string };
        parts: { id: string; index: number; count: number; type: string };
      }>('out', STATIC_TASK_NAMES.length);
      await send({});
      const messages = await received;
      assert.deepEqual(
        messages.map((msg) => msg.parts.index),
        [...Array(STATIC_TASK_NAMES.length).keys()],
      );
      assert.ok(
        messages.every(
          (msg) => msg.parts.count === STATIC_TASK_NAMES.length && msg.parts.type === 'array',
        ),
      );
      assert.equal(new Set(messages.map((msg) => msg.parts.id)).size, 1);
      assert.equal(new Set(messages.map((msg) => msg.payload.name)).size, STATIC_TASK_NAMES.length);
    });
  });

  describe('errors reach Catch nodes with a code, a red status and no request', () => {
    const badInputs: Array<[string, Record<string, unknown>, RegExp]> = [
      ['no task at all', {}, /No task given|noTask/],
      ['a malformed name', { task: '../library/sections/1/refresh' }, /malformed/],
      [
        'an unknown name, with a did-you-mean',
        { task: 'optimizedatabase' },
        /Did you mean OptimizeDatabase/,
      ],
      ['a number', { task: 42 }, /must be a string/],
      ['an object', { task: { name: 'BackupDatabase' } }, /must be a string/],
    ];
    for (const [label, msg, message] of badInputs) {
      it(`start with ${label}`, async () => {
        await loadFlow(
          flow({ id: 'node', type: 'plex-butler-start', task: 'task', taskType: 'msg' }),
          credentials,
        );
        const caught = nextMessage<CaughtMessage>('caught');
        await send({ ...msg, topic: 'bad' });
        const error = (await caught).error;
        assert.equal(error.code, 'invalid-task');
        assert.match(error.message, message);
        assert.equal(error.source.id, 'node');
        assert.equal(lastStatus('node')?.fill, 'red');
        assert.equal(lastStatus('node')?.text, 'invalid task');
        assert.equal(
          sim.stats.requestsByRoute['POST /butler/{task}'] ?? 0,
          0,
          'nothing was started',
        );
      });
    }

    it('names the valid tasks when none is given', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-stop', task: '', taskType: 'str' }),
        credentials,
      );
      const caught = nextMessage<CaughtMessage>('caught');
      await send({ payload: 12 });
      assert.equal((await caught).error.code, 'invalid-task');
    });

    it('unauthorized: a wrong token', async () => {
      await loadFlow(flow({ id: 'node', type: 'plex-butler-tasks', property: 'payload' }), {
        server: { token: 'wrong' },
      });
      const caught = nextMessage<CaughtMessage>('caught');
      await send({});
      const error = (await caught).error;
      assert.equal(error.code, 'unauthorized');
      assert.match(error.message, /check the token in the server config/);
      assert.deepEqual(lastStatus('node'), { fill: 'red', shape: 'ring', text: 'unauthorized' });
    });

    const REFUSED =
      'could not list the Butler tasks: token rejected by the server (401): check the token in the server config';

    it('a Catch node gets the sentence itself as msg.error.message, with its code', async () => {
      await loadFlow(flow({ id: 'node', type: 'plex-butler-tasks', property: 'payload' }), {
        server: { token: 'wrong' },
      });
      const caught = nextMessage<CaughtMessage>('caught');
      await send({ topic: 'kept' });
      const message = await caught;
      assert.equal(message.error.message, REFUSED);
      assert.equal(message.error.code, 'unauthorized');
      assert.equal(message.error.source.id, 'node');
      assert.equal(message.topic, 'kept');
    });

    it('without a Catch node, the log and the debug sidebar get the sentence, not an object', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-tasks', property: 'payload' }).filter(
          (node) => node.type !== 'catch',
        ),
        { server: { token: 'wrong' } },
      );
      await send({});
      await waitUntil(() => lastStatus('node')?.text === 'unauthorized', 3000, 'the failure');
      assert.deepEqual(errorsLogged('node'), [REFUSED]);
    });

    const faults: Array<[string, () => void, string, string]> = [
      [
        'server error',
        () => sim.injectFault({ kind: 'status', status: 500 }),
        'server-error',
        'server error',
      ],
      ['timeout', () => sim.injectFault({ kind: 'hang' }), 'timeout', 'timeout'],
      [
        'HTML from a proxy',
        () => sim.injectFault({ kind: 'html' }),
        'bad-response',
        'bad response',
      ],
    ];
    for (const [label, inject, code, statusText] of faults) {
      it(`${label} gives code ${code} and status "${statusText}"`, async () => {
        await loadFlow(
          flow({ id: 'node', type: 'plex-butler-tasks', property: 'payload' }, { timeout: 300 }),
          credentials,
        );
        inject();
        const caught = nextMessage<CaughtMessage>('caught');
        await send({});
        assert.equal((await caught).error.code, code);
        assert.deepEqual(lastStatus('node'), { fill: 'red', shape: 'ring', text: statusText });
      });
    }

    it('unreachable server', async () => {
      await loadFlow(
        flow(
          { id: 'node', type: 'plex-butler-start', task: 'BackupDatabase', taskType: 'str' },
          { url: 'http://127.0.0.1:9' },
        ),
        credentials,
      );
      const caught = nextMessage<CaughtMessage>('caught');
      await send({});
      assert.equal((await caught).error.code, 'connection-refused');
      assert.equal(lastStatus('node')?.text, 'connection refused');
    });

    it('no server configured: grey ring, and each message fails with invalid-config', async () => {
      await loadFlow([
        { id: 'tab', type: 'tab' },
        {
          id: 'node',
          type: 'plex-butler-start',
          z: 'tab',
          server: '',
          task: 'BackupDatabase',
          taskType: 'str',
          wires: [['out']],
        },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ]);
      assert.equal(lastStatus('node')?.fill, 'grey');
      assert.equal(lastStatus('node')?.shape, 'ring');
      const caught = nextMessage<CaughtMessage>('caught');
      await send({});
      assert.equal((await caught).error.code, 'invalid-config');
    });

    it('an unusable server URL fails each message with invalid-config', async () => {
      await loadFlow(
        flow({ id: 'node', type: 'plex-butler-tasks', property: 'payload' }, { url: 'plex.local' }),
        credentials,
      );
      const caught = nextMessage<CaughtMessage>('caught');
      await send({});
      const error = (await caught).error;
      assert.equal(error.code, 'invalid-config');
      assert.match(error.message, /not a valid URL/);
    });

    it('done() is called exactly once per message: a Complete node sees each success, a Catch node each failure', async () => {
      await loadFlow(
        [
          ...flow({ id: 'node', type: 'plex-butler-start', task: 'task', taskType: 'msg' }),
          {
            id: 'completer',
            type: 'complete',
            z: 'tab',
            scope: ['node'],
            uncaught: false,
            wires: [['completed']],
          },
          { id: 'completed', type: 'helper', z: 'tab' },
        ],
        credentials,
      );
      let completed = 0;
      let caught = 0;
      helper.getNode('completed').on('input', () => completed++);
      helper.getNode('caught').on('input', () => caught++);
      const bothFinished = collectMessages('out', 2);
      await send({ task: 'BackupDatabase' });
      await send({ task: 'NoSuchTask' });
      await send({ task: 'OptimizeDatabase' });
      await bothFinished;
      await delay(200);
      assert.equal(completed, 2);
      assert.equal(caught, 1);
    });
  });

  describe('server config properties', () => {
    const tasksNode = { id: 'node', type: 'plex-butler-tasks', property: 'payload' };

    it('takes url and token from ${ENV} references', async () => {
      process.env.PLEX_BUTLER_TEST_URL = sim.url;
      process.env.PLEX_BUTLER_TEST_TOKEN = TOKEN;
      await loadFlow(flow(tasksNode, { url: '${PLEX_BUTLER_TEST_URL}' }), {
        server: { token: '${PLEX_BUTLER_TEST_TOKEN}' },
      });
      const received = nextMessage<{ payload: unknown[] }>('out');
      await send({});
      assert.equal((await received).payload.length, STATIC_TASK_NAMES.length);
      assert.equal(sim.exchanges.at(-1)?.headers['x-plex-token'], TOKEN);
      delete process.env.PLEX_BUTLER_TEST_URL;
      delete process.env.PLEX_BUTLER_TEST_TOKEN;
    });

    it('sends the configured client identifier, and one derived for this installation when empty', async () => {
      await loadFlow(flow(tasksNode), credentials);
      let received = nextMessage('out');
      await send({});
      await received;
      assert.equal(sim.exchanges.at(-1)?.headers['x-plex-client-identifier'], CLIENT_ID);
      await helper.unload();
      await loadFlow(flow(tasksNode, { clientId: '' }), credentials);
      received = nextMessage('out');
      await send({});
      await received;
      // Derived from this installation's seed and the node id: the same on every load.
      assert.equal(
        sim.exchanges.at(-1)?.headers['x-plex-client-identifier'],
        derivedClientId(TEST_USER_DIR, 'server'),
      );
    });

    it('retries as configured: 503 twice, then success with retries 2', async () => {
      await loadFlow(flow(tasksNode, { retries: 2 }), credentials);
      sim.injectFault({ kind: 'status', status: 503, retryAfter: '0', times: 2 });
      const received = nextMessage<{ payload: unknown[] }>('out');
      await send({});
      assert.equal((await received).payload.length, STATIC_TASK_NAMES.length);
      assert.equal(sim.stats.requests, 3);
    });

    describe('over HTTPS', () => {
      let secure: PlexSimulator;
      const certificate = selfSignedCertificate();
      before(async () => {
        secure = await startSimulator({ token: TOKEN, tls: certificate });
      });
      after(async () => {
        await secure.stop();
      });

      it('refuses a self-signed certificate by default with tls-error', async () => {
        await loadFlow(flow(tasksNode, { url: secure.url }), credentials);
        const caught = nextMessage<CaughtMessage>('caught');
        await send({});
        const error = (await caught).error;
        assert.equal(error.code, 'tls-error');
        assert.equal(lastStatus('node')?.text, 'TLS error');
      });

      it('trusts the CA given in the config', async () => {
        await loadFlow(
          flow(tasksNode, {
            url: secure.url.replace('127.0.0.1', 'localhost'),
            ca: certificate.cert,
          }),
          credentials,
        );
        const received = nextMessage<{ payload: unknown[] }>('out');
        await send({});
        assert.equal((await received).payload.length, STATIC_TASK_NAMES.length);
      });

      it('accepts any certificate when verifyTls is off', async () => {
        await loadFlow(flow(tasksNode, { url: secure.url, verifyTls: false }), credentials);
        const received = nextMessage<{ payload: unknown[] }>('out');
        await send({});
        assert.equal((await received).payload.length, STATIC_TASK_NAMES.length);
      });
    });
  });

  describe('lifecycle', () => {
    it('close during a request aborts it and sends nothing afterwards', async () => {
      await loadFlow(
        flow(
          { id: 'node', type: 'plex-butler-start', task: 'BackupDatabase', taskType: 'str' },
          { timeout: 5000 },
        ),
        credentials,
      );
      sim.injectFault({ kind: 'hang' });
      await send({});
      await delay(100);
      const requestsBefore = sim.stats.requests;
      const actions = recordActions('node');
      const started = Date.now();
      await helper.unload();
      await delay(300);
      assert.ok(Date.now() - started < 1000);
      assert.deepEqual(actions.calls(), [], 'no message, error or status after close');
      assert.equal(sim.stats.requests, requestsBefore, 'no request after close');
      assert.equal(sim.stats.openConnections, 0, 'the hanging connection was closed');
    });

    it('one client per config node, shared by every node using it', async () => {
      await loadFlow(
        [
          { id: 'tab', type: 'tab' },
          server(),
          {
            id: 'a',
            type: 'plex-butler-start',
            z: 'tab',
            server: 'server',
            task: 'BackupDatabase',
            taskType: 'str',
            wires: [['out']],
          },
          {
            id: 'b',
            type: 'plex-butler-stop',
            z: 'tab',
            server: 'server',
            task: 'BackupDatabase',
            taskType: 'str',
            wires: [['out']],
          },
          { id: 'out', type: 'helper', z: 'tab' },
        ],
        credentials,
      );
      const received = collectMessages<{ payload: ActionPayload }>('out', 6);
      for (let i = 0; i < 3; i++) {
        helper.getNode('a').receive({});
        await delay(30);
        helper.getNode('b').receive({});
        await delay(30);
      }
      const statuses = (await received).map((msg) => msg.payload.status);
      assert.deepEqual(statuses, [
        'started',
        'stopped',
        'started',
        'stopped',
        'started',
        'stopped',
      ]);
      assert.equal(sim.stats.connections, 1, 'one keep-alive connection for both nodes');
    });
  });
});
