import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { STATIC_TASK_NAMES, TASK_NAME_PATTERN } from '../../lib';
import { prng } from '../support/prng';
import { startSimulator } from '../support/simulator';
import { helper } from '../support/node-red-helper';
import {
  errorOf,
  lastStatusText,
  loadReliabilityFlow,
  plexRequest,
  sendAndSettle,
  watchForCrashes,
  type CaughtError,
} from './harness';

const TOKEN = 'rel-Tok3n-fuzz-77aa';

const NASTY_STRINGS = [
  '',
  ' ',
  '../library/sections/1/refresh',
  '..%2F..%2Flibrary',
  '%2e%2e',
  '%2e%2e%2fbutler',
  'BackupDatabase?X-Plex-Token=x',
  'BackupDatabase#frag',
  'BackupDatabase/../../identity',
  'Backup\r\nX-Injected: 1',
  'Backup\nDatabase',
  'BackupDatabase ',
  ' BackupDatabase',
  'backupdatabase',
  'BACKUPDATABASE',
  'Backup Database',
  'ÖptimizeDatabase',
  'Optimize数据库',
  '🧹CleanOldBundles',
  'Clean\u0000Bundles',
  '\u202eesabataDpukcaB',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'all ',
  'ALL',
  '1BackupDatabase',
  'Backup-Database',
  'Backup_Database',
  'Backup.Database',
  '${PLEX_TOKEN}',
  '<script>alert(1)</script>',
  '"; DROP TABLE tasks; --',
  'NaN',
  'undefined',
  'null',
];

function randomString(random: () => number): string {
  const alphabet = 'abcXYZ019 ./%?#\r\n\t\\"\'<>{}()[]&=+-_~ÄéßΩ数😀\u0000\u202e';
  const length = Math.floor(random() * 40);
  let text = '';
  for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
  return text;
}

/** Inputs of every JSON type and then some, mixed with a few valid names. */
function generateInputs(count: number, seed: number): unknown[] {
  const random = prng(seed);
  const fixed: unknown[] = [
    ...NASTY_STRINGS,
    'x'.repeat(100_000),
    `A${'a'.repeat(1_000_000)}`,
    0,
    -1,
    42,
    3.14,
    Number.MAX_SAFE_INTEGER,
    NaN,
    Infinity,
    true,
    false,
    null,
    undefined,
    [],
    ['BackupDatabase'],
    {},
    { name: 'BackupDatabase' },
    JSON.parse('{"__proto__": {"polluted": true}}'),
    JSON.parse('{"constructor": {"prototype": {"polluted": true}}}'),
    Buffer.from('BackupDatabase'),
    new Date(0),
  ];
  const inputs = [...fixed];
  while (inputs.length < count) {
    const pick = random();
    if (pick < 0.45) inputs.push(randomString(random));
    else if (pick < 0.55)
      inputs.push(STATIC_TASK_NAMES[Math.floor(random() * STATIC_TASK_NAMES.length)]);
    else if (pick < 0.7) inputs.push(Math.floor(random() * 1e6) * (random() < 0.5 ? -1 : 1));
    else if (pick < 0.8)
      inputs.push(
        NASTY_STRINGS[Math.floor(random() * NASTY_STRINGS.length)] + randomString(random),
      );
    else if (pick < 0.9)
      inputs.push({ task: randomString(random), [randomString(random)]: random() });
    else inputs.push([randomString(random), random()]);
  }
  return inputs;
}

/** How msg.deadline is to be taken, by the rule the help states (not by the code under test). */
function deadlineVerdict(value: unknown): 'none' | 'ok' | 'refused' {
  if (value === undefined || value === null || value === '') return 'none';
  if (typeof value === 'string') {
    const text = value.trim();
    const clock = /^(\d{1,2}):(\d\d)$/.exec(text);
    if (clock) return Number(clock[1]) <= 23 && Number(clock[2]) <= 59 ? 'ok' : 'refused';
    if (!/^\d+(\.\d+)?$/.test(text)) return 'refused';
    value = Number(text);
  }
  if (typeof value !== 'number') return 'refused';
  return Number.isFinite(value) && value > 0 && value <= 10_080 ? 'ok' : 'refused';
}

