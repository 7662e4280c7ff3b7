import { strict as assert } from 'node:assert';
import type { ActivityEvent } from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { startSocketRefusingProxy } from '../support/socket-refusing-proxy';
import { waitUntil } from '../support/wait';
import {
  collectMessages,
  delay,
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  recordActions,
  spied,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-Secret-8812-watch';

interface EventMessage {
  topic: string;
  payload: ActivityEvent;
}

interface FinishedMessage {
  topic?: string;
  payload: {
    action: string;
    task: string;
    status: string;
    server: string;
    durationMs: number;
    activities: Array<{ uuid: string; type: string; title: string; subtitle: string }>;
  };
}

interface CaughtMessage {
  error: { message: string; code?: string; source: { id: string } };
  payload: { task: string; status: string };
}

/** Every message the helper node `id` receives, as it arrives. */
function onInput<T>(id: string, listener: (msg: T) => void): void {
  (helper.getNode(id) as unknown as NodeJS.EventEmitter).on('input', listener);
}

describe('watch activity and wait for completion (Node-RED)', function () {
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 500, progressIntervalMs: 50 });
  });
  after(async () => {
    await sim.stop();
  });
  beforeEach(() => {
    sim.resetStats();
  });
  afterEach(async () => {
    await helper.unload();
    sim.setNotifications('websocket');
    await plexRequest(sim, 'DELETE', '/butler');
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 2000, 'sockets closed');
  });

  function server(url = sim.url): FlowNode {
    return {
      id: 'server',
      type: 'plex-butler-server',
      name: 'Plex',
      url,
      clientId: 'watch-node-test',
      verifyTls: true,
      ca: '',
      timeout: 2000,
      retries: 0,
      pollInterval: 0.1,
    };
  }

  function flow(...nodes: FlowNode[]): FlowNode[] {
    return flowAt(sim.url, ...nodes);
  }

  function flowAt(url: string, ...nodes: FlowNode[]): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      server(url),
      ...nodes.map((node) => ({ z: 'tab', server: 'server', ...node })),
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'finished', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  function watchNode(overrides: Record<string, unknown> = {}): FlowNode {
    return {
      id: 'watch',
      type: 'plex-butler-watch',
      typePrefix: '',
      titleContains: '',
      updates: 'all',
      rate: 5,
      wires: [['out']],
      ...overrides,
    };
  }

  function startNode(overrides: Record<string, unknown> = {}): FlowNode {
    return {
      id: 'start',
      type: 'plex-butler-start',
      task: 'OptimizeDatabase',
      taskType: 'str',
      wait: true,
      waitTimeout: 1,
      waitType: '',
      waitTitle: '',
      outputs: 2,
      wires: [['out'], ['finished']],
      ...overrides,
    };
  }

  async function connected(id = 'watch'): Promise<void> {
    await waitUntil(() => lastStatus(id)?.fill === 'green', 4000, `${id} connected`);
  }

  it('sends one message per event, topic = activity type, and shows connected', async function () {
    await loadFlow(flow(watchNode()), { server: { token: TOKEN } });
    await connected();
    assert.equal(lastStatus('watch')?.text, 'connected');
    const received: EventMessage[] = [];
    onInput('out', (msg: EventMessage) => received.push(msg));
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => received.some((msg) => msg.payload.event === 'ended'));
    assert.equal(received[0].payload.event, 'started');
    assert.equal(received[0].topic, received[0].payload.type);
    assert.deepEqual(Object.keys(received[0].payload).sort(), [
      'cancellable',
      'event',
      'progress',
      'subtitle',
      'title',
      'type',
      'uuid',
    ]);
    assert.ok(received.filter((msg) => msg.payload.event === 'updated').length >= 3);
    assert.equal(received.at(-1)?.payload.progress, 100);
  });

  it('filters by type prefix and by title text', async function () {
    await loadFlow(
      flow(
        watchNode({ titleContains: 'backup', wires: [['out']] }),
        watchNode({ id: 'watch-type', typePrefix: 'library., other.', wires: [['finished']] }),
      ),
      { server: { token: TOKEN } },
    );
    await connected();
    const byTitle: EventMessage[] = [];
    const byType: EventMessage[] = [];
    onInput('out', (msg: EventMessage) => byTitle.push(msg));
    onInput('finished', (msg: EventMessage) => byType.push(msg));
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    await plexRequest(sim, 'POST', '/butler/RefreshLibraries');
    await waitUntil(() => byTitle.some((msg) => msg.payload.event === 'ended'));
    await waitUntil(() => byType.some((msg) => msg.payload.event === 'ended'));
    assert.deepEqual([...new Set(byTitle.map((msg) => msg.payload.title))], ['Backup Database']);
    // Only RefreshLibraries has a library. type; the database tasks' types are simulator.…
    assert.deepEqual(
      [...new Set(byType.map((msg) => `${msg.topic} ${msg.payload.title}`))],
      ['library.update.section Update All Libraries'],
    );
  });

  it('drops updated events, or limits them to one per activity per interval (the latest)', async function () {
    await loadFlow(
      flow(
        watchNode({ updates: 'none', wires: [['out']] }),
        watchNode({ id: 'watch-limit', updates: 'limit', rate: 0.2, wires: [['finished']] }),
      ),
      { server: { token: TOKEN } },
    );
    await connected();
    const none: EventMessage[] = [];
    const limited: EventMessage[] = [];
    onInput('out', (msg: EventMessage) => none.push(msg));
    onInput('finished', (msg: EventMessage) => limited.push(msg));
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => limited.some((msg) => msg.payload.event === 'ended'));
    await delay(300);
    assert.deepEqual(
      none.map((msg) => msg.payload.event),
      ['started', 'ended'],
    );
    const updates = limited.filter((msg) => msg.payload.event === 'updated');
    // 500 ms of work with an update every 50 ms: about 9 updates, at most 3 pass a 200 ms limit.
    assert.ok(updates.length >= 1 && updates.length <= 3, `${updates.length} updates`);
    assert.equal(limited[0].payload.event, 'started');
    assert.equal(limited.at(-1)?.payload.event, 'ended');
    const progress = limited.map((msg) => msg.payload.progress);
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
    );
  });

  it('shares one socket per server however many nodes watch or wait', async function () {
    await loadFlow(
      flow(
        watchNode(),
        watchNode({ id: 'watch-2' }),
        watchNode({ id: 'watch-3', updates: 'none' }),
        startNode(),
      ),
      { server: { token: TOKEN } },
    );
    await connected();
    await delay(200);
    assert.equal(sim.stats.openNotificationSockets, 1);
    assert.equal(sim.stats.notificationSockets, 1);
    await helper.unload();
    await waitUntil(() => sim.stats.openNotificationSockets === 0, 2000, 'socket closed');
  });

  it('shows reconnecting when the server goes away, and connected when it is back', async function () {
    await loadFlow(flow(watchNode()), { server: { token: TOKEN } });
    await connected();
    await sim.stop();
    await waitUntil(() => lastStatus('watch')?.fill === 'yellow', 3000, 'reconnecting');
    assert.equal(lastStatus('watch')?.text, 'connection reset');
    await sim.start();
    await waitUntil(() => lastStatus('watch')?.fill === 'green', 5000, 'connected again');
    const received = collectMessages<EventMessage>('out', 1, 3000);
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    assert.equal((await received)[0].payload.event, 'started');
  });

  it('polls /activities when the socket is refused, and says so', async function () {
    sim.setNotifications('refused');
    await loadFlow(flow(watchNode({ updates: 'none' })), { server: { token: TOKEN } });
    await waitUntil(() => lastStatus('watch')?.fill === 'blue', 3000, 'polling');
    assert.equal(lastStatus('watch')?.text, 'polling every 0.1 s');
    const received = collectMessages<EventMessage>('out', 2, 4000);
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    assert.deepEqual(
      (await received).map((msg) => msg.payload.event),
      ['started', 'ended'],
    );
  });

  it('polls, and says so, behind a proxy that answers 403 to the socket alone', async function () {
    const proxy = await startSocketRefusingProxy(sim.url, 403);
    try {
      await loadFlow(flowAt(proxy.url, watchNode({ updates: 'none' })), {
        server: { token: TOKEN },
      });
      await waitUntil(() => lastStatus('watch')?.fill === 'blue', 4000, 'polling');
      assert.equal(lastStatus('watch')?.text, 'polling every 0.1 s');
      const received = collectMessages<EventMessage>('out', 2, 4000);
      await plexRequest(sim, 'POST', '/butler/BackupDatabase');
      assert.deepEqual(
        (await received).map((msg) => msg.payload.event),
        ['started', 'ended'],
      );
      assert.equal((spied('watch').warn as unknown as { args: unknown[][] }).args.length, 0);
    } finally {
      await helper.unload();
      await proxy.stop();
    }
  });

  it('sends no second started when the list read on reconnecting is answered after the end', async function () {
    this.timeout(15_000);
    // A task that runs until it is stopped, and a server whose catch-up list comes late.
    const slow = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
    try {
      await loadFlow(flowAt(slow.url, watchNode({ updates: 'none' })), {
        server: { token: TOKEN },
      });
      await connected();
      const received: EventMessage[] = [];
      onInput('out', (msg: EventMessage) => received.push(msg));
      await plexRequest(slow, 'POST', '/butler/OptimizeDatabase');
      await waitUntil(() => received.length === 1, 3000, 'started');
      slow.injectFault({
        kind: 'held',
        ms: 800,
        times: 1,
        match: { method: 'GET', path: '/activities' },
      });
      const reads = slow.stats.requestsByRoute['GET /activities'] ?? 0;
      slow.dropNotificationSockets();
      await waitUntil(
        () => (slow.stats.requestsByRoute['GET /activities'] ?? 0) > reads,
        5000,
        'the catch-up read reached the server',
      );
      await plexRequest(slow, 'DELETE', '/butler/OptimizeDatabase');
      await waitUntil(
        () =>
          slow.exchanges.filter((e) => e.path === '/activities' && e.status === 200).length >= 2,
        3000,
        'the held list sent',
      );
      const list = slow.exchanges.filter((e) => e.path === '/activities').at(-1);
      // The race did happen: the list sent after the end still shows the activity.
      assert.ok(list?.responseBody.includes(received[0].payload.uuid));
      await delay(300);
      assert.deepEqual(
        received.map((msg) => msg.payload.event),
        ['started', 'ended'],
      );
      assert.equal(lastStatus('watch')?.text, 'connected');
    } finally {
      await helper.unload();
      await slow.stop();
    }
  });

  it('shows unauthorized in red and warns once for a rejected token', async function () {
    await loadFlow(flow(watchNode()), { server: { token: 'wrong-token' } });
    await waitUntil(() => lastStatus('watch')?.fill === 'red', 3000, 'red status');
    assert.equal(lastStatus('watch')?.text, 'unauthorized');
    await delay(2500);
    const warnings = (spied('watch').warn as unknown as { args: unknown[][] }).args;
    assert.equal(warnings.length, 1);
    assert.doesNotMatch(String(warnings[0][0]), /wrong-token/);
  });

  describe('start task: wait for completion', function () {
    it('sends the result on output 1, then "finished" with the duration on output 2', async function () {
      await loadFlow(flow(startNode()), { server: { token: TOKEN } });
      await waitUntil(() => sim.stats.openNotificationSockets === 1, 3000, 'socket open');
      const result = nextMessage<{ payload: { status: string } }>('out');
      const finished = nextMessage<FinishedMessage>('finished', 5000);
      const sentAt = Date.now();
      helper.getNode('start').receive({ payload: '', topic: 'nightly' } as never);
      assert.equal((await result).payload.status, 'started');
      const done = await finished;
      const elapsed = Date.now() - sentAt;
      assert.equal(done.topic, 'nightly');
      assert.equal(done.payload.status, 'finished');
      assert.equal(done.payload.task, 'OptimizeDatabase');
      assert.equal(done.payload.server, 'Plex');
      assert.ok(done.payload.durationMs >= 450 && done.payload.durationMs <= elapsed);
      assert.deepEqual(
        done.payload.activities.map((activity) => activity.title),
        ['Optimize Database'],
      );
      // Finished is sent 2 s (the quiet time) after the end: long work may run in steps.
      assert.ok(elapsed >= done.payload.durationMs + 1900, `${elapsed} ms`);
      assert.equal(lastStatus('start')?.fill, 'green');
      assert.match(lastStatus('start')?.text ?? '', /^finished in \ds \d\d:\d\d$/);
    });

    it('reports a timeout to the Catch node when the work outlasts the limit', async function () {
      // 0.005 minutes: 300 ms, shorter than the 500 ms the task runs.
      await loadFlow(flow(startNode({ waitTimeout: 0.005 })), { server: { token: TOKEN } });
      await waitUntil(() => sim.stats.openNotificationSockets === 1, 3000, 'socket open');
      const caught = nextMessage<CaughtMessage>('caught', 3000);
      let finishedCount = 0;
      onInput('finished', () => finishedCount++);
      helper.getNode('start').receive({ payload: '' } as never);
      const failure = await caught;
      assert.equal(failure.error.code, 'timeout');
      assert.equal(failure.error.source.id, 'start');
      assert.match(failure.error.message, /^OptimizeDatabase: still running after 0 s/);
      assert.equal(failure.payload.status, 'timeout');
      assert.equal(lastStatus('start')?.text, 'timeout');
      await delay(2600);
      assert.equal(finishedCount, 0);
    });

    it('sends nothing after a redeploy stops the wait', async function () {
      await loadFlow(flow(startNode()), { server: { token: TOKEN } });
      await waitUntil(() => sim.stats.openNotificationSockets === 1, 3000, 'socket open');
      await new Promise<void>((resolve) => {
        (helper.getNode('out') as unknown as NodeJS.EventEmitter).once('input', () => resolve());
        helper.getNode('start').receive({ payload: '' } as never);
      });
      const actions = recordActions('start');
      await helper.unload();
      await delay(800);
      assert.deepEqual(actions.calls(), [], 'no finished message, error or status after close');
    });

    it('keeps one output and no socket without the option', async function () {
      await loadFlow(flow(startNode({ wait: false, outputs: 1, wires: [['out']] })), {
        server: { token: TOKEN },
      });
      const result = nextMessage<{ payload: { status: string } }>('out');
      helper.getNode('start').receive({ payload: '' } as never);
      assert.equal((await result).payload.status, 'started');
      await delay(100);
      assert.equal(sim.stats.openNotificationSockets, 0);
    });
  });
});
