import { ButlerError } from '../failures/errors';
import { message } from '../messages';
import type { Activity } from '../butler/types';
import { toEvent, type ActivityEvent, type ActivityWatcher } from './watch';

/**
 * Which activities belong to the work a start request began. No public source says which
 * activity type or title a Butler task produces, so nothing is hard-coded: by default every
 * activity that starts after the request counts; a type prefix and a title text narrow it.
 */
export interface ActivityMatch {
  /**
   * The activity type starts with this (case-insensitive), e.g. "library."; several prefixes
   * separated by commas match any of them.
   */
  typePrefix?: string;
  /** The title contains this (case-insensitive), e.g. "optimi". */
  titleContains?: string;
}

export interface CompletionOptions {
  match?: ActivityMatch;
  /** Give up after this long from the request, with a `timeout` ButlerError. */
  timeoutMs: number;
  /**
   * How long after the request a first matching activity may take to appear; none by then
   * means the work ended at once or runs without an activity. Default 5000.
   */
  appearWithinMs?: number;
  /**
   * After the last matching activity ends, how long to wait for another one (work that runs
   * in several steps) before calling it done. Default 2000.
   */
  quietMs?: number;
  signal?: AbortSignal;
}

export interface CompletionReport {
  /** From the request to the end of the last matching activity (or to the appear window's end). */
  durationMs: number;
  /** The activities counted as this work, in the order they started, as last seen. */
  activities: ActivityEvent[];
}

/** What a running wait tells while it waits, e.g. for a status line. */
export type ProgressListener = (activity: ActivityEvent) => void;

/** Type prefixes, comma-separated ("library., butler"); empty entries are ignored. */
function prefixesOf(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((prefix) => prefix.trim().toLowerCase())
    .filter((prefix) => prefix !== '');
}

/** Whether an activity passes the filter: a type prefix (any of several) and a title text. */
export function matchesActivity(
  activity: Pick<Activity, 'type' | 'title'>,
  match: ActivityMatch | undefined,
): boolean {
  const prefixes = prefixesOf(match?.typePrefix);
  const text = match?.titleContains?.trim().toLowerCase() ?? '';
  const type = activity.type.toLowerCase();
  if (prefixes.length > 0 && !prefixes.some((prefix) => type.startsWith(prefix))) return false;
  if (text !== '' && !activity.title.toLowerCase().includes(text)) return false;
  return true;
}

/**
 * Call before sending the start request, so that no event is missed; then `wait()` once the
 * server has answered. `alreadyRunning` (a 202) adopts the matching activities that were
 * running before the request, since the task's own activity began earlier.
 */
export class CompletionTracker {
  private readonly requestedAt = Date.now();
  private readonly before: Map<string, Activity>;
  private readonly counted = new Map<string, ActivityEvent>();
  private readonly open = new Set<string>();
  private lastEndedAt: number | undefined;
  private wake: (() => void) | undefined;
  private progress: ProgressListener | undefined;
  private readonly onActivity = (event: ActivityEvent): void => this.observe(event);

  constructor(
    private readonly watcher: ActivityWatcher,
    private readonly options: CompletionOptions,
  ) {
    this.before = new Map(watcher.running().map((activity) => [activity.uuid, activity]));
    watcher.on('activity', this.onActivity);
  }

  /** Stops listening without waiting (the request failed). */
  cancel(): void {
    this.watcher.off('activity', this.onActivity);
    this.wake?.();
  }

  async wait(alreadyRunning: boolean, onProgress?: ProgressListener): Promise<CompletionReport> {
    this.progress = onProgress;
    if (alreadyRunning) {
      for (const activity of this.before.values()) {
        if (matchesActivity(activity, this.options.match) && !this.counted.has(activity.uuid)) {
          this.counted.set(activity.uuid, toEvent('started', activity));
          this.open.add(activity.uuid);
        }
      }
    }
    const appearWithinMs = this.options.appearWithinMs ?? 5000;
    const quietMs = this.options.quietMs ?? 2000;
    const deadline = this.requestedAt + this.options.timeoutMs;
    const signal = this.options.signal;
    try {
      for (;;) {
        if (signal?.aborted) throw abortedError(signal);
        const now = Date.now();
        let doneAt: number | undefined;
        if (this.open.size === 0) {
          if (this.counted.size === 0) {
            const appearBy = this.requestedAt + appearWithinMs;
            if (now >= appearBy) doneAt = appearBy;
          } else if (this.lastEndedAt !== undefined && now >= this.lastEndedAt + quietMs) {
            doneAt = this.lastEndedAt;
          }
        }
        if (doneAt !== undefined) {
          return {
            durationMs: Math.max(0, doneAt - this.requestedAt),
            activities: [...this.counted.values()],
          };
        }
        if (now >= deadline) throw this.timeoutError();
        let until = deadline;
        if (this.open.size === 0) {
          until = Math.min(
            until,
            this.counted.size === 0
              ? this.requestedAt + appearWithinMs
              : (this.lastEndedAt ?? now) + quietMs,
          );
        }
        await this.sleepUntil(until, signal);
      }
    } finally {
      this.cancel();
    }
  }

  private observe(event: ActivityEvent): void {
    const counted = this.counted.has(event.uuid);
    if (!counted) {
      // Only what starts after the request (or shows up unseen before it) and matches.
      if (this.before.has(event.uuid) || event.event === 'ended') return;
      if (!matchesActivity(event, this.options.match)) return;
    }
    this.counted.set(event.uuid, event);
    if (event.event === 'ended') {
      this.open.delete(event.uuid);
      this.lastEndedAt = Date.now();
    } else {
      this.open.add(event.uuid);
    }
    this.progress?.(event);
    this.wake?.();
  }

  private sleepUntil(until: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', finish);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, until - Date.now()));
      signal?.addEventListener('abort', finish, { once: true });
      this.wake = finish;
    });
  }

  private timeoutError(): ButlerError {
    const running = [...this.open].map((uuid) => this.counted.get(uuid)?.title || uuid);
    const seconds = Math.round(this.options.timeoutMs / 1000);
    return new ButlerError(
      'timeout',
      running.length > 0
        ? message('errors.stillRunning', { seconds, titles: running.join(', ') })
        : message('errors.noEndSeen', { seconds }),
      { retryable: false },
    );
  }
}

function abortedError(signal: AbortSignal): ButlerError {
  const reason: unknown = signal.reason;
  if (reason instanceof ButlerError) return reason;
  return new ButlerError('aborted', message('errors.waitCancelled'));
}
