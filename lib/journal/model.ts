/**
 * The journal in memory: every record applied in order, whether it was just made or read back
 * from the file, so that the state after a restart is the state before it. Also what a
 * compaction writes: the same state in as few lines as it takes.
 */
import type { ButlerErrorCode } from '../failures/errors';
import { encodeRecord, type EntryRecord, type GapReason, type JournalRecord } from './records';

/**
 * A stop and a start closer than this are a redeploy, not Node-RED being down: the report
 * nodes were replaced, nothing was missed that a snapshot does not catch up on.
 */
export const REDEPLOY_MS = 2_000;
/** Ties made before the activity was seen wait this many at most. */
const MAX_PENDING_TIES = 256;

export interface Gap {
  from: number;
  to: number;
  reason: GapReason;
  /** unreachable: the error code; write-failed: the file system's code (ENOSPC). */
  code?: string;
}

export type ActionRecord = Extract<JournalRecord, { k: 'action' } | { k: 'schedule' }>;

/**
 * What applying a record did: nothing (a repeat, e.g. the same event fed by two report nodes),
 * a change worth a line, or only a small one (progress, the subtitle) that is written now and
 * then.
 */
export type Applied = 'ignored' | 'changed' | 'minor';

export class JournalModel {
  /** The journal is complete from here on (undefined: nothing in it yet). */
  coverageFrom: number | undefined;
  server = '';
  /** Every activity, in the order they were first seen. */
  entries: EntryRecord[] = [];
  actions: ActionRecord[] = [];
  /** Closed gaps. */
  gaps: Gap[] = [];
  /** The server is unreachable since `from`. */
  unreachable: { from: number; code: ButlerErrorCode } | undefined;
  /** The last time anything showed that the journal was kept (Node-RED running). */
  lastAlive: number | undefined;
  /** When the current run began; undefined once stopped. */
  runStart: number | undefined;
  /** Per report node: the end of its latest report. */
  readonly marks = new Map<string, number>();
  private readonly open = new Map<string, EntryRecord>();
  /** The latest entry of each uuid, open or not. */
  private readonly byUuid = new Map<string, EntryRecord>();
  private readonly pendingTies = new Map<string, { t: number; task: string }>();

  openEntries(): IterableIterator<EntryRecord> {
    return this.open.values();
  }

  isOpen(uuid: string): boolean {
    return this.open.has(uuid);
  }

  apply(record: JournalRecord): Applied {
    switch (record.k) {
      case 'begin':
        this.coverageFrom ??= record.t;
        return 'changed';
      case 'start':
        return this.started(record.t, record.server);
      case 'alive':
        this.alive(record.t);
        return 'changed';
      case 'stopped':
        this.closeUnreachable(record.t);
        this.alive(record.t);
        this.runStart = undefined;
        return 'changed';
      case 'activity':
        this.alive(record.t);
        return this.activity(record);
      case 'tie':
        this.alive(record.t);
        return this.tie(record.uuid, record.task, record.t);
      case 'entry':
        this.insert(record);
        return 'changed';
      case 'action':
      case 'schedule':
        this.alive(record.t);
        this.actions.push(record);
        return 'changed';
      case 'unreachable':
        this.alive(record.t);
        if (this.unreachable) return 'ignored';
        this.unreachable = { from: record.t, code: record.code };
        return 'changed';
      case 'reachable':
        this.alive(record.t);
        return this.closeUnreachable(record.t) ? 'changed' : 'ignored';
      case 'gap':
        this.gaps.push({
          from: record.from,
          to: record.to,
          reason: record.reason,
          ...(record.code !== undefined ? { code: record.code } : {}),
        });
        return 'changed';
      case 'report': {
        this.alive(record.t);
        const before = this.marks.get(record.node.id);
        if (before === undefined || record.to > before) this.marks.set(record.node.id, record.to);
        return 'changed';
      }
    }
  }

  private alive(t: number): void {
    if (this.lastAlive === undefined || t > this.lastAlive) this.lastAlive = t;
  }

  private started(t: number, server: string | undefined): Applied {
    const last = this.lastAlive;
    if (last !== undefined) {
      this.closeUnreachable(last);
      if (t - last >= REDEPLOY_MS) this.gaps.push({ from: last, to: t, reason: 'node-red-down' });
    }
    // What ran before stays open: a new watcher reports only real ends (its first snapshot
    // is silent), and reconcile() closes what ended meanwhile as not seen to end.
    this.runStart = t;
    this.alive(t);
    this.coverageFrom ??= t;
    if (server !== undefined && server !== '') this.server = server;
    return 'changed';
  }

  private closeUnreachable(t: number): boolean {
    const open = this.unreachable;
    if (!open) return false;
    this.unreachable = undefined;
    const to = Math.max(open.from, t);
    this.gaps.push({ from: open.from, to, reason: 'unreachable', code: open.code });
    // Not seen since the server went away: an end reported now may have been any time since.
    for (const entry of this.open.values()) if (entry.lastSeenAt <= to) entry.blind = true;
    return true;
  }

