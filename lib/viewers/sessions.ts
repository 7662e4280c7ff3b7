/**
 * Who is watching, read from the server's three session lists (shared/plex-api README, "Who is
 * watching"): GET /status/sessions (playbacks), /livetv/sessions (live TV and DVR recordings)
 * and /status/sessions/background (optimised versions, downloads, sync), JSON or XML, into one
 * Playback shape. Tolerant like lib/butler/parse.ts: a missing field is not a crash, and an entry the
 * server lists is never dropped for lack of a field (dropping it could report an idle server
 * while someone watches); an answer that is no session list is a `bad-response` ButlerError.
 */
import { ButlerError } from '../failures/errors';
import { message } from '../messages';
import {
  asArray,
  detectFormat,
  isRecord,
  parseJson,
  toBoolean,
  toText,
  xmlElements,
} from '../butler/parse';

export type PlaybackKind = 'playback' | 'recording' | 'background';
export type PlaybackState = 'playing' | 'paused' | 'buffering';
export type PlaybackLocation = 'lan' | 'wan';

/** One thing the server is doing for someone now: a playback, a recording or a background job. */
export interface Playback {
  /**
   * Stable while it lasts: the sessionKey (which `playing` notifications carry), else the
   * session id, else the item's key; unique within its list.
   */
  key: string;
  kind: PlaybackKind;
  /** The account's name; '' when the server gives none (recordings, background jobs). */
  user: string;
  /** The player's name; '' when none. */
  player: string;
  /** The player's machineIdentifier; '' when none. */
  playerId: string;
  /** 'Show - Episode' for an episode, the title otherwise; '' when none. */
  title: string;
  /**
   * The player's last reported state. A recording or a background job is 'playing' while it
   * runs; a missing or unknown state reads as 'playing', so that it counts.
   */
  state: PlaybackState;
  /** The server transcodes this (a background job always does). */
  transcode: boolean;
  /** From Session.location, else Player.local; undefined when the server says neither. */
  location: PlaybackLocation | undefined;
}

type Raw = Record<string, unknown>;

const STATES = new Set<string>(['playing', 'paused', 'buffering']);
/** The elements an item of /status/sessions or /livetv/sessions may be in XML. */
const ITEM_ELEMENTS = ['Video', 'Track', 'Photo', 'Metadata'] as const;

const NOT_A_SESSION_LIST = message('errors.notSessionList');

function record(value: unknown): Raw {
  return isRecord(value) ? value : {};
}

function firstText(...values: unknown[]): string {
  for (const value of values) {
    const text = toText(value);
    if (text !== '') return text;
  }
  return '';
}

/** The position of the next `<name` element at or after `from`, or -1. */
function findElement(xml: string, name: string, from: number): number {
  const opening = `<${name}`;
  for (let at = xml.indexOf(opening, from); at >= 0; at = xml.indexOf(opening, at + 1)) {
    const next = xml.charCodeAt(at + opening.length);
    // <Video> is not a <VideoStream>: the name ends at a space, '/' or '>'.
    if (next === 62 || next === 47 || next === 32 || next === 9 || next === 10 || next === 13) {
      return at;
    }
  }
  return -1;
}

/**
 * The top-level items of a session list in XML: each `<Video …>…</Video>` (or Track, Photo,
 * TranscodeJob …) with its attributes and the XML inside it. Plex nests User, Player, Session
 * inside each item; xmlElements() reads those from the inner part. One pass, left to right.
 */
function xmlItems(
  xml: string,
  names: readonly string[],
): Array<{ attributes: Record<string, string>; inner: string }> {
  const items: Array<{ attributes: Record<string, string>; inner: string }> = [];
  const next = new Map(names.map((name) => [name, findElement(xml, name, 0)]));
  let from = 0;
  for (;;) {
    let start = -1;
    let name = '';
    for (const [candidate, at] of next) {
      let position = at;
      if (position >= 0 && position < from) {
        position = findElement(xml, candidate, from);
        next.set(candidate, position);
      }
      if (position >= 0 && (start < 0 || position < start)) {
        start = position;
        name = candidate;
      }
    }
    if (start < 0) break;
    const end = xml.indexOf('>', start);
    if (end < 0) break;
    const attributes = xmlElements(xml.slice(start, end + 1), name)[0] ?? {};
    if (xml.charCodeAt(end - 1) === 47) {
      items.push({ attributes, inner: '' });
      from = end + 1;
      continue;
    }
    const close = xml.indexOf(`</${name}>`, end + 1);
    const stop = close < 0 ? xml.length : close;
    items.push({ attributes, inner: xml.slice(end + 1, stop) });
    from = close < 0 ? xml.length : close + name.length + 3;
  }
  return items;
}

