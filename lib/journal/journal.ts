/**
 * The journal file of one server, and the registry that gives every report node of that server
 * the same one. One writer per file: records are applied to the model at once and their lines
 * queued; the queue writes what has gathered in one append and one fdatasync, so lines never
 * interleave and a power cut loses at most what was being written. A compaction rewrites the
 * model into a temporary file, flushes it and renames it over the journal.
 */
import { EventEmitter } from 'node:events';
import { promises as fs, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { ButlerError, type ButlerErrorCode } from '../failures/errors';
import { formatMessage, message, type MessageRef } from '../messages';
import type { Activity, TaskStatus } from '../butler/types';
import type { ActivityEvent, ActivityWatcher, WatchStatus } from '../activity/watch';
import { JournalModel, type Applied, type Gap } from './model';
import { checkPeriod, describeInput, resolvePeriod, type ReportPeriod } from './period';
import {
  cleanNode,
  cleanProgress,
  cleanServerLabel,
  cleanSettings,
  cleanText,
  encodeRecord,
  isErrorCode,
  isTaskName,
  isTime,
  isUuid,
  parseJournal,
  TASK_STATUSES,
  type JournalNode,
  type JournalRecord,
  type ScheduleStatus,
} from './records';
import { buildReport, type JournalReport } from './report';

export const JOURNAL_DEFAULTS = Object.freeze({
  maxAgeDays: 14,
  maxBytes: 16 * 1024 * 1024,
  heartbeatMs: 5 * 60_000,
});

export interface JournalOptions {
  /** The folder of the file: Node-RED's user directory. Created when missing. */
  directory: string;
  /** The server config node's id: one journal file per server config. */
  serverId: string;
  /** How the report names the server; URL credentials, queries and tokens are removed. */
  server?: string;
  /** Entries older than this are dropped. Default 14. */
  maxAgeDays?: number;
  /** The file is kept below this size by dropping the oldest entries. Default 16 MiB. */
  maxBytes?: number;
  /** A line that says "alive" this often, so that a crash is dated. Default 5 minutes. */
  heartbeatMs?: number;
  /** fdatasync after each write (default true): off only for tests and benchmarks. */
  sync?: boolean;
  /** The clock (epoch ms); default Date.now. */
  now?: () => number;
}

/** A problem with the file: the journal goes on in memory, and the report says what may be missing. */
export interface JournalWarning {
  /** ignored: a record with something the journal does not take (a bug in the caller). */
  kind: 'read-failed' | 'write-failed' | 'not-a-file' | 'ignored';
  /** The file system's error code (ENOSPC, EISDIR, EACCES…), when there is one. */
  code?: string;
  message: string;
  messageRef: MessageRef;
}

/** An activity as the notification socket or GET /activities gives it; other fields are ignored. */
export type JournalActivity = Pick<Activity, 'uuid' | 'type' | 'title' | 'subtitle' | 'progress'>;

export interface JournalActivityEvent extends JournalActivity {
  event: 'started' | 'updated' | 'ended';
}

export interface TaskActionEntry {
  action: 'start' | 'stop';
  /** A task name, or "all". */
  task: string;
  /** The result: a status, or an error code when the request failed. */
  status?: TaskStatus;
  error?: ButlerErrorCode;
  node: JournalNode;
}

export interface ScheduleChangeEntry {
  /** The Butler settings set, by id (ButlerStartHour: 2): what planScheduleChange returns. */
  settings: Record<string, string | number | boolean>;
  /** changed: the server holds the new values; unchanged: it held them already; failed. */
  status: ScheduleStatus;
  error?: ButlerErrorCode;
  node: JournalNode;
}

export interface ReportOptions {
  /** Default: since this node's previous report. */
  period?: ReportPeriod | ReportPeriod['kind'];
  /** The report node: its report is remembered, for its next "since the last report". */
  node?: JournalNode;
  /** Words the paragraph (key, params) → text, e.g. with RED._; default English. */
  translate?: (key: string, params: Record<string, string | number>) => string;
}

/** The recording side of a journal, for nodes that write into a journal a report node keeps. */
export interface JournalWriter {
  activity(event: JournalActivityEvent, at?: number): void;
  reconcile(activities: readonly JournalActivity[], at?: number): void;
  tie(uuid: string, task: string, at?: number): void;
  taskAction(entry: TaskActionEntry, at?: number): void;
  scheduleChange(entry: ScheduleChangeEntry, at?: number): void;
  unreachable(code: ButlerErrorCode, at?: number): void;
  reachable(at?: number): void;
}

/** A line at most every so many points of progress, or seconds, per running activity. */
const PROGRESS_STEP = 5;
const SEEN_STEP_MS = 60_000;
/** Compaction takes the file down to this share of its bound, so it does not run at every line. */
const COMPACT_TO = 0.75;
/** After a failed write, the next try waits this long; the model keeps what the file lacks. */
const RETRY_MS = 30_000;
const SERVER_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** The journal file of a server config in a folder. */
export function journalPath(directory: string, serverId: string): string {
  if (typeof directory !== 'string' || directory.trim() === '') {
    throw new ButlerError(
      'invalid-config',
      message('journal.errors.directory', { value: describeInput(directory) }),
    );
  }
  if (typeof serverId !== 'string' || !SERVER_ID.test(serverId) || /^\.+$/.test(serverId)) {
    throw new ButlerError(
      'invalid-config',
      message('journal.errors.serverId', { value: describeInput(serverId) }),
    );
  }
  return path.resolve(directory, `plex-butler-journal-${serverId}.jsonl`);
}

function positive(value: number | undefined, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? code : undefined;
}

/** The one journal of a file, shared by every handle on it. */
class JournalCore extends EventEmitter<{ warning: [JournalWarning] }> {
  readonly model = new JournalModel();
  readonly ready: Promise<void>;
  handles = 0;
  closed = false;
  private readonly maxAgeMs: number;
  private readonly maxBytes: number;
  private readonly sync: boolean;
  private readonly clock: () => number;
  private server: string;
  private early: JournalRecord[] = [];
  private readonly openedAt: number;
  loaded = false;
  private pending: string[] = [];
  private pendingBytes = 0;
  private fileBytes = 0;
  private draining: Promise<void> | undefined;
  private idle: Array<() => void> = [];
  private compactWanted = false;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Writes fail since then: the file lacks what was journaled meanwhile. */
  private unsaved: { from: number; code: string | undefined } | undefined;
  private retryAt = 0;
  /** Where the lines go: the journal's own path, or where its symbolic link points. */
  private target: string;
  /** Only a regular file (or none yet) is rewritten by a compaction. */
  private rewritable = true;
  private readonly written = new Map<string, { t: number; progress: number }>();
  private readonly followed = new Map<ActivityWatcherLike, { count: number; detach: () => void }>();

  constructor(
    readonly file: string,
    options: JournalOptions,
    previous: Promise<void> | undefined,
  ) {
    super();
    this.setMaxListeners(0);
    this.maxAgeMs = positive(options.maxAgeDays, JOURNAL_DEFAULTS.maxAgeDays) * 86_400_000;
    this.maxBytes = Math.max(4096, positive(options.maxBytes, JOURNAL_DEFAULTS.maxBytes));
    this.sync = options.sync !== false;
    this.clock = options.now ?? Date.now;
    this.server = cleanServerLabel(options.server ?? '');
    this.target = file;
    // The journal begins when it is opened: what is recorded while the file is read is in it.
    this.openedAt = this.clock();
    this.ready = (previous ?? Promise.resolve()).then(() => this.load());
    const heartbeatMs = positive(options.heartbeatMs, JOURNAL_DEFAULTS.heartbeatMs);
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  now(): number {
    return this.clock();
  }

  get serverLabel(): string {
    return this.server || this.model.server;
  }

  setServer(label: string | undefined): void {
    const clean = cleanServerLabel(label ?? '');
    if (clean !== '') this.server = clean;
  }

  // ---- loading -------------------------------------------------------------------------------

  private async load(): Promise<void> {
    try {
      await this.readFile();
    } catch (error) {
      this.warn('read-failed', error);
    }
    const now = this.now();
    const start = this.openedAt;
    if (this.model.coverageFrom === undefined) this.record({ k: 'begin', t: start }, true);
    this.record({ k: 'start', t: start, ...(this.server ? { server: this.server } : {}) }, true);
    this.loaded = true;
    const early = this.early;
    this.early = [];
    for (const record of early) this.record(record);
    if (this.oldest() < now - this.maxAgeMs) this.compactWanted = true;
    this.kick();
  }

  private async readFile(): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    let stat;
    try {
      stat = await fs.stat(this.file);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    if (!stat.isFile()) {
      // A device or a folder: never read (a device may never end), never replaced.
      this.rewritable = false;
      this.emitWarning('not-a-file', undefined, message('journal.warnings.notAFile'));
      return;
    }
    this.target = await fs.realpath(this.file);
    // Far beyond the bound: written by something else; read only the newest part.
    const limit = this.maxBytes * 4;
    let text: string;
    const handle = await fs.open(this.target, 'r');
    try {
      const size = (await handle.stat()).size;
      const start = Math.max(0, size - limit);
      const buffer = Buffer.alloc(size - start);
      let read = 0;
      while (read < buffer.length) {
        const { bytesRead } = await handle.read(buffer, read, buffer.length - read, start + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      text = buffer.subarray(0, read).toString('utf8');
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
      this.fileBytes = size;
    } finally {
      await handle.close();
    }
    const parsed = parseJournal(text);
    for (const record of parsed.records) this.model.apply(record);
    if (parsed.tornBytes > 0) {
      // The line being written when the process stopped: cut it, or the next line would
      // continue it and be lost too.
      this.fileBytes -= parsed.tornBytes;
      await fs.truncate(this.target, this.fileBytes);
    }
    if (this.fileBytes > this.maxBytes) this.compactWanted = true;
  }

  /** The oldest time a compaction could drop. */
  private oldest(): number {
    const model = this.model;
    let oldest = Number.POSITIVE_INFINITY;
    const first = model.entries[0];
    if (first && first.state !== 'open') oldest = Math.min(oldest, first.lastSeenAt);
    if (model.actions[0]) oldest = Math.min(oldest, model.actions[0].t);
    if (model.gaps[0]) oldest = Math.min(oldest, model.gaps[0].to);
    return oldest;
  }

  // ---- recording -----------------------------------------------------------------------------

  /** Applies a record and queues its line; before the file is read, it waits for that. */
  record(record: JournalRecord, force = false): Applied {
    if (this.closed) return 'ignored';
    if (!this.loaded && !force) {
      this.early.push(record);
      return 'changed';
    }
    const applied = this.model.apply(record);
    if (applied === 'ignored') return applied;
    if (applied === 'minor' && record.k === 'activity' && !this.worthALine(record)) return applied;
    if (record.k === 'activity') this.noteWritten(record);
    const line = encodeRecord(record);
    this.pending.push(line);
    this.pendingBytes += Buffer.byteLength(line);
    if (this.loaded) this.kick();
    return applied;
  }

  private worthALine(record: Extract<JournalRecord, { k: 'activity' }>): boolean {
    const last = this.written.get(record.uuid);
    if (!last) return true;
    const progress = record.progress ?? -1;
    return progress >= last.progress + PROGRESS_STEP || record.t >= last.t + SEEN_STEP_MS;
  }

  private noteWritten(record: Extract<JournalRecord, { k: 'activity' }>): void {
    if (this.model.isOpen(record.uuid)) {
      const progress = Math.max(
        record.progress ?? -1,
        this.written.get(record.uuid)?.progress ?? -1,
      );
      this.written.set(record.uuid, { t: record.t, progress });
    } else {
      this.written.delete(record.uuid);
    }
  }

  /** A caller's time, or now; never later than now. */
  at(value: number | undefined): number {
    const now = this.now();
    return isTime(value) && value < now ? value : now;
  }

  private beat(): void {
    if (this.closed || !this.loaded) return;
    const now = this.now();
    this.record({ k: 'alive', t: now });
    if (this.oldest() < now - this.maxAgeMs - 3_600_000) {
      this.compactWanted = true;
      this.kick();
    }
  }

  follow(watcher: ActivityWatcherLike): () => void {
    const known = this.followed.get(watcher);
    if (known) {
      known.count++;
    } else {
      const onActivity = (event: ActivityEvent): void => recordActivityEvent(this, event);
      const onStatus = (status: WatchStatus): void => this.watchStatus(status);
      watcher.on('activity', onActivity);
      watcher.on('status', onStatus);
      this.followed.set(watcher, {
        count: 1,
        detach: () => {
          watcher.off('activity', onActivity);
          watcher.off('status', onStatus);
        },
      });
      this.watchStatus(watcher.status);
    }
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const entry = this.followed.get(watcher);
      if (!entry) return;
      entry.count--;
      if (entry.count <= 0) {
        entry.detach();
        this.followed.delete(watcher);
      }
    };
  }

  private watchStatus(status: WatchStatus): void {
    const now = this.now();
    if (status.state === 'connected' || (status.state === 'polling' && !status.error)) {
      this.record({ k: 'reachable', t: now });
    } else if (
      (status.state === 'reconnecting' || status.state === 'polling') &&
      status.error &&
      isErrorCode(status.error.code)
    ) {
      this.record({ k: 'unreachable', t: now, code: status.error.code });
    } else if (status.state === 'closed') {
      // Nothing is watched any more: no longer a reason to call the server unreachable.
      this.record({ k: 'reachable', t: now });
    }
  }

  // ---- the write queue -----------------------------------------------------------------------

  private kick(): void {
    if (this.draining || this.closed) return;
    if (this.pending.length === 0 && !this.compactWanted) {
      this.settle();
      return;
    }
    // Started on the next tick, so that `draining` is set before drain() can finish.
    this.draining = Promise.resolve().then(() => this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && (this.pending.length > 0 || this.compactWanted)) {
        if (this.unsaved && this.now() < this.retryAt) {
          // Not again yet: the lines are in the model, which the next try writes whole.
          this.pending = [];
          this.pendingBytes = 0;
          break;
        }
        const overflow = this.fileBytes + this.pendingBytes > this.maxBytes;
        if (this.rewritable && (this.compactWanted || overflow || this.unsaved)) {
          await this.compact();
        } else {
          await this.append();
        }
      }
    } catch (error) {
      // compact() and append() catch their own failures: this is a bug, not a crash.
      this.failed(error);
    } finally {
      this.draining = undefined;
      this.settle();
    }
  }

  /** Resolves when no write is under way (after shutDown(), none starts again). */
  async quiet(): Promise<void> {
    await this.draining;
  }

  private settle(): void {
    if (this.draining) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  /** Resolves once every line recorded so far is written (or has failed to be). */
  async flush(): Promise<void> {
    await this.ready;
    if (!this.draining && this.pending.length === 0 && !this.compactWanted) return;
    await new Promise<void>((resolve) => {
      this.idle.push(resolve);
      this.kick();
    });
  }

  private async append(): Promise<void> {
    const lines = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      const handle = await fs.open(this.target, 'a');
      try {
        await handle.write(lines.join(''));
        if (this.sync) await handle.datasync();
      } finally {
        await handle.close();
      }
      this.fileBytes += bytes;
      this.unsaved = undefined;
    } catch (error) {
      // The lines stay in the model: the next compaction writes them.
      this.failed(error);
    }
  }

  /**
   * Rewrites the file from the model: what has gathered is in it, older entries are dropped
   * by age and, if the file would still be too large, by size. Also how the journal recovers
   * from failed writes: the model still holds what the file lacks.
   */
  private async compact(): Promise<void> {
    const now = this.now();
    this.compactWanted = false;
    this.model.prune(now - this.maxAgeMs);
    let lines = this.model.snapshot();
    let total = lines.reduce((sum, entry) => sum + Buffer.byteLength(entry.line), 0) + 64;
    const target = Math.floor(this.maxBytes * COMPACT_TO);
    if (total > target) {
      const droppable = lines
        .filter((entry) => entry.until !== undefined)
        .sort((a, b) => (a.until as number) - (b.until as number));
      let cutoff = Number.NEGATIVE_INFINITY;
      for (const entry of droppable) {
        if (total <= target) break;
        // Everything that ended at the same time goes together.
        if ((entry.until as number) > cutoff) cutoff = entry.until as number;
        total -= Buffer.byteLength(entry.line);
      }
      this.model.prune(cutoff + 1);
      lines = this.model.snapshot();
    }
    const begin = encodeRecord({ k: 'begin', t: this.model.coverageFrom ?? now });
    const text = begin + lines.map((entry) => entry.line).join('');
    this.pending = [];
    this.pendingBytes = 0;
    const temporary = `${this.target}.tmp`;
    try {
      const handle = await fs.open(temporary, 'w');
      try {
        await handle.write(text);
        if (this.sync) await handle.datasync();
      } finally {
        await handle.close();
      }
      if (this.closed) {
        // Deleted meanwhile: the journal must not come back.
        await fs.rm(temporary, { force: true });
        return;
      }
      await fs.rename(temporary, this.target);
      if (this.sync) await syncDirectory(path.dirname(this.target));
      this.fileBytes = Buffer.byteLength(text);
      this.unsaved = undefined;
    } catch (error) {
      await fs.rm(temporary, { force: true }).catch(() => undefined);
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    const code = errorCode(error);
    this.retryAt = this.now() + RETRY_MS;
    if (!this.unsaved || this.unsaved.code !== code) {
      this.unsaved = { from: this.unsaved?.from ?? this.now(), code };
      this.warn('write-failed', error);
    }
  }

  /** The write failure going on now, as a gap of the report. */
  unsavedGap(now: number): Gap[] {
    if (!this.unsaved) return [];
    return [
      {
        from: this.unsaved.from,
        to: now,
        reason: 'write-failed',
        ...(this.unsaved.code ? { code: this.unsaved.code } : {}),
      },
    ];
  }

  private warn(kind: JournalWarning['kind'], error: unknown): void {
    const code = errorCode(error);
    const ref = message(
      `journal.warnings.${kind === 'read-failed' ? 'readFailed' : 'writeFailed'}`,
      {
        code: code ?? 'unknown',
      },
    );
    this.emitWarning(kind, code, ref);
  }

  private emitWarning(
    kind: JournalWarning['kind'],
    code: string | undefined,
    ref: MessageRef,
  ): void {
    const warning: JournalWarning = {
      kind,
      ...(code !== undefined ? { code } : {}),
      message: formatMessage(ref),
      messageRef: ref,
    };
    this.emit('warning', warning);
  }

  // ---- closing -------------------------------------------------------------------------------

  /** A clean stop: the "stopped" line, everything written, the timer gone. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.ready.catch(() => undefined);
    for (const entry of this.followed.values()) entry.detach();
    this.followed.clear();
    this.record({ k: 'stopped', t: this.now() });
    await this.flush();
    this.shutDown();
  }

  /** Stops without another line: the file is being deleted. */
  shutDown(): void {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const entry of this.followed.values()) entry.detach();
    this.followed.clear();
    this.pending = [];
    this.pendingBytes = 0;
    this.settle();
  }
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the rename itself durable; not possible on every platform, and not needed there.
  try {
    const handle = await fs.open(directory, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Windows cannot open a folder this way.
  }
}

type ActivityWatcherLike = Pick<ActivityWatcher, 'on' | 'off' | 'status'>;

function activityRecord(
  core: JournalCore,
  e: 'started' | 'updated' | 'ended' | 'seen',
  activity: unknown,
  at: number | undefined,
): Extract<JournalRecord, { k: 'activity' }> | undefined {
  if (typeof activity !== 'object' || activity === null) return undefined;
  const fields = activity as Record<string, unknown>;
  if (!isUuid(fields.uuid)) return undefined;
  const record: Extract<JournalRecord, { k: 'activity' }> = {
    k: 'activity',
    t: core.at(at),
    e,
    uuid: fields.uuid,
  };
  for (const key of ['type', 'title', 'subtitle'] as const) {
    const text = cleanText(fields[key]);
    if (text !== undefined) record[key] = text;
  }
  const progress = cleanProgress(fields.progress);
  if (progress !== undefined) record.progress = progress;
  return record;
}

function recordActivityEvent(core: JournalCore, event: unknown, at?: number): void {
  const kind = (event as { event?: unknown } | null)?.event;
  if (kind !== 'started' && kind !== 'updated' && kind !== 'ended') {
    ignored(core, 'activity');
    return;
  }
  const record = activityRecord(core, kind, event, at);
  if (record) core.record(record);
  else ignored(core, 'activity');
}

function ignored(core: JournalCore, what: string): void {
  const ref = message('journal.warnings.ignored', { what });
  core.emit('warning', { kind: 'ignored', message: formatMessage(ref), messageRef: ref });
}

/** Each open journal file, and the clean stops still being written. */
const registry = new Map<string, JournalCore>();
const closing = new Map<string, Promise<void>>();

/**
 * One report node's hold on a server's journal. Every handle on a file shares one journal;
 * the last `release()` writes the "stopped" line and closes it.
 */
export class Journal extends EventEmitter<{ warning: [JournalWarning] }> implements JournalWriter {
  readonly path: string;
  private core: JournalCore | undefined;
  private readonly unfollows = new Set<() => void>();
  private readonly forward = (warning: JournalWarning): void => {
    this.emit('warning', warning);
  };

  private readonly guest: boolean;

  /** @internal Use openJournal (or findJournal, for a guest that does not hold it open). */
  constructor(core: JournalCore, guest = false) {
    super();
    this.core = core;
    this.path = core.file;
    this.guest = guest;
    if (!guest) {
      core.handles++;
      core.on('warning', this.forward);
    }
  }

  /** Resolves once the file has been read (a file that cannot be read is a warning). */
  async ready(): Promise<void> {
    await this.core?.ready;
  }

  get released(): boolean {
    return this.core === undefined || this.core.closed;
  }

  /** An activity event from the notification socket (started, updated or ended). */
  activity(event: JournalActivityEvent, at?: number): void {
    if (this.core) recordActivityEvent(this.core, event, at);
  }

  /**
   * A GET /activities snapshot taken at `at` (e.g. after a start or a reconnect): activities not
   * known are opened (their start was not seen), known ones that are absent are closed as not
   * seen to end.
   */
  reconcile(activities: readonly JournalActivity[], at?: number): void {
    const core = this.core;
    if (!core) return;
    if (!Array.isArray(activities)) {
      ignored(core, 'reconcile');
      return;
    }
    const t = core.at(at);
    if (!core.loaded) {
      // What is known open comes from the file: compare once it has been read.
      void core.ready.then(() => this.reconcile(activities, t));
      return;
    }
    const present = new Set<string>();
    for (const activity of activities) {
      const record = activityRecord(core, 'seen', activity, t);
      if (!record) continue;
      present.add(record.uuid);
      core.record(record);
    }
    // Only what was not seen after the snapshot was taken.
    const gone = [...core.model.openEntries()].filter(
      (entry) => !present.has(entry.uuid) && entry.lastSeenAt <= t,
    );
    for (const entry of gone) core.record({ k: 'activity', t, e: 'lost', uuid: entry.uuid });
  }

  /** A waiting start node found the activity of the task it started. */
  tie(uuid: string, task: string, at?: number): void {
    const core = this.core;
    if (!core) return;
    if (!isUuid(uuid) || !isTaskName(task)) ignored(core, 'tie');
    else core.record({ k: 'tie', t: core.at(at), uuid, task });
  }

  /** A start or stop one of our nodes sent, with its result. */
  taskAction(entry: TaskActionEntry, at?: number): void {
    const core = this.core;
    if (!core) return;
    const node = cleanNode(entry?.node);
    const { action, task, status, error } = entry ?? {};
    const statusOk = status === undefined || TASK_STATUSES.includes(status);
    const errorOk = error === undefined || isErrorCode(error);
    if (
      !node ||
      (action !== 'start' && action !== 'stop') ||
      (task !== 'all' && !isTaskName(task)) ||
      !statusOk ||
      !errorOk ||
      (status === undefined) === (error === undefined)
    ) {
      ignored(core, 'taskAction');
      return;
    }
    core.record({
      k: 'action',
      t: core.at(at),
      action,
      task,
      status: status ?? 'failed',
      ...(error !== undefined ? { error } : {}),
      node,
    });
  }

  /** A change of the Butler's schedule made by a schedule node. */
  scheduleChange(entry: ScheduleChangeEntry, at?: number): void {
    const core = this.core;
    if (!core) return;
    const node = cleanNode(entry?.node);
    const settings = cleanSettings(entry?.settings);
    const status = entry?.status;
    const error = entry?.error;
    if (
      !node ||
      !settings ||
      (status !== 'changed' && status !== 'unchanged' && status !== 'failed') ||
      (error !== undefined && !isErrorCode(error))
    ) {
      ignored(core, 'scheduleChange');
      return;
    }
    core.record({
      k: 'schedule',
      t: core.at(at),
      settings,
      status,
      ...(error !== undefined ? { error } : {}),
      node,
    });
  }

  /** The server could not be reached (a repeat while it still cannot is ignored). */
  unreachable(code: ButlerErrorCode, at?: number): void {
    const core = this.core;
    if (!core) return;
    if (!isErrorCode(code)) ignored(core, 'unreachable');
    else core.record({ k: 'unreachable', t: core.at(at), code });
  }

  /** The server answers again. */
  reachable(at?: number): void {
    const core = this.core;
    if (core) core.record({ k: 'reachable', t: core.at(at) });
  }

  /**
   * Journals a watcher's activity events and its connection state (unreachable while it
   * reconnects after a failure). Several handles following one watcher journal each event
   * once. Returns a function that stops following; release() stops it too.
   */
  follow(watcher: ActivityWatcherLike): () => void {
    const core = this.core;
    if (!core) return () => undefined;
    const unfollow = core.follow(watcher);
    const wrapped = (): void => {
      this.unfollows.delete(wrapped);
      unfollow();
    };
    this.unfollows.add(wrapped);
    return wrapped;
  }

  /** The server's label for reports; credentials are removed. */
  setServer(label: string): void {
    this.core?.setServer(label);
  }

  /**
   * A report of a period. Rejects with an `invalid-config` ButlerError for a period that is
   * not one (the message says what is allowed); with `node`, the report is remembered as that
   * node's latest.
   */
  async report(options: ReportOptions = {}): Promise<JournalReport> {
    const core = this.core;
    if (!core) {
      throw new ButlerError('invalid-config', message('journal.errors.released'));
    }
    const period = checkPeriod(options.period);
    const node = options.node === undefined ? undefined : cleanNode(options.node);
    if (options.node !== undefined && !node) {
      throw new ButlerError(
        'invalid-config',
        message('journal.errors.node', { value: describeInput(options.node?.id) }),
      );
    }
    await core.ready;
    const now = core.now();
    const model = core.model;
    const { from, to } = resolvePeriod(period, {
      now,
      lastReportTo: node ? model.marks.get(node.id) : undefined,
      coverageFrom: model.coverageFrom,
    });
    const report = buildReport({
      model,
      kind: period.kind,
      from,
      to,
      now,
      server: core.serverLabel,
      extraGaps: core.unsavedGap(now),
      ...(options.translate ? { translate: options.translate } : {}),
    });
    if (node) core.record({ k: 'report', t: now, node: { id: node.id }, to });
    return report;
  }

  /** Resolves once everything recorded so far is written (or has failed to be). */
  async flush(): Promise<void> {
    await this.core?.flush();
  }

  /**
   * Gives up this hold (idempotent). The last one closes the journal cleanly: a "stopped"
   * line, so that the next start knows Node-RED was stopped, not crashed.
   */
  async release(): Promise<void> {
    const core = this.core;
    if (!core) return;
    this.core = undefined;
    for (const unfollow of [...this.unfollows]) unfollow();
    if (this.guest) return;
    core.off('warning', this.forward);
    core.handles--;
    if (core.handles > 0 || core.closed) return;
    if (registry.get(core.file) === core) registry.delete(core.file);
    const done = core.close().finally(() => {
      if (closing.get(core.file) === done) closing.delete(core.file);
    });
    closing.set(core.file, done);
    await done;
  }
}

/**
 * A hold on the journal of a server config: the same journal for every caller with the same
 * folder and server id, until each has called `release()`. Throws an `invalid-config`
 * ButlerError for a missing folder or an id that cannot name a file; problems with the file
 * itself are `warning` events, never exceptions.
 */
export function openJournal(options: JournalOptions): Journal {
  const file = journalPath(options?.directory, options?.serverId);
  let core = registry.get(file);
  if (!core || core.closed) {
    core = new JournalCore(file, options, closing.get(file));
    registry.set(file, core);
  } else {
    core.setServer(options.server);
  }
  return new Journal(core);
}

/**
 * The journal a report node keeps open for this server config, to record into (a start, a
 * stop, a schedule change); undefined when none is open: then nothing is journaled.
 */
export function findJournal(directory: string, serverId: string): JournalWriter | undefined {
  return journalFinder(directory, serverId)();
}

/**
 * findJournal for one server config, with the file's path worked out once: for a node that
 * asks on every message. Finds nothing, ever, when the two cannot name a journal file.
 */
export function journalFinder(
  directory: string,
  serverId: string,
): () => JournalWriter | undefined {
  let file: string;
  try {
    file = journalPath(directory, serverId);
  } catch {
    return () => undefined;
  }
  return () => {
    const core = registry.get(file);
    if (!core || core.closed) return undefined;
    // A guest: it records into the journal but does not hold it open.
    return new Journal(core, true);
  };
}

/**
 * Deletes the journal file of a server config (and stops a journal open on it, without
 * another line). Resolves true when there was a file.
 */
export async function deleteJournal(directory: string, serverId: string): Promise<boolean> {
  const file = journalPath(directory, serverId);
  const core = registry.get(file);
  if (core) {
    registry.delete(file);
    await core.ready.catch(() => undefined);
    core.shutDown();
    await core.quiet();
  }
  await closing.get(file)?.catch(() => undefined);
  let existed = false;
  for (const name of [file, `${file}.tmp`]) {
    try {
      await fs.unlink(name);
      if (name === file) existed = true;
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'ENOENT') {
        throw new ButlerError(
          'invalid-config',
          message('journal.errors.delete', { code: code ?? 'unknown' }),
        );
      }
    }
  }
  return existed;
}
