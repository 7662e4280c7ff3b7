/**
 * The words nodes show: the library's messages in the runtime's language, the short status
 * texts, and the clock on a status line.
 */
import type { NodeAPI, NodeStatus } from 'node-red';
import { ButlerError, formatMessage, message, type MessageRef } from '../../lib';

/** Where the library's catalog sits in every node set's catalog (the build puts it there). */
const CATALOG = 'plex-butler';

/** A catalog look-up of the library's messages, in the runtime's language. */
export function translator(
  RED: NodeAPI,
): (key: string, params: Record<string, string | number>) => string {
  return (key, params) => RED._(`${CATALOG}.${key}`, params);
}

/** The words of a message reference in the runtime's language. */
export function wordsOf(RED: NodeAPI, ref: MessageRef): string {
  return formatMessage(ref, translator(RED));
}

/** The error with its message in the runtime's language: for Catch nodes, logs and warnings. */
export function localized(RED: NodeAPI, error: ButlerError): ButlerError {
  return error.localized(translator(RED));
}

/** Anything thrown becomes a ButlerError, so every failure carries a stable code. */
export function asButlerError(error: unknown): ButlerError {
  if (error instanceof ButlerError) return error;
  return new ButlerError(
    'bad-response',
    message('errors.unexpected', {
      detail: error instanceof Error ? error.message : String(error),
    }),
  );
}

let clockMinute = -1;
let clockText = '';

/** "HH:MM", local time: the same text all minute long, so it is made once a minute. */
export function clock(): string {
  const now = Date.now();
  const minute = Math.floor(now / 60_000);
  if (minute !== clockMinute) {
    const date = new Date(now);
    clockMinute = minute;
    clockText = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  }
  return clockText;
}

/** A few words for the status line (about 20 characters), from the catalog's status.*. */
export function shortReason(RED: NodeAPI, error: ButlerError): string {
  return RED._(`${CATALOG}.status.${error.code}`);
}

export function errorStatus(RED: NodeAPI, error: ButlerError): NodeStatus {
  return { fill: 'red', shape: 'ring', text: shortReason(RED, error) };
}
