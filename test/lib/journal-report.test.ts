/**
 * Reports from the journal: what a person reads in the morning, in en-US and de, and the data
 * beside it: which activities a period holds, what they are called, what the journal missed.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUTLER_ERROR_CODES,
  STATIC_TASK_NAMES,
  formatMessage,
  interpolate,
  lookup,
  openJournal,
  type Catalog,
  type Journal,
  type JournalReport,
} from '../../lib';
import { rejectsWithCode } from '../support/errors';

const ROOT = join(__dirname, '..', '..');
const catalogs = Object.fromEntries(
  ['en-US', 'de'].map((lang) => [
    lang,
    JSON.parse(readFileSync(join(ROOT, 'lib/locales', lang, 'messages.json'), 'utf8')) as Catalog,
  ]),
);
/** As Node-RED's RED._ words a key of the library's catalog in the runtime's language. */
const wordsIn =
  (lang: string) =>
  (key: string, params: Record<string, string | number>): string =>
    interpolate(lookup(catalogs[lang], key) ?? key, params);

const at = (hours: number, minutes = 0, seconds = 0, day = 10): number =>
  new Date(2026, 0, day, hours, minutes, seconds).getTime();
const iso = (ms: number): string => new Date(ms).toISOString();
const WINDOW = { kind: 'maintenance-window', startHour: 2, endHour: 5 } as const;

