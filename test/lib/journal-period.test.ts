/**
 * The period of a report: the most recent maintenance window in local time, across midnight and
 * across the nights the clocks change, and the dates a user may give. The clock-change cases run
 * in a child process with TZ=Europe/Berlin, so they do not depend on the zone of the machine.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ButlerError, checkPeriod, maintenanceWindow, parseReportTime } from '../../lib';

const ROOT = join(__dirname, '..', '..');
const local = (day: number, hours: number, minutes = 0): number =>
  new Date(2026, 0, day, hours, minutes).getTime();

/** Runs a script in a child with the given time zone; its output is JSON. */
function inZone(zone: string, script: string): unknown {
  const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '--eval', script], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, TZ: zone },
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as unknown;
}

describe('journal: periods', function () {
  it('the most recent maintenance window: the one that ended, or the one running now', () => {
    assert.deepEqual(maintenanceWindow(2, 5, local(10, 6)), {
      from: local(10, 2),
      to: local(10, 5),
      end: local(10, 5),
    });
    // Inside the window: up to now.
    assert.deepEqual(maintenanceWindow(2, 5, local(10, 3, 30)), {
      from: local(10, 2),
      to: local(10, 3, 30),
      end: local(10, 5),
    });
    // Before today's window began: last night's.
    assert.deepEqual(maintenanceWindow(2, 5, local(10, 1)), {
      from: local(9, 2),
      to: local(9, 5),
      end: local(9, 5),
    });
  });

  it('a window across midnight starts the evening before', () => {
    assert.deepEqual(maintenanceWindow(22, 5, local(10, 6)), {
      from: local(9, 22),
      to: local(10, 5),
      end: local(10, 5),
    });
    assert.deepEqual(maintenanceWindow(22, 5, local(10, 23)), {
      from: local(10, 22),
      to: local(10, 23),
      end: local(11, 5),
    });
    assert.deepEqual(maintenanceWindow(23, 0, local(11, 8)), {
      from: local(10, 23),
      to: local(11, 0),
      end: local(11, 0),
    });
    // The same hour twice: a whole day.
    assert.equal(maintenanceWindow(3, 3, local(10, 8)).end - local(10, 3), 24 * 3_600_000);
  });

  it('across the nights the clocks change (Europe/Berlin), whatever the zone of this machine', function () {
    this.timeout(30_000);
    const lib = JSON.stringify(join(ROOT, 'lib'));
    const result = inZone(
      'Europe/Berlin',
      `
      const { maintenanceWindow, openJournal } = require(${lib});
      const fs = require('node:fs'), os = require('node:os'), path = require('node:path');
      const iso = (ms) => new Date(ms).toISOString();
      const window = (start, end, now) => {
        const w = maintenanceWindow(start, end, Date.parse(now));
        return [iso(w.from), iso(w.to)];
      };
      (async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plex-butler-dst-'));
        let now = Date.parse('2026-03-28T23:00:00Z');
        const journal = openJournal({ directory: dir, serverId: 'dst', now: () => now });
        const event = (event) => ({ event, uuid: 'a1', type: 'library.refresh.items',
          title: 'Refreshing', subtitle: 'Movies', progress: 0 });
        // 01:30 CET to 03:30 CEST: one hour, though the clock says two.
        now = Date.parse('2026-03-29T00:30:00Z');
        journal.activity(event('started'));
        now = Date.parse('2026-03-29T01:30:00Z');
        journal.activity(event('ended'));
        now = Date.parse('2026-03-29T08:00:00Z');
        const report = await journal.report({
          period: { kind: 'maintenance-window', startHour: 2, endHour: 5 } });
        await journal.release();
        fs.rmSync(dir, { recursive: true, force: true });
        process.stdout.write(JSON.stringify({
          spring: window(2, 5, '2026-03-29T08:00:00Z'),
          autumn: window(2, 5, '2026-10-25T08:00:00Z'),
          springAcrossMidnight: window(23, 4, '2026-03-29T08:00:00Z'),
          autumnAcrossMidnight: window(23, 4, '2026-10-25T08:00:00Z'),
          insideSpring: window(1, 4, '2026-03-29T01:30:00Z'),
          springAfterChange: window(4, 6, '2026-03-29T08:00:00Z'),
          autumnAfterChange: window(4, 6, '2026-10-25T08:00:00Z'),
          report: [report.from, report.to, report.activities[0].durationMs, report.text],
        }));
      })();`,
    );
    assert.deepEqual(result, {
      // 02:00 does not exist that night: the window begins when the clocks jump to 03:00.
      spring: ['2026-03-29T01:00:00.000Z', '2026-03-29T03:00:00.000Z'],
      // 02:00 happens twice: the first of them, four hours to 05:00.
      autumn: ['2026-10-25T00:00:00.000Z', '2026-10-25T04:00:00.000Z'],
      springAcrossMidnight: ['2026-03-28T22:00:00.000Z', '2026-03-29T02:00:00.000Z'],
      autumnAcrossMidnight: ['2026-10-24T21:00:00.000Z', '2026-10-25T03:00:00.000Z'],
      insideSpring: ['2026-03-29T00:00:00.000Z', '2026-03-29T01:30:00.000Z'],
      // Hours after the change are on the new offset: 04:00 is four clock hours, not real ones.
      springAfterChange: ['2026-03-29T02:00:00.000Z', '2026-03-29T04:00:00.000Z'],
      autumnAfterChange: ['2026-10-25T03:00:00.000Z', '2026-10-25T05:00:00.000Z'],
      report: [
        '2026-03-29T01:00:00.000Z',
        '2026-03-29T03:00:00.000Z',
        3_600_000,
        'Maintenance window 03:00–05:00: Refreshing Movies (1 h).',
      ],
    });
  });

  it('dates and times a user may give, in local time unless they name their offset', () => {
    assert.equal(parseReportTime('2026-01-10', 'since'), local(10, 0));
    assert.equal(parseReportTime('2026-01-10T02:30', 'since'), local(10, 2, 30));
    assert.equal(parseReportTime('2026-01-10 02:30', 'since'), local(10, 2, 30));
    assert.equal(parseReportTime('2026-01-10T02:30:00Z', 'since'), Date.UTC(2026, 0, 10, 2, 30));
    assert.equal(
      parseReportTime('2026-01-10T02:30:00+01:00', 'since'),
      Date.UTC(2026, 0, 10, 1, 30),
    );
    assert.equal(parseReportTime(1_768_000_000_000, 'since'), 1_768_000_000_000);
    assert.equal(parseReportTime(' 1768000000000 ', 'since'), 1_768_000_000_000);
    assert.equal(parseReportTime(new Date(local(10, 4)), 'until'), local(10, 4));
    for (const value of [
      'March 7',
      '2026-02-30',
      '2026-01-10T25:00',
      '10.01.2026',
      '',
      Number.NaN,
      1e20,
      -5,
      {},
      null,
      new Date('x'),
    ]) {
      assert.throws(
        () => parseReportTime(value, 'until'),
        (error: unknown) =>
          error instanceof ButlerError &&
          error.code === 'invalid-config' &&
          /the period's until must be epoch milliseconds or an ISO 8601 date/.test(error.message),
        String(value),
      );
    }
  });

  it('a period as a message may give it: a kind as text, or an object with its kind', () => {
    assert.deepEqual(checkPeriod(undefined), { kind: 'since-last-report' });
    assert.deepEqual(checkPeriod('last-24-hours'), { kind: 'last-24-hours' });
    assert.deepEqual(checkPeriod({ kind: 'maintenance-window', startHour: 22, endHour: 5 }), {
      kind: 'maintenance-window',
      startHour: 22,
      endHour: 5,
    });
    assert.deepEqual(checkPeriod({ kind: 'between', since: '2026-01-10', until: '' }), {
      kind: 'between',
      since: local(10, 0),
    });
    for (const value of ['maintenance-window', ['last-24-hours'], 7, { kind: 'tonight' }]) {
      assert.throws(() => checkPeriod(value), ButlerError);
    }
  });
});
