/**
 * GET /status/sessions, /livetv/sessions and /status/sessions/background: the sessions of
 * sessions.ts in the shapes of the specs, JSON or XML. Plex nests these answers (User, Player,
 * Session inside each item), unlike the flat lists of routes.ts.
 */
import type { PlannedAnswer } from './answers';
import type { Route } from './router';
import type { SimBackgroundJob, SimPlayback, SimRecording, Sessions } from './sessions';
import { nestedElement, xmlDocument, type NestedFields } from './xml';

/** Documentation addresses (RFC 5737): a player on the LAN, and one on the internet. */
const LAN_ADDRESS = '192.168.1.20';
const WAN_ADDRESS = '203.0.113.7';

export function sessionRoutes(sessions: Sessions): Route[] {
  return [
    {
      template: '/status/sessions',
      methods: {
        GET: ({ json }) =>
          metadataAnswer(
            json,
            sessions.playbacks().map((playback) => ({
              element: playback.type === 'track' ? 'Track' : 'Video',
              fields: playbackFields(playback),
            })),
          ),
      },
    },
    {
      template: '/livetv/sessions',
      methods: {
        GET: ({ json }) =>
          metadataAnswer(
            json,
            sessions
              .recordings()
              .map((recording) => ({ element: 'Video', fields: recordingFields(recording) })),
          ),
      },
    },
    {
      template: '/status/sessions/background',
      methods: {
        GET: ({ json }) =>
          containerAnswer(
            json,
            'TranscodeJob',
            sessions.backgroundTranscodes().map((job) => ({
              element: 'TranscodeJob',
              fields: backgroundFields(job, sessions.backgroundProgress(job)),
            })),
          ),
      },
    },
  ];
}

interface Item {
  /** The XML element: Video, Track, TranscodeJob. */
  element: string;
  fields: NestedFields;
}

function metadataAnswer(json: boolean, items: Item[]): PlannedAnswer {
  return containerAnswer(json, 'Metadata', items);
}

/**
 * `{"MediaContainer": {"size": n, "<list>": [...]}}`, the list left out when empty as Plex
 * does; in XML each item is an element of its own name (Video, Track) in <MediaContainer>.
 */
function containerAnswer(json: boolean, list: string, items: Item[]): PlannedAnswer {
  const size = items.length;
  if (json) {
    const container = size > 0 ? { size, [list]: items.map((item) => item.fields) } : { size };
    return {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ MediaContainer: container }),
    };
  }
  return {
    status: 200,
    contentType: 'application/xml',
    body: xmlDocument(
      'MediaContainer',
      { size },
      items.map((item) => nestedElement(item.element, item.fields)),
    ),
  };
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

function playbackFields(playback: SimPlayback): NestedFields {
  const partId = Number(playback.ratingKey) * 10;
  const lan = playback.location === 'lan';
  const fields: NestedFields = {
    // Added to the library a while before it was played.
    addedAt: seconds(playback.startedAt) - 86_400,
    key: `/library/metadata/${playback.ratingKey}`,
    ratingKey: playback.ratingKey,
    sessionKey: playback.sessionKey,
    type: playback.type,
    title: playback.title,
    grandparentTitle: playback.grandparentTitle,
    duration: playback.durationMs,
    viewOffset: playback.viewOffset,
    Media: [
      {
        id: partId,
        duration: playback.durationMs,
        container: playback.type === 'track' ? 'flac' : 'mkv',
        Part: [
          {
            id: partId,
            key: `/library/parts/${partId}/file`,
            duration: playback.durationMs,
            decision: playback.transcode ? 'transcode' : 'directplay',
          },
        ],
      },
    ],
    User: { id: playback.userId, title: playback.user },
    Player: {
      address: lan ? LAN_ADDRESS : WAN_ADDRESS,
      machineIdentifier: playback.playerId,
      platform: 'Android',
      product: 'Plex for Android (TV)',
      state: playback.state,
      title: playback.player,
      local: lan,
      relayed: false,
      secure: true,
      userID: Number(playback.userId),
    },
    Session: {
      id: playback.sessionId,
      bandwidth: playback.transcode ? 4000 : 12_000,
      location: playback.location,
    },
  };
  if (playback.transcode) {
    // Only while the server transcodes (community spec).
    fields.TranscodeSession = {
      key: `/transcode/sessions/${playback.sessionId}`,
      throttled: playback.state !== 'playing',
      complete: false,
      progress: Math.min(100, Math.round((playback.viewOffset / playback.durationMs) * 1000) / 10),
      speed: playback.state === 'playing' ? 1.5 : 0,
      duration: playback.durationMs,
      context: 'streaming',
      protocol: 'dash',
      videoDecision: 'transcode',
      audioDecision: 'transcode',
    };
  }
  return fields;
}

function recordingFields(recording: SimRecording): NestedFields {
  const mediaId = Number(recording.ratingKey) * 10;
  return {
    addedAt: seconds(recording.startedAt),
    key: `/livetv/sessions/${recording.key}`,
    ratingKey: recording.ratingKey,
    type: 'episode',
    title: recording.title,
    grandparentTitle: recording.channel,
    live: true,
    Media: [
      {
        id: mediaId,
        uuid: recording.key,
        Part: [{ id: mediaId, key: `/livetv/sessions/${recording.key}/index.m3u8` }],
      },
    ],
  };
}

function backgroundFields(
  job: SimBackgroundJob,
  { progress, remaining }: { progress: number; remaining: number },
): NestedFields {
  return {
    generatorID: job.generatorId,
    type: 'transcode',
    key: job.key,
    progress,
    speed: job.speed,
    remaining,
    size: progress * 1_000_000,
    title: job.title,
    thumb: `/library/metadata/${job.ratingKey}/thumb/${seconds(job.startedAt)}`,
    ratingKey: job.ratingKey,
    targetTagID: 2,
  };
}