  private activity(record: Extract<JournalRecord, { k: 'activity' }>): Applied {
    const { uuid, t } = record;
    const entry = this.open.get(uuid);
    if (record.e === 'lost') {
      if (!entry) return 'ignored';
      this.close(entry, 'lost', t);
      return 'changed';
    }
    if (!entry) {
      const latest = this.byUuid.get(uuid);
      if (record.e === 'ended' && latest) return 'ignored';
      if (record.e === 'seen' && latest?.state === 'lost') {
        // Found gone once, yet it runs: it had not ended after all.
        latest.state = 'open';
        delete latest.endedAt;
        this.open.set(uuid, latest);
        this.update(latest, record);
        latest.blind = false;
        return 'changed';
      }
      // Seen during an outage or only in a snapshot: it began some time before.
      const startSeen = record.e === 'started' && this.unreachable === undefined;
      const created: EntryRecord = {
        k: 'entry',
        uuid,
        type: record.type ?? '',
        title: record.title ?? '',
        subtitle: record.subtitle ?? '',
        startedAt: t,
        startSeen,
        lastSeenAt: t,
        state: 'open',
        progress: record.progress ?? -1,
      };
      this.insert(created);
      if (record.e === 'ended') this.close(created, this.unreachable ? 'lost' : 'ended', t);
      return 'changed';
    }
    const wasBlind = entry.blind === true;
    const notable =
      (record.type !== undefined && record.type !== entry.type) ||
      (record.title !== undefined && record.title !== entry.title);
    if (record.e === 'ended') {
      const unseen =
        wasBlind || (this.unreachable !== undefined && entry.lastSeenAt <= this.unreachable.from);
      this.update(entry, record, !unseen);
      this.close(entry, unseen ? 'lost' : 'ended', t);
      return 'changed';
    }
    this.update(entry, record);
    entry.blind = false;
    return wasBlind || notable ? 'changed' : 'minor';
  }

  private update(
    entry: EntryRecord,
    record: Extract<JournalRecord, { k: 'activity' }>,
    seen = true,
  ): void {
    if (record.type !== undefined) entry.type = record.type;
    if (record.title !== undefined) entry.title = record.title;
    if (record.subtitle !== undefined) entry.subtitle = record.subtitle;
    if (record.progress !== undefined && record.progress > entry.progress) {
      entry.progress = record.progress;
    }
    if (seen && record.t > entry.lastSeenAt) entry.lastSeenAt = record.t;
  }

  private close(entry: EntryRecord, state: 'ended' | 'lost', t: number): void {
    entry.state = state;
    entry.endedAt = Math.max(t, entry.startedAt);
    delete entry.blind;
    this.open.delete(entry.uuid);
  }

  private insert(entry: EntryRecord): void {
    const tie = this.pendingTies.get(entry.uuid);
    if (tie) {
      entry.task ??= tie.task;
      this.pendingTies.delete(entry.uuid);
    }
    const previous = this.open.get(entry.uuid);
    if (previous) this.close(previous, 'lost', entry.startedAt);
    this.entries.push(entry);
    this.byUuid.set(entry.uuid, entry);
    if (entry.state === 'open') this.open.set(entry.uuid, entry);
  }

  private tie(uuid: string, task: string, t: number): Applied {
    const entry = this.byUuid.get(uuid);
    if (entry) {
      if (entry.task === task) return 'ignored';
      entry.task = task;
      return 'changed';
    }
    if (this.pendingTies.get(uuid)?.task === task) return 'ignored';
    this.pendingTies.set(uuid, { t, task });
    if (this.pendingTies.size > MAX_PENDING_TIES) {
      this.pendingTies.delete(this.pendingTies.keys().next().value as string);
    }
    return 'changed';
  }

  /** Forgets what ended before `cutoff`: the journal is complete from there on. */
  prune(cutoff: number): void {
    const kept: EntryRecord[] = [];
    for (const entry of this.entries) {
      if (entryEnd(entry) >= cutoff) kept.push(entry);
      else if (this.byUuid.get(entry.uuid) === entry) this.byUuid.delete(entry.uuid);
    }
    this.entries = kept;
    this.actions = this.actions.filter((action) => action.t >= cutoff);
    this.gaps = this.gaps.filter((gap) => gap.to >= cutoff);
    for (const [id, to] of [...this.marks]) if (to < cutoff) this.marks.delete(id);
    for (const [uuid, tie] of [...this.pendingTies]) {
      if (tie.t < cutoff) this.pendingTies.delete(uuid);
    }
    if (this.coverageFrom === undefined || this.coverageFrom < cutoff) this.coverageFrom = cutoff;
  }

  /**
   * The state as lines, in an order that reads back to the same state: each with the time
   * from which it may be dropped (undefined: never, it describes the present).
   */
  snapshot(): Array<{ line: string; until: number | undefined }> {
    const lines: Array<{ line: string; until: number | undefined }> = [];
    const keep = (record: JournalRecord, until?: number): void => {
      lines.push({ line: encodeRecord(record), until });
    };
    for (const gap of this.gaps) keep({ k: 'gap', ...gap }, gap.to);
    // The current run before the entries, as it was when they were recorded.
    if (this.runStart !== undefined) {
      keep({ k: 'start', t: this.runStart, ...(this.server ? { server: this.server } : {}) });
    }
    if (this.unreachable) {
      keep({ k: 'unreachable', t: this.unreachable.from, code: this.unreachable.code });
    }
    for (const entry of this.entries) {
      keep(entry, entry.state === 'open' ? undefined : entryEnd(entry));
    }
    for (const action of this.actions) keep(action, action.t);
    for (const [uuid, tie] of this.pendingTies) keep({ k: 'tie', t: tie.t, uuid, task: tie.task });
    for (const [id, to] of this.marks) keep({ k: 'report', t: to, node: { id }, to }, to);
    if (this.lastAlive !== undefined) {
      keep(
        this.runStart === undefined
          ? { k: 'stopped', t: this.lastAlive }
          : { k: 'alive', t: this.lastAlive },
      );
    }
    return lines;
  }
}

/** Until when an activity is known to have run. */
export function entryEnd(entry: EntryRecord): number {
  if (entry.state === 'open') return Number.POSITIVE_INFINITY;
  if (entry.state === 'lost') return entry.lastSeenAt;
  return entry.endedAt ?? entry.lastSeenAt;
}
