/**
 * The simulator's own control path, /__simulator/…, for what a Plex API cannot do: make
 * someone watch. Tests and the bench call the simulator object (startPlayback() and the rest);
 * this path gives a person at `npm start` or `npm run simulator`, or a process of its own, the
 * same control with curl. It is no part of Plex: its requests are not counted in the stats nor
 * recorded as exchanges (so the contract check never sees them), and it wants the same token.
 *
 *   GET  /__simulator/sessions                         everything on the server now
 *   POST /__simulator/playbacks?user=&player=&playerId=&title=&grandparentTitle=&type=
 *                              &transcode=&location=&state=&duration=
 *   POST /__simulator/playbacks/{sessionKey}/pause|resume|buffer|stop
 *   POST /__simulator/recordings?title=&channel=       POST /__simulator/recordings/{key}/stop
 *   POST /__simulator/background?title=&speed=         POST /__simulator/background/{id}/stop
 */
import {
  LOCATIONS,
  MEDIA_TYPES,
  UnknownSessionError,
  type SimBackgroundJob,
  type SimBackgroundOptions,
  type SimLocation,
  type SimMediaType,
  type SimPlayback,
  type SimPlaybackOptions,
  type SimPlaybackState,
  type SimRecording,
  type SimRecordingOptions,
} from './sessions';

export const CONTROL_PREFIX = '/__simulator';

/** What the control path drives: a PlexSimulator. */
export interface ControlTarget {
  startPlayback(options?: SimPlaybackOptions): SimPlayback;
  pausePlayback(sessionKey: string): SimPlayback;
  resumePlayback(sessionKey: string): SimPlayback;
  bufferPlayback(sessionKey: string): SimPlayback;
  stopPlayback(sessionKey: string): void;
  playbacks(): SimPlayback[];
  startRecording(options?: SimRecordingOptions): SimRecording;
  stopRecording(key: string): void;
  recordings(): SimRecording[];
  startBackgroundTranscode(options?: SimBackgroundOptions): SimBackgroundJob;
  stopBackgroundTranscode(id: string): void;
  backgroundTranscodes(): SimBackgroundJob[];
}

export interface ControlAnswer {
  status: number;
  body: unknown;
}

export function isControlPath(path: string | undefined): path is string {
  return path === CONTROL_PREFIX || (path?.startsWith(`${CONTROL_PREFIX}/`) ?? false);
}

class BadControlRequest extends Error {}

const PLAYBACK_STATES: readonly SimPlaybackState[] = ['playing', 'paused', 'buffering'];
const PLAYBACK_PARAMETERS = [
  'user',
  'player',
  'playerId',
  'title',
  'grandparentTitle',
  'type',
  'transcode',
  'location',
  'state',
  'duration',
];

function checkParameters(query: URLSearchParams, allowed: readonly string[]): void {
  for (const name of query.keys()) {
    if (!allowed.includes(name)) {
      throw new BadControlRequest(
        `unknown parameter ${JSON.stringify(name)}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
}

function oneOf<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new BadControlRequest(
      `${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

function positiveNumber(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new BadControlRequest(`${name} must be a number above 0; got ${JSON.stringify(value)}`);
  }
  return number;
}

function text(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

function playbackOptions(query: URLSearchParams): SimPlaybackOptions {
  checkParameters(query, PLAYBACK_PARAMETERS);
  const transcode = oneOf(query, 'transcode', ['true', 'false', '1', '0']);
  const options: SimPlaybackOptions = {
    user: text(query, 'user'),
    player: text(query, 'player'),
    playerId: text(query, 'playerId'),
    title: text(query, 'title'),
    grandparentTitle: text(query, 'grandparentTitle'),
    type: oneOf<SimMediaType>(query, 'type', MEDIA_TYPES),
    transcode: transcode === undefined ? undefined : transcode === 'true' || transcode === '1',
    location: oneOf<SimLocation>(query, 'location', LOCATIONS),
    state: oneOf(query, 'state', PLAYBACK_STATES),
    durationMs: positiveNumber(query, 'duration'),
  };
  // Left out rather than undefined, so that the defaults apply.
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as SimPlaybackOptions;
}

/** The answer to one control request; `authorized` is whether it carried the token. */
export function answerControl(
  target: ControlTarget,
  method: string,
  path: string,
  query: URLSearchParams,
  authorized: boolean,
): ControlAnswer {
  if (!authorized)
    return { status: 401, body: { error: 'the X-Plex-Token header is missing or wrong' } };
  const segments = path.slice(CONTROL_PREFIX.length).split('/').filter(Boolean);
  try {
    const answer = route(target, method, segments, query);
    if (answer) return answer;
  } catch (error) {
    if (error instanceof BadControlRequest) return { status: 400, body: { error: error.message } };
    if (error instanceof UnknownSessionError) {
      return { status: 404, body: { error: error.message } };
    }
    throw error;
  }
  return {
    status: 404,
    body: { error: `no control at ${method} ${path}; see simulator/control.ts for the list` },
  };
}

function route(
  target: ControlTarget,
  method: string,
  segments: string[],
  query: URLSearchParams,
): ControlAnswer | undefined {
  const [collection, key, action] = segments;
  if (method === 'GET' && collection === 'sessions' && segments.length === 1) {
    return {
      status: 200,
      body: {
        playbacks: target.playbacks(),
        recordings: target.recordings(),
        background: target.backgroundTranscodes(),
      },
    };
  }
  if (method !== 'POST') return undefined;
  if (segments.length === 1) {
    switch (collection) {
      case 'playbacks':
        return { status: 201, body: target.startPlayback(playbackOptions(query)) };
      case 'recordings':
        checkParameters(query, ['title', 'channel']);
        return {
          status: 201,
          body: target.startRecording({
            ...(query.has('title') ? { title: text(query, 'title') } : {}),
            ...(query.has('channel') ? { channel: text(query, 'channel') } : {}),
          }),
        };
      case 'background':
        checkParameters(query, ['title', 'speed']);
        return {
          status: 201,
          body: target.startBackgroundTranscode({
            ...(query.has('title') ? { title: text(query, 'title') } : {}),
            ...(query.has('speed') ? { speed: positiveNumber(query, 'speed') } : {}),
          }),
        };
      default:
        return undefined;
    }
  }
  if (segments.length !== 3) return undefined;
  checkParameters(query, []);
  if (collection === 'playbacks') {
    switch (action) {
      case 'pause':
        return { status: 200, body: target.pausePlayback(key) };
      case 'resume':
        return { status: 200, body: target.resumePlayback(key) };
      case 'buffer':
        return { status: 200, body: target.bufferPlayback(key) };
      case 'stop':
        target.stopPlayback(key);
        return { status: 200, body: { stopped: key } };
      default:
        return undefined;
    }
  }
  if (action !== 'stop') return undefined;
  if (collection === 'recordings') {
    target.stopRecording(key);
    return { status: 200, body: { stopped: key } };
  }
  if (collection === 'background') {
    target.stopBackgroundTranscode(key);
    return { status: 200, body: { stopped: key } };
  }
  return undefined;
}
