/**
 * Who is watching: the playbacks, live TV/DVR recordings and background transcodes on the
 * simulated server, as GET /status/sessions, /livetv/sessions and /status/sessions/background
 * list them, and the `playing` notifications a playback sends (shared/plex-api README): on
 * start, on every state change, and again from time to time while it plays.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Timers } from './timers';

export type SimPlaybackState = 'playing' | 'paused' | 'buffering';
/** What a `playing` notification can say: a playback's state, or that it ended. */
export type SimPlayingState = SimPlaybackState | 'stopped';
export type SimMediaType = 'movie' | 'episode' | 'clip' | 'track';
export type SimLocation = 'lan' | 'wan';

export const MEDIA_TYPES: readonly SimMediaType[] = ['movie', 'episode', 'clip', 'track'];
export const LOCATIONS: readonly SimLocation[] = ['lan', 'wan'];

/** What a test, the bench or a person at `npm start` says about a playback it starts. */
export interface SimPlaybackOptions {
  /** The account's name (User.title); default 'alice'. */
  user?: string;
  /** The player's name (Player.title); default 'Living Room TV'. */
  player?: string;
  /** The player's machineIdentifier (clientIdentifier in notifications); default random. */
  playerId?: string;
  /** Default 'Big Buck Bunny'. */
  title?: string;
  /** The show of an episode, the artist of a track. */
  grandparentTitle?: string;
  /** Default 'movie'. */
  type?: SimMediaType;
  /** The server transcodes (true) or the player plays the file directly (false, default). */
  transcode?: boolean;
  /** Default 'lan'. */
  location?: SimLocation;
  /** The first state; default 'playing'. */
  state?: SimPlaybackState;
  /** Default two hours. */
  durationMs?: number;
}

/** A playback as the simulator holds it. */
export interface SimPlayback {
  /** The server's key for the session: `sessionKey` in lists and notifications. */
  sessionKey: string;
  /** Session.id in /status/sessions. */
  sessionId: string;
  ratingKey: string;
  user: string;
  userId: string;
  player: string;
  playerId: string;
  title: string;
  grandparentTitle?: string;
  type: SimMediaType;
  transcode: boolean;
  location: SimLocation;
  state: SimPlaybackState;
  durationMs: number;
  /** Milliseconds into the item, as of now. */
  viewOffset: number;
  /** When it started (ms since the epoch). */
  startedAt: number;
}

export interface SimRecordingOptions {
  /** The programme; default 'Evening News'. */
  title?: string;
  /** The channel or show, as grandparentTitle; default 'Channel 4'. */
  channel?: string;
}

/** A live TV/DVR recording in progress. */
export interface SimRecording {
  /** The live session's uuid. */
  key: string;
  ratingKey: string;
  title: string;
  channel: string;
  startedAt: number;
}

export interface SimBackgroundOptions {
  /** The item being converted; default 'Jack-Jack Attack (2008)'. */
  title?: string;
  /** 1.0 is real time; default 8. */
  speed?: number;
}

/** A background transcode (an optimised version, a download or a sync). */
export interface SimBackgroundJob {
  /** The job's uuid: the control API names it by this. */
  id: string;
  /** The transcode session's path, /transcode/sessions/{id}. */
  key: string;
  ratingKey: string;
  generatorId: number;
  title: string;
  speed: number;
  startedAt: number;
}

/** One `playing` notification entry, as sent in PlaySessionStateNotification. */
export interface SimPlayingNotification {
  sessionKey: string;
  clientIdentifier: string;
  guid: string;
  ratingKey: string;
  url: string;
  key: string;
  viewOffset: number;
  playQueueItemID: number;
  state: SimPlayingState;
}

const DEFAULT_DURATION_MS = 2 * 60 * 60 * 1000;
/** Real background transcodes of a film take minutes: a fixed, plausible length. */
const BACKGROUND_LENGTH_S = 600;

