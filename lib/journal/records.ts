/**
 * The journal's lines: one JSON object per line, each a record of one kind. The same records
 * are written, read back and applied to the in-memory model, so a journal read after a restart
 * is the journal that was kept. Everything that enters a record passes a check here: bounded
 * strings without control characters, known words, finite times. Nothing free-form goes in,
 * so no token, URL credentials or viewer names can reach the file.
 */
import { BUTLER_ERROR_CODES, type ButlerErrorCode } from '../failures/errors';
import { TASK_NAME_PATTERN } from '../butler/tasks';
import type { TaskStatus } from '../butler/types';

export const ACTIVITY_EVENTS = ['started', 'updated', 'ended', 'seen', 'lost'] as const;
/**
 * started, updated, ended: from the notification socket; seen: present in a GET /activities
 * snapshot (start not seen); lost: absent from a snapshot while known to run (end not seen).
 */
export type ActivityEventName = (typeof ACTIVITY_EVENTS)[number];

export const TASK_STATUSES: readonly TaskStatus[] = [
  'started',
  'already-running',
  'stopped',
  'not-running',
];
export const SCHEDULE_STATUSES = ['changed', 'unchanged', 'failed'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

export const GAP_REASONS = [
  'unreachable',
  'node-red-down',
  'write-failed',
  'before-journal',
] as const;
/**
 * unreachable: the server could not be reached; node-red-down: nothing was journaled because
 * Node-RED (or every report node) was not running; write-failed: the file could not be written,
 * so after a restart this part may be missing; before-journal: the journal does not reach back
 * that far (it began later, or older entries were dropped to keep it within its bounds).
 */
export type GapReason = (typeof GAP_REASONS)[number];

/** The node that did something: its id and its name as the user set it. */
export interface JournalNode {
  id: string;
  name: string;
}

/** One activity as the journal keeps it. Times are epoch ms. */
export interface EntryRecord {
  k: 'entry';
  uuid: string;
  type: string;
  title: string;
  subtitle: string;
  startedAt: number;
  /** False when the activity was already running when first seen. */
  startSeen: boolean;
  lastSeenAt: number;
  /** open: running as far as known; ended: its end was seen; lost: gone, end not seen. */
  state: 'open' | 'ended' | 'lost';
  /** When its end was seen (ended), or when it was found gone (lost). */
  endedAt?: number;
  /** Highest progress seen, 0-100, or -1 when the server never said. */
  progress: number;
  /** The Butler task it belongs to, where that is known. */
  task?: string;
  /**
   * Not seen since the server was unreachable: an end reported after the reconnect (the
   * watcher's snapshot) may have happened any time since, so it is not taken as seen.
   */
  blind?: boolean;
}

export type JournalRecord =
  /** The journal is complete from here on. */
  | { k: 'begin'; t: number }
  /** The journal was opened: Node-RED (or a report node) started. */
  | { k: 'start'; t: number; server?: string }
  | { k: 'alive'; t: number }
  /** Closed cleanly. */
  | { k: 'stopped'; t: number }
  | {
      k: 'activity';
      t: number;
      e: ActivityEventName;
      uuid: string;
      type?: string;
      title?: string;
      subtitle?: string;
      progress?: number;
    }
  /** A start node tied an activity to the task it started. */
  | { k: 'tie'; t: number; uuid: string; task: string }
  | EntryRecord
  | {
      k: 'action';
      t: number;
      action: 'start' | 'stop';
      task: string;
      status: TaskStatus | 'failed';
      error?: ButlerErrorCode;
      node: JournalNode;
    }
  | {
      k: 'schedule';
      t: number;
      settings: Record<string, string>;
      status: ScheduleStatus;
      error?: ButlerErrorCode;
      node: JournalNode;
    }
  | { k: 'unreachable'; t: number; code: ButlerErrorCode }
  | { k: 'reachable'; t: number }
  /** A gap kept by a compaction. */
  | { k: 'gap'; from: number; to: number; reason: GapReason; code?: string }
  /** A report made by a node, up to `to`: where its next "since the last report" begins. */
  | { k: 'report'; t: number; node: { id: string }; to: number };

export type RecordKind = JournalRecord['k'];

// ---- checks for values from outside -----------------------------------------------------------

/** Years 2000 to 2200: any time outside is a broken clock or a broken line. */
const MIN_TIME = 946_684_800_000;
const MAX_TIME = 7_258_118_400_000;
const MAX_TEXT = 200;
const MAX_NODE_NAME = 100;
const MAX_SETTINGS = 64;
const MAX_SETTING_VALUE = 500;
const NODE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/** What a schedule node may change: Butler settings and the behaviours of the heavy work. */
const SETTING_ID = /^(Butler[A-Za-z0-9]{0,64}|[A-Za-z][A-Za-z0-9]{0,63}Behavior)$/;
const UUID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isTime(value: unknown): value is number {
  return (
    typeof value === 'number' && Number.isFinite(value) && value >= MIN_TIME && value <= MAX_TIME
  );
}

/** Text made safe to keep: control characters become spaces, at most `max` characters. */
export function cleanText(value: unknown, max = MAX_TEXT): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

export function isTaskName(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 80 && TASK_NAME_PATTERN.test(value);
}

export function isErrorCode(value: unknown): value is ButlerErrorCode {
  return typeof value === 'string' && (BUTLER_ERROR_CODES as readonly string[]).includes(value);
}

export function cleanProgress(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (value < 0) return -1;
  return Math.min(100, Math.round(value * 10) / 10);
}

export function cleanNode(value: unknown): JournalNode | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, name } = value as { id?: unknown; name?: unknown };
  if (typeof id !== 'string' || !NODE_ID.test(id)) return undefined;
  return { id, name: cleanText(name ?? '', MAX_NODE_NAME) ?? '' };
}