/** Deadlines as a flow might compute them: minutes, times of day, and near misses of both. */
function generateDeadlines(count: number, seed: number): unknown[] {
  const random = prng(seed);
  const two = (n: number): string => String(n).padStart(2, '0');
  const fixed: unknown[] = [
    ...generateInputs(120, seed + 1),
    '05:00',
    '5:00',
    ' 05:00 ',
    '23:59',
    '00:00',
    '24:00',
    '12:60',
    '5:7',
    '05:00:00',
    '05h00',
    '5.00',
    '１２:００',
    '10080',
    '10080.0001',
    '0.0001',
    '0',
    '-0',
    '+5',
    '5e1',
    '0x10',
    ' 30 ',
    '\t30\n',
    -0,
    Number.MIN_VALUE,
    10_080,
    10_081,
    -Infinity,
  ];
  const deadlines = [...fixed];
  while (deadlines.length < count) {
    const pick = random();
    if (pick < 0.3)
      deadlines.push(`${two(Math.floor(random() * 30))}:${two(Math.floor(random() * 70))}`);
    else if (pick < 0.45)
      deadlines.push(`${Math.floor(random() * 30)}:${Math.floor(random() * 70)}`);
    else if (pick < 0.7) deadlines.push((random() - 0.1) * 12_000);
    else if (pick < 0.85) deadlines.push(String(Math.round(random() * 12_000) / 10));
    else deadlines.push(randomString(random));
  }
  return deadlines;
}

const EXPECTED_PATHS = /^\/(butler(\/[A-Za-z][A-Za-z0-9]*)?|identity|activities|:\/prefs)$/;

/** Schedule changes as a careless flow or a hostile one might send them. */
function generateScheduleChanges(count: number, seed: number): unknown[] {
  const random = prng(seed);
  const ids = [
    'FriendlyName',
    'ManualPortMappingPort',
    'GdmEnabled',
    'ButlerStartHour',
    'ButlerTaskBackupDatabase',
    'ButlerUpdateChannel',
    '__proto__',
    'constructor',
    'ButlerStartHour&FriendlyName=x',
    'ButlerEndHour\r\nX: 1',
    'GenerateBIFBehavior',
  ];
  const behaviorIds = [
    'GenerateBIFBehavior',
    'GenerateChapterThumbBehavior',
    'LoudnessAnalysisBehavior',
    'GenerateIntroMarkerBehavior',
    'GenerateCreditsMarkerBehavior',
    'GenerateVADBehavior',
    'MusicAnalysisBehavior',
    'generatebifbehavior',
    'GenerateAdMarkerBehavior',
    'LibraryVideoPlayedAtBehaviour',
    'Behavior',
    'FriendlyName',
    'ButlerStartHour',
    '__proto__',
    'GenerateBIFBehavior&FriendlyName=x',
  ];
  const behaviorValues = ['never', 'scheduled', 'asap', 'Never', 'ASAP', 'never ', 'sometimes'];
  const values = (): unknown => {
    const kinds = [
      () => Math.floor(random() * 40) - 5,
      () => random() < 0.5,
      () => randomString(random),
      () => null,
      () => ({ nested: random() }),
      () => [1, 2],
      () => 'x'.repeat(5000),
      () => 2.5,
    ];
    return kinds[Math.floor(random() * kinds.length)]();
  };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const changes: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.2) changes.push({ window: { startHour: values(), endHour: values() } });
    else if (roll < 0.4)
      changes.push({
        tasks: { [pick([...STATIC_TASK_NAMES, randomString(random), 'ReverseGeocode'])]: values() },
      });
    else if (roll < 0.6) changes.push({ settings: { [pick(ids)]: values() } });
    else if (roll < 0.7) changes.push({ settings: [{ id: pick(ids), value: values() }] });
    else if (roll < 0.8) changes.push({ backupPath: values(), [randomString(random)]: values() });
    else if (roll < 0.85)
      changes.push({
        behaviors: {
          [pick(behaviorIds)]: random() < 0.7 ? pick(behaviorValues) : values(),
          ...(random() < 0.3 ? { [pick(behaviorIds)]: pick(behaviorValues) } : {}),
        },
        ...(random() < 0.3 ? { window: { endHour: Math.floor(random() * 30) } } : {}),
      });
    else if (roll < 0.87)
      changes.push({ behaviors: pick([values(), randomString(random), [values()], null]) });
    else if (roll < 0.9)
      changes.push(
        JSON.parse(
          `{"__proto__": {"polluted": 1}, "window": {"startHour": ${Math.floor(random() * 30)}}}`,
        ),
      );
    else changes.push(pick([values(), randomString(random), [values()], {}]));
  }
  return changes;
}

