/**
 * The journal file: real files in a temporary folder, shared by several holders, written by a
 * queue, read back after a clean stop, a kill and a torn line, kept within its bounds, and
 * still working when the disk refuses writes.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ActivityWatcher,
  ButlerClient,
  ButlerError,
  JOURNAL_DEFAULTS,
  deleteJournal,
  findJournal,
  openJournal,
  parseJournal,
  type Journal,
  type JournalOptions,
  type JournalWarning,
} from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const MINUTE = 60_000;
/** A night in January, in the machine's local time (no clock change near it anywhere). */
const at = (hours: number, minutes = 0, seconds = 0): number =>
  new Date(2026, 0, 10, hours, minutes, seconds).getTime();

class Clock {
  constructor(public time: number) {}
  readonly now = (): number => this.time;
  set(time: number): void {
    this.time = time;
  }
}

function lines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const activity = (
  event: 'started' | 'updated' | 'ended',
  uuid: string,
  progress = 0,
  type = 'library.refresh.items',
  title = 'Refreshing',
  subtitle = 'Movies',
) => ({ event, uuid, type, title, subtitle, progress });

describe('journal: the file', function () {
  let dir: string;
  let held: Journal[];
  let warnings: JournalWarning[];

  function open(options: Partial<JournalOptions> = {}): Journal {
    const journal = openJournal({ directory: dir, serverId: 'srv1', ...options });
    journal.on('warning', (warning) => warnings.push(warning));
    held.push(journal);
    return journal;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'plex-butler-journal-'));
    held = [];
    warnings = [];
  });
  afterEach(async () => {
    for (const journal of held) await journal.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is one journal per file: two report nodes share it, the last release writes "stopped"', async () => {
    const clock = new Clock(at(2));
    const first = open({ now: clock.now });
    const second = open({ now: clock.now });
    assert.equal(first.path, join(dir, 'plex-butler-journal-srv1.jsonl'));
    assert.equal(second.path, first.path);
    first.activity(activity('started', 'a1'));
    // The same event from the second node is the same activity, not a second one.
    second.activity(activity('started', 'a1'));
    clock.set(at(2, 5));
    second.activity(activity('ended', 'a1', 100));
    await first.release();
    await first.release();
    assert.equal(second.released, false, 'the other holder still has it');
    await second.flush();
    assert.notEqual(lines(first.path).at(-1)?.k, 'stopped');
    await second.release();
    const written = lines(first.path);
    assert.equal(written.at(-1)?.k, 'stopped');
    assert.equal(written.filter((line) => line.e === 'started').length, 1);
    const again = open({ now: clock.now });
    const report = await again.report({ period: { kind: 'last-24-hours' } });
    assert.equal(report.activities.length, 1);
    assert.equal(report.activities[0].durationMs, 5 * MINUTE);
    await assert.rejects(first.report(), ButlerError);
  });

  it('serializes writers: 8 holders writing at once leave whole lines, each record once, in order', async () => {
    const writers = Array.from({ length: 8 }, () => open());
    await Promise.all(
      writers.map(async (journal, writer) => {
        for (let index = 0; index < 300; index++) {
          journal.taskAction({
            action: index % 2 === 0 ? 'start' : 'stop',
            task: 'BackupDatabase',
            status: index % 2 === 0 ? 'started' : 'stopped',
            node: { id: `w${writer}`, name: `${index}` },
          });
          if (index % 7 === writer % 7) await new Promise((resolve) => setImmediate(resolve));
          if (index % 50 === 0) await journal.flush();
        }
      }),
    );
    const path = writers[0].path;
    for (const journal of writers) await journal.release();
    const text = readFileSync(path, 'utf8');
    assert.ok(text.endsWith('\n'));
    const written = lines(path); // JSON.parse of every line: none torn, none merged
    assert.equal(parseJournal(text).skipped, 0);
    const actions = written.filter((line) => line.k === 'action');
    assert.equal(actions.length, 8 * 300);
    for (let writer = 0; writer < 8; writer++) {
      const names = actions
        .filter((line) => (line.node as { id: string }).id === `w${writer}`)
        .map((line) => Number((line.node as { name: string }).name));
      assert.deepEqual(
        names,
        Array.from({ length: 300 }, (_, index) => index),
        `writer ${writer}`,
      );
    }
    // Only the last holder's release closed it.
    assert.equal(written.filter((line) => line.k === 'stopped').length, 1);
    assert.equal(written.at(-1)?.k, 'stopped');
  });

  it('a holder that comes back while the last one is still closing waits for its "stopped" line', async () => {
    const first = open();
    for (let index = 0; index < 200; index++) first.activity(activity('started', `a${index}`));
    const leaving = first.release();
    const back = open();
    back.taskAction({
      action: 'start',
      task: 'all',
      status: 'started',
      node: { id: 'back', name: '' },
    });
    await leaving;
    await back.release();
    const kinds = lines(back.path).map((line) => line.k);
    const stopped = kinds.indexOf('stopped');
    assert.ok(stopped > 200, 'the first journal wrote all it had, then "stopped"');
    assert.equal(kinds.lastIndexOf('start'), stopped + 1, 'then the second one began');
    assert.equal(kinds.at(-2), 'action');
    assert.equal(kinds.at(-1), 'stopped');
  });

  it('a report read back after a restart is the report made before it', async () => {
    const clock = new Clock(at(1, 50));
    const journal = open({ now: clock.now });
    await journal.ready();
    clock.set(at(2));
    journal.activity(activity('started', 'a1', 0, 'media.generate.bif', 'Generating', 'Movies'));
    journal.tie('a2', 'OptimizeDatabase');
    journal.activity(activity('started', 'a2', -1, 'x', 'Optimizing', ''));
    clock.set(at(2, 2, 10));
    journal.activity(activity('ended', 'a2', 100, 'x', 'Optimizing', ''));
    journal.unreachable('connection-refused');
    clock.set(at(2, 30));
    journal.reachable();
    journal.scheduleChange({
      settings: { ButlerStartHour: 3, ButlerTaskDeepMediaAnalysis: false },
      status: 'changed',
      node: { id: 'sched1', name: 'Summer hours' },
    });
    clock.set(at(6));
    const period = { kind: 'maintenance-window', startHour: 2, endHour: 5 } as const;
    const before = await journal.report({ period });
    await journal.release();
    held = [];
    const reopened = open({ now: clock.now });
    const after = await reopened.report({ period });
    assert.deepEqual(after, before);
    assert.equal(after.activities.length, 2);
    assert.deepEqual(after.actions, [
      {
        at: new Date(at(2, 30)).toISOString(),
        action: 'schedule',
        settings: { ButlerStartHour: '3', ButlerTaskDeepMediaAnalysis: 'false' },
        status: 'changed',
        node: { id: 'sched1', name: 'Summer hours' },
      },
    ]);
  });

  it('a torn last line is cut off when read, and the next line starts on its own', async () => {
    const clock = new Clock(at(2));
    const journal = open({ now: clock.now });
    journal.activity(activity('started', 'a1'));
    await journal.release();
    // A kill in the middle of a write, and a line of something else before it.
    const whole = readFileSync(journal.path, 'utf8');
    writeFileSync(journal.path, `${whole}not json at all\n{"k":"activity","t":17680`);
    clock.set(at(3));
    const next = open({ now: clock.now });
    next.activity(activity('ended', 'a1', 100));
    await next.release();
    const text = readFileSync(journal.path, 'utf8');
    assert.ok(!text.includes('{"k":"activity","t":17680{'), 'no line glued to the torn one');
    const parsed = parseJournal(text);
    assert.equal(parsed.tornBytes, 0);
    assert.equal(parsed.skipped, 1, 'only the foreign line');
    const reread = open({ now: () => at(3, 10) });
    const report = await reread.report({ period: { kind: 'last-24-hours' } });
    assert.equal(report.activities.length, 1);
    assert.equal(report.activities[0].ended, true);
    assert.equal(report.activities[0].durationMs, 60 * MINUTE);
  });

  it('a crash in the middle of the night: the gap runs from the last heartbeat to the next start', async function () {
    this.timeout(20_000);
    // A real crash: the writing process is killed, no "stopped" line, no chance to clean up.
    const script = `
      const { openJournal } = require(${JSON.stringify(join(ROOT, 'lib'))});
      let now = ${at(2)};
      const journal = openJournal({ directory: ${JSON.stringify(dir)}, serverId: 'srv1',
        now: () => now, heartbeatMs: 20 });
      const event = (event, uuid, progress, type) => ({ event, uuid, type, title: 'Work',
        subtitle: uuid, progress });
      (async () => {
        await journal.ready();
        journal.activity(event('started', 'thumbs', 0, 'media.generate.bif'));
        journal.activity(event('started', 'scan', 0, 'library.update.section'));
        now += ${40 * MINUTE};
        journal.activity(event('updated', 'thumbs', 30, 'media.generate.bif'));
        journal.activity(event('updated', 'scan', 60, 'library.update.section'));
        await journal.flush();
        now += ${10 * MINUTE};
        await new Promise((resolve) => setTimeout(resolve, 150));
        await journal.flush();
        process.stdout.write('alive');
        process.kill(process.pid, 'SIGKILL');
      })();`;
    const run = runChild(script);
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    assert.equal(run.stdout, 'alive');
    const file = join(dir, 'plex-butler-journal-srv1.jsonl');
    const last = lines(file).at(-1);
    assert.deepEqual(last, { k: 'alive', t: at(2, 50) }, 'the heartbeat dated the crash');

    const journal = open({ now: () => at(3, 30) });
    let report = await journal.report({
      period: { kind: 'between', since: at(1), until: at(3, 30) },
    });
    assert.deepEqual(
      report.gaps.map((gap) => [gap.reason, gap.from, gap.to]),
      [
        ['before-journal', new Date(at(1)).toISOString(), new Date(at(2)).toISOString()],
        ['node-red-down', new Date(at(2, 50)).toISOString(), new Date(at(3, 30)).toISOString()],
      ],
    );
    assert.match(
      report.text,
      /Node-RED was not running 02:50–03:30: what ran then may be missing\./,
    );
    // The server still runs the thumbnails; the scan ended while Node-RED was down.
    journal.reconcile(
      [
        {
          uuid: 'thumbs',
          type: 'media.generate.bif',
          title: 'Work',
          subtitle: 'thumbs',
          progress: 80,
        },
      ],
      at(3, 30),
    );
    report = await journal.report({ period: { kind: 'between', since: at(1), until: at(3, 30) } });
    const [thumbs, scan] = report.activities;
    assert.deepEqual(
      {
        running: thumbs.running,
        ended: thumbs.ended,
        progress: thumbs.progress,
        task: thumbs.task,
      },
      { running: true, ended: false, progress: 80, task: 'GenerateMediaIndexFiles' },
    );
    assert.deepEqual(
      {
        running: scan.running,
        ended: scan.ended,
        endedAt: scan.endedAt,
        durationMs: scan.durationMs,
        progress: scan.progress,
      },
      { running: false, ended: false, endedAt: null, durationMs: 40 * MINUTE, progress: 60 },
    );
    assert.match(report.text, /library scan \(at least 40 min, end not seen, last at 60 %\)/);
    assert.match(report.text, /preview thumbnails \(1 h 30 min, still running\)/);
  });

  it('a clean stop dates the gap by its "stopped" line; a redeploy (stop and start at once) is none', async () => {
    const clock = new Clock(at(1));
    let journal = open({ now: clock.now });
    journal.activity(activity('started', 'a1'));
    clock.set(at(1, 10));
    await journal.release();
    // A redeploy: closed and opened again within the same second.
    clock.set(at(1, 10, 1));
    journal = open({ now: clock.now });
    await journal.ready();
    clock.set(at(2));
    await journal.release();
    clock.set(at(2, 45));
    held = [];
    journal = open({ now: clock.now });
    const report = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.deepEqual(
      report.gaps.filter((gap) => gap.reason === 'node-red-down').map((gap) => [gap.from, gap.to]),
      [[new Date(at(2)).toISOString(), new Date(at(2, 45)).toISOString()]],
    );
    // Known to run before the stop, not seen since: open until a snapshot says otherwise.
    assert.equal(report.activities[0].running, true);
    journal.reconcile([]);
    const after = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.equal(after.activities[0].running, false);
    assert.equal(after.activities[0].ended, false);
    // An end reported after that is not seen either: it is not taken as the end.
    journal.activity(activity('ended', 'a1', 100));
    const again = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.equal(again.activities.length, 1);
    assert.equal(again.activities[0].ended, false);
  });

  it('after an outage, an end is taken as seen only for an activity seen again since', async () => {
    const clock = new Clock(at(2));
    const journal = open({ now: clock.now });
    journal.activity(activity('started', 'quiet', 0, 'x', 'Work', 'quiet'));
    journal.activity(activity('started', 'busy', 0, 'x', 'Work', 'busy'));
    journal.activity(activity('started', 'polled', 0, 'x', 'Work', 'polled'));
    clock.set(at(2, 10));
    journal.unreachable('timeout');
    // Polling: the snapshot's events come before the state says the server answers again.
    clock.set(at(2, 20));
    journal.activity(activity('ended', 'polled', 40, 'x', 'Work', 'polled'));
    journal.reachable();
    clock.set(at(2, 21));
    journal.activity(activity('updated', 'busy', 50, 'x', 'Work', 'busy'));
    clock.set(at(2, 30));
    journal.activity(activity('ended', 'quiet', 100, 'x', 'Work', 'quiet'));
    journal.activity(activity('ended', 'busy', 100, 'x', 'Work', 'busy'));
    const report = await journal.report({ period: 'last-24-hours' });
    assert.deepEqual(
      report.activities.map((entry) => [entry.subtitle, entry.ended, entry.durationMs]),
      [
        ['quiet', false, 0],
        ['busy', true, 30 * MINUTE],
        ['polled', false, 0],
      ],
    );
  });

  it('a full disk (/dev/full): a warning, the report says which part may be missing, nothing thrown', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      // Every write to /dev/full fails with ENOSPC, as on a full disk.
      symlinkSync('/dev/full', join(dir, 'plex-butler-journal-srv1.jsonl'));
      const clock = new Clock(at(3));
      const journal = open({ now: clock.now });
      await journal.flush();
      clock.set(at(3, 10));
      journal.activity(activity('started', 'a1'));
      await journal.flush();
      assert.deepEqual(
        warnings.map((warning) => [warning.kind, warning.code]),
        [
          ['not-a-file', undefined],
          ['write-failed', 'ENOSPC'],
        ],
      );
      assert.match(warnings[1].message, /could not be written \(ENOSPC\)/);
      clock.set(at(3, 25));
      journal.activity(activity('ended', 'a1', 100));
      await journal.flush();
      assert.equal(warnings.length, 2, 'one warning per failure, not per line');
      const report = await journal.report({ period: { kind: 'last-24-hours' } });
      const gap = report.gaps.find((entry) => entry.reason === 'write-failed');
      assert.deepEqual(gap, {
        from: new Date(at(3)).toISOString(),
        to: new Date(at(3, 25)).toISOString(),
        reason: 'write-failed',
        code: 'ENOSPC',
        ongoing: true,
      });
      assert.match(
        report.text,
        /The journal could not be saved 01\/10 03:00–01\/10 03:25 \(ENOSPC\): after a restart that part may be missing\./,
      );
      // What is in memory is still reported.
      assert.equal(report.activities.length, 1);
      await journal.release();
      held = [];
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('a file replaced by a folder: writes fail; once it is gone, a rewrite restores what was missing', async () => {
    const clock = new Clock(at(2));
    const journal = open({ now: clock.now });
    journal.activity(activity('started', 'a1'));
    await journal.flush();
    rmSync(journal.path);
    mkdirSync(journal.path);
    clock.set(at(2, 10));
    journal.activity(activity('ended', 'a1', 100));
    journal.taskAction({
      action: 'start',
      task: 'BackupDatabase',
      status: 'started',
      node: { id: 'n1', name: '' },
    });
    await journal.flush();
    assert.deepEqual(
      warnings.map((warning) => [warning.kind, warning.code]),
      [['write-failed', 'EISDIR']],
    );
    let report = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.ok(report.gaps.some((gap) => gap.reason === 'write-failed' && gap.code === 'EISDIR'));
    // Tried again after a while, while the folder is still there: still failing, no crash.
    clock.set(at(2, 11));
    journal.activity(activity('started', 'a2'));
    await journal.flush();
    assert.ok(statSync(journal.path).isDirectory(), 'a folder is never replaced');
    rmdirSync(journal.path);
    clock.set(at(2, 12));
    journal.activity(activity('ended', 'a2', 100));
    await journal.flush();
    report = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.deepEqual(
      report.gaps.filter((gap) => gap.reason === 'write-failed'),
      [],
      'nothing missing any more',
    );
    await journal.release();
    held = [];
    const reread = open({ now: () => at(2, 20) });
    const restored = await reread.report({ period: { kind: 'last-24-hours' } });
    assert.deepEqual(
      restored.activities.map((entry) => [entry.startedAt, entry.ended]),
      [
        [new Date(at(2)).toISOString(), true],
        [new Date(at(2, 11)).toISOString(), true],
      ],
    );
    assert.equal(restored.actions.length, 1);
  });

  it('stays within its size bound after 100,000 activities, dropping the oldest', async function () {
    this.timeout(120_000);
    const clock = new Clock(at(0));
    const journal = open({ now: clock.now });
    await journal.ready();
    let largest = 0;
    for (let index = 0; index < 100_000; index++) {
      const uuid = `activity-${index}`;
      journal.activity(
        activity('started', uuid, 0, 'media.generate.bif', 'Generating', `Item ${index}`),
      );
      clock.set(clock.time + 1000);
      journal.activity(
        activity('ended', uuid, 100, 'media.generate.bif', 'Generating', `Item ${index}`),
      );
      clock.set(clock.time + 9000);
      if (index % 5000 === 4999) {
        await journal.flush();
        largest = Math.max(largest, statSync(journal.path).size);
      }
    }
    await journal.flush();
    const size = statSync(journal.path).size;
    assert.ok(largest <= JOURNAL_DEFAULTS.maxBytes, `${largest} bytes at most`);
    assert.ok(size <= JOURNAL_DEFAULTS.maxBytes, `${size} bytes`);
    // 100,000 activities over 11.6 days: more than the bound holds, so the oldest went.
    const parsed = parseJournal(readFileSync(journal.path, 'utf8'));
    assert.equal(parsed.skipped, 0);
    const kept = parsed.records.filter((record) => record.k === 'entry' || record.k === 'activity');
    assert.ok(kept.length > 10_000, `${kept.length} records kept`);
    const report = await journal.report({ period: { kind: 'between', since: at(0) } });
    assert.ok(report.activities.length < 100_000 && report.activities.length > 20_000);
    const [missed] = report.gaps;
    assert.equal(missed.reason, 'before-journal');
    const oldestKept = Date.parse(report.activities[0].startedAt);
    const coverage = Date.parse(missed.to);
    assert.ok(coverage <= oldestKept && oldestKept - coverage <= 10_000, 'complete from there');
    const lastDay = await journal.report({ period: { kind: 'last-24-hours' } });
    assert.equal(lastDay.activities.length, 8640);
    assert.equal(lastDay.complete, true);
  });

  it('drops what is older than the age bound', async () => {
    const clock = new Clock(at(2));
    let journal = open({ now: clock.now, maxAgeDays: 2 });
    journal.activity(activity('started', 'old'));
    clock.set(at(2, 10));
    journal.activity(activity('ended', 'old', 100));
    await journal.release();
    held = [];
    clock.set(at(2) + 3 * 86_400_000);
    journal = open({ now: clock.now, maxAgeDays: 2 });
    journal.activity(activity('started', 'new'));
    await journal.flush();
    const text = readFileSync(journal.path, 'utf8');
    assert.ok(!text.includes('"old"'), 'the old activity is gone from the file');
    const report = await journal.report({ period: { kind: 'between', since: at(0) } });
    assert.deepEqual(
      report.activities.map((entry) => entry.startedAt),
      [new Date(clock.time).toISOString()],
    );
    assert.equal(report.gaps[0].reason, 'before-journal');
    assert.equal(report.gaps[0].to, new Date(clock.time - 2 * 86_400_000).toISOString());
  });

  it('writes nothing it was not given to keep: no credentials, tokens, viewers or free-form data', async () => {
    const journal = open({
      server: 'https://alice:s3cret@plex.example.com:32400/plex?X-Plex-Token=tok-123#x',
    });
    journal.activity({
      ...activity('started', 'a1'),
      userID: 7,
      context: { viewer: 'Viewer Person' },
      token: 'tok-456',
    } as never);
    journal.taskAction({
      action: 'start',
      task: 'BackupDatabase',
      status: 'started',
      node: { id: 'n1', name: 'Nightly\u0000\nbackup', token: 'tok-789' } as never,
    });
    const report = await journal.report({ period: 'last-24-hours' });
    assert.equal(report.server, 'https://plex.example.com:32400/plex');
    await journal.flush();
    const text = readFileSync(journal.path, 'utf8');
    for (const secret of ['alice', 's3cret', 'tok-', 'Viewer', 'userID', 'context']) {
      assert.ok(!text.includes(secret), `${secret} is not in the file`);
    }
    assert.ok(text.includes('"name":"Nightly  backup"'));
  });

  it('takes no bad record: a warning names it, nothing is thrown, nothing written', async () => {
    const journal = open();
    await journal.ready();
    await journal.flush();
    const before = readFileSync(journal.path, 'utf8');
    journal.activity({ event: 'exploded', uuid: 'a1' } as never);
    journal.activity(activity('started', '../etc/passwd'));
    journal.taskAction({
      action: 'start',
      task: '../library',
      status: 'started',
      node: { id: 'n', name: '' },
    });
    journal.taskAction({ action: 'start', task: 'BackupDatabase', node: { id: 'n', name: '' } });
    journal.taskAction({
      action: 'start',
      task: 'BackupDatabase',
      status: 'started',
      node: { id: 'a b', name: '' },
    });
    journal.scheduleChange({
      settings: { FriendlyName: 'x' },
      status: 'changed',
      node: { id: 'n', name: '' },
    });
    journal.unreachable('exploded' as never);
    journal.tie('a1', 'not a task');
    journal.reconcile('nothing' as never);
    await journal.flush();
    assert.equal(readFileSync(journal.path, 'utf8'), before);
    assert.deepEqual(
      warnings.map((warning) => warning.kind),
      Array.from({ length: 9 }, () => 'ignored'),
    );
    assert.match(warnings[2].message, /not taken \(taskAction\)/);
  });

  it('refuses a server id that could leave the folder, before touching anything', () => {
    for (const serverId of ['../x', 'a/b', '', '..', 'x'.repeat(101)]) {
      assert.throws(
        () => openJournal({ directory: dir, serverId }),
        (error: unknown) => error instanceof ButlerError && error.code === 'invalid-config',
      );
    }
    assert.throws(() => openJournal({ directory: '', serverId: 'a' }), /no folder for the journal/);
  });

  it('records into the journal a report node keeps open, and nowhere when none is', async () => {
    assert.equal(findJournal(dir, 'srv1'), undefined);
    const journal = open();
    const writer = findJournal(dir, 'srv1');
    assert.ok(writer);
    writer.taskAction({
      action: 'stop',
      task: 'all',
      status: 'stopped',
      node: { id: 'stop1', name: '' },
    });
    const report = await journal.report({ period: 'last-24-hours' });
    assert.equal(report.actions.length, 1);
    await journal.release();
    held = [];
    assert.equal(findJournal(dir, 'srv1'), undefined);
    // A guest never held it: after the holder has gone, it records nothing.
    writer.taskAction({
      action: 'stop',
      task: 'all',
      status: 'stopped',
      node: { id: 'stop1', name: '' },
    });
    assert.equal(lines(journal.path).filter((line) => line.k === 'action').length, 1);
  });

  it('deleteJournal removes the file and stops a journal open on it', async () => {
    const journal = open();
    journal.activity(activity('started', 'a1'));
    await journal.flush();
    assert.ok(existsSync(journal.path));
    assert.equal(await deleteJournal(dir, 'srv1'), true);
    assert.ok(!existsSync(journal.path));
    journal.activity(activity('ended', 'a1'));
    await journal.flush();
    await journal.release();
    held = [];
    assert.ok(!existsSync(journal.path), 'nothing written after the deletion');
    assert.equal(await deleteJournal(dir, 'srv1'), false);
  });

  describe('with a simulated server', function () {
    const TOKEN = 'journal-Token-5150';
    let sim: PlexSimulator;
    let watcher: ActivityWatcher;

    beforeEach(async () => {
      sim = await startSimulator({ token: TOKEN, taskDurationMs: 3000, progressIntervalMs: 100 });
      watcher = new ActivityWatcher(
        { url: sim.url, token: TOKEN, clientIdentifier: 'journal-test' },
        { reconnectInitialMs: 50, reconnectMaxMs: 200 },
      );
    });
    afterEach(async () => {
      watcher.close();
      await sim.stop();
    });

    it('follows a watcher: the server’s activities, and the time it was unreachable', async function () {
      this.timeout(15_000);
      const first = open();
      const second = open();
      first.follow(watcher);
      second.follow(watcher);
      const ended: string[] = [];
      watcher.on('activity', (event) => {
        if (event.event === 'ended') ended.push(event.type);
      });
      watcher.start();
      await waitUntil(() => watcher.status.state === 'connected');
      await plexRequest(sim, 'POST', '/butler/GenerateMediaIndexFiles');
      await waitUntil(() => ended.length === 1, 6000, 'the activity ended');
      await sim.stop();
      await waitUntil(() => watcher.status.state === 'reconnecting');
      await sim.start();
      await waitUntil(() => watcher.status.state === 'connected');
      const report = await first.report({ period: 'last-24-hours' });
      assert.equal(report.activities.length, 1, 'two holders following one watcher: once');
      const [thumbnails] = report.activities;
      assert.equal(thumbnails.type, 'media.generate.bif');
      assert.equal(thumbnails.task, 'GenerateMediaIndexFiles');
      assert.equal(thumbnails.ended, true);
      assert.equal(thumbnails.progress, 100);
      const unreachable = report.gaps.filter((gap) => gap.reason === 'unreachable');
      assert.equal(unreachable.length, 1);
      // The first failure names it: the server closed the socket, or refused the next one.
      assert.ok(['connection-reset', 'connection-refused'].includes(unreachable[0].code ?? ''));
      assert.match(
        report.text,
        /Plex was unreachable \d\d\/\d\d \d\d:\d\d–\d\d\/\d\d \d\d:\d\d \(connection (reset|refused)\)\./,
      );
    });

    it('an end reported only after the server was back is not taken as seen', async function () {
      this.timeout(15_000);
      const journal = open();
      journal.follow(watcher);
      const events: string[] = [];
      watcher.on('activity', (event) => events.push(event.event));
      watcher.start();
      await waitUntil(() => watcher.status.state === 'connected');
      await plexRequest(sim, 'POST', '/butler/RefreshLibraries');
      await waitUntil(() => events.includes('started'));
      // Restarted, the server runs nothing: the watcher's snapshot reports the activity ended.
      await sim.stop();
      await waitUntil(() => watcher.status.state === 'reconnecting');
      await sim.start();
      await waitUntil(() => events.includes('ended'), 4000, 'the end from the snapshot');
      const report = await journal.report({ period: 'last-24-hours' });
      const [scan] = report.activities;
      assert.deepEqual([scan.ended, scan.running, scan.endedAt], [false, false, null]);
      // The start was not seen: a lower bound, or no length at all for under a second seen.
      assert.match(report.text, /library scan \((at least [^,]+|length unknown), end not seen/);
    });

    it('reconcile with GET /activities: work running before the journal began is opened, start not seen', async () => {
      await plexRequest(sim, 'POST', '/butler/RefreshLibraries');
      const client = new ButlerClient({
        url: sim.url,
        token: TOKEN,
        clientIdentifier: 'journal-test',
      });
      try {
        const journal = open();
        journal.reconcile(await client.listActivities());
        const report = await journal.report({ period: 'last-24-hours' });
        assert.equal(report.activities.length, 1);
        assert.deepEqual(
          [report.activities[0].task, report.activities[0].startSeen, report.activities[0].running],
          ['RefreshLibraries', false, true],
        );
        assert.match(
          report.text,
          /library scan \((at least [^,]+|length unknown), still running\)/,
        );
      } finally {
        client.close();
      }
    });
  });
});

function runChild(script: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['--require', 'tsx/cjs', '--eval', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 15_000,
    env: { ...process.env, ...env },
  });
}
