/**
 * The butler report node in a Node-RED runtime, beside real start, stop and schedule nodes and
 * the simulator: what it journals, the report of each period (msg.payload and msg.text), the
 * maintenance window read from the server, a period across midnight, one journal shared by
 * several report nodes, and the admin routes that show and delete the journal.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  deleteJournal,
  journalPath,
  maintenanceWindow,
  openJournal,
  type ReportAction,
  type ReportActivity,
  type ReportGap,
  type ReportTotals,
} from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { flatAnswer } from '../support/editor-answer';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import {
  TEST_USER_DIR,
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  setLanguage,
  spied,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-ReportNode-5150';
const SERVER_ID = 'report-server';

export interface ReportMessage {
  payload: {
    period: string;
    from: string;
    to: string;
    server: string;
    complete: boolean;
    activities: ReportActivity[];
    actions: ReportAction[];
    gaps: ReportGap[];
    totals: ReportTotals;
  };
  text: string;
  topic?: string;
}

interface CaughtMessage {
  error: { message: string; code?: string; source: { id: string } };
}

function journalLines(serverId = SERVER_ID): Array<Record<string, unknown>> {
  const file = journalPath(TEST_USER_DIR, serverId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function warnings(id: string): unknown[][] {
  return (spied(id).warn as unknown as { args: unknown[][] }).args;
}

describe('plex-butler-report', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 400, progressIntervalMs: 50 });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await helper.unload();
    setLanguage('en-US');
    await plexRequest(sim, 'DELETE', '/butler');
    sim.clearFaults();
    await deleteJournal(TEST_USER_DIR, SERVER_ID);
  });

  function flow(...nodes: FlowNode[]): FlowNode[] {
    return [
      { id: 'tab', type: 'tab', label: 'report' },
      {
        id: SERVER_ID,
        type: 'plex-butler-server',
        name: 'Plex',
        url: sim.url,
        clientId: 'report-node-test',
        timeout: 2000,
        retries: 0,
        pollInterval: 0.1,
        version: 2,
      },
      {
        id: 'report',
        type: 'plex-butler-report',
        name: '',
        period: 'since-last-report',
        version: 2,
        wires: [['out']],
      },
      ...nodes,
      { id: 'out', type: 'helper' },
      { id: 'result', type: 'helper' },
      { id: 'finished', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ].map((node) =>
      node.type === 'tab' || node.type === 'plex-butler-server'
        ? node
        : {
            z: 'tab',
            ...(node.type.startsWith('plex-butler-') ? { server: SERVER_ID } : {}),
            ...node,
          },
    );
  }

  function startNode(overrides: Record<string, unknown> = {}): FlowNode {
    return {
      id: 'start',
      type: 'plex-butler-start',
      name: 'optimise',
      task: 'OptimizeDatabase',
      taskType: 'str',
      wait: true,
      waitTimeout: 1,
      waitType: '',
      waitTitle: 'optimi',
      outputs: 2,
      version: 2,
      wires: [['result'], ['finished']],
      ...overrides,
    };
  }

  async function load(...nodes: FlowNode[]): Promise<void> {
    await loadFlow(flow(...nodes), { [SERVER_ID]: { token: TOKEN } });
    await waitUntil(
      () => lastStatus('report')?.fill === 'green',
      4000,
      'the report node keeps its journal',
    );
  }

  async function report(msg: Record<string, unknown> = {}, id = 'report'): Promise<ReportMessage> {
    const received = nextMessage<ReportMessage>('out');
    helper.getNode(id).receive(msg);
    return received;
  }

  async function refusal(msg: Record<string, unknown>): Promise<CaughtMessage['error']> {
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('report').receive(msg);
    return (await caught).error;
  }

  async function run(id: string, output: string, msg: Record<string, unknown> = {}): Promise<void> {
    const received = nextMessage(output);
    helper.getNode(id).receive(msg);
    await received;
  }

  it('journals the starts and stops of real start and stop nodes, and names what a waiting start counted after its task', async () => {
    await load(
      startNode(),
      {
        id: 'stop',
        type: 'plex-butler-stop',
        name: '',
        task: 'BackupDatabase',
        taskType: 'str',
        version: 2,
        wires: [['result']],
      },
      startNode({
        id: 'starter',
        name: 'by name',
        task: 'task',
        taskType: 'msg',
        wait: false,
        outputs: 1,
        wires: [['result']],
      }),
    );
    const finished = nextMessage<{ payload: { status: string } }>('finished', 6000);
    await run('start', 'result');
    assert.equal((await finished).payload.status, 'finished');
    await run('stop', 'result');
    // Refused before any request: not a start that was sent, so not journaled.
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('starter').receive({ task: 'NoSuchTask' });
    assert.equal((await caught).error.code, 'invalid-task');

    const { payload, text } = await report();
    assert.deepEqual(
      payload.actions.map((action) =>
        action.action === 'schedule'
          ? action
          : { action: action.action, task: action.task, status: action.status, node: action.node },
      ),
      [
        {
          action: 'start',
          task: 'OptimizeDatabase',
          status: 'started',
          node: { id: 'start', name: 'optimise' },
        },
        {
          action: 'stop',
          task: 'BackupDatabase',
          status: 'not-running',
          node: { id: 'stop', name: '' },
        },
      ],
    );
    for (const action of payload.actions) assert.ok(!Number.isNaN(Date.parse(action.at)));
    assert.equal(payload.activities.length, 1);
    const [optimised] = payload.activities;
    // The simulator's type for this task is its own invention: only the start node's tie names it.
    assert.equal(optimised.type, 'simulator.OptimizeDatabase');
    assert.equal(optimised.task, 'OptimizeDatabase');
    assert.equal(optimised.title, 'Optimize Database');
    assert.equal(optimised.ended, true);
    assert.equal(optimised.progress, 100);
    assert.ok(
      optimised.durationMs >= 300 && optimised.durationMs < 3000,
      `${optimised.durationMs}`,
    );
    assert.equal(
      optimised.durationMs,
      Date.parse(optimised.endedAt ?? '') - Date.parse(optimised.startedAt),
    );
    assert.equal(payload.server, 'Plex');
    assert.match(text, /database optimisation \(under 1 s\)\./);
    assert.match(
      text,
      /Sent by Node-RED: start database optimisation \(started\), stop database backup \(not running\)\./,
    );
    assert.deepEqual(warnings('report'), [], 'every record was taken');
  });

  it('names an activity after a task only where that is known: a type README lists, else its title', async () => {
    await load();
    await plexRequest(sim, 'POST', '/butler/RefreshLibraries');
    await plexRequest(sim, 'POST', '/butler/CleanOldBundles');
    await waitUntil(() => sim.runningTasks().length === 0, 4000, 'the tasks ended');
    await delay(200);
    const { payload, text } = await report();
    const byType = new Map(payload.activities.map((activity) => [activity.type, activity]));
    assert.equal(byType.get('library.update.section')?.task, 'RefreshLibraries');
    const bundles = byType.get('simulator.CleanOldBundles');
    assert.ok(bundles);
    assert.equal('task' in bundles, false, 'no guess');
    assert.match(text, /library scan \(under 1 s\)/);
    assert.match(text, new RegExp(`${bundles.title} \\(under 1 s\\)`));
    assert.deepEqual(payload.actions, [], 'started by someone else: no action of ours');
  });

  it('journals the schedule node’s changes, behaviours too; a refused change is not one', async () => {
    await load({
      id: 'schedule',
      type: 'plex-butler-schedule',
      name: 'weekend',
      property: 'payload',
      version: 2,
      wires: [['result']],
    });
    await run('schedule', 'result', { payload: { window: { startHour: 1, endHour: 6 } } });
    await run('schedule', 'result', { payload: { behaviors: { GenerateBIFBehavior: 'asap' } } });
    await run('schedule', 'result', { payload: { window: { startHour: 1, endHour: 6 } } });
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('schedule').receive({ payload: { window: { startHour: 25 } } });
    assert.equal((await caught).error.code, 'invalid-setting');
    const { payload, text } = await report();
    assert.deepEqual(
      payload.actions.map((action) =>
        action.action === 'schedule' ? [action.settings, action.status, action.node.name] : [],
      ),
      [
        [{ ButlerStartHour: '1', ButlerEndHour: '6' }, 'changed', 'weekend'],
        [{ GenerateBIFBehavior: 'asap' }, 'changed', 'weekend'],
        [{ ButlerStartHour: '1', ButlerEndHour: '6' }, 'unchanged', 'weekend'],
      ],
    );
    assert.equal(payload.totals.scheduleChanges, 3);
    assert.match(
      text,
      /schedule change \(changed\), schedule change \(changed\), schedule change \(no change needed\)/,
    );
    assert.deepEqual(warnings('report'), [], 'every record was taken');
    await plexRequest(
      sim,
      'PUT',
      '/:/prefs?ButlerStartHour=2&ButlerEndHour=5&GenerateBIFBehavior=never',
    );
  });

  it('journals a failed start with its error code', async () => {
    await load(startNode({ wait: false, outputs: 1, wires: [['result']] }));
    sim.injectFault({ kind: 'status', status: 500, times: 10 });
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('start').receive({});
    assert.equal((await caught).error.code, 'server-error');
    sim.clearFaults();
    const { payload, text } = await report();
    const [failed] = payload.actions;
    assert.deepEqual(failed.action === 'start' && [failed.task, failed.status, failed.error], [
      'OptimizeDatabase',
      'failed',
      'server-error',
    ]);
    assert.equal(payload.totals.failedActions, 1);
    assert.match(text, /start database optimisation \(failed: server error\)/);
  });

  it('since the last report: each report begins where the node’s last one ended; an empty period says so', async () => {
    await load();
    assert.deepEqual(lastStatus('report'), {
      fill: 'green',
      shape: 'ring',
      text: 'keeping journal',
    });
    const first = await report({ topic: 'morning' });
    assert.equal(first.topic, 'morning', 'other properties pass through');
    assert.equal(first.payload.period, 'since-last-report');
    assert.match(lastStatus('report')?.text ?? '', /^nothing ran \d\d:\d\d$/);
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    await waitUntil(() => sim.runningTasks().length === 0, 4000, 'the backup ended');
    await delay(200);
    const second = await report();
    assert.equal(second.payload.from, first.payload.to);
    assert.equal(second.payload.activities.length, 1);
    assert.match(lastStatus('report')?.text ?? '', /^1 activity \d\d:\d\d$/);
    assert.equal(lastStatus('report')?.fill, 'green');
    const third = await report();
    assert.equal(third.payload.from, second.payload.to);
    assert.deepEqual(third.payload.activities, []);
    assert.deepEqual(third.payload.totals, {
      activities: 0,
      ended: 0,
      running: 0,
      notSeenToEnd: 0,
      actions: 0,
      failedActions: 0,
      scheduleChanges: 0,
      missedMs: 0,
    });
    assert.equal(third.payload.complete, true);
    assert.match(
      third.text,
      /^Since the last report \(\d\d:\d\d–\d\d:\d\d\): nothing ran that Node-RED saw\.$/,
    );
  });

  it('msg.since and msg.until (ISO dates or epoch ms); a part the journal did not see is named', async () => {
    await load();
    const hourAgo = Date.now() - 3_600_000;
    const { payload, text } = await report({ since: new Date(hourAgo).toISOString() });
    assert.equal(payload.period, 'between');
    assert.equal(Date.parse(payload.from), hourAgo);
    assert.equal(payload.complete, false);
    assert.equal(payload.gaps[0].reason, 'before-journal');
    assert.equal(payload.gaps[0].from, payload.from);
    assert.match(text, /The journal begins only at \d\d:\d\d: it did not see the time before\./);
    const epoch = await report({ since: hourAgo, until: hourAgo + 60_000 });
    assert.equal(epoch.payload.to, new Date(hourAgo + 60_000).toISOString());
    assert.equal(epoch.payload.gaps.length, 1);
    // The configured period is the node's; msg.period chooses another for one message.
    const day = await report({ period: 'last-24-hours' });
    assert.equal(day.payload.period, 'last-24-hours');
    assert.equal(Date.parse(day.payload.to) - Date.parse(day.payload.from), 86_400_000);
  });

  it('refuses a period that is not one with invalid-config, naming what is allowed, and sends nothing', async () => {
    await load();
    let sent = 0;
    helper.getNode('out').on('input', () => sent++);
    for (const [msg, words] of [
      [{ since: 'yesterday' }, /epoch milliseconds or an ISO 8601 date such as 2026-03-29/],
      [{ until: '2026-01-01' }, /since must be epoch milliseconds .*got nothing/],
      [{ since: '2026-02-30' }, /got "2026-02-30"/],
      [{ since: '2026-01-02', until: '2026-01-01' }, /starts \(.+\) after it ends/],
      [
        { period: 'weekly' },
        /the report period "weekly" is not one of since-last-report, maintenance-window, last-24-hours, between/,
      ],
      [{ period: 42 }, /not one of/],
    ] as const) {
      const error = await refusal(msg);
      assert.equal(error.code, 'invalid-config', JSON.stringify(msg));
      assert.match(error.message, words, error.message);
      assert.equal(error.source.id, 'report');
    }
    assert.equal(sent, 0);
    assert.equal(lastStatus('report')?.fill, 'red');
  });

  it('the maintenance window as the server’s schedule has it (ButlerStartHour/ButlerEndHour), across midnight', async () => {
    await plexRequest(sim, 'PUT', '/:/prefs?ButlerStartHour=22&ButlerEndHour=5');
    try {
      await loadFlow(
        flow().map((node) =>
          node.id === 'report' ? { ...node, period: 'maintenance-window' } : node,
        ),
        { [SERVER_ID]: { token: TOKEN } },
      );
      const reads = sim.exchanges.filter((exchange) => exchange.path === '/:/prefs').length;
      const before = Date.now();
      const { payload, text } = await report();
      assert.equal(payload.period, 'maintenance-window');
      assert.equal(
        sim.exchanges.filter((exchange) => exchange.path === '/:/prefs').length,
        reads + 1,
        'the schedule was read',
      );
      const from = new Date(payload.from);
      assert.equal(from.getHours(), 22);
      assert.equal(from.getMinutes(), 0);
      assert.ok(from.getTime() <= before && before - from.getTime() < 86_400_000);
      const window = maintenanceWindow(22, 5, Date.parse(payload.to));
      assert.deepEqual(
        [payload.from, payload.to],
        [from.toISOString(), new Date(window.to).toISOString()],
      );
      assert.match(text, /^Maintenance window (\d\d\/\d\d )?22:00–/);
      // The schedule cannot be read: no window is guessed, the error reaches the Catch node.
      sim.injectFault({ kind: 'status', status: 500, times: 5 });
      const error = await refusal({});
      assert.equal(error.code, 'server-error');
    } finally {
      sim.clearFaults();
      await plexRequest(sim, 'PUT', '/:/prefs?ButlerStartHour=2&ButlerEndHour=5');
    }
  });

  it('a period across midnight, from a journal kept before this start', async () => {
    // Three nights ago, 23:40 to 00:25, journaled by an earlier run (as after a restart).
    const night = new Date();
    night.setDate(night.getDate() - 3);
    const at = (days: number, hours: number, minutes: number): number =>
      new Date(
        night.getFullYear(),
        night.getMonth(),
        night.getDate() + days,
        hours,
        minutes,
      ).getTime();
    let now = at(0, 22, 0);
    const earlier = openJournal({
      directory: TEST_USER_DIR,
      serverId: SERVER_ID,
      server: 'Plex',
      now: () => now,
    });
    await earlier.ready();
    now = at(0, 23, 40);
    earlier.activity({
      event: 'started',
      uuid: 'scan-1',
      type: 'library.update.section',
      title: 'Scanning',
      subtitle: 'Movies',
      progress: 0,
    });
    now = at(1, 0, 25);
    earlier.activity({
      event: 'ended',
      uuid: 'scan-1',
      type: 'library.update.section',
      title: 'Scanning',
      subtitle: 'Movies',
      progress: 100,
    });
    now = at(1, 2, 0);
    await earlier.release();

    await load();
    const since = new Date(at(0, 23, 0));
    const pad = (value: number): string => String(value).padStart(2, '0');
    const localIso = `${since.getFullYear()}-${pad(since.getMonth() + 1)}-${pad(since.getDate())}T23:00`;
    const { payload, text } = await report({ since: localIso, until: at(1, 1, 0) });
    assert.equal(payload.from, new Date(at(0, 23, 0)).toISOString());
    assert.equal(payload.to, new Date(at(1, 1, 0)).toISOString());
    assert.deepEqual(
      payload.activities.map((activity) => [
        activity.task,
        activity.startedAt,
        activity.endedAt,
        activity.durationMs,
        activity.ended,
      ]),
      [
        [
          'RefreshLibraries',
          new Date(at(0, 23, 40)).toISOString(),
          new Date(at(1, 0, 25)).toISOString(),
          45 * 60_000,
          true,
        ],
      ],
    );
    assert.equal(payload.complete, true);
    assert.equal(text, '23:00–01:00: library scan (45 min).');
    // Node-RED was not running from 02:00 that night until this start.
    const later = await report({ since: at(1, 0, 0) });
    assert.deepEqual(
      later.payload.gaps.map((gap) => [gap.reason, gap.from]),
      [['node-red-down', new Date(at(1, 2, 0)).toISOString()]],
    );
  });

  it('speaks the runtime’s language in msg.text', async () => {
    setLanguage('de');
    await load();
    await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
    await waitUntil(() => sim.runningTasks().length === 0, 4000, 'the task ended');
    await delay(200);
    const { text } = await report({ period: 'last-24-hours' });
    assert.match(
      text,
      /^Letzte 24 Stunden \(\d\d\.\d\d\. \d\d:\d\d–\d\d\.\d\d\. \d\d:\d\d\): Optimize Database \(unter 1 s\)\./,
    );
    assert.match(text, /Das Journal beginnt erst/);
    assert.equal(lastStatus('report')?.text?.replace(/ \d\d:\d\d$/, ''), '1 Aktivität');
  });

  it('several report nodes of one server share one journal file; nothing is journaled without one', async () => {
    // A start node alone: no report node keeps a journal, so none is written.
    await loadFlow(
      flow(startNode({ wait: false, outputs: 1, wires: [['result']] })).filter(
        (node) => node.id !== 'report',
      ),
      { [SERVER_ID]: { token: TOKEN } },
    );
    await run('start', 'result');
    assert.equal(existsSync(journalPath(TEST_USER_DIR, SERVER_ID)), false);
    await helper.unload();

    await load(
      {
        id: 'second',
        type: 'plex-butler-report',
        name: 'weekly',
        period: 'last-24-hours',
        version: 2,
        wires: [['out']],
      },
      startNode({ wait: false, outputs: 1, wires: [['result']] }),
    );
    await run('start', 'result');
    await waitUntil(() => sim.runningTasks().length === 0, 4000, 'the task ended');
    await delay(200);
    const first = await report({}, 'report');
    const second = await report({}, 'second');
    assert.equal(second.payload.period, 'last-24-hours');
    assert.deepEqual(first.payload.activities, second.payload.activities);
    assert.equal(first.payload.activities.length, 1, 'one watcher, each event journaled once');
    assert.equal(first.payload.actions.length, 1);
    const files = readdirSync(TEST_USER_DIR).filter((name) =>
      name.startsWith('plex-butler-journal-'),
    );
    assert.deepEqual(files, [path.basename(journalPath(TEST_USER_DIR, SERVER_ID))]);
    await helper.unload();
    assert.equal(journalLines().filter((line) => line.k === 'stopped').length, 1, 'one clean stop');
  });

  it('msg.payload holds from, to, server, activities, actions, gaps and totals, times as ISO strings', async () => {
    await load(startNode());
    const finished = nextMessage('finished', 6000);
    await run('start', 'result');
    await finished;
    const { payload } = await report({ since: Date.now() - 60_000 });
    const iso = (value: unknown): boolean =>
      typeof value === 'string' && new Date(value).toISOString() === value;
    assert.deepEqual(Object.keys(payload).sort(), [
      'actions',
      'activities',
      'complete',
      'from',
      'gaps',
      'period',
      'server',
      'to',
      'totals',
    ]);
    assert.ok(iso(payload.from) && iso(payload.to), `${payload.from} ${payload.to}`);
    assert.equal(payload.server, 'Plex');
    const [activity] = payload.activities;
    assert.deepEqual(Object.keys(activity).sort(), [
      'durationMs',
      'ended',
      'endedAt',
      'progress',
      'running',
      'startSeen',
      'startedAt',
      'subtitle',
      'task',
      'title',
      'type',
    ]);
    assert.ok(iso(activity.startedAt) && iso(activity.endedAt));
    assert.equal(typeof activity.durationMs, 'number');
    assert.equal(activity.ended, true);
    assert.equal(activity.running, false);
    assert.equal(activity.startSeen, true);
    const [action] = payload.actions;
    assert.deepEqual(Object.keys(action).sort(), ['action', 'at', 'node', 'status', 'task']);
    assert.ok(iso(action.at));
    assert.deepEqual(action.node, { id: 'start', name: 'optimise' });
    // The minute before the journal began is a gap the report names.
    const [gap] = payload.gaps;
    assert.deepEqual(Object.keys(gap).sort(), ['from', 'reason', 'to']);
    assert.ok(iso(gap.from) && iso(gap.to));
    assert.equal(gap.reason, 'before-journal');
    assert.equal(payload.totals.activities, 1);
    assert.equal(payload.totals.actions, 1);
    assert.ok(payload.totals.missedMs > 50_000 && payload.totals.missedMs <= 60_000);
  });

  it('a Node-RED restart in the middle of the night: a gap from its stop to its start, in payload and text; a redeploy is none', async () => {
    await load();
    // Stopped and started again within REDEPLOY_MS: the nodes were replaced, nothing missed.
    await helper.unload();
    await load();
    const redeployed = await report({ period: 'last-24-hours' });
    assert.deepEqual(
      redeployed.payload.gaps.map((gap) => gap.reason),
      ['before-journal'],
    );
    const beforeStop = Date.now();
    await helper.unload();
    const stopped = Date.now();
    await delay(2500);
    const beforeStart = Date.now();
    await load();
    const started = Date.now();
    const { payload, text } = await report({ since: beforeStop - 1000 });
    const down = payload.gaps.filter((gap) => gap.reason === 'node-red-down');
    assert.equal(down.length, 1, JSON.stringify(payload.gaps));
    const from = Date.parse(down[0].from);
    const to = Date.parse(down[0].to);
    assert.ok(from >= beforeStop && from <= stopped, 'from: when it stopped');
    assert.ok(to >= beforeStart && to <= started, 'to: when it started again');
    assert.equal(payload.complete, false);
    assert.match(
      text,
      /Node-RED was not running (\d\d\/\d\d )?\d\d:\d\d–(\d\d\/\d\d )?\d\d:\d\d: what ran then may be missing\./,
    );
  });

  it('the server unreachable: a gap with from, to and the error code, in payload and text', async () => {
    await load();
    await sim.stop();
    try {
      await waitUntil(() => lastStatus('report')?.fill === 'yellow', 4000, 'unreachable');
      assert.equal(lastStatus('report')?.text, 'connection reset');
    } finally {
      await sim.start();
    }
    await waitUntil(() => lastStatus('report')?.fill === 'green', 6000, 'reachable again');
    const { payload, text } = await report({ period: 'last-24-hours' });
    const unreachable = payload.gaps.filter((gap) => gap.reason === 'unreachable');
    assert.equal(unreachable.length, 1, JSON.stringify(payload.gaps));
    assert.equal(unreachable[0].code, 'connection-reset');
    assert.ok(Date.parse(unreachable[0].to) > Date.parse(unreachable[0].from));
    assert.match(
      text,
      /Plex was unreachable (\d\d\/\d\d )?\d\d:\d\d–(\d\d\/\d\d )?\d\d:\d\d \(connection reset\)\./,
    );
  });

  it('an activity that began while Node-RED was down and still runs is picked up from GET /activities', async () => {
    // No progress notification while the test runs: GET /activities alone can tell of it.
    const slow = await startSimulator({
      token: TOKEN,
      taskDurationMs: 60_000,
      progressIntervalMs: 60_000,
    });
    try {
      await plexRequest(slow, 'POST', '/butler/RefreshLibraries');
      await delay(300);
      const reads = slow.exchanges.filter((exchange) => exchange.path === '/activities').length;
      await loadFlow(
        flow().map((node) => (node.id === SERVER_ID ? { ...node, url: slow.url } : node)),
        { [SERVER_ID]: { token: TOKEN } },
      );
      await waitUntil(
        () => slow.exchanges.filter((exchange) => exchange.path === '/activities').length > reads,
        4000,
        'the running activities were read',
      );
      await delay(200);
      const { payload, text } = await report({ period: 'last-24-hours' });
      assert.equal(payload.activities.length, 1, JSON.stringify(payload.activities));
      const [scan] = payload.activities;
      assert.equal(scan.task, 'RefreshLibraries');
      assert.equal(scan.startSeen, false, 'it began before the journal saw it');
      assert.equal(scan.running, true);
      assert.equal(scan.ended, false);
      // The start was not seen: a lower bound, or no length at all for under a second seen.
      assert.match(text, /library scan \((at least [^,]+|length unknown), still running\)/);
    } finally {
      await helper.unload();
      await deleteJournal(TEST_USER_DIR, SERVER_ID);
      await slow.stop();
    }
  });

  it('a journal that cannot be written: a warning, the report says so, nothing crashes', async () => {
    // A folder where the file should be: every write fails (EISDIR), as a full disk's ENOSPC.
    const file = journalPath(TEST_USER_DIR, SERVER_ID);
    mkdirSync(file);
    try {
      await load(startNode({ wait: false, outputs: 1, wires: [['result']] }));
      await run('start', 'result');
      await waitUntil(() => warnings('report').length > 0, 4000, 'a warning');
      assert.match(String(warnings('report')[0][0]), /journal/);
      const { payload, text } = await report({ period: 'last-24-hours' });
      assert.equal(payload.actions.length, 1, 'kept in memory');
      assert.equal(payload.complete, false);
      const failed = payload.gaps.filter((gap) => gap.reason === 'write-failed');
      assert.equal(failed.length, 1, JSON.stringify(payload.gaps));
      assert.equal(failed[0].code, 'EISDIR');
      assert.match(
        text,
        /The journal could not be saved (\d\d\/\d\d )?\d\d:\d\d–(\d\d\/\d\d )?\d\d:\d\d \(EISDIR\)/,
      );
      assert.equal(lastStatus('report')?.fill, 'green');
      await helper.unload();
      assert.ok(statSync(file).isDirectory(), 'a folder is never replaced');
    } finally {
      rmSync(file, { recursive: true, force: true });
    }
  });

  for (const [file, first, output, expected] of [
    [
      '05 - optimise, back up, notify',
      'optimise',
      'notify',
      /^Since the last report \(\d\d:\d\d–\d\d:\d\d\): database optimisation \(under 1 s\), database backup \(under 1 s\)\. Sent by Node-RED: start database optimisation \(started\), start database backup \(started\)\./,
    ],
    ['10 - morning report', 'last night', 'phone', /^Maintenance window (\d\d\/\d\d )?02:00–/],
  ] as const) {
    it(`example "${file}": the report's paragraph reaches the debug node standing for the phone`, async () => {
      const example = JSON.parse(
        readFileSync(path.join(__dirname, `../../examples/${file}.json`), 'utf8'),
      ) as Array<FlowNode & { name?: string }>;
      const serverId = example.find((node) => node.type === 'plex-butler-server')?.id ?? '';
      // Our nodes and the catch node as they are; the other core nodes become test helpers.
      const flowOfExample = example.map((node) =>
        node.type === 'plex-butler-server'
          ? { ...node, url: sim.url }
          : node.type === 'tab' || node.type === 'catch' || node.type.startsWith('plex-butler-')
            ? node
            : { id: node.id, type: 'helper', z: node.z },
      );
      const idOf = (name: string): string => {
        const node = example.find((entry) => entry.name === name);
        assert.ok(node, name);
        return node.id;
      };
      try {
        await loadFlow(flowOfExample as FlowNode[], { [serverId]: { token: TOKEN } });
        await delay(300);
        const shown = nextMessage<ReportMessage>(idOf(output), 8000);
        helper.getNode(idOf(first)).receive({ payload: Date.now() });
        const { text, payload } = await shown;
        assert.match(text, expected, text);
        assert.equal(payload.server, 'Plex');
      } finally {
        await helper.unload();
        await deleteJournal(TEST_USER_DIR, serverId);
      }
    });
  }

  it('admin routes: what the journal holds, and deleting it (a report node still deployed begins anew)', async () => {
    await load();
    await plexRequest(sim, 'POST', '/butler/BackupDatabase');
    await waitUntil(() => sim.runningTasks().length === 0, 4000, 'the backup ended');
    await delay(200);
    const info = flatAnswer(
      (await helper.request().post('/plex-butler/journal').send({ server: SERVER_ID })).body,
    );
    assert.equal(info.ok, true);
    assert.equal(info.exists, true);
    assert.equal(info.kept, true);
    assert.ok(Number(info.bytes) > 100);
    const deleted = flatAnswer(
      (await helper.request().post('/plex-butler/journal/delete').send({ server: SERVER_ID })).body,
    );
    assert.deepEqual(deleted, { ok: true, deleted: true, kept: true });
    const { payload, text } = await report({ period: 'last-24-hours' });
    assert.deepEqual(payload.activities, [], 'what was journaled is gone');
    assert.match(text, /The journal begins only at/);
    await helper.unload();
    const other = flatAnswer(
      (await helper.request().post('/plex-butler/journal').send({ server: 'not-deployed' })).body,
    );
    assert.deepEqual(other, { ok: true, exists: false, bytes: 0, kept: false });
    for (const server of ['../etc', '', 42]) {
      const response = await helper.request().post('/plex-butler/journal/delete').send({ server });
      assert.equal(response.status, 400);
      assert.equal(flatAnswer(response.body).code, 'invalid-config');
    }
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