/** A schedule change's settings: Butler and behaviour setting ids only, plain values, as text. */
export function cleanSettings(value: unknown): Record<string, string> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.length > MAX_SETTINGS) return undefined;
  const settings: Record<string, string> = {};
  for (const [id, raw] of entries) {
    if (!SETTING_ID.test(id)) return undefined;
    let text: string | undefined;
    if (typeof raw === 'boolean') text = String(raw);
    else if (typeof raw === 'number' && Number.isFinite(raw)) text = String(raw);
    else if (typeof raw === 'string') text = cleanText(raw, MAX_SETTING_VALUE);
    if (text === undefined) return undefined;
    settings[id] = text;
  }
  return settings;
}

/**
 * A server's label without anything secret: no user name or password, no query (where a token
 * may sit) or fragment in a URL, no `X-Plex-Token=…` anywhere.
 */
export function cleanServerLabel(value: unknown): string {
  let text = typeof value === 'string' ? value.trim() : '';
  text = text.replace(/x-plex-token\s*[=:]\s*[^&\s]*/gi, '');
  const url = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)/i.exec(text);
  if (url) {
    const host = url[2].slice(url[2].lastIndexOf('@') + 1);
    text = `${url[1]}${host}${url[3]}`;
  } else {
    text = text.replace(/[?#][\s\S]*$/, '');
  }
  // Trimmed last, so that a label read back is the label written.
  return (cleanText(text, MAX_TEXT) ?? '').trim();
}

// ---- reading lines back ------------------------------------------------------------------------

/** Longer than any line the journal writes: whatever it is, it is not ours. */
export const MAX_LINE = 16_384;

type Fields = Record<string, unknown>;

function optionalText(fields: Fields, key: string): string | undefined | null {
  if (!Object.hasOwn(fields, key)) return undefined;
  const text = cleanText(fields[key]);
  return text === undefined ? null : text;
}

function checkActivity(fields: Fields): JournalRecord | undefined {
  const e = fields.e;
  if (!(ACTIVITY_EVENTS as readonly unknown[]).includes(e) || !isUuid(fields.uuid))
    return undefined;
  const record: JournalRecord = {
    k: 'activity',
    t: fields.t as number,
    e: e as ActivityEventName,
    uuid: fields.uuid,
  };
  for (const key of ['type', 'title', 'subtitle'] as const) {
    const text = optionalText(fields, key);
    if (text === null) return undefined;
    if (text !== undefined) record[key] = text;
  }
  if (Object.hasOwn(fields, 'progress')) {
    const progress = cleanProgress(fields.progress);
    if (progress === undefined) return undefined;
    record.progress = progress;
  }
  return record;
}

function checkEntry(fields: Fields): EntryRecord | undefined {
  const { uuid, startedAt, lastSeenAt, endedAt, state, startSeen, task, blind } = fields;
  const type = cleanText(fields.type);
  const title = cleanText(fields.title);
  const subtitle = cleanText(fields.subtitle);
  const progress = cleanProgress(fields.progress);
  if (!isUuid(uuid) || !isTime(startedAt) || !isTime(lastSeenAt)) return undefined;
  if (type === undefined || title === undefined || subtitle === undefined) return undefined;
  if (progress === undefined || typeof startSeen !== 'boolean') return undefined;
  if (state !== 'open' && state !== 'ended' && state !== 'lost') return undefined;
  if (state !== 'open' && !isTime(endedAt)) return undefined;
  if (task !== undefined && !isTaskName(task)) return undefined;
  const entry: EntryRecord = {
    k: 'entry',
    uuid,
    type,
    title,
    subtitle,
    startedAt,
    startSeen,
    lastSeenAt,
    state,
    progress,
  };
  if (state !== 'open') entry.endedAt = endedAt as number;
  if (task !== undefined) entry.task = task;
  if (blind === true) entry.blind = true;
  return entry;
}

/** A parsed line checked field by field; undefined for anything that is not a record of ours. */
export function checkRecord(value: unknown): JournalRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const fields = value as Fields;
  const t = fields.t;
  switch (fields.k) {
    case 'begin':
    case 'alive':
    case 'stopped':
    case 'reachable':
      return isTime(t) ? { k: fields.k, t } : undefined;
    case 'start': {
      if (!isTime(t)) return undefined;
      if (fields.server === undefined) return { k: 'start', t };
      return typeof fields.server === 'string'
        ? { k: 'start', t, server: cleanServerLabel(fields.server) }
        : undefined;
    }
    case 'activity':
      return isTime(t) ? checkActivity(fields) : undefined;
    case 'tie':
      return isTime(t) && isUuid(fields.uuid) && isTaskName(fields.task)
        ? { k: 'tie', t, uuid: fields.uuid, task: fields.task }
        : undefined;
    case 'entry':
      return checkEntry(fields);
    case 'action': {
      const node = cleanNode(fields.node);
      const { action, task, status, error } = fields;
      if (!isTime(t) || !node || (action !== 'start' && action !== 'stop')) return undefined;
      if (task !== 'all' && !isTaskName(task)) return undefined;
      if (status !== 'failed' && !(TASK_STATUSES as readonly unknown[]).includes(status)) {
        return undefined;
      }
      if (error !== undefined && !isErrorCode(error)) return undefined;
      return {
        k: 'action',
        t,
        action,
        task: task as string,
        status: status as TaskStatus | 'failed',
        ...(error !== undefined ? { error } : {}),
        node,
      };
    }
    case 'schedule': {
      const node = cleanNode(fields.node);
      const settings = cleanSettings(fields.settings);
      const { status, error } = fields;
      if (!isTime(t) || !node || !settings) return undefined;
      if (!(SCHEDULE_STATUSES as readonly unknown[]).includes(status)) return undefined;
      if (error !== undefined && !isErrorCode(error)) return undefined;
      return {
        k: 'schedule',
        t,
        settings,
        status: status as ScheduleStatus,
        ...(error !== undefined ? { error } : {}),
        node,
      };
    }
    case 'unreachable':
      return isTime(t) && isErrorCode(fields.code)
        ? { k: 'unreachable', t, code: fields.code }
        : undefined;
    case 'gap': {
      const { from, to, reason, code } = fields;
      if (!isTime(from) || !isTime(to) || from > to) return undefined;
      if (!(GAP_REASONS as readonly unknown[]).includes(reason)) return undefined;
      if (code !== undefined && !isErrorCode(code) && !/^E[A-Z]{1,20}$/.test(String(code))) {
        return undefined;
      }
      return {
        k: 'gap',
        from,
        to,
        reason: reason as GapReason,
        ...(code !== undefined ? { code: code as string } : {}),
      };
    }
    case 'report': {
      const node = cleanNode({ id: (fields.node as Fields | null)?.id, name: '' });
      if (!isTime(t) || !isTime(fields.to) || !node) return undefined;
      return { k: 'report', t, node: { id: node.id }, to: fields.to };
    }
    default:
      return undefined;
  }
}

export interface ParsedJournal {
  records: JournalRecord[];
  /** Lines that were not records of ours (damaged, foreign, from a newer version). */
  skipped: number;
  /** The last line had no line end: cut off while being written. Its length in bytes. */
  tornBytes: number;
}

/**
 * Reads a journal file's text. Never throws: a damaged line is skipped, the rest is read; a last
 * line without a line end was being written when the process stopped and is not used.
 */
export function parseJournal(text: string): ParsedJournal {
  const records: JournalRecord[] = [];
  let skipped = 0;
  let tornBytes = 0;
  let start = 0;
  while (start < text.length) {
    const end = text.indexOf('\n', start);
    if (end === -1) {
      tornBytes = Buffer.byteLength(text.slice(start));
      break;
    }
    const line = text.slice(start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    const record = line.length <= MAX_LINE ? parseLine(line) : undefined;
    if (record) records.push(record);
    else skipped++;
  }
  return { records, skipped, tornBytes };
}

function parseLine(line: string): JournalRecord | undefined {
  try {
    return checkRecord(JSON.parse(line));
  } catch {
    return undefined;
  }
}

/** One record as its line, with the line end. */
export function encodeRecord(record: JournalRecord): string {
  return `${JSON.stringify(record)}\n`;
}