/** An XML item in the JSON shape: its attributes, and the nested elements the parser reads. */
function rawOfXmlItem(item: { attributes: Record<string, string>; inner: string }): Raw {
  const first = (name: string): Raw | undefined => xmlElements(item.inner, name)[0];
  return {
    ...item.attributes,
    User: first('User'),
    Player: first('Player'),
    Session: first('Session'),
    TranscodeSession: first('TranscodeSession'),
    // Each part under the first media: only the decisions are read, not which media has them.
    Media: xmlElements(item.inner, 'Media').map((media, index) => ({
      ...media,
      Part: index === 0 ? xmlElements(item.inner, 'Part') : [],
    })),
  };
}

/**
 * The container's list of raw items, JSON or XML; `bad-response` when the body is no
 * MediaContainer (an HTML page, another endpoint's answer, garbage).
 */
function readContainer(
  body: string,
  contentType: string | undefined,
  list: string,
  xmlNames: readonly string[],
): Raw[] {
  const format = detectFormat(body, contentType);
  let raws: unknown[];
  if (format === 'xml') {
    if (!/<MediaContainer[\s>/]/.test(body))
      throw new ButlerError('bad-response', NOT_A_SESSION_LIST);
    raws = xmlItems(body, xmlNames).map(rawOfXmlItem);
  } else {
    const parsed = parseJson(body);
    if (!isRecord(parsed) || !isRecord(parsed.MediaContainer)) {
      throw new ButlerError('bad-response', NOT_A_SESSION_LIST);
    }
    raws = asArray(parsed.MediaContainer[list]);
  }
  // An entry that is not even an object is still something listed: it counts, unnamed.
  return raws.map(record);
}

function stateOf(player: Raw): PlaybackState {
  const state = toText(player.state);
  return STATES.has(state) ? (state as PlaybackState) : 'playing';
}

function locationOf(session: Raw, player: Raw): PlaybackLocation | undefined {
  const location = toText(session.location);
  if (location === 'lan' || location === 'wan') return location;
  if (player.local === undefined || player.local === null || player.local === '') return undefined;
  return toBoolean(player.local) ? 'lan' : 'wan';
}

/**
 * The server transcodes: a part's decision is `transcode`, or a TranscodeSession says it
 * transcodes video or audio (one with only `copy` decisions is a direct stream), or gives no
 * decision at all.
 */
function transcodes(raw: Raw): boolean {
  for (const media of asArray(raw.Media)) {
    for (const part of asArray(record(media).Part)) {
      if (toText(record(part).decision) === 'transcode') return true;
    }
  }
  if (!isRecord(raw.TranscodeSession)) return false;
  const { videoDecision, audioDecision } = raw.TranscodeSession;
  if (videoDecision === undefined && audioDecision === undefined) return true;
  return toText(videoDecision) === 'transcode' || toText(audioDecision) === 'transcode';
}

function titleOf(raw: Raw): string {
  const title = toText(raw.title);
  const show = toText(raw.grandparentTitle);
  if (show === '') return title;
  return title === '' ? show : `${show} - ${title}`;
}

function mediaUuid(raw: Raw): string {
  for (const media of asArray(raw.Media)) {
    const uuid = toText(record(media).uuid);
    if (uuid !== '') return uuid;
  }
  return '';
}

function normalisePlayback(raw: Raw, kind: 'playback' | 'recording', index: number): Playback {
  const player = record(raw.Player);
  const session = record(raw.Session);
  return {
    key:
      firstText(raw.sessionKey, session.id, kind === 'recording' ? mediaUuid(raw) : '', raw.key) ||
      `${kind}-${index}`,
    kind,
    user: toText(record(raw.User).title),
    player: toText(player.title),
    playerId: toText(player.machineIdentifier),
    title: titleOf(raw),
    state: stateOf(player),
    transcode: transcodes(raw),
    location: locationOf(session, player),
  };
}

/** GET /status/sessions: the playbacks on the server now. */
export function parseSessions(body: string, contentType: string | undefined): Playback[] {
  return readContainer(body, contentType, 'Metadata', ITEM_ELEMENTS).map((raw, index) =>
    normalisePlayback(raw, 'playback', index),
  );
}

/** GET /livetv/sessions: live TV and DVR recordings in progress, as kind `recording`. */
export function parseLiveSessions(body: string, contentType: string | undefined): Playback[] {
  return readContainer(body, contentType, 'Metadata', ITEM_ELEMENTS).map((raw, index) =>
    normalisePlayback(raw, 'recording', index),
  );
}

/** GET /status/sessions/background: `TranscodeJob[]`, as kind `background`. */
export function parseBackgroundSessions(body: string, contentType: string | undefined): Playback[] {
  return readContainer(body, contentType, 'TranscodeJob', ['TranscodeJob']).map((raw, index) => ({
    key: firstText(raw.key, raw.generatorID, raw.ratingKey) || `background-${index}`,
    kind: 'background',
    user: '',
    player: '',
    playerId: '',
    title: toText(raw.title),
    state: 'playing',
    transcode: true,
    location: undefined,
  }));
}
