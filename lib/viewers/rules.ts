/**
 * When is the server in use? Pure rules over the playbacks read now and the time each was first
 * seen paused. What peers learned (shared/plex-api README): a player left paused for days must
 * stop counting after a while, recordings are asked to count, and the answer must lift as soon
 * as the last playback ends. Playing and buffering always count, unless the user excluded that
 * kind of session or that player.
 */
import { LIMITS } from '../butler/client-options';
import { ButlerError } from '../failures/errors';
import { message, type MessageParam } from '../messages';
import type { Playback, PlaybackKind, PlaybackLocation, PlaybackState } from './sessions';

export interface ViewerRuleOptions {
  /** A playback paused this long stops counting; default 30. 0: paused never counts. */
  pausedLimitMinutes?: number;
  /** Live TV and DVR recordings count as use; default true. */
  countRecordings?: boolean;
  /** Background transcodes (optimised versions, downloads, sync) count; default false. */
  countBackground?: boolean;
  /** Only playbacks the server transcodes count (a direct play costs it little); default false. */
  onlyTranscodes?: boolean;
  /** Players that never count: names (any case) or machine identifiers (exact). */
  ignorePlayers?: readonly string[];
  /** In use from this many counted sessions on; default 1. */
  minimumPlaybacks?: number;
}

export type ViewerRules = Readonly<Required<ViewerRuleOptions>>;

/** Why a session does not count: one word each. */
export type IgnoreReason =
  'ignored-player' | 'recording' | 'background' | 'not-transcoding' | 'paused-too-long';

export const IGNORE_REASONS: readonly IgnoreReason[] = [
  'ignored-player',
  'recording',
  'background',
  'not-transcoding',
  'paused-too-long',
];

/** A session as a reading shows it: what a person needs to know who is watching what. */
export interface ViewerSession {
  kind: PlaybackKind;
  user: string;
  player: string;
  title: string;
  state: PlaybackState;
  transcode: boolean;
  location: PlaybackLocation | undefined;
  /** For a paused session: since when (ISO 8601), as first seen paused. */
  pausedSince?: string;
}

export interface IgnoredSession extends ViewerSession {
  reason: IgnoreReason;
}

export interface ViewerVerdict {
  inUse: boolean;
  /** The sessions that count. */
  sessions: ViewerSession[];
  /** The sessions that do not, each with its reason. */
  ignored: IgnoredSession[];
}

export const DEFAULT_VIEWER_RULES: ViewerRules = Object.freeze({
  pausedLimitMinutes: LIMITS.pausedLimitMinutes.default,
  countRecordings: true,
  countBackground: false,
  onlyTranscodes: false,
  ignorePlayers: Object.freeze([]) as readonly string[],
  minimumPlaybacks: LIMITS.minimumPlaybacks.default,
});

/** The editor and the node's config check use the same bounds (LIMITS). */
const MAX_PAUSED_LIMIT_MINUTES = LIMITS.pausedLimitMinutes.max;
const MAX_MINIMUM_PLAYBACKS = LIMITS.minimumPlaybacks.max;

/** A value as an error message shows it: a string quoted and cut, a number as it is. */
export function shownValue(value: unknown): MessageParam {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return message('value.array');
  return message('value.other', { type: value === null ? 'null' : typeof value });
}

function outOfRange(setting: string, range: string, unit: string, max: number, value: unknown) {
  return new ButlerError(
    'invalid-config',
    message('errors.outOfRange', {
      setting: message(`setting.${setting}`),
      allowed: message(`range.${range}`, { unit: message(`unit.${unit}`), min: 0, max }),
      value: shownValue(value),
    }),
  );
}

function checkBoolean(setting: keyof ViewerRuleOptions, value: unknown, fallback: boolean) {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw new ButlerError(
    'invalid-config',
    message('errors.notBoolean', {
      setting: message(`setting.${setting}`),
      value: shownValue(value),
    }),
  );
}

/**
 * The options checked once, defaults filled in; an `invalid-config` ButlerError names the
 * option, what is allowed and what was given.
 */
