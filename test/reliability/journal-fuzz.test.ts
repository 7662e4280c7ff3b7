/**
 * A journal file may be anything by the time it is read again: cut off by a power cut, edited
 * by hand, copied from a newer version, overwritten by something else. The reader takes what
 * is a record of ours and skips the rest; the journal and its reports go on with that. Nothing
 * but a ButlerError ever comes out, and nothing it reads reaches the prototype of an object.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ButlerError, openJournal, parseJournal } from '../../lib';
import { JournalModel } from '../../lib/journal/model';
import { buildReport } from '../../lib/journal/report';
import { prng } from '../support/prng';

type Random = () => number;

function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)];
}

const T0 = Date.UTC(2026, 0, 10, 2);
const KINDS = [
  'begin',
  'start',
  'alive',
  'stopped',
  'activity',
  'tie',
  'entry',
  'action',
  'schedule',
  'unreachable',
  'reachable',
  'gap',
  'report',
  'bogus',
  '__proto__',
  'constructor',
];

function wildValue(random: Random, depth = 0): unknown {
  const kinds: Array<() => unknown> = [
    () => null,
    () => random() < 0.5,
    () => T0 + Math.floor((random() - 0.5) * 1e10),
    () => pick(random, [Number.MAX_VALUE, -1, 0, 1e308, -0, 8.64e15 + 1, 101, -1e9]),
    () => pick(random, KINDS),
    () => pick(random, ['started', 'ended', 'lost', 'open', 'failed', 'timeout', 'ENOSPC']),
    () => 'x'.repeat(Math.floor(random() * 400)),
    () => String.fromCharCode(...Array.from({ length: 12 }, () => Math.floor(random() * 0xffff))),
    () => pick(random, ['toString', 'hasOwnProperty', '__proto__', '../etc', 'a b', '']),
  ];
  if (depth < 3 && random() < 0.15) {
    return random() < 0.5
      ? Array.from({ length: Math.floor(random() * 4) }, () => wildValue(random, depth + 1))
      : { id: wildValue(random, depth + 1), name: wildValue(random, depth + 1) };
  }
  return pick(random, kinds)();
}

/** A record of ours, every field plausible. */
function validRecord(random: Random): Record<string, unknown> {
  const t = T0 + Math.floor(random() * 6 * 3_600_000);
  const uuid = `u${Math.floor(random() * 20)}`;
  const node = { id: `n${Math.floor(random() * 3)}`, name: 'Nightly' };
  switch (Math.floor(random() * 11)) {
    case 0:
      return { k: pick(random, ['begin', 'alive', 'stopped', 'reachable']), t };
    case 1:
      return { k: 'start', t, server: 'Attic' };
    case 2:
    case 3:
      return {
        k: 'activity',
        t,
        e: pick(random, ['started', 'updated', 'ended', 'seen', 'lost']),
        uuid,
        type: pick(random, ['media.generate.bif', 'library.refresh.items', 'x']),
        title: 'Work',
        subtitle: 'Movies',
        progress: Math.floor(random() * 120) - 10,
      };
    case 4:
      return { k: 'tie', t, uuid, task: pick(random, ['OptimizeDatabase', 'BackupDatabase']) };
    case 5:
      return {
        k: 'entry',
        uuid,
        type: 'x',
        title: 'Work',
        subtitle: '',
        startedAt: t,
        startSeen: random() < 0.5,
        lastSeenAt: t + Math.floor((random() - 0.3) * 3_600_000),
        state: pick(random, ['open', 'ended', 'lost']),
        endedAt: t + Math.floor((random() - 0.3) * 3_600_000),
        progress: 50,
        ...(random() < 0.3 ? { blind: true } : {}),
      };
    case 6:
      return {
        k: 'action',
        t,
        action: pick(random, ['start', 'stop']),
        task: pick(random, ['all', 'RefreshLibraries']),
        status: pick(random, ['started', 'already-running', 'stopped', 'not-running', 'failed']),
        ...(random() < 0.3 ? { error: 'timeout' } : {}),
        node,
      };
    case 7:
      return {
        k: 'schedule',
        t,
        settings: { ButlerStartHour: '3' },
        status: pick(random, ['changed', 'unchanged', 'failed']),
        node,
      };
    case 8:
      return { k: 'unreachable', t, code: pick(random, ['timeout', 'connection-refused']) };
    case 9:
      return {
        k: 'gap',
        from: t,
        to: t + Math.floor(random() * 3_600_000),
        reason: pick(random, ['unreachable', 'node-red-down', 'write-failed', 'before-journal']),
      };
    default:
      return { k: 'report', t, node: { id: node.id }, to: t - Math.floor(random() * 1e7) };
  }
}

