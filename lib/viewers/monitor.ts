/**
 * Keeps "is anyone watching?" current for nodes that wait for an idle server or react when
 * someone starts, at a small cost to the server: the notification socket (the shared
 * ActivityWatcher) says when a playback starts, changes state or stops, and only then are the
 * session lists read again; a slow safety read covers what sends no notification (recordings,
 * background transcodes). Without the socket (a proxy refuses it) the lists are read at the
 * poll interval. A failed read is never "idle": the state is unknown until a read succeeds.
 */
import { EventEmitter } from 'node:events';
import type { ButlerClient } from '../butler/client';
import { ButlerError } from '../failures/errors';
import { message } from '../messages';
import type { PlayingEvent, PlayingState } from '../butler/parse';
import type { CallOptions } from '../butler/types';
import type { WatchStatus } from '../activity/watch';
import {
  judgePlaybacks,
  pausedLimitEnds,
  resolveViewerRules,
  type ViewerRuleOptions,
  type ViewerRules,
  type ViewerVerdict,
} from './rules';
import type { Playback } from './sessions';

export interface ViewerMonitorOptions extends ViewerRuleOptions {
  /** Notifications within this long cost one read; default 250. */
  debounceMs?: number;
  /** While the socket is connected, a read this often all the same; default 300000 (5 min). */
  safetyReadMs?: number;
  /**
   * Without the socket, and after a failed read, a read this often; default 5000, or the
   * watcher's own poll interval while it polls.
   */
  pollIntervalMs?: number;
  /** The clock (ms since the epoch); default Date.now. For tests of the paused limit. */
  now?: () => number;
}

/** What the monitor knows now: the rules' verdict, and when it was read (ISO 8601). */
export interface ViewerReading extends ViewerVerdict {
  at: string;
}

/** unknown: no successful read yet, nobody uses the monitor, or the last read failed. */
export type ViewerState = 'unknown' | 'idle' | 'in-use';

/** What the monitor needs of the watcher: its playing events and its connection state. */
export interface PlayingSource {
  readonly status: WatchStatus;
  on(event: 'playing', listener: (event: PlayingEvent) => void): unknown;
  on(event: 'status', listener: (status: WatchStatus) => void): unknown;
  off(event: 'playing', listener: (event: PlayingEvent) => void): unknown;
  off(event: 'status', listener: (status: WatchStatus) => void): unknown;
}

const DEFAULT_DEBOUNCE_MS = 250;
const DEFAULT_SAFETY_READ_MS = 300_000;
const DEFAULT_POLL_INTERVAL_MS = 5000;
/** A session not heard of for this long, and not listed, is forgotten (its stop was missed). */
const QUIET_SESSION_MS = 3_600_000;
/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function duration(value: number | undefined, fallback: number, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return value > 0 || (allowZero && value === 0) ? value : fallback;
}

function closedError(): ButlerError {
  return new ButlerError('aborted', message('errors.clientClosed'));
}

/** One entry per key: the playback list first, so a live session it shows is not counted twice. */
function merged(lists: Playback[][]): Playback[] {
  const seen = new Set<string>();
  const all: Playback[] = [];
  for (const playback of lists.flat()) {
    if (seen.has(playback.key)) continue;
    seen.add(playback.key);
    all.push(playback);
  }
  return all;
}

/**
 * The current reading for one set of rules. Shared by reference count: acquire() when a node
 * starts using it, the release function it returns when it stops; with no user it has no timer
 * and sends no request. check() reads once, used or not. From construction to close() it notes
 * the playing notifications (no request), so that a check() between uses knows since when a
 * session is paused, rather than taking it as paused since that read.
 * Emits 'reading' when the verdict, a session or its state changed (and on the first reading
 * after an unknown state), and 'error' (a ButlerError) when reads start failing or fail
 * differently; 'error' is only emitted to a listener, never thrown.
 */
