import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { startSimulator } from '../support/simulator';
import { delay, helper, loadFlow, recordActions } from '../support/node-red-helper';
import {
  NODE_ID,
  loadReliabilityFlow,
  plexRequest,
  sendAndSettle,
  watchForCrashes,
} from './harness';

const TOKEN = 'rel-Tok3n-life-31f0';

/** Sockets and timers this process holds, by kind. */
function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return { sockets: counts.TCPSocketWrap ?? 0, timers: counts.Timeout ?? 0 };
}

describe('reliability: lifecycle', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;
  let crashes: ReturnType<typeof watchForCrashes>;

  before(async () => {
    crashes = watchForCrashes();
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
  });
  after(async () => {
    await sim.stop();
    assert.deepEqual(crashes.stop(), []);
  });
  afterEach(async () => {
    await helper.unload();
    sim.clearFaults();
    await plexRequest(sim, 'DELETE', '/butler');
  });

  it('redeploying while requests hang aborts them within 100 ms, sends nothing after, leaves no sockets or timers', async () => {
    await delay(50);
    const before = handles();
    await loadReliabilityFlow(
      sim,
      { type: 'plex-butler-start', task: 'task', taskType: 'msg' },
      TOKEN,
      { timeout: 10_000 },
    );
    await sendAndSettle({ task: 'BackupDatabase' });
    sim.injectFault({ kind: 'hang' });
    for (const task of [
      'OptimizeDatabase',
      'CleanOldBundles',
      'DeepMediaAnalysis',
      'GenerateBlurHashes',
      'MusicAnalysis',
    ]) {
      helper.getNode(NODE_ID).receive({ task });
    }
    await delay(100);
    assert.equal(sim.stats.openConnections, 5, 'five requests hang on the server');
    const requestsBefore = sim.stats.requests;
    const actions = recordActions(NODE_ID);
    const closing = Date.now();
    await helper.unload();
    while (sim.stats.openConnections > 0 && Date.now() - closing < 1000) await delay(5);
    const abortedIn = Date.now() - closing;
    console.log(`      hanging requests closed ${abortedIn} ms after the redeploy began`);
    assert.ok(abortedIn <= 100, `aborted within 100 ms (took ${abortedIn} ms)`);
    await delay(300);
    assert.deepEqual(actions.calls(), [], 'no message, error or status after close');
    assert.equal(sim.stats.requests, requestsBefore, 'no request after close');
    // The simulator runs in this process: end its task timer before counting.
    sim.clearFaults();
    await plexRequest(sim, 'DELETE', '/butler');
    await delay(20);
    assert.deepEqual(handles(), before, 'no sockets or timers left behind');
  });

  it('20 deploys of watch nodes and a waiting start node leave no socket, timer or listener', async () => {
    await delay(50);
    const before = handles();
    const server = {
      id: 'server',
      type: 'plex-butler-server',
      name: 'Plex',
      url: sim.url,
      clientId: 'lifecycle-watch',
      verifyTls: true,
      ca: '',
      timeout: 1000,
      retries: 0,
    };
    for (let round = 0; round < 20; round++) {
      await loadFlow(
        [
          { id: 'tab', type: 'tab', label: 'watch' },
          server,
          { id: 'w1', type: 'plex-butler-watch', z: 'tab', server: 'server', wires: [[]] },
          { id: 'w2', type: 'plex-butler-watch', z: 'tab', server: 'server', wires: [[]] },
          {
            id: 'start',
            type: 'plex-butler-start',
            z: 'tab',
            server: 'server',
            task: 'OptimizeDatabase',
            taskType: 'str',
            wait: true,
            outputs: 2,
            wires: [[], []],
          },
        ],
        { server: { token: TOKEN } },
      );
      while (sim.stats.openNotificationSockets === 0) await delay(5);
      // A wait in progress (the task runs 60 s) when the flow goes away.
      helper.getNode('start').receive({});
      await delay(20);
      await helper.unload();
    }
    const closing = Date.now();
    while (sim.stats.openNotificationSockets > 0 && Date.now() - closing < 1000) await delay(5);
    assert.equal(sim.stats.openNotificationSockets, 0);
    await plexRequest(sim, 'DELETE', '/butler');
    await delay(50);
    assert.deepEqual(handles(), before, 'no sockets or timers left behind');
  });

  it('50 interleaved start and stop messages for one task each get one consistent answer', async () => {
    await loadFlow(
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'server',
          type: 'plex-butler-server',
          url: sim.url,
          clientId: 'life-client',
          verifyTls: true,
          ca: '',
          timeout: 2000,
          retries: 0,
        },
        {
          id: 'starter',
          type: 'plex-butler-start',
          z: 'tab',
          server: 'server',
          task: 'BackupDatabase',
          taskType: 'str',
          wires: [['out']],
        },
        {
          id: 'stopper',
          type: 'plex-butler-stop',
          z: 'tab',
          server: 'server',
          task: 'BackupDatabase',
          taskType: 'str',
          wires: [['out']],
        },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
      { server: { token: TOKEN } },
    );
    const answers = new Map<string, { action: string; status: string }>();
    let errors = 0;
    helper.getNode('caught').on('input', () => errors++);
    const allAnswered = new Promise<void>((resolve) => {
      (helper.getNode('out') as unknown as NodeJS.EventEmitter).on(
        'input',
        (msg: { id: string; payload: { action: string; status: string } }) => {
          assert.ok(!answers.has(msg.id), 'one answer per message');
          answers.set(msg.id, msg.payload);
          if (answers.size === 50) resolve();
        },
      );
    });
    for (let i = 0; i < 50; i++) {
      helper.getNode(i % 2 === 0 ? 'starter' : 'stopper').receive({ id: `m${i}` });
    }
    await allAnswered;
    await delay(100);
    assert.equal(errors, 0);
    assert.equal(answers.size, 50);
    const all = [...answers.values()];
    for (const answer of all) {
      const allowed =
        answer.action === 'start' ? ['started', 'already-running'] : ['stopped', 'not-running'];
      assert.ok(allowed.includes(answer.status), `${answer.action} → ${answer.status}`);
    }
    // Each "started" moved the task from idle to running and each "stopped" back: they alternate,
    // so the counts differ by the task's final state.
    const started = all.filter((answer) => answer.status === 'started').length;
    const stopped = all.filter((answer) => answer.status === 'stopped').length;
    const runningAtEnd = sim.runningTasks().includes('BackupDatabase') ? 1 : 0;
    assert.equal(
      started - stopped,
      runningAtEnd,
      `${started} started, ${stopped} stopped, running: ${runningAtEnd}`,
    );
    assert.ok(started >= 1);
  });
});