/** Report periods as a careless flow or a hostile one might ask for them. */
function generateReportMessages(count: number, seed: number): Array<Record<string, unknown>> {
  const random = prng(seed);
  const now = Date.now();
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
  const times = (): unknown =>
    pick<() => unknown>([
      () => now - Math.floor(random() * 40 * 86_400_000),
      () => new Date(now - Math.floor(random() * 3 * 86_400_000)).toISOString(),
      () => new Date(now - Math.floor(random() * 86_400_000)).toISOString().slice(0, 16),
      () => new Date(now - Math.floor(random() * 5 * 86_400_000)).toISOString().slice(0, 10),
      () => pick(generateInputs(60, Math.floor(random() * 1e6))),
      () => randomString(random),
      () => Math.floor(random() * 2e15) - 1e15,
      () => '2026-02-30',
      () => '2026-03-29T02:30',
      () => '1e20',
      () => -0,
    ])();
  const hours = (): unknown =>
    pick<() => unknown>([
      () => Math.floor(random() * 30) - 3,
      () => random() * 24,
      () => String(Math.floor(random() * 24)),
      () => null,
    ])();
  const messages: Array<Record<string, unknown>> = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.2) messages.push({ since: times() });
    else if (roll < 0.4) messages.push({ since: times(), until: times() });
    else if (roll < 0.5) messages.push({ until: times() });
    else if (roll < 0.65)
      messages.push({
        period: pick([
          'since-last-report',
          'last-24-hours',
          'maintenance-window',
          'between',
          'weekly',
          'Last-24-Hours',
          '__proto__',
          ...NASTY_STRINGS,
        ]),
      });
    else if (roll < 0.8)
      messages.push({
        period: { kind: 'maintenance-window', startHour: hours(), endHour: hours() },
      });
    else if (roll < 0.9) messages.push({ period: { kind: 'between', since: times() } });
    else messages.push({ period: pick(generateInputs(60, Math.floor(random() * 1e6))) });
  }
  return messages;
}