export class UnknownSessionError extends Error {
  constructor(what: string, key: string) {
    super(`no ${what} with the key ${JSON.stringify(key)} on the simulator`);
    this.name = 'UnknownSessionError';
  }
}

interface PlaybackEntry {
  playback: SimPlayback;
  playQueueItemId: number;
  /** viewOffset when the state last changed, and when that was (ms). */
  offsetAt: { offset: number; time: number };
  /** The next periodic notification while playing. */
  tick?: NodeJS.Timeout;
}

export interface SessionsOptions {
  timers: Timers;
  /** How often a playing session repeats its notification (as players report positions). */
  timelineIntervalMs: number;
  /** Sends one `playing` notification. */
  notify(entry: SimPlayingNotification): void;
}

export class Sessions {
  private readonly playing = new Map<string, PlaybackEntry>();
  private readonly live = new Map<string, SimRecording>();
  private readonly background = new Map<string, SimBackgroundJob>();
  /** Session keys, rating keys and play queue items count up, as on a real server. */
  private nextSessionKey = 1;
  private nextRatingKey = 1001;
  private nextQueueItem = 5001;
  private nextGenerator = 401;

  constructor(private readonly options: SessionsOptions) {}

  // ---- playbacks --------------------------------------------------------------------------

  startPlayback(options: SimPlaybackOptions = {}): SimPlayback {
    const now = Date.now();
    const ratingKey = String(this.nextRatingKey++);
    const playback: SimPlayback = {
      sessionKey: String(this.nextSessionKey++),
      sessionId: randomBytes(12).toString('hex'),
      ratingKey,
      user: options.user ?? 'alice',
      userId: String(1 + (hashOf(options.user ?? 'alice') % 100_000)),
      player: options.player ?? 'Living Room TV',
      playerId: options.playerId ?? randomBytes(12).toString('hex'),
      title: options.title ?? 'Big Buck Bunny',
      ...(options.grandparentTitle !== undefined
        ? { grandparentTitle: options.grandparentTitle }
        : {}),
      type: options.type ?? 'movie',
      transcode: options.transcode ?? false,
      location: options.location ?? 'lan',
      state: options.state ?? 'playing',
      durationMs: options.durationMs ?? DEFAULT_DURATION_MS,
      viewOffset: 0,
      startedAt: now,
    };
    const entry: PlaybackEntry = {
      playback,
      playQueueItemId: this.nextQueueItem++,
      offsetAt: { offset: 0, time: now },
    };
    this.playing.set(playback.sessionKey, entry);
    this.announce(entry);
    return { ...playback };
  }

  /** Changes a playback's state; the same state again changes nothing and sends nothing. */
  setPlaybackState(sessionKey: string, state: SimPlaybackState): SimPlayback {
    const entry = this.entry(sessionKey);
    if (entry.playback.state !== state) {
      entry.offsetAt = { offset: this.offsetOf(entry), time: Date.now() };
      entry.playback.state = state;
      this.announce(entry);
    }
    return this.snapshot(entry);
  }

  stopPlayback(sessionKey: string): void {
    const entry = this.entry(sessionKey);
    this.cancelTick(entry);
    this.playing.delete(sessionKey);
    this.options.notify(this.notification(entry, 'stopped'));
  }

  playbacks(): SimPlayback[] {
    return [...this.playing.values()].map((entry) => this.snapshot(entry));
  }

  // ---- recordings and background transcodes ------------------------------------------------

  startRecording(options: SimRecordingOptions = {}): SimRecording {
    const recording: SimRecording = {
      key: randomUUID(),
      ratingKey: String(this.nextRatingKey++),
      title: options.title ?? 'Evening News',
      channel: options.channel ?? 'Channel 4',
      startedAt: Date.now(),
    };
    this.live.set(recording.key, recording);
    return { ...recording };
  }

  stopRecording(key: string): void {
    if (!this.live.delete(key)) throw new UnknownSessionError('recording', key);
  }

