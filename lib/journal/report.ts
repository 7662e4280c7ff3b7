/**
 * A report of a period from the journal: what ran, what our nodes sent, and what the journal
 * missed, as data and as one short paragraph.
 */
import type { ButlerErrorCode } from '../failures/errors';
import { formatMessage, message, type MessageParam, type MessageRef } from '../messages';
import type { TaskStatus } from '../butler/types';
import { entryEnd, type Gap, type JournalModel } from './model';
import type { PeriodKind } from './period';
import {
  isErrorCode,
  type EntryRecord,
  type GapReason,
  type JournalNode,
  type ScheduleStatus,
} from './records';
import {
  durationWords,
  listWords,
  paragraphWords,
  taskWords,
  timeWords,
  underSecond,
} from './words';

/**
 * Activity types seen from real servers in public code, with the Butler task each most likely
 * belongs to. An inference, not documented by Plex; types seen with several candidate tasks
 * (library.refresh.items, library.update.item.metadata) are not here: the report names those
 * by their own title rather than guess.
 */
export const TASK_OF_ACTIVITY_TYPE: Readonly<Record<string, string>> = Object.freeze({
  'library.update.section': 'RefreshLibraries',
  'media.generate.bif': 'GenerateMediaIndexFiles',
  'media.generate.chapter.thumbs': 'GenerateChapterThumbs',
  'media.generate.credits': 'ButlerTaskGenerateCreditsMarkers',
  'media.generate.intros': 'ButlerTaskGenerateIntroMarkers',
  'media.generate.voice.activity': 'ButlerTaskGenerateVoiceActivity',
  'provider.epg.load': 'RefreshEpgGuides',
});

export interface ReportActivity {
  type: string;
  title: string;
  subtitle: string;
  /** The Butler task, where known: tied by a start node, or inferred from the type. */
  task?: string;
  startedAt: string;
  /** null while running, or when its end was not seen. */
  endedAt: string | null;
  /** Start to end; while running, to now; end not seen, to when it was last seen. */
  durationMs: number;
  /** Highest progress seen, 0-100, or -1 when the server never said. */
  progress: number;
  /** Whether its end was seen. */
  ended: boolean;
  /** Still running as far as the journal knows. */
  running: boolean;
  /** False when it was already running when first seen: it began earlier. */
  startSeen: boolean;
}

export type ReportAction =
  | {
      at: string;
      action: 'start' | 'stop';
      task: string;
      status: TaskStatus | 'failed';
      error?: ButlerErrorCode;
      node: JournalNode;
    }
  | {
      at: string;
      action: 'schedule';
      settings: Record<string, string>;
      status: ScheduleStatus;
      error?: ButlerErrorCode;
      node: JournalNode;
    };

export interface ReportGap {
  from: string;
  to: string;
  reason: GapReason;
  /** unreachable: the error code; write-failed: the file system's (ENOSPC). */
  code?: string;
  /** Still going on at the time of the report (`to` is then that time). */
  ongoing?: boolean;
}

export interface ReportTotals {
  activities: number;
  ended: number;
  running: number;
  /** Gone without their end being seen. */
  notSeenToEnd: number;
  actions: number;
  failedActions: number;
  scheduleChanges: number;
  /** How much of the period the journal missed (gaps of every reason, overlaps counted once). */
  missedMs: number;
}

export interface JournalReport {
  period: PeriodKind;
  from: string;
  to: string;
  /** The server's label (never with credentials). */
  server: string;
  activities: ReportActivity[];
  actions: ReportAction[];
  gaps: ReportGap[];
  totals: ReportTotals;
  /** The journal saw the whole period. */
  complete: boolean;
  /** The paragraph, worded by the translate function given (English by default). */
  text: string;
  /** The paragraph as a catalog reference, to word it in another language. */
  textRef: MessageRef;
}

export interface ReportInput {
  model: JournalModel;
  kind: PeriodKind;
  from: number;
  to: number;
  now: number;
  server: string;
  /** Gaps that are not in the model: a write failure going on now. */
  extraGaps: Gap[];
  translate?: (key: string, params: Record<string, string | number>) => string;
}