describe('reliability: bad input fuzz', function () {
  this.timeout(120_000);
  let sim: PlexSimulator;
  let crashes: ReturnType<typeof watchForCrashes>;
  let tried = 0;

  before(async () => {
    crashes = watchForCrashes();
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 50 });
  });
  after(async () => {
    await sim.stop();
    console.log(`      fuzz: ${tried} inputs tried`);
    assert.deepEqual(crashes.stop(), []);
    assert.ok(tried >= 1000, `at least 1,000 inputs (tried ${tried})`);
  });
  afterEach(async () => {
    await helper.unload();
    await plexRequest(sim, 'DELETE', '/butler');
  });

  const variants: Array<{ type: string; where: 'task' | 'payload' }> = [
    { type: 'plex-butler-start', where: 'task' },
    { type: 'plex-butler-stop', where: 'payload' },
    { type: 'plex-butler-tasks', where: 'payload' },
  ];
  for (const [index, variant] of variants.entries()) {
    it(`${variant.type}: every generated msg.${variant.where} ends in a clear error or a correct result`, async () => {
      const taskType = variant.type === 'plex-butler-tasks' ? undefined : 'msg';
      await loadReliabilityFlow(
        sim,
        taskType
          ? { type: variant.type, task: 'task', taskType }
          : { type: variant.type, property: 'payload' },
        TOKEN,
      );
      const inputs = generateInputs(variant.type === 'plex-butler-tasks' ? 200 : 450, 1000 + index);
      const before = sim.exchanges.length;
      for (const input of inputs) {
        tried++;
        const outcome = await sendAndSettle({ [variant.where]: input, topic: 'fuzz' });
        if (outcome.kind === 'error') {
          const error = outcome.msg.error as CaughtError;
          assert.equal(
            error.code,
            'invalid-task',
            `${JSON.stringify(input)?.slice(0, 80)} → ${error.message}`,
          );
          assert.ok(error.message.length < 2000, 'a message a person can read');
          assert.match(error.message, /BackupDatabase/, `lists the valid tasks: ${error.message}`);
        } else {
          const payload = outcome.msg.payload as { task?: string; status?: string } | unknown[];
          if (Array.isArray(payload)) {
            assert.equal(variant.type, 'plex-butler-tasks');
            assert.equal(payload.length, STATIC_TASK_NAMES.length);
          } else {
            assert.ok(
              typeof input === 'string' && (STATIC_TASK_NAMES.includes(input) || input === 'all'),
              `unexpected success for ${JSON.stringify(input)?.slice(0, 80)}`,
            );
            assert.ok(
              ['started', 'already-running', 'stopped', 'not-running'].includes(
                payload.status ?? '',
              ),
            );
          }
        }
      }
      const sent = sim.exchanges.slice(before);
      for (const exchange of sent) {
        assert.match(exchange.path, EXPECTED_PATHS, `request with a bad path: ${exchange.url}`);
        const task = exchange.path.split('/')[2];
        if (task !== undefined) assert.ok(TASK_NAME_PATTERN.test(task));
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
    });
  }

  it('plex-butler-schedule: every generated change is refused before a request, or changes Butler settings and behaviours only', async () => {
    await loadReliabilityFlow(sim, { type: 'plex-butler-schedule', property: 'payload' }, TOKEN);
    const changes = generateScheduleChanges(400, 4242);
    const before = sim.exchanges.length;
    const outcomes = { written: 0, read: 0, refused: 0 };
    for (const change of changes) {
      tried++;
      const putsBefore = sim.stats.requestsByRoute['PUT /:/prefs'] ?? 0;
      const outcome = await sendAndSettle({ payload: change });
      const puts = (sim.stats.requestsByRoute['PUT /:/prefs'] ?? 0) - putsBefore;
      if (outcome.kind === 'error') {
        const error = outcome.msg.error as CaughtError;
        assert.equal(
          error.code,
          'invalid-setting',
          `${JSON.stringify(change)?.slice(0, 80)} → ${error.message}`,
        );
        assert.ok(error.message.length < 2000);
        assert.equal(puts, 0, 'nothing sent for a refused change');
        outcomes.refused++;
      } else {
        assert.ok(puts <= 1, 'one PUT at most');
        if (puts === 1) outcomes.written++;
        else outcomes.read++;
      }
    }
    console.log(
      `      schedule fuzz: ${changes.length} changes, ${outcomes.written} written, ${outcomes.read} read, ${outcomes.refused} refused`,
    );
    assert.ok(outcomes.refused > 100 && outcomes.written >= 5, JSON.stringify(outcomes));
    for (const exchange of sim.exchanges.slice(before)) {
      assert.match(exchange.path, EXPECTED_PATHS);
      if (exchange.method !== 'PUT') continue;
      const ids = [...new URLSearchParams(exchange.url.split('?')[1] ?? '').keys()];
      assert.ok(ids.length > 0);
      for (const id of ids) {
        assert.match(id, /^(Butler[A-Za-z]+|[A-Za-z]+Behavior)$/, `a PUT of ${id}`);
      }
    }
    const behaviors = sim.preferences.list().filter((setting) => setting.id.endsWith('Behavior'));
    assert.equal(behaviors.length, 7, 'no behaviour added');
    for (const setting of behaviors) {
      assert.ok(['never', 'scheduled', 'asap'].includes(String(setting.value)), setting.id);
    }
    assert.ok(
      behaviors.some((setting) => setting.value !== setting.default),
      'the fuzz changed a behaviour',
    );
    // What the fuzz may never have changed.
    assert.equal(sim.preferences.get('FriendlyName')?.value, '');
    assert.equal(sim.preferences.get('ManualPortMappingPort')?.value, 32400);
    assert.equal(sim.preferences.get('GdmEnabled')?.value, true);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });
  it('plex-butler-idle: every generated msg.deadline and msg.force is refused with a clear error, or lets the message through an idle server', async () => {
    await loadReliabilityFlow(
      sim,
      {
        type: 'plex-butler-idle',
        mode: 'wait',
        deadlineType: 'minutes',
        deadline: 60,
        deadlineTime: '05:00',
        wires: [['out'], []],
      },
      TOKEN,
    );
    const before = sim.exchanges.length;
    const counts = { ok: 0, none: 0, refused: 0 };
    for (const deadline of generateDeadlines(400, 2020)) {
      tried++;
      const verdict = deadlineVerdict(deadline);
      counts[verdict]++;
      const shown = `${JSON.stringify(deadline)?.slice(0, 60)} (${typeof deadline})`;
      const outcome = await sendAndSettle({ payload: 'go', deadline });
      if (verdict === 'refused') {
        const error = errorOf(outcome);
        assert.equal(error.code, 'invalid-config', `${shown} → ${error.message}`);
        assert.match(
          error.message,
          /msg\.deadline must be a number of minutes above 0, up to 10080, or a time of day such as "05:00"/,
        );
        assert.ok(error.message.length < 300, `a message a person can read: ${error.message}`);
      } else {
        assert.equal(outcome.kind, 'output', `${shown} should pass an idle server`);
        assert.equal(outcome.msg.payload, 'go');
        assert.equal(outcome.msg.forced, false);
      }
    }
    for (const force of [...generateInputs(60, 77), true, false]) {
      tried++;
      const outcome = await sendAndSettle({ payload: 'go', force });
      if (typeof force === 'boolean' || force === undefined) {
        assert.equal(outcome.kind, 'output', String(force));
        assert.equal(outcome.msg.forced, force === true);
      } else {
        const error = errorOf(outcome);
        assert.equal(error.code, 'invalid-config');
        assert.match(error.message, /msg\.force must be true or false \(got /);
      }
    }
    console.log(
      `      idle fuzz: ${counts.ok} deadlines taken, ${counts.none} none, ${counts.refused} refused`,
    );
    assert.ok(counts.ok > 100 && counts.refused > 150, JSON.stringify(counts));
    // Reads only: a bad deadline never makes the node touch the Butler.
    for (const exchange of sim.exchanges.slice(before)) {
      assert.equal(exchange.method, 'GET', exchange.url);
      assert.match(
        exchange.path,
        /^\/(status\/sessions(\/background)?|livetv\/sessions|activities|identity|:\/websockets\/notifications)$/,
      );
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  it('plex-butler-idle: an odd mode is refused at deploy with the three it knows; none means wait', async () => {
    for (const mode of [
      'Watch',
      'WAIT',
      ' wait',
      'check ',
      'idle',
      '__proto__',
      42,
      true,
      {},
      ['wait'],
    ]) {
      tried++;
      await loadReliabilityFlow(
        sim,
        { type: 'plex-butler-idle', mode, wires: [['out'], []] },
        TOKEN,
      );
      assert.equal(lastStatusText(), 'invalid config', JSON.stringify(mode));
      const error = errorOf(await sendAndSettle({ payload: 'go' }));
      assert.equal(error.code, 'invalid-config');
      assert.match(error.message, /"Mode" must be one of check, wait, watch \(got /);
      await helper.unload();
    }
    for (const mode of [undefined, null, '']) {
      tried++;
      await loadReliabilityFlow(
        sim,
        { type: 'plex-butler-idle', mode, wires: [['out'], []] },
        TOKEN,
      );
      const outcome = await sendAndSettle({ payload: 'go' });
      assert.equal(outcome.kind, 'output', String(mode));
      await helper.unload();
    }
  });
  it('plex-butler-report: every generated period ends in a clear error or a report of that period, and sends nothing but reads', async () => {
    await loadReliabilityFlow(
      sim,
      { type: 'plex-butler-report', period: 'since-last-report' },
      TOKEN,
    );
    const messages = generateReportMessages(400, 2121);
    const before = sim.exchanges.length;
    const outcomes = { reported: 0, refused: 0 };
    for (const msg of messages) {
      tried++;
      const outcome = await sendAndSettle({ ...msg, topic: 'fuzz' });
      const shown = JSON.stringify(msg)?.slice(0, 100);
      if (outcome.kind === 'error') {
        const error = outcome.msg.error as CaughtError;
        assert.equal(error.code, 'invalid-config', `${shown} → ${error.message}`);
        assert.ok(error.message.length < 2000, 'a message a person can read');
        assert.match(
          error.message,
          /not one of since-last-report|epoch milliseconds or an ISO 8601 date|whole numbers 0-23|after it ends/,
          `says what is allowed: ${shown} → ${error.message}`,
        );
        outcomes.refused++;
      } else {
        const payload = outcome.msg.payload as { from: string; to: string; gaps: unknown[] };
        const from = Date.parse(payload.from);
        const to = Date.parse(payload.to);
        assert.ok(Number.isFinite(from) && Number.isFinite(to) && from <= to, shown);
        assert.equal(new Date(from).toISOString(), payload.from);
        assert.equal(typeof outcome.msg.text, 'string');
        assert.ok(String(outcome.msg.text).length < 5000, shown);
        outcomes.reported++;
      }
    }
    console.log(
      `      report fuzz: ${messages.length} messages, ${outcomes.reported} reported, ${outcomes.refused} refused`,
    );
    assert.ok(outcomes.refused > 100 && outcomes.reported > 50, JSON.stringify(outcomes));
    for (const exchange of sim.exchanges.slice(before)) {
      assert.equal(exchange.method, 'GET', `${exchange.method} ${exchange.path}`);
      // The schedule (maintenance window), the running activities, and the watcher's socket.
      assert.match(
        exchange.path,
        /^\/(:\/prefs|activities|identity|:\/websockets\/notifications)$/,
      );
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });
});
