import { ButlerError } from '../failures/errors';
import { message } from '../messages';
import type {
  Activity,
  ButlerTask,
  PlexSetting,
  ServerIdentity,
  SettingType,
  SettingValue,
} from './types';

type Attributes = Record<string, string>;

const XML_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

/** What an entity names, or U+FFFD when it names no character XML allows. */
function decodeCharacterReference(digits: string, radix: number): string {
  const significant = digits.replace(/^0+(?=.)/, '');
  // Beyond six hex (seven decimal) digits no code point is left: skip parsing a huge number.
  if (significant.length > (radix === 16 ? 6 : 7)) return '\uFFFD';
  const codePoint = parseInt(significant, radix);
  const allowed =
    codePoint === 0x9 ||
    codePoint === 0xa ||
    codePoint === 0xd ||
    (codePoint >= 0x20 && codePoint <= 0xd7ff) ||
    (codePoint >= 0xe000 && codePoint <= 0xfffd) ||
    (codePoint >= 0x10000 && codePoint <= 0x10ffff);
  return allowed ? String.fromCodePoint(codePoint) : '\uFFFD';
}

function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return decodeCharacterReference(entity.slice(2), 16);
    if (entity.startsWith('#')) return decodeCharacterReference(entity.slice(1), 10);
    return XML_ENTITIES[entity] ?? whole;
  });
}