/** Groups shown by name in the paragraph; the rest are counted. */
const MAX_GROUPS = 6;
const MAX_ACTIONS = 4;
/** Gaps of one reason shown one by one; more are summed up. */
const MAX_GAPS_LISTED = 2;

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, value) => String(value).padStart(3, '0'));
let isoDay = Number.NaN;
let isoDate = '';

/**
 * As Date#toISOString, for the times of the journal (after 2000, whole ms): a report of many
 * activities formats two per activity, and the date part is mostly the one before.
 */
export function iso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== isoDay) {
    isoDay = day;
    isoDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rest = ms - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = Math.floor(rest - seconds * 1000);
  return `${isoDate}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis]}Z`;
}

function taskOf(entry: EntryRecord): string | undefined {
  if (entry.task !== undefined) return entry.task;
  // A type from the server is only a key here if it is one of ours ("__proto__" is not).
  return Object.hasOwn(TASK_OF_ACTIVITY_TYPE, entry.type)
    ? TASK_OF_ACTIVITY_TYPE[entry.type]
    : undefined;
}

export function buildReport(input: ReportInput): JournalReport {
  const { model, from, to, now } = input;
  const entries: EntryRecord[] = [];
  for (const entry of model.entries) {
    if (entry.startedAt <= to && entryEnd(entry) >= from) entries.push(entry);
  }
  entries.sort((a, b) => a.startedAt - b.startedAt);
  const activities = entries.map((entry) => toActivity(entry, now));
  const actionRecords = model.actions
    .filter((action) => action.t >= from && action.t <= to)
    .sort((a, b) => a.t - b.t);
  const actions: ReportAction[] = actionRecords.map((record) =>
    record.k === 'action'
      ? {
          at: iso(record.t),
          action: record.action,
          task: record.task,
          status: record.status,
          ...(record.error !== undefined ? { error: record.error } : {}),
          node: { ...record.node },
        }
      : {
          at: iso(record.t),
          action: 'schedule',
          settings: { ...record.settings },
          status: record.status,
          ...(record.error !== undefined ? { error: record.error } : {}),
          node: { ...record.node },
        },
  );
  const gapList = gapsOf(input);
  const missedMs = unionLength(
    gapList.map((gap) => [Math.max(gap.from, from), Math.min(gap.to, to)] as const),
  );
  let ended = 0;
  let running = 0;
  for (const activity of activities) {
    if (activity.ended) ended++;
    else if (activity.running) running++;
  }
  const totals: ReportTotals = {
    activities: activities.length,
    ended,
    running,
    notSeenToEnd: activities.length - ended - running,
    actions: actions.length,
    failedActions: actions.filter((action) => action.status === 'failed').length,
    scheduleChanges: actions.filter((action) => action.action === 'schedule').length,
    missedMs,
  };
  const textRef = paragraph(input, entries, actionRecords, gapList);
  return {
    period: input.kind,
    from: iso(from),
    to: iso(to),
    server: input.server,
    activities,
    actions,
    gaps: gapList.map((gap) => ({
      from: iso(gap.from),
      to: iso(gap.to),
      reason: gap.reason,
      ...(gap.code !== undefined ? { code: gap.code } : {}),
      ...(gap.ongoing ? { ongoing: true } : {}),
    })),
    totals,
    complete: gapList.length === 0,
    text: formatMessage(textRef, input.translate),
    textRef,
  };
}

function toActivity(entry: EntryRecord, now: number): ReportActivity {
  const running = entry.state === 'open';
  const ended = entry.state === 'ended';
  const end = knownEnd(entry, now);
  const activity: ReportActivity = {
    type: entry.type,
    title: entry.title,
    subtitle: entry.subtitle,
    startedAt: iso(entry.startedAt),
    endedAt: ended ? iso(end) : null,
    durationMs: Math.max(0, end - entry.startedAt),
    progress: entry.progress,
    ended,
    running,
    startSeen: entry.startSeen,
  };
  const task = taskOf(entry);
  if (task !== undefined) activity.task = task;
  return activity;
}

