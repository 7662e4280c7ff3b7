/**
 * How long a message may wait for an idle server: a number of minutes from now, or the next
 * time a clock time of day comes ("05:00", local time of the machine that runs the node).
 * Pure: the caller gives the clock.
 */
import { LIMITS, checkNumber } from '../butler/client-options';
import { ButlerError } from '../failures/errors';
import { message, type MessageParam } from '../messages';
import { shownValue } from './rules';

/** "HH:MM" or "H:MM", 00:00 to 23:59. The editor checks the field with the same pattern. */
export const TIME_OF_DAY_PATTERN = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** What a deadline was given as: minutes from when the message came, or a time of day. */
export type DeadlineSpec = { minutes: number } | { hours: number; minutes: number; clock: true };

/** A time of day's hours and minutes; undefined when the text is no "HH:MM". */
export function parseTimeOfDay(value: unknown): { hours: number; minutes: number } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = TIME_OF_DAY_PATTERN.exec(value.trim());
  if (!match) return undefined;
  return { hours: Number(match[1]), minutes: Number(match[2]) };
}

/**
 * The next moment (ms since the epoch) after `now` at which the local clock shows this time:
 * later today, or tomorrow when it has passed (or is now).
 */
export function nextTimeOfDay(now: number, hours: number, minutes: number): number {
  const at = new Date(now);
  at.setHours(hours, minutes, 0, 0);
  if (at.getTime() <= now) {
    at.setDate(at.getDate() + 1);
    at.setHours(hours, minutes, 0, 0);
  }
  return at.getTime();
}

/** When a deadline given as `spec` comes, for a message that came at `now`. */
export function deadlineAt(spec: DeadlineSpec, now: number): number {
  return 'clock' in spec
    ? nextTimeOfDay(now, spec.hours, spec.minutes)
    : now + Math.round(spec.minutes * 60_000);
}

function badDeadline(setting: MessageParam, value: unknown): ButlerError {
  const limit = LIMITS.deadlineMinutes;
  return new ButlerError(
    'invalid-config',
    message('errors.badDeadline', {
      setting,
      allowed: message('range.above', {
        unit: message(`unit.${limit.unit}`),
        min: limit.min,
        max: limit.max,
      }),
      value: shownValue(value),
    }),
  );
}

/**
 * The node's own deadline: `minutes` (a number of minutes in LIMITS.deadlineMinutes, empty for
 * the default) or `time` ("HH:MM"). An `invalid-config` ButlerError names the field, what is
 * allowed and what it holds.
 */
export function configuredDeadline(kind: unknown, minutes: unknown, time: unknown): DeadlineSpec {
  if (kind === 'time') {
    const clock = parseTimeOfDay(time);
    if (!clock) {
      throw new ButlerError(
        'invalid-config',
        message('errors.badTimeOfDay', {
          setting: message('setting.deadlineTime'),
          value: shownValue(time),
        }),
      );
    }
    return { ...clock, clock: true };
  }
  return { minutes: checkNumber(minutes, LIMITS.deadlineMinutes) };
}

/**
 * A message's own deadline (msg.deadline): minutes from now (a number, or digits in a string)
 * or a time of day "HH:MM"; undefined, null or '' when it sets none. Anything else is an
 * `invalid-config` ButlerError that names msg.deadline and both allowed forms.
 */
export function messageDeadline(value: unknown): DeadlineSpec | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const setting = 'msg.deadline';
  if (typeof value === 'string') {
    const clock = parseTimeOfDay(value);
    if (clock) return { ...clock, clock: true };
    if (!/^\s*\d+(\.\d+)?\s*$/.test(value)) throw badDeadline(setting, value);
  } else if (typeof value !== 'number') {
    throw badDeadline(setting, value);
  }
  const minutes = Number(value);
  const limit = LIMITS.deadlineMinutes;
  if (!Number.isFinite(minutes) || minutes <= limit.min || minutes > limit.max) {
    throw badDeadline(setting, value);
  }
  return { minutes };
}