  recordings(): SimRecording[] {
    return [...this.live.values()].map((recording) => ({ ...recording }));
  }

  startBackgroundTranscode(options: SimBackgroundOptions = {}): SimBackgroundJob {
    const id = randomUUID();
    const job: SimBackgroundJob = {
      id,
      key: `/transcode/sessions/${id}`,
      ratingKey: String(this.nextRatingKey++),
      generatorId: this.nextGenerator++,
      title: options.title ?? 'Jack-Jack Attack (2008)',
      speed: options.speed ?? 8,
      startedAt: Date.now(),
    };
    this.background.set(job.id, job);
    return { ...job };
  }

  stopBackgroundTranscode(id: string): void {
    if (!this.background.delete(id)) throw new UnknownSessionError('background transcode', id);
  }

  backgroundTranscodes(): SimBackgroundJob[] {
    return [...this.background.values()].map((job) => ({ ...job }));
  }

  /** How far a background job has got (0-100) and how many seconds it has left. */
  backgroundProgress(job: SimBackgroundJob): { progress: number; remaining: number } {
    const done = ((Date.now() - job.startedAt) / 1000) * job.speed;
    const progress = Math.min(99, Math.floor((done / BACKGROUND_LENGTH_S) * 100));
    const remaining = Math.max(1, Math.round((BACKGROUND_LENGTH_S - done) / job.speed));
    return { progress, remaining };
  }

  /** The server went away: everything on it ends, without notifications (nobody is left). */
  forgetAll(): void {
    for (const entry of this.playing.values()) this.cancelTick(entry);
    this.playing.clear();
    this.live.clear();
    this.background.clear();
  }

  // ---- notifications ------------------------------------------------------------------------

  /** Sends the state now and, while playing, again every timelineIntervalMs. */
  private announce(entry: PlaybackEntry): void {
    this.cancelTick(entry);
    this.options.notify(this.notification(entry, entry.playback.state));
    if (entry.playback.state === 'playing') this.scheduleTick(entry);
  }

  private scheduleTick(entry: PlaybackEntry): void {
    entry.tick = this.options.timers.later(this.options.timelineIntervalMs, () => {
      entry.tick = undefined;
      if (this.playing.get(entry.playback.sessionKey) !== entry) return;
      this.options.notify(this.notification(entry, entry.playback.state));
      this.scheduleTick(entry);
    });
  }

  private cancelTick(entry: PlaybackEntry): void {
    if (entry.tick) this.options.timers.cancel(entry.tick);
    entry.tick = undefined;
  }

  private notification(entry: PlaybackEntry, state: SimPlayingState): SimPlayingNotification {
    const { playback } = entry;
    return {
      sessionKey: playback.sessionKey,
      clientIdentifier: playback.playerId,
      guid: '',
      ratingKey: playback.ratingKey,
      url: '',
      key: `/library/metadata/${playback.ratingKey}`,
      viewOffset: this.offsetOf(entry),
      playQueueItemID: entry.playQueueItemId,
      state,
    };
  }

  // ---- helpers --------------------------------------------------------------------------------

  private entry(sessionKey: string): PlaybackEntry {
    const entry = this.playing.get(sessionKey);
    if (!entry) throw new UnknownSessionError('playback', sessionKey);
    return entry;
  }

  /** The position now: it moves only while playing, and stops at the end of the item. */
  private offsetOf(entry: PlaybackEntry): number {
    const { offset, time } = entry.offsetAt;
    const moved = entry.playback.state === 'playing' ? Date.now() - time : 0;
    return Math.min(entry.playback.durationMs, offset + moved);
  }

  private snapshot(entry: PlaybackEntry): SimPlayback {
    return { ...entry.playback, viewOffset: this.offsetOf(entry) };
  }
}

/** A small stable number from a name, so that one user keeps one id. */
function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash;
}