/** Until when it is known to have run: its end, now while it runs, or when last seen. */
function knownEnd(entry: EntryRecord, now: number): number {
  if (entry.state === 'open') return now;
  if (entry.state === 'lost') return entry.lastSeenAt;
  return entry.endedAt ?? entry.lastSeenAt;
}

type ListedGap = Gap & { ongoing?: boolean };

function gapsOf(input: ReportInput): ListedGap[] {
  const { model, from, to, now } = input;
  const gaps: ListedGap[] = [];
  const coverage = model.coverageFrom ?? now;
  if (from < coverage) gaps.push({ from, to: Math.min(coverage, to), reason: 'before-journal' });
  const overlaps = (gap: Gap): boolean => gap.from <= to && gap.to >= from;
  for (const gap of model.gaps) if (overlaps(gap)) gaps.push(gap);
  if (model.unreachable) {
    const open: ListedGap = {
      from: model.unreachable.from,
      to: now,
      reason: 'unreachable',
      code: model.unreachable.code,
      ongoing: true,
    };
    if (overlaps(open)) gaps.push(open);
  }
  for (const gap of input.extraGaps) if (overlaps(gap)) gaps.push({ ...gap, ongoing: true });
  return gaps
    .filter((gap) => gap.to > gap.from || gap.reason !== 'before-journal')
    .sort((a, b) => a.from - b.from);
}

/** Total length of intervals, overlaps counted once. */
function unionLength(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = intervals.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [a, b] of sorted) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}

// ---- the paragraph ----------------------------------------------------------------------------

interface Group {
  name: MessageParam;
  entries: EntryRecord[];
}

function paragraph(
  input: ReportInput,
  entries: EntryRecord[],
  actions: ReadonlyArray<JournalModel['actions'][number]>,
  gaps: ListedGap[],
): MessageRef {
  const { from, to, now } = input;
  // Half a day or more may reach into another day at the same hour: the date says which.
  const withDate = to - from >= DAY_MS / 2;
  const at = (ms: number): MessageRef => timeWords(ms, withDate);
  const periodKey = {
    'since-last-report': 'sinceLastReport',
    'maintenance-window': 'window',
    'last-24-hours': 'last24Hours',
    between: 'between',
  }[input.kind];
  const period = message(`journal.period.${periodKey}`, { from: at(from), to: at(to) });
  const sentences: MessageParam[] = [];
  if (entries.length === 0) {
    sentences.push(message('journal.text.nothing', { period }));
  } else {
    const groups = groupEntries(entries);
    const shown = groups.slice(0, MAX_GROUPS).map((group) => groupWords(group, now));
    const rest = groups.slice(MAX_GROUPS).reduce((sum, group) => sum + group.entries.length, 0);
    if (rest > 0) shown.push(message('journal.text.more', { count: rest }));
    sentences.push(message('journal.text.activities', { period, list: listWords(shown) }));
  }
  if (actions.length > 0) {
    const shown: MessageParam[] = actions.slice(0, MAX_ACTIONS).map(actionWords);
    if (actions.length > MAX_ACTIONS) {
      shown.push(message('journal.text.more', { count: actions.length - MAX_ACTIONS }));
    }
    sentences.push(message('journal.text.actions', { list: listWords(shown) }));
  }
  for (const reason of [
    'before-journal',
    'node-red-down',
    'write-failed',
    'unreachable',
  ] as const) {
    const ofReason = gaps.filter((gap) => gap.reason === reason);
    if (ofReason.length === 0) continue;
    if (reason === 'before-journal') {
      sentences.push(message('journal.gap.beforeJournal', { at: at(ofReason[0].to) }));
    } else if (ofReason.length <= MAX_GAPS_LISTED) {
      for (const gap of ofReason) sentences.push(gapWords(gap, at));
    } else {
      const duration = durationWords(
        unionLength(ofReason.map((gap) => [gap.from, gap.to] as const)),
      );
      sentences.push(
        message(`journal.gap.${GAP_KEYS[reason]}Many`, { count: ofReason.length, duration }),
      );
    }
  }
  return message('journal.text.report', { text: paragraphWords(sentences) });
}

