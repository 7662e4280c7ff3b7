/**
 * The period a report covers. Times of day (the maintenance window, dates without a time) are
 * in the local time of the machine that runs Node-RED, across midnight and daylight-saving
 * changes: the Date constructor with local fields moves a time that does not exist (02:30 on
 * the night the clocks go forward) to the first one after it, and takes the first of a time
 * that happens twice (the night they go back).
 */
import { ButlerError } from '../failures/errors';
import { message, type MessageParam } from '../messages';
import { describeValue } from '../butler/tasks';
import { isTime } from './records';

export const PERIOD_KINDS = [
  'since-last-report',
  'maintenance-window',
  'last-24-hours',
  'between',
] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

/** A point in time as a user gives it: epoch ms, an ISO 8601 date or date-time, a Date. */
export type TimeInput = number | string | Date;

export type ReportPeriod =
  /** From the end of this node's previous report (or the journal's beginning) to now. */
  | { kind: 'since-last-report' }
  /** The most recent maintenance window that has begun: its hours as the server's schedule has them. */
  | { kind: 'maintenance-window'; startHour: number; endHour: number }
  | { kind: 'last-24-hours' }
  /** `until` defaults to now. */
  | { kind: 'between'; since: TimeInput; until?: TimeInput };

const DAY_MS = 86_400_000;

function invalid(key: string, params: Record<string, MessageParam>): ButlerError {
  return new ButlerError('invalid-config', message(`journal.errors.${key}`, params));
}

function isHour(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 23;
}

/**
 * A period as a message or a config may give it: one of the kinds as text, or an object with
 * `kind`. Throws an `invalid-config` ButlerError that says what is allowed.
 */
export function checkPeriod(value: unknown): ReportPeriod {
  if (value === undefined || value === null || value === '') return { kind: 'since-last-report' };
  const kind =
    typeof value === 'string'
      ? value
      : typeof value === 'object' && !Array.isArray(value)
        ? (value as { kind?: unknown }).kind
        : undefined;
  const fields = typeof value === 'object' ? (value as Record<string, unknown>) : {};
  switch (kind) {
    case 'since-last-report':
    case 'last-24-hours':
      return { kind };
    case 'maintenance-window': {
      const { startHour, endHour } = fields;
      if (!isHour(startHour) || !isHour(endHour)) {
        throw invalid('windowHours', {
          start: describeInput(startHour),
          end: describeInput(endHour),
        });
      }
      return { kind, startHour, endHour };
    }
    case 'between': {
      const since = parseReportTime(fields.since, 'since');
      const until =
        fields.until === undefined || fields.until === null || fields.until === ''
          ? undefined
          : parseReportTime(fields.until, 'until');
      return { kind, since, ...(until !== undefined ? { until } : {}) };
    }
    default:
      throw invalid('period', {
        value: describeInput(typeof value === 'object' && value !== null ? kind : value),
        kinds: PERIOD_KINDS.join(', '),
      });
  }
}

/** A value from a message or a config, for an error: what it was, briefly. */
export function describeInput(value: unknown): MessageParam {
  if (value === undefined) return message('journal.errors.nothing');
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeValue(value);
}

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME =
  /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Epoch ms (a number, or digits as text), an ISO 8601 date-time (local time unless it names its
 * offset) or an ISO date (local midnight), or a Date. Anything else is an `invalid-config` error.
 */
export function parseReportTime(value: unknown, what: 'since' | 'until'): number {
  let time = Number.NaN;
  if (value instanceof Date) {
    time = value.getTime();
  } else if (typeof value === 'number') {
    time = value;
  } else if (typeof value === 'string') {
    const text = value.trim();
    const date = DATE_ONLY.exec(text);
    if (/^\d{1,16}$/.test(text)) {
      time = Number(text);
    } else if (date) {
      const [year, month, day] = [Number(date[1]), Number(date[2]) - 1, Number(date[3])];
      const local = new Date(year, month, day);
      // 2026-02-30 would roll over to March: not a date.
      if (local.getFullYear() === year && local.getMonth() === month && local.getDate() === day) {
        time = local.getTime();
      }
    } else if (DATE_TIME.test(text)) {
      time = Date.parse(text.replace(' ', 'T'));
    }
  }
  if (!isTime(time)) {
    throw invalid('time', {
      what,
      value: describeInput(value),
    });
  }
  return Math.floor(time);
}

/**
 * The most recent maintenance window that has begun by `now`, in local time: from its start
 * to its end, or to `now` while it still runs. A window whose end hour is not after its start
 * hour ends the next day (22 to 5); equal hours make a whole day.
 */
export function maintenanceWindow(
  startHour: number,
  endHour: number,
  now: number,
): { from: number; to: number; end: number } {
  if (!isHour(startHour) || !isHour(endHour)) {
    throw invalid('windowHours', { start: describeInput(startHour), end: describeInput(endHour) });
  }
  const today = new Date(now);
  const startOn = (dayOffset: number): Date =>
    new Date(today.getFullYear(), today.getMonth(), today.getDate() + dayOffset, startHour);
  let start = startOn(0);
  if (start.getTime() > now) start = startOn(-1);
  const endDay = start.getDate() + (endHour > startHour ? 0 : 1);
  // From the start's own calendar date: a start moved by a clock change stays on its day.
  const end = new Date(start.getFullYear(), start.getMonth(), endDay, endHour);
  return { from: start.getTime(), to: Math.min(end.getTime(), now), end: end.getTime() };
}

export interface PeriodContext {
  now: number;
  /** Where this node's previous report ended. */
  lastReportTo: number | undefined;
  /** Where the journal begins. */
  coverageFrom: number | undefined;
}

/** The period's bounds (epoch ms); a period reaching past now ends now. */
export function resolvePeriod(
  period: ReportPeriod,
  context: PeriodContext,
): { from: number; to: number } {
  const { now } = context;
  let from: number;
  let to = now;
  switch (period.kind) {
    case 'since-last-report':
      from = context.lastReportTo ?? context.coverageFrom ?? now;
      break;
    case 'maintenance-window':
      ({ from, to } = maintenanceWindow(period.startHour, period.endHour, now));
      break;
    case 'last-24-hours':
      from = now - DAY_MS;
      break;
    case 'between':
      from = parseReportTime(period.since, 'since');
      to = period.until === undefined ? now : parseReportTime(period.until, 'until');
      if (from > to) {
        throw invalid('order', {
          since: new Date(from).toISOString(),
          until: new Date(to).toISOString(),
        });
      }
      break;
  }
  return { from: Math.min(from, now), to: Math.min(to, now) };
}