function isNameStart(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

function isNamePart(code: number): boolean {
  // letters, _, digits, '.', ':', '-'
  return isNameStart(code) || (code >= 48 && code <= 58) || code === 46 || code === 45;
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/**
 * The attributes in the text between an element's name and its `>`: `name="value"` or
 * `name='value'` pairs. Scanned by hand, once, left to right: a regular expression over
 * untrusted input of this size could backtrack for minutes.
 */
function readAttributes(source: string): Attributes {
  const attributes: Attributes = Object.create(null);
  let i = 0;
  const length = source.length;
  while (i < length) {
    if (!isNameStart(source.charCodeAt(i))) {
      i++;
      continue;
    }
    const nameStart = i;
    while (i < length && isNamePart(source.charCodeAt(i))) i++;
    const name = source.slice(nameStart, i);
    while (i < length && isSpace(source.charCodeAt(i))) i++;
    if (source[i] !== '=') continue;
    i++;
    while (i < length && isSpace(source.charCodeAt(i))) i++;
    const quote = source[i];
    if (quote !== '"' && quote !== "'") continue;
    const close = source.indexOf(quote, i + 1);
    if (close < 0) break;
    attributes[name] = decodeXmlEntities(source.slice(i + 1, close));
    i = close + 1;
  }
  return attributes;
}

/**
 * The attributes of every `<tagName …>` element. Plex's XML answers for these endpoints are
 * flat elements whose data is all in attributes, so this is all the XML we need to read.
 */
export function xmlElements(xml: string, tagName: string): Attributes[] {
  const elements: Attributes[] = [];
  const opening = `<${tagName}`;
  let from = 0;
  for (;;) {
    const start = xml.indexOf(opening, from);
    if (start < 0) break;
    const afterName = start + opening.length;
    const next = xml.charCodeAt(afterName);
    // <ButlerTasks> is not a <ButlerTask>: the name ends at a space, '/' or '>'.
    if (!(next === 62 || next === 47 || isSpace(next))) {
      from = afterName;
      continue;
    }
    const end = xml.indexOf('>', afterName);
    if (end < 0) break;
    elements.push(readAttributes(xml.slice(afterName, end)));
    from = end + 1;
  }
  return elements;
}

/** An HTML page (a proxy's login page, Plex Web) rather than an empty or data answer. */
export function looksLikeHtmlPage(body: string): boolean {
  return /^(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(body.trimStart().slice(0, 64));
}

export type BodyFormat = 'json' | 'xml';

const PROXY_HINT = message('hint.checkUrl');

/** Decides how to read a body, and refuses what is neither Plex JSON nor Plex XML. */
export function detectFormat(body: string, contentType: string | undefined): BodyFormat {
  const start = body.trimStart();
  const type = (contentType ?? '').toLowerCase();
  if (start.length === 0) {
    throw new ButlerError('bad-response', message('errors.emptyAnswer', { hint: PROXY_HINT }), {
      retryable: true,
    });
  }
  if (type.includes('text/html') || looksLikeHtmlPage(start)) {
    throw new ButlerError('bad-response', message('errors.htmlPage', { hint: PROXY_HINT }));
  }
  if (start.startsWith('{') || start.startsWith('[') || type.includes('json')) return 'json';
  if (start.startsWith('<')) return 'xml';
  throw new ButlerError('bad-response', message('errors.notJsonOrXml', { hint: PROXY_HINT }));
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ButlerError('bad-response', message('errors.malformedJson'), { retryable: true });
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function toNumber(value: unknown, fallback: number): number {
  // Only numbers and numeric text: Number() of an object may call a key named valueOf.
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(number) ? number : fallback;
}

/** Text, or '' for what is no text: String() of an object may call a key named toString. */
function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

function normaliseTask(raw: Record<string, unknown>): ButlerTask | undefined {
  const name = toText(raw.name);
  if (name === '') return undefined;
  const title = toText(raw.title);
  return {
    name,
    title: title === '' ? name : title,
    description: toText(raw.description),
    enabled: toBoolean(raw.enabled),
    interval: toNumber(raw.interval, 0),
    scheduleRandomized: toBoolean(raw.scheduleRandomized),
  };
}

function asArray(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  return value === undefined || value === null ? [] : [value];
}

const NOT_A_TASK_LIST = message('errors.notTaskList');
const NOT_AN_ACTIVITY_LIST = message('errors.notActivityList');

/** GET /butler in any of the shapes servers send: ButlerTasks (spec), MediaContainer, or XML. */
export function parseTaskList(body: string, contentType: string | undefined): ButlerTask[] {
  const format = detectFormat(body, contentType);
  let rawTasks: unknown[];
  if (format === 'xml') {
    if (!/<(ButlerTasks|MediaContainer)[\s>/]/.test(body)) {
      throw new ButlerError('bad-response', NOT_A_TASK_LIST);
    }
    rawTasks = xmlElements(body, 'ButlerTask');
  } else {
    const parsed = parseJson(body);
    const container = isRecord(parsed)
      ? isRecord(parsed.ButlerTasks)
        ? parsed.ButlerTasks
        : isRecord(parsed.MediaContainer)
          ? parsed.MediaContainer
          : undefined
      : undefined;
    if (!container) throw new ButlerError('bad-response', NOT_A_TASK_LIST);
    rawTasks = asArray(container.ButlerTask);
  }
  const tasks: ButlerTask[] = [];
  for (const raw of rawTasks) {
    const task = isRecord(raw) ? normaliseTask(raw) : undefined;
    if (task) tasks.push(task);
  }
  return tasks;
}

function normaliseActivity(raw: Record<string, unknown>): Activity | undefined {
  const uuid = toText(raw.uuid);
  if (uuid === '') return undefined;
  const activity: Activity = {
    uuid,
    type: toText(raw.type),
    title: toText(raw.title),
    subtitle: toText(raw.subtitle),
    progress: toNumber(raw.progress, -1),
    cancellable: toBoolean(raw.cancellable),
  };
  if (raw.userID !== undefined) activity.userId = toNumber(raw.userID, 0);
  if (isRecord(raw.Context)) activity.context = raw.Context;
  return activity;
}

/** GET /activities: `MediaContainer.Activity[]`, JSON or XML. */
export function parseActivities(body: string, contentType: string | undefined): Activity[] {
  const format = detectFormat(body, contentType);
  let rawActivities: unknown[];
  if (format === 'xml') {
    if (!/<MediaContainer[\s>/]/.test(body)) {
      throw new ButlerError('bad-response', NOT_AN_ACTIVITY_LIST);
    }
    rawActivities = xmlElements(body, 'Activity');
  } else {
    const parsed = parseJson(body);
    if (!isRecord(parsed) || !isRecord(parsed.MediaContainer)) {
      throw new ButlerError('bad-response', NOT_AN_ACTIVITY_LIST);
    }
    rawActivities = asArray(parsed.MediaContainer.Activity);
  }
  const activities: Activity[] = [];
  for (const raw of rawActivities) {
    const activity = isRecord(raw) ? normaliseActivity(raw) : undefined;
    if (activity) activities.push(activity);
  }
  return activities;
}

/** GET /identity, JSON or XML. */
export function parseIdentity(body: string, contentType: string | undefined): ServerIdentity {
  const format = detectFormat(body, contentType);
  let container: Record<string, unknown> | undefined;
  if (format === 'xml') {
    container = xmlElements(body, 'MediaContainer')[0];
  } else {
    const parsed = parseJson(body);
    container =
      isRecord(parsed) && isRecord(parsed.MediaContainer) ? parsed.MediaContainer : undefined;
  }
  if (!container || toText(container.machineIdentifier) === '') {
    throw new ButlerError('bad-response', message('errors.notPlex'));
  }
  return {
    claimed: toBoolean(container.claimed),
    machineIdentifier: toText(container.machineIdentifier),
    version: toText(container.version),
  };
}

export type ActivityEventKind = 'started' | 'updated' | 'ended';

/** One activity event from the notification socket. */
export interface ParsedActivityEvent {
  event: ActivityEventKind;
  activity: Activity;
}

const EVENT_KINDS = new Set<string>(['started', 'updated', 'ended']);

/** The entries under `list` of a notification container of `type`; none for anything else. */
function notificationEntries(text: string, type: string, list: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(parsed) || !isRecord(parsed.NotificationContainer)) return [];
  const container = parsed.NotificationContainer;
  return container.type === type ? asArray(container[list]) : [];
}

/**
 * A notification socket message: `{"NotificationContainer": {"type": "activity",
 * "ActivityNotification": [{event, uuid, Activity}]}}`. Other notification types, and entries
 * that are not well-formed, give no events: the socket carries more than activities.
 */
export function parseActivityNotification(text: string): ParsedActivityEvent[] {
  const events: ParsedActivityEvent[] = [];
  for (const entry of notificationEntries(text, 'activity', 'ActivityNotification')) {
    if (!isRecord(entry) || typeof entry.event !== 'string' || !EVENT_KINDS.has(entry.event)) {
      continue;
    }
    const raw = isRecord(entry.Activity) ? entry.Activity : {};
    const activity = normaliseActivity({ uuid: entry.uuid, ...raw });
    if (activity) events.push({ event: entry.event as ActivityEventKind, activity });
  }
  return events;
}

const SETTING_TYPES = new Set<string>(['bool', 'int', 'text', 'double']);

/** A setting's value for its type: Plex writes bools as true/false in JSON, 1/0 in XML. */
function settingValue(type: SettingType, raw: unknown): SettingValue {
  if (type === 'bool') return toBoolean(raw);
  if (type === 'int' || type === 'double') return toNumber(raw, 0);
  return toText(raw);
}

/** `value:label|value:label`; a label may hold colons, a value not. */
function allowedOf(enumValues: unknown): PlexSetting['allowed'] {
  const text = toText(enumValues);
  if (text === '') return undefined;
  return text.split('|').map((entry) => {
    const colon = entry.indexOf(':');
    return colon < 0
      ? { value: entry, label: entry }
      : { value: entry.slice(0, colon), label: entry.slice(colon + 1) };
  });
}

function normaliseSetting(raw: Record<string, unknown>): PlexSetting | undefined {
  const id = toText(raw.id);
  const type = toText(raw.type);
  if (id === '' || !SETTING_TYPES.has(type)) return undefined;
  const settingType = type as SettingType;
  const allowed = allowedOf(raw.enumValues);
  return {
    id,
    label: toText(raw.label),
    summary: toText(raw.summary),
    type: settingType,
    default: settingValue(settingType, raw.default),
    value: settingValue(settingType, raw.value),
    hidden: toBoolean(raw.hidden),
    advanced: toBoolean(raw.advanced),
    group: toText(raw.group),
    ...(allowed ? { allowed } : {}),
  };
}

/** GET /:/prefs (or /:/prefs/get): `MediaContainer.Setting[]`, JSON or XML. */
export function parseSettings(body: string, contentType: string | undefined): PlexSetting[] {
  const format = detectFormat(body, contentType);
  let raws: unknown[];
  if (format === 'xml') {
    if (!/<MediaContainer[\s>/]/.test(body)) {
      throw new ButlerError('bad-response', message('errors.notSettings'));
    }
    raws = xmlElements(body, 'Setting');
  } else {
    const parsed = parseJson(body);
    if (!isRecord(parsed) || !isRecord(parsed.MediaContainer)) {
      throw new ButlerError('bad-response', message('errors.notSettings'));
    }
    raws = asArray(parsed.MediaContainer.Setting);
  }
  const settings: PlexSetting[] = [];
  for (const raw of raws) {
    const setting = isRecord(raw) ? normaliseSetting(raw) : undefined;
    if (setting) settings.push(setting);
  }
  return settings;
}

export type PlayingState = 'playing' | 'paused' | 'buffering' | 'stopped';

/**
 * One `playing` notification entry: a playback's state as its player reported it. It names no
 * user and no title: GET /status/sessions has those.
 */
export interface PlayingEvent {
  /** The playback's sessionKey, as in GET /status/sessions. */
  sessionKey: string;
  /** The player's machineIdentifier. */
  clientIdentifier: string;
  ratingKey: string;
  state: PlayingState;
  /** Milliseconds into the item; 0 when not given. */
  viewOffset: number;
}

const PLAYING_STATES = new Set<string>(['playing', 'paused', 'buffering', 'stopped']);

/**
 * A notification socket message: `{"NotificationContainer": {"type": "playing",
 * "PlaySessionStateNotification": [{sessionKey, clientIdentifier, ratingKey, viewOffset,
 * state, …}]}}`. Other types, and entries without a sessionKey or a known state, give none.
 */
export function parsePlayingNotification(text: string): PlayingEvent[] {
  // Most messages on a shared socket are activities: skip the JSON parse for them.
  if (!text.includes('PlaySessionStateNotification')) return [];
  const events: PlayingEvent[] = [];
  for (const entry of notificationEntries(text, 'playing', 'PlaySessionStateNotification')) {
    if (!isRecord(entry)) continue;
    const sessionKey = toText(entry.sessionKey);
    const state = toText(entry.state);
    if (sessionKey === '' || !PLAYING_STATES.has(state)) continue;
    events.push({
      sessionKey,
      clientIdentifier: toText(entry.clientIdentifier),
      ratingKey: toText(entry.ratingKey),
      state: state as PlayingState,
      viewOffset: toNumber(entry.viewOffset, 0),
    });
  }
  return events;
}

/** The readers of this file, for the session parsers of lib/viewers. */
export { asArray, isRecord, parseJson, toBoolean, toNumber, toText };