const GAP_KEYS = {
  unreachable: 'unreachable',
  'node-red-down': 'nodeRedDown',
  'write-failed': 'writeFailed',
} as const;

function gapWords(gap: ListedGap, at: (ms: number) => MessageRef): MessageRef {
  const times = { from: at(gap.from), to: at(gap.to) };
  if (gap.reason === 'unreachable') {
    const reason =
      gap.code !== undefined && isErrorCode(gap.code)
        ? message(`status.${gap.code}`)
        : message('journal.gap.unknownReason');
    return message(gap.ongoing ? 'journal.gap.unreachableSince' : 'journal.gap.unreachable', {
      ...times,
      reason,
    });
  }
  if (gap.reason === 'write-failed') {
    return message('journal.gap.writeFailed', { ...times, code: gap.code ?? '' });
  }
  return message('journal.gap.nodeRedDown', times);
}

/** Groups by task where known, else by title; in the order of their first start. */
function groupEntries(entries: EntryRecord[]): Group[] {
  const groups: Group[] = [];
  const byTask = new Map<string, Group>();
  const byTitle = new Map<string, Group>();
  for (const entry of entries) {
    const task = taskOf(entry);
    const map = task !== undefined ? byTask : byTitle;
    const key = task ?? (entry.title || entry.type);
    let group = map.get(key);
    if (!group) {
      group = { name: task !== undefined ? taskWords(task) : '', entries: [] };
      map.set(key, group);
      groups.push(group);
    }
    group.entries.push(entry);
  }
  for (const group of groups) {
    if (group.name !== '') continue;
    const first = group.entries[0];
    const title = first.title || first.type;
    // The subtitle says which library or item; shown when it is the same for all.
    const subtitle = group.entries.every((entry) => entry.subtitle === first.subtitle)
      ? first.subtitle
      : '';
    group.name =
      subtitle !== '' ? message('journal.item.titled', { title, subtitle }) : title || '?';
  }
  return groups;
}

function groupWords(group: Group, now: number): MessageRef {
  const { entries } = group;
  let running = 0;
  const lost: EntryRecord[] = [];
  let partial = false;
  // The time any of them ran, overlaps once: they come in the order they started.
  let busy = 0;
  let until = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    if (entry.state === 'open') running++;
    else if (entry.state === 'lost') lost.push(entry);
    if (entry.state === 'lost' || !entry.startSeen) partial = true;
    const end = knownEnd(entry, now);
    if (end > until) {
      busy += end - Math.max(entry.startedAt, until);
      until = end;
    }
  }
  const duration = durationWords(busy);
  const details: MessageParam[] = [];
  if (entries.length > 1) details.push(message('journal.count', { count: entries.length }));
  // Seen for under a second, but begun before: no lower bound worth saying.
  details.push(
    !partial
      ? duration
      : underSecond(busy)
        ? message('journal.duration.unknown')
        : message('journal.duration.atLeast', { duration }),
  );
  if (running > 0) details.push(message('journal.state.running'));
  if (lost.length === 1 && entries.length === 1 && lost[0].progress >= 0) {
    details.push(message('journal.state.lostAt', { progress: lost[0].progress }));
  } else if (lost.length > 0) {
    details.push(message('journal.state.lost'));
  }
  return message('journal.item.entry', { name: group.name, details: listWords(details) });
}

function actionWords(record: JournalModel['actions'][number]): MessageRef {
  const status =
    record.status === 'failed'
      ? message('journal.status.failed', {
          reason: record.error !== undefined ? message(`status.${record.error}`) : '?',
        })
      : message(`journal.status.${record.status}`);
  if (record.k === 'schedule') return message('journal.action.schedule', { status });
  return message(`journal.action.${record.action}`, { task: taskWords(record.task), status });
}