describe('journal: reports', function () {
  let dir: string;
  let journal: Journal;
  let time: number;

  function openAt(start: number): Journal {
    time = start;
    journal = openJournal({ directory: dir, serverId: 'srv', server: 'Attic', now: () => time });
    return journal;
  }

  function activity(
    event: 'started' | 'updated' | 'ended',
    uuid: string,
    type: string,
    title: string,
    subtitle = '',
    progress = 0,
  ) {
    journal.activity({ event, uuid, type, title, subtitle, progress });
  }

  /** An activity from start to end (local times as [hours, minutes, seconds]). */
  function ran(
    uuid: string,
    from: number,
    to: number,
    type: string,
    title: string,
    subtitle = '',
    task?: string,
  ): void {
    time = from;
    activity('started', uuid, type, title, subtitle, 0);
    if (task) journal.tie(uuid, task);
    time = to;
    activity('ended', uuid, type, title, subtitle, 100);
  }

  const node = (id: string, name = '') => ({ id, name });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'plex-butler-report-'));
  });
  afterEach(async () => {
    await journal.release();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The night of the issue's example, as the nodes would have journaled it. */
  async function night(): Promise<JournalReport> {
    openAt(at(1, 30));
    time = at(2);
    journal.taskAction({
      action: 'start',
      task: 'OptimizeDatabase',
      status: 'started',
      node: node('start1', 'Nightly'),
    });
    // No public source gives the type a database optimisation shows: the start node's tie names it.
    ran(
      'o1',
      at(2, 0, 1),
      at(2, 2, 11),
      'simulator.OptimizeDatabase',
      'Optimize Database',
      '',
      'OptimizeDatabase',
    );
    time = at(2, 3);
    journal.taskAction({
      action: 'start',
      task: 'BackupDatabase',
      status: 'started',
      node: node('start2', 'Backup'),
    });
    ran(
      'b1',
      at(2, 3),
      at(2, 3, 45),
      'simulator.BackupDatabase',
      'Backup Database',
      '',
      'BackupDatabase',
    );
    // Preview thumbnails, by their type (seen from real servers): three libraries, overlapping.
    ran('p1', at(2, 5), at(2, 40), 'media.generate.bif', 'Generating thumbnails', 'Movies');
    ran('p2', at(2, 30), at(3), 'media.generate.bif', 'Generating thumbnails', 'TV Shows');
    ran('p3', at(2, 50), at(3, 8), 'media.generate.bif', 'Generating thumbnails', 'Music');
    time = at(3, 10);
    journal.unreachable('connection-refused');
    time = at(3, 25);
    journal.reachable();
    time = at(4);
    journal.taskAction({
      action: 'stop',
      task: 'DeepMediaAnalysis',
      status: 'not-running',
      node: node('stop1', 'Stop analysis'),
    });
    // A type public code ties to two tasks: named by its own title, not guessed.
    ran('r1', at(4, 10), at(4, 12), 'library.refresh.items', 'Refreshing', 'Movies');
    // Outside the window: not in its report.
    ran('late', at(5, 30), at(5, 40), 'media.generate.bif', 'Generating thumbnails', 'Movies');
    time = at(6);
    return journal.report({ period: WINDOW, translate: wordsIn('de') });
  }

  it('the morning report of a night, in en-US and de', async () => {
    const report = await night();
    assert.equal(
      formatMessage(report.textRef),
      'Maintenance window 02:00–05:00: database optimisation (2 min 10 s), database backup ' +
        '(45 s), preview thumbnails (3×, 1 h 3 min), Refreshing Movies (2 min). Sent by ' +
        'Node-RED: start database optimisation (started), start database backup (started), ' +
        'stop deep media analysis (not running). Plex was unreachable 03:10–03:25 (connection ' +
        'refused).',
    );
    assert.equal(
      report.text,
      'Wartungsfenster 02:00–05:00: Datenbankoptimierung (2 Min. 10 s), Datenbanksicherung ' +
        '(45 s), Vorschaubilder (3×, 1 Std. 3 Min.), Refreshing Movies (2 Min.). Von Node-RED ' +
        'gesendet: Start Datenbankoptimierung (gestartet), Start Datenbanksicherung ' +
        '(gestartet), Stopp Tiefenanalyse der Medien (lief nicht). Plex war 03:10–03:25 nicht ' +
        'erreichbar (Verbindung abgelehnt).',
    );
    assert.equal(report.from, iso(at(2)));
    assert.equal(report.to, iso(at(5)));
    assert.equal(report.server, 'Attic');
    assert.equal(report.period, 'maintenance-window');
    assert.deepEqual(report.activities[0], {
      type: 'simulator.OptimizeDatabase',
      title: 'Optimize Database',
      subtitle: '',
      task: 'OptimizeDatabase',
      startedAt: iso(at(2, 0, 1)),
      endedAt: iso(at(2, 2, 11)),
      durationMs: 130_000,
      progress: 100,
      ended: true,
      running: false,
      startSeen: true,
    });
    assert.deepEqual(
      report.activities.map((entry) => [entry.subtitle || entry.title, entry.task]),
      [
        ['Optimize Database', 'OptimizeDatabase'],
        ['Backup Database', 'BackupDatabase'],
        ['Movies', 'GenerateMediaIndexFiles'],
        ['TV Shows', 'GenerateMediaIndexFiles'],
        ['Music', 'GenerateMediaIndexFiles'],
        ['Movies', undefined],
      ],
    );
    assert.deepEqual(report.actions[2], {
      at: iso(at(4)),
      action: 'stop',
      task: 'DeepMediaAnalysis',
      status: 'not-running',
      node: { id: 'stop1', name: 'Stop analysis' },
    });
    assert.deepEqual(report.gaps, [
      {
        from: iso(at(3, 10)),
        to: iso(at(3, 25)),
        reason: 'unreachable',
        code: 'connection-refused',
      },
    ]);
    assert.deepEqual(report.totals, {
      activities: 6,
      ended: 6,
      running: 0,
      notSeenToEnd: 0,
      actions: 3,
      failedActions: 0,
      scheduleChanges: 0,
      missedMs: 15 * 60_000,
    });
    assert.equal(report.complete, false);
  });

  it('an activity is named after a task only where that is known, else by its own title', async () => {
    openAt(at(1));
    // Tied by a start node before its first event arrived: the tie waits for it.
    journal.tie('x1', 'CleanOldBundles');
    ran('x1', at(2), at(2, 1), 'simulator.CleanOldBundles', 'Clean Old Bundles');
    // Seen from real servers, one task each.
    ran('x2', at(2, 2), at(2, 3), 'provider.epg.load', 'Refreshing EPG');
    ran('x3', at(2, 4), at(2, 5), 'media.generate.intros', 'Detecting intros', 'TV Shows');
    // Unknown, or seen with two candidate tasks: no task.
    ran('x4', at(2, 6), at(2, 7), 'library.update.item.metadata', 'Updating metadata', 'Movies');
    ran('x5', at(2, 8), at(2, 9), 'some.new.type', 'Doing something');
    // A task name without words in the catalog: the name itself.
    ran(
      'x6',
      at(2, 10),
      at(2, 11),
      'simulator.ProcessAssets',
      'Process Assets',
      '',
      'ProcessAssets',
    );
    time = at(6);
    const report = await journal.report({ period: WINDOW });
    assert.deepEqual(
      report.activities.map((entry) => entry.task),
      [
        'CleanOldBundles',
        'RefreshEpgGuides',
        'ButlerTaskGenerateIntroMarkers',
        undefined,
        undefined,
        'ProcessAssets',
      ],
    );
    assert.equal(
      report.text,
      'Maintenance window 02:00–05:00: clean-up of old bundles (1 min), EPG guide refresh ' +
        '(1 min), intro markers (1 min), Updating metadata Movies (1 min), Doing something ' +
        '(1 min), ProcessAssets (1 min).',
    );
  });

  it('since the last report: each node from the end of its own previous report, kept over a restart', async () => {
    openAt(at(1));
    ran('a', at(2), at(2, 30), 'media.generate.bif', 'Thumbnails');
    ran('b', at(6), at(7), 'media.generate.bif', 'Thumbnails');
    time = at(6, 0);
    const first = await journal.report({ period: WINDOW, node: node('report1') });
    assert.equal(first.to, iso(at(5)));
    time = at(8);
    const second = await journal.report({ node: node('report1') });
    assert.equal(second.period, 'since-last-report');
    assert.deepEqual([second.from, second.to], [iso(at(5)), iso(at(8))]);
    assert.equal(second.activities.length, 1);
    assert.match(
      second.text,
      /^Since the last report \(05:00–08:00\): preview thumbnails \(1 h\)\.$/,
    );
    // Another node has made no report yet: from the journal's beginning, which it saw whole.
    const other = await journal.report({ period: 'since-last-report', node: node('report2') });
    assert.deepEqual([other.from, other.complete], [iso(at(1)), true]);
    assert.equal(other.activities.length, 2);
    await journal.release();
    openAt(at(9));
    const third = await journal.report({ node: node('report1') });
    assert.deepEqual([third.from, third.to], [iso(at(8)), iso(at(9))]);
    assert.equal(third.activities.length, 0);
  });

  it('a period with nothing in it says so; one the journal did not fully see says which part', async () => {
    openAt(at(2, 30));
    await journal.ready();
    time = at(6);
    let report = await journal.report({ period: WINDOW });
    assert.equal(
      report.text,
      'Maintenance window 02:00–05:00: nothing ran that Node-RED saw. The journal begins only ' +
        'at 02:30: it did not see the time before.',
    );
    assert.deepEqual(report.gaps, [
      { from: iso(at(2)), to: iso(at(2, 30)), reason: 'before-journal' },
    ]);
    assert.equal(report.complete, false);
    assert.equal(report.totals.missedMs, 30 * 60_000);
    time = at(6, 0, 0, 11);
    report = await journal.report({ period: WINDOW, translate: wordsIn('de') });
    assert.equal(report.text, 'Wartungsfenster 02:00–05:00: Node-RED hat nichts laufen sehen.');
    assert.deepEqual([report.gaps, report.complete], [[], true]);
  });

  it('holds every activity that overlaps the period, with what is known of it', async () => {
    openAt(at(0));
    ran('before', at(1), at(1, 30), 'x', 'Before');
    ran('across', at(1, 50), at(2, 10), 'x', 'Across the start');
    ran('after', at(5, 10), at(5, 20), 'x', 'After');
    time = at(4, 50);
    activity('started', 'running', 'x', 'Still running', '', 10);
    time = at(4, 55);
    activity('updated', 'running', 'x', 'Still running', '', 40);
    time = at(6);
    const report = await journal.report({ period: WINDOW });
    assert.deepEqual(
      report.activities.map((entry) => [entry.title, entry.ended, entry.running, entry.durationMs]),
      [
        ['Across the start', true, false, 20 * 60_000],
        ['Still running', false, true, 70 * 60_000],
      ],
    );
    assert.equal(report.activities[1].endedAt, null);
    assert.equal(report.activities[1].progress, 40);
    assert.match(report.text, /Still running \(1 h 10 min, still running\)/);
    // The same period given as dates: ISO text, epoch ms.
    const between = await journal.report({
      period: { kind: 'between', since: new Date(at(2)).toISOString(), until: at(5) },
    });
    assert.deepEqual(between.activities, report.activities);
    assert.match(between.text, /^02:00–05:00: /);
  });

  it('an activity first seen running and gone within a second: its length unknown, not "at least under 1 s"', async () => {
    openAt(at(0));
    time = at(3);
    activity('updated', 'glimpse', 'x', 'Seen late', '', 50);
    time = at(3) + 400;
    activity('ended', 'glimpse', 'x', 'Seen late', '', 100);
    time = at(6);
    assert.match((await journal.report({ period: WINDOW })).text, /Seen late \(length unknown\)/);
    const german = await journal.report({ period: WINDOW, translate: wordsIn('de') });
    assert.match(german.text, /Seen late \(Dauer unbekannt\)/);
  });

  it('sums up what is too long for a paragraph: more activities, actions and outages', async () => {
    openAt(at(1));
    for (let index = 0; index < 9; index++) {
      ran(`t${index}`, at(2, index), at(2, index, 30), 'x', `Work ${index}`);
    }
    for (let index = 0; index < 6; index++) {
      time = at(3, index);
      journal.taskAction({
        action: 'start',
        task: 'RefreshLibraries',
        ...(index === 0 ? { error: 'timeout' as const } : { status: 'already-running' as const }),
        node: node('start1'),
      });
    }
    for (let index = 0; index < 3; index++) {
      time = at(4, index * 10);
      journal.unreachable('timeout');
      time = at(4, index * 10 + 2);
      journal.reachable();
    }
    time = at(6);
    const report = await journal.report({ period: WINDOW });
    assert.equal(
      report.text,
      'Maintenance window 02:00–05:00: Work 0 (30 s), Work 1 (30 s), Work 2 (30 s), Work 3 ' +
        '(30 s), Work 4 (30 s), Work 5 (30 s), +3 more. Sent by Node-RED: start library scan ' +
        '(failed: timeout), start library scan (already running), start library scan (already ' +
        'running), start library scan (already running), +2 more. Plex was unreachable 3 times, ' +
        '6 min in all.',
    );
    assert.deepEqual(report.actions[0], {
      at: iso(at(3)),
      action: 'start',
      task: 'RefreshLibraries',
      status: 'failed',
      error: 'timeout',
      node: { id: 'start1', name: '' },
    });
    assert.equal(report.totals.failedActions, 1);
  });

  it('refuses a period that is not one, saying what is allowed', async () => {
    openAt(at(1));
    const cases: Array<[unknown, RegExp]> = [
      [
        'yesterday',
        /the report period "yesterday" is not one of since-last-report, maintenance-window, last-24-hours, between/,
      ],
      [
        { kind: 'maintenance-window', startHour: 2, endHour: 24 },
        /whole numbers 0-23 \(got 2 and 24\)/,
      ],
      [
        { kind: 'maintenance-window', startHour: '2', endHour: 5 },
        /whole numbers 0-23 \(got "2" and 5\)/,
      ],
      [
        { kind: 'between', since: 'March 7' },
        /the period's since must be epoch milliseconds or an ISO 8601 date .*\(got "March 7"\)/,
      ],
      [{ kind: 'between', since: '2026-02-30' }, /\(got "2026-02-30"\)/],
      [{ kind: 'between', since: at(3), until: at(2) }, /the period starts \(.*\) after it ends/],
      [{ kind: 'between' }, /the period's since must be/],
    ];
    for (const [period, words] of cases) {
      const error = await rejectsWithCode(
        journal.report({ period: period as never }),
        'invalid-config',
      );
      assert.match(error.message, words);
    }
    const error = await rejectsWithCode(
      journal.report({ node: { id: 'no spaces', name: '' } }),
      'invalid-config',
    );
    assert.match(error.message, /not a Node-RED node id/);
  });

  it('every key the journal words with is in both catalogs, with words for every task', () => {
    const sources = readdirSync(join(ROOT, 'lib/journal'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(ROOT, 'lib/journal', file), 'utf8'))
      .join('\n');
    const literal = [...sources.matchAll(/message\(\s*'(journal\.[a-zA-Z.-]+)'/g)].map(
      (match) => match[1],
    );
    assert.ok(literal.length > 30, `${literal.length} keys found`);
    // Keys the code builds from a value.
    const built = [
      ...['sinceLastReport', 'window', 'last24Hours', 'between'].map((k) => `journal.period.${k}`),
      ...['started', 'already-running', 'stopped', 'not-running', 'changed', 'unchanged'].map(
        (status) => `journal.status.${status}`,
      ),
      ...['start', 'stop'].map((action) => `journal.action.${action}`),
      ...['unreachable', 'nodeRedDown', 'writeFailed'].map((gap) => `journal.gap.${gap}Many`),
      ...['period', 'windowHours', 'time', 'order'].map((key) => `journal.errors.${key}`),
      ...['readFailed', 'writeFailed'].map((key) => `journal.warnings.${key}`),
      ...STATIC_TASK_NAMES.map((task) => `journal.task.${task}`),
      ...BUTLER_ERROR_CODES.map((code) => `status.${code}`),
    ];
    for (const key of [...literal, ...built]) {
      for (const lang of ['en-US', 'de']) assert.ok(lookup(catalogs[lang], key), `${lang}: ${key}`);
    }
  });
});
