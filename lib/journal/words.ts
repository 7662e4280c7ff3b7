/**
 * The report's words as catalog references (lib/locales/<language>/messages.json, group
 * `journal`), so that a node words them with Node-RED's RED._ in the runtime's language:
 * durations, times of day, and the pieces the paragraph is put together from.
 */
import { ENGLISH, lookup, message, type MessageParam, type MessageRef } from '../messages';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Whether durationWords words this many ms as "under 1 s". */
export function underSecond(ms: number): boolean {
  return Math.max(0, Math.round(ms)) < SECOND;
}

/** "45 s", "2 min 10 s", "1 h 3 min", "2 d 5 h": two units at most, the larger rounded down. */
export function durationWords(ms: number): MessageRef {
  if (underSecond(ms)) return message('journal.duration.underSecond');
  const total = Math.round(ms);
  const seconds = Math.round(total / SECOND);
  if (seconds < 60) return message('journal.duration.seconds', { s: seconds });
  if (total < HOUR) {
    const min = Math.floor(seconds / 60);
    const s = seconds % 60;
    return s === 0
      ? message('journal.duration.minutes', { min })
      : message('journal.duration.minutesSeconds', { min, s });
  }
  if (total < DAY) {
    const h = Math.floor(total / HOUR);
    const min = Math.floor((total % HOUR) / MINUTE);
    return min === 0
      ? message('journal.duration.hours', { h })
      : message('journal.duration.hoursMinutes', { h, min });
  }
  const d = Math.floor(total / DAY);
  const h = Math.floor((total % DAY) / HOUR);
  return h === 0
    ? message('journal.duration.days', { d })
    : message('journal.duration.daysHours', { d, h });
}

const pad = (value: number): string => String(value).padStart(2, '0');

/** A time of day in local time ("02:00"), with the date when `withDate`. */
export function timeWords(ms: number, withDate: boolean): MessageRef {
  const date = new Date(ms);
  const time = { hours: pad(date.getHours()), minutes: pad(date.getMinutes()) };
  if (!withDate) return message('journal.time', time);
  return message('journal.dateTime', {
    ...time,
    day: pad(date.getDate()),
    month: pad(date.getMonth() + 1),
    year: String(date.getFullYear()),
  });
}

/** Items joined as the catalog joins lists: "a, b, c". */
export function listWords(items: readonly MessageParam[]): MessageParam {
  return joinWords(items, 'journal.list');
}

/** Sentences as one paragraph. */
export function paragraphWords(sentences: readonly MessageParam[]): MessageParam {
  return joinWords(sentences, 'journal.paragraph');
}

function joinWords(items: readonly MessageParam[], key: string): MessageParam {
  if (items.length === 0) return '';
  let joined = items[items.length - 1];
  for (let index = items.length - 2; index >= 0; index--) {
    joined = message(key, { first: items[index], rest: joined });
  }
  return joined;
}

/** The words for a task where the catalog has them ("database backup"), else its name. */
export function taskWords(task: string): MessageParam {
  if (task === 'all') return message('journal.allTasks');
  const key = `journal.task.${task}`;
  return lookup(ENGLISH, key) !== undefined ? message(key) : task;
}