function line(random: Random): string {
  const roll = random();
  if (roll < 0.45) return JSON.stringify(validRecord(random));
  if (roll < 0.75) {
    // A record of ours with one field changed into anything.
    const record = validRecord(random);
    const keys = [...Object.keys(record), 'extra', '__proto__'];
    record[pick(random, keys)] = wildValue(random);
    return JSON.stringify(record).replace(
      /^\{/,
      random() < 0.1 ? '{"__proto__":{"polluted":1},' : '{',
    );
  }
  if (roll < 0.85) return JSON.stringify(wildValue(random));
  if (roll < 0.9) {
    const whole = JSON.stringify(validRecord(random));
    return whole.slice(0, Math.floor(random() * whole.length));
  }
  if (roll < 0.93) return 'x'.repeat(20_000);
  if (roll < 0.94) return '['.repeat(50_000) + ']'.repeat(50_000);
  return String.fromCharCode(...Array.from({ length: 60 }, () => Math.floor(random() * 0xffff)));
}

function file(random: Random): string {
  const lines = Array.from({ length: 1 + Math.floor(random() * 60) }, () => line(random));
  const separator = random() < 0.1 ? '\r\n' : '\n';
  const text = (random() < 0.05 ? '\uFEFF' : '') + lines.join(separator);
  // Most end with a line end; some were cut off while a line was being written.
  return random() < 0.7 ? `${text}\n` : text;
}

describe('reliability: journal fuzz', function () {
  this.timeout(120_000);

  it('5,000 generated journal files: read, applied and reported without anything thrown', () => {
    const random = prng(20261202);
    const counts = { files: 0, records: 0, skipped: 0, torn: 0, reports: 0 };
    for (let index = 0; index < 5000; index++) {
      const parsed = parseJournal(file(random));
      counts.files++;
      counts.records += parsed.records.length;
      counts.skipped += parsed.skipped;
      if (parsed.tornBytes > 0) counts.torn++;
      // What was read is what would be written again.
      for (const record of parsed.records) {
        assert.deepEqual(parseJournal(`${JSON.stringify(record)}\n`).records, [record]);
      }
      const model = new JournalModel();
      for (const record of parsed.records) model.apply(record);
      const now = T0 + 8 * 3_600_000;
      const report = buildReport({
        model,
        kind: 'between',
        from: T0 - 3_600_000,
        to: now,
        now,
        server: 'Attic',
        extraGaps: [],
      });
      assert.equal(typeof report.text, 'string');
      assert.ok(report.activities.every((entry) => entry.durationMs >= 0));
      assert.doesNotMatch(report.text, /\bjournal\.[a-z]/, 'no key left unworded');
      counts.reports++;
    }
    console.log(
      `      journal fuzz: ${counts.files} files, ${counts.records} records read, ${counts.skipped} lines skipped, ${counts.torn} torn`,
    );
    assert.ok(counts.records > 20_000 && counts.skipped > 20_000, 'both outcomes exercised');
    assert.ok(counts.torn > 500);
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
  });

  it('200 garbage files opened as journals: reports and new lines work, only ButlerErrors', async () => {
    const random = prng(77);
    const dir = mkdtempSync(join(tmpdir(), 'plex-butler-journal-fuzz-'));
    const others: string[] = [];
    try {
      for (let index = 0; index < 200; index++) {
        const path = join(dir, `plex-butler-journal-s${index}.jsonl`);
        const bytes =
          index % 4 === 0
            ? Buffer.from(Array.from({ length: 2000 }, () => Math.floor(random() * 256)))
            : Buffer.from(file(random));
        writeFileSync(path, bytes);
        let time = T0 + 10 * 3_600_000;
        const journal = openJournal({ directory: dir, serverId: `s${index}`, now: () => time });
        journal.on('warning', () => undefined);
        try {
          journal.activity({
            event: 'started',
            uuid: 'after-garbage',
            type: 'x',
            title: 'New',
            subtitle: '',
            progress: 0,
          });
          time += 60_000;
          await journal.report({ period: 'last-24-hours' });
          await journal.report({
            period: { kind: 'maintenance-window', startHour: 2, endHour: 5 },
          });
          await journal.report({ node: { id: 'r1', name: '' } });
        } catch (error) {
          if (!(error instanceof ButlerError)) others.push(`file ${index}: ${String(error)}`);
        } finally {
          await journal.release();
        }
        // The file goes on: whatever was in it, the new lines are whole and read back.
        const after = parseJournal(readFileSync(path, 'utf8'));
        assert.equal(after.tornBytes, 0, `file ${index}`);
        assert.ok(
          after.records.some(
            // As its own line, or in a rewrite (a garbage file may be old or large).
            (record) =>
              (record.k === 'activity' || record.k === 'entry') && record.uuid === 'after-garbage',
          ),
          `file ${index}`,
        );
        assert.equal(after.records.at(-1)?.k, 'stopped', `file ${index}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(others, []);
  });
});