export function resolveViewerRules(options: ViewerRuleOptions = {}): ViewerRules {
  const limit = options.pausedLimitMinutes ?? DEFAULT_VIEWER_RULES.pausedLimitMinutes;
  if (typeof limit !== 'number' || !(limit >= 0 && limit <= MAX_PAUSED_LIMIT_MINUTES)) {
    throw outOfRange('pausedLimit', 'from', 'minutes', MAX_PAUSED_LIMIT_MINUTES, limit);
  }
  const minimum = options.minimumPlaybacks ?? DEFAULT_VIEWER_RULES.minimumPlaybacks;
  if (
    typeof minimum !== 'number' ||
    !Number.isInteger(minimum) ||
    minimum < 1 ||
    minimum > MAX_MINIMUM_PLAYBACKS
  ) {
    throw outOfRange('minimumPlaybacks', 'wholeAbove', 'playbacks', MAX_MINIMUM_PLAYBACKS, minimum);
  }
  const players = options.ignorePlayers ?? [];
  if (!Array.isArray(players) || players.some((player) => typeof player !== 'string')) {
    throw new ButlerError(
      'invalid-config',
      message('errors.notPlayerList', {
        setting: message('setting.ignorePlayers'),
        value: shownValue(players),
      }),
    );
  }
  return Object.freeze({
    pausedLimitMinutes: limit,
    countRecordings: checkBoolean('countRecordings', options.countRecordings, true),
    countBackground: checkBoolean('countBackground', options.countBackground, false),
    onlyTranscodes: checkBoolean('onlyTranscodes', options.onlyTranscodes, false),
    ignorePlayers: Object.freeze(
      players.map((player: string) => player.trim()).filter((player: string) => player !== ''),
    ),
    minimumPlaybacks: minimum,
  });
}

function ignoredPlayer(playback: Playback, players: readonly string[]): boolean {
  if (players.length === 0) return false;
  const name = playback.player.toLowerCase();
  return players.some(
    (player) =>
      (name !== '' && player.toLowerCase() === name) ||
      (playback.playerId !== '' && player === playback.playerId),
  );
}

/**
 * When a paused playback stops counting (ms since the epoch), or undefined when it is not
 * paused. `pausedSince` holds when each key was first seen paused; one missing is taken as
 * paused since `now` (first seen paused just now).
 */
export function pausedLimitEnds(
  playback: Playback,
  pausedSince: ReadonlyMap<string, number>,
  now: number,
  rules: ViewerRules,
): number | undefined {
  if (playback.state !== 'paused') return undefined;
  return (pausedSince.get(playback.key) ?? now) + rules.pausedLimitMinutes * 60_000;
}

function reasonOf(
  playback: Playback,
  pausedSince: ReadonlyMap<string, number>,
  now: number,
  rules: ViewerRules,
): IgnoreReason | undefined {
  if (ignoredPlayer(playback, rules.ignorePlayers)) return 'ignored-player';
  if (playback.kind === 'recording' && !rules.countRecordings) return 'recording';
  if (playback.kind === 'background' && !rules.countBackground) return 'background';
  if (playback.kind === 'playback' && rules.onlyTranscodes && !playback.transcode) {
    return 'not-transcoding';
  }
  const ends = pausedLimitEnds(playback, pausedSince, now, rules);
  if (ends !== undefined && now >= ends) return 'paused-too-long';
  return undefined;
}

function sessionOf(playback: Playback, pausedSince: ReadonlyMap<string, number>, now: number) {
  const session: ViewerSession = {
    kind: playback.kind,
    user: playback.user,
    player: playback.player,
    title: playback.title,
    state: playback.state,
    transcode: playback.transcode,
    location: playback.location,
  };
  if (playback.state === 'paused') {
    session.pausedSince = new Date(pausedSince.get(playback.key) ?? now).toISOString();
  }
  return session;
}

/**
 * Which playbacks count, at `now` (ms since the epoch). A session is ignored for the first
 * reason that applies, in the order of IGNORE_REASONS.
 */
export function judgePlaybacks(
  playbacks: readonly Playback[],
  pausedSince: ReadonlyMap<string, number>,
  now: number,
  rules: ViewerRules = DEFAULT_VIEWER_RULES,
): ViewerVerdict {
  const sessions: ViewerSession[] = [];
  const ignored: IgnoredSession[] = [];
  for (const playback of playbacks) {
    const session = sessionOf(playback, pausedSince, now);
    const reason = reasonOf(playback, pausedSince, now, rules);
    if (reason) ignored.push({ ...session, reason });
    else sessions.push(session);
  }
  return { inUse: sessions.length >= rules.minimumPlaybacks, sessions, ignored };
}