export class ViewerMonitor extends EventEmitter<{
  reading: [ViewerReading];
  error: [ButlerError];
}> {
  readonly rules: ViewerRules;

  private readonly debounceMs: number;
  private readonly safetyReadMs: number;
  private readonly pollIntervalMs: number;
  private readonly now: () => number;
  private users = 0;
  private isClosed = false;
  private current: ViewerReading | undefined;
  private lastError: ButlerError | undefined;
  /** The verdict last emitted, to emit only changes. */
  private emittedVerdict: string | undefined;
  /** The playbacks of the last successful read. */
  private playbacks: Playback[] = [];
  /** Each playback's state as the last read saw it. */
  private readStates = new Map<string, string>();
  /** When each playback was first seen paused (ms), while it stays paused. */
  private readonly pausedSince = new Map<string, number>();
  /** The last notification of each session: its state, and when it came (ms). */
  private readonly notified = new Map<string, { state: PlayingState; at: number }>();
  private inflight: Promise<ViewerReading> | undefined;
  private inflightController: AbortController | undefined;
  /** A notification came during a read: read again once it is done. */
  private readAgain = false;
  private socketConnected = false;
  private debounceTimer: NodeJS.Timeout | undefined;
  private periodicTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  private readonly clientOf: () => ButlerClient;

  /**
   * `client` may be a function that gives the client to use now (a server that moves gets a
   * new one). Throws an `invalid-config` ButlerError for rule options that are not allowed.
   */
  constructor(
    client: ButlerClient | (() => ButlerClient),
    private readonly watcher: PlayingSource,
    options: ViewerMonitorOptions = {},
  ) {
    super();
    // Every node waiting on one server may listen: that is the purpose, not a leak.
    this.setMaxListeners(0);
    this.clientOf = typeof client === 'function' ? client : () => client;
    this.rules = resolveViewerRules(options);
    this.debounceMs = duration(options.debounceMs, DEFAULT_DEBOUNCE_MS, true);
    this.safetyReadMs = duration(options.safetyReadMs, DEFAULT_SAFETY_READ_MS);
    this.pollIntervalMs = duration(options.pollIntervalMs, DEFAULT_POLL_INTERVAL_MS);
    this.now = options.now ?? Date.now;
    watcher.on('playing', this.onPlaying);
  }

  /** The current reading; undefined while the state is unknown. */
  get reading(): ViewerReading | undefined {
    return this.current;
  }

  get state(): ViewerState {
    if (!this.current) return 'unknown';
    return this.current.inUse ? 'in-use' : 'idle';
  }

  /** Why the state is unknown after a failed read; undefined once a read succeeds. */
  get error(): ButlerError | undefined {
    return this.lastError;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** How many users hold the monitor now. */
  get userCount(): number {
    return this.users;
  }

  /**
   * Starts keeping the reading current (the first user reads at once); returns the function
   * that gives it back, which does something only the first time it is called.
   */
  acquire(): () => void {
    if (this.isClosed) throw closedError();
    this.users += 1;
    if (this.users === 1) this.begin();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.users -= 1;
      if (this.users === 0) this.end();
    };
  }

  /**
   * Reads the session lists now (a read already under way answers instead) and resolves with
   * the reading; rejects with the read's ButlerError, never with "idle".
   */
  check(options: CallOptions = {}): Promise<ViewerReading> {
    if (this.isClosed) return Promise.reject(closedError());
    const reading = this.read();
    const signal = options.signal;
    if (!signal) return reading;
    if (signal.aborted) return Promise.reject(abortedBy(signal));
    return new Promise<ViewerReading>((resolve, reject) => {
      const onAbort = (): void => reject(abortedBy(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      reading.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Stops everything for good: timers, listeners, the read under way. Emits nothing after. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.users = 0;
    this.end();
    this.watcher.off('playing', this.onPlaying);
    this.inflightController?.abort(closedError());
  }

  // ---- users --------------------------------------------------------------------------------

  private readonly onPlaying = (event: PlayingEvent): void => this.playing(event);
  private readonly onStatus = (status: WatchStatus): void => this.socketState(status);

  private begin(): void {
    this.socketConnected = this.watcher.status.state === 'connected';
    this.watcher.on('status', this.onStatus);
    this.refresh();
  }

  /** Nobody uses it: nothing keeps the reading fresh, so it is no longer claimed. */
  private end(): void {
    this.watcher.off('status', this.onStatus);
    this.clearTimers();
    this.readAgain = false;
    this.current = undefined;
    this.emittedVerdict = undefined;
  }

  private clearTimers(): void {
    clearTimeout(this.debounceTimer);
    clearTimeout(this.periodicTimer);
    clearTimeout(this.expiryTimer);
    this.debounceTimer = undefined;
    this.periodicTimer = undefined;
    this.expiryTimer = undefined;
  }

  // ---- what the socket says -------------------------------------------------------------------

  /**
   * A playback started, changed state or stopped: note when it paused, and read the lists
   * again (they have the names). A notification that repeats the known state (players report
   * their position every few seconds) changes nothing and costs no read.
   */
  private playing(event: PlayingEvent): void {
    const at = this.now();
    const key = event.sessionKey;
    const known = this.notified.get(key)?.state ?? this.readStates.get(key);
    if (event.state === 'stopped') {
      this.notified.delete(key);
      this.pausedSince.delete(key);
      this.soon();
      return;
    }
    this.notified.set(key, { state: event.state, at });
    if (event.state === 'paused') {
      if (!this.pausedSince.has(key)) this.pausedSince.set(key, at);
    } else {
      this.pausedSince.delete(key);
    }
    if (this.current && known === event.state) return;
    this.soon();
  }

  /** Into or out of polling: read soon (events may have been missed), then at the new pace. */
  private socketState(status: WatchStatus): void {
    const connected = status.state === 'connected';
    if (connected === this.socketConnected) return;
    this.socketConnected = connected;
    this.soon();
  }

  // ---- reading ------------------------------------------------------------------------------

  /** One read within debounceMs, however many ask for it meanwhile. */
  private soon(): void {
    if (this.users === 0 || this.debounceTimer) return;
    if (this.inflight) {
      this.readAgain = true;
      return;
    }
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      if (this.inflight) this.readAgain = true;
      else this.refresh();
    }, this.debounceMs);
  }

  /** A read whose failure is reported by the 'error' event. */
  private refresh(): void {
    this.read().catch(() => undefined);
  }

  private read(): Promise<ViewerReading> {
    if (this.inflight) return this.inflight;
    const controller = new AbortController();
    this.inflightController = controller;
    const reading = this.readOnce(controller.signal).finally(() => {
      if (this.inflight === reading) {
        this.inflight = undefined;
        this.inflightController = undefined;
      }
      this.next();
    });
    this.inflight = reading;
    return reading;
  }

  private async readOnce(signal: AbortSignal): Promise<ViewerReading> {
    const startedAt = this.now();
    let lists: Playback[][];
    try {
      lists = await Promise.all([
        this.clientOf().listSessions({ signal }),
        this.clientOf().listLiveSessions({ signal }),
        this.clientOf().listBackgroundSessions({ signal }),
      ]);
    } catch (error) {
      const failure =
        error instanceof ButlerError ? error : new ButlerError('bad-response', String(error));
      if (!this.isClosed) this.failed(failure);
      throw failure;
    }
    if (this.isClosed) throw closedError();
    this.learn(merged(lists), startedAt);
    return this.evaluate();
  }

  /**
   * Takes in a successful read begun at `startedAt`: a playback seen paused for the first time
   * is paused since then, one seen in another state or gone is no longer paused. A notification
   * that came after the read began knows better than the read.
   */
  private learn(playbacks: Playback[], startedAt: number): void {
    const present = new Set<string>();
    for (const playback of playbacks) {
      present.add(playback.key);
      if ((this.notified.get(playback.key)?.at ?? -Infinity) > startedAt) continue;
      if (playback.state !== 'paused') this.pausedSince.delete(playback.key);
      else if (!this.pausedSince.has(playback.key)) this.pausedSince.set(playback.key, startedAt);
    }
    for (const key of [...this.pausedSince.keys()]) {
      const newer = (this.notified.get(key)?.at ?? -Infinity) > startedAt;
      if (!present.has(key) && !newer) this.pausedSince.delete(key);
    }
    for (const [key, note] of [...this.notified]) {
      // Listed, and the read is newer: the list is the authority from now on. Not listed (under
      // that key): kept, so that its repeated notifications cost no read, until it goes quiet.
      if (present.has(key) ? note.at <= startedAt : startedAt - note.at > QUIET_SESSION_MS) {
        this.notified.delete(key);
      }
    }
    this.playbacks = playbacks;
    this.readStates = new Map(playbacks.map((playback) => [playback.key, playback.state]));
  }

  /** The rules over what is known, now; emits the reading when it changed. */
  private evaluate(): ViewerReading {
    const now = this.now();
    const verdict = judgePlaybacks(this.playbacks, this.pausedSince, now, this.rules);
    const reading: ViewerReading = { ...verdict, at: new Date(now).toISOString() };
    const key = JSON.stringify(verdict);
    const changed = this.current === undefined || key !== this.emittedVerdict;
    this.current = reading;
    this.lastError = undefined;
    this.scheduleExpiry(now);
    if (changed) {
      this.emittedVerdict = key;
      this.emit('reading', reading);
    }
    return reading;
  }

  private failed(error: ButlerError): void {
    const news = this.current !== undefined || this.lastError?.code !== error.code;
    this.current = undefined;
    this.emittedVerdict = undefined;
    this.lastError = error;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (news && this.listenerCount('error') > 0) this.emit('error', error);
  }

  // ---- timers -------------------------------------------------------------------------------

  /** After each read: the one asked for meanwhile, then the next periodic one. */
  private next(): void {
    if (this.isClosed || this.users === 0) return;
    if (this.readAgain) {
      this.readAgain = false;
      this.soon();
    }
    clearTimeout(this.periodicTimer);
    const pollMs = this.watcher.status.pollIntervalMs ?? this.pollIntervalMs;
    const delay = this.lastError || !this.socketConnected ? pollMs : this.safetyReadMs;
    this.periodicTimer = setTimeout(
      () => {
        this.periodicTimer = undefined;
        this.refresh();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
  }

  /** When the first counted pause reaches its limit, the verdict changes without a read. */
  private scheduleExpiry(now: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.users === 0) return;
    let first: number | undefined;
    for (const playback of this.playbacks) {
      const ends = pausedLimitEnds(playback, this.pausedSince, now, this.rules);
      if (ends !== undefined && ends > now && (first === undefined || ends < first)) first = ends;
    }
    if (first === undefined) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        if (this.current) this.evaluate();
      },
      Math.min(first - now + 1, MAX_TIMER_MS),
    );
  }
}

function abortedBy(signal: AbortSignal): ButlerError {
  const reason: unknown = signal.reason;
  return reason instanceof ButlerError
    ? reason
    : new ButlerError('aborted', message('errors.cancelled'));
}
