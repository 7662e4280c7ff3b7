import { ButlerError } from './errors';
import type { Activity, ButlerTask, ServerIdentity } from './types';

type Attributes = Record<string, string>;

const XML_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
};

function decodeXmlEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return XML_ENTITIES[entity] ?? whole;
  });
}

/**
 * The attributes of every `<tagName …>` element. Plex's XML answers for these endpoints are
 * flat elements whose data is all in attributes, so this is all the XML we need to read.
 */
export function xmlElements(xml: string, tagName: string): Attributes[] {
  const elements: Attributes[] = [];
  const tag = new RegExp(`<${tagName}(\\s[^>]*?)?\\s*/?>`, 'g');
  const attribute = /([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  for (const match of xml.matchAll(tag)) {
    const attributes: Attributes = Object.create(null);
    for (const pair of (match[1] ?? '').matchAll(attribute)) {
      attributes[pair[1]] = decodeXmlEntities(pair[2] ?? pair[3] ?? '');
    }
    elements.push(attributes);
  }
  return elements;
}

export type BodyFormat = 'json' | 'xml';

const PROXY_HINT =
  'check the server URL: it must point at Plex Media Server itself (port 32400, or the path your reverse proxy forwards to Plex)';

/** Decides how to read a body, and refuses what is neither Plex JSON nor Plex XML. */
export function detectFormat(body: string, contentType: string | undefined): BodyFormat {
  const start = body.trimStart();
  const type = (contentType ?? '').toLowerCase();
  if (start.length === 0) {
    throw new ButlerError('bad-response', `the server sent an empty answer; ${PROXY_HINT}`, {
      retryable: true,
    });
  }
  if (type.includes('text/html') || /^<!doctype html|^<html/i.test(start)) {
    throw new ButlerError(
      'bad-response',
      `the server sent an HTML page, not Plex data; ${PROXY_HINT}`,
    );
  }
  if (start.startsWith('{') || start.startsWith('[') || type.includes('json')) return 'json';
  if (start.startsWith('<')) return 'xml';
  throw new ButlerError(
    'bad-response',
    `the server sent something that is neither JSON nor XML; ${PROXY_HINT}`,
  );
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new ButlerError(
      'bad-response',
      'the server sent malformed or truncated JSON; try again, and check that nothing between Node-RED and Plex alters answers',
      { retryable: true },
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

function toNumber(value: unknown, fallback: number): number {
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : fallback;
}

function toText(value: unknown): string {
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? ''
      : String(value);
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

const NOT_A_TASK_LIST =
  'the server answered, but not with a Butler task list; check that the URL points at Plex Media Server';

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
      throw new ButlerError('bad-response', 'the server answered, but not with an activity list');
    }
    rawActivities = xmlElements(body, 'Activity');
  } else {
    const parsed = parseJson(body);
    if (!isRecord(parsed) || !isRecord(parsed.MediaContainer)) {
      throw new ButlerError('bad-response', 'the server answered, but not with an activity list');
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
    throw new ButlerError(
      'bad-response',
      'the server answered, but it does not look like Plex Media Server; check the URL',
    );
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

/**
 * A notification socket message: `{"NotificationContainer": {"type": "activity",
 * "ActivityNotification": [{event, uuid, Activity}]}}`. Other notification types, and entries
 * that are not well-formed, give no events: the socket carries more than activities.
 */
export function parseActivityNotification(text: string): ParsedActivityEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!isRecord(parsed) || !isRecord(parsed.NotificationContainer)) return [];
  const container = parsed.NotificationContainer;
  if (container.type !== 'activity') return [];
  const events: ParsedActivityEvent[] = [];
  for (const entry of asArray(container.ActivityNotification)) {
    if (!isRecord(entry) || typeof entry.event !== 'string' || !EVENT_KINDS.has(entry.event)) {
      continue;
    }
    const raw = isRecord(entry.Activity) ? entry.Activity : {};
    const activity = normaliseActivity({ uuid: entry.uuid, ...raw });
    if (activity) events.push({ event: entry.event as ActivityEventKind, activity });
  }
  return events;
}
