/**
 * The contract between the runtime and the editor: the one answer shape of every admin route,
 * the dialog values the editor sends, and the rules the editor checks fields with (limits,
 * defaults, patterns, the config version), which the runtime exports through Node-RED's
 * settings so that the editor holds no copy of them. resources/common.js reads both.
 */
import type { Request, Response } from 'express';
import {
  LIMITS,
  STATIC_TASK_NAMES,
  TASK_NAME_PATTERN,
  formatMessage,
  type ButlerError,
  type MessageRef,
  type NumericLimit,
} from '../../lib';
import { SERVER_TYPE } from '../core/contract';
import { CONFIG_VERSION } from '../core/migrations';
import { asButlerError } from '../core/words';

/** A message the editor words in its own language, with the runtime's English as a fallback. */
export interface EditorMessage {
  message: string;
  messageRef: MessageRef;
}

export interface EditorError extends EditorMessage {
  /** One of lib's error codes (ButlerErrorCode). */
  code: string;
}

/**
 * Every admin route answers this: `data` when it worked; `error` when it did not, maybe with
 * `data` still (the task list offers the offline list beside the reason it is offline).
 */
export type EditorAnswer<T> = { ok: true; data: T } | { ok: false; error: EditorError; data?: T };

export function editorMessage(ref: MessageRef): EditorMessage {
  return { message: formatMessage(ref), messageRef: ref };
}

export function editorError(error: ButlerError): EditorError {
  return { code: error.code, ...editorMessage(error.messageRef) };
}

/** Answers with `data`. */
export function answer<T>(res: Response, data: T): void {
  const body: EditorAnswer<T> = { ok: true, data };
  res.json(body);
}

/** Answers with the failure's code and words (HTTP 200 unless told: the request itself worked). */
export function refuse<T>(res: Response, failure: unknown, status = 200, data?: T): void {
  const body: EditorAnswer<T> = {
    ok: false,
    error: editorError(asButlerError(failure)),
    ...(data !== undefined ? { data } : {}),
  };
  res.status(status).json(body);
}

/**
 * The values of an open server dialog (or of a saved config, from the start and stop dialogs),
 * maybe not saved yet. Everything is `unknown`: it comes from the browser.
 */
export interface DialogValues {
  /** The config node's id: `id` from the server dialog, `server` from a task dialog. */
  id?: unknown;
  server?: unknown;
  url?: unknown;
  token?: unknown;
  clientId?: unknown;
  tlsMode?: unknown;
  tls?: unknown;
  machineId?: unknown;
  plexDirectHash?: unknown;
  ca?: unknown;
  timeout?: unknown;
  retries?: unknown;
  /** As saved by release 0.1.0, which had a "verify" box instead of tlsMode. */
  verifyTls?: unknown;
  version?: unknown;
  /** One opening of the dialog: its sign-in and the server chosen in it (see sign-in.ts). */
  draft?: unknown;
  /** A sign-in of the dialog, for its state. */
  session?: unknown;
}

export function dialogValuesOf(req: Request): DialogValues {
  return typeof req.body === 'object' && req.body !== null ? (req.body as DialogValues) : {};
}

export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** How the editor checks a number field: the runtime's limit, and what else it may hold. */
export interface NumberRule extends NumericLimit {
  /** The node type whose dialog has the field, and the property it is saved as. */
  node: string;
  property: string;
  /** Empty means the default. */
  empty: boolean;
  /** `${NAME}`, an environment variable Node-RED substitutes at deploy. */
  env: boolean;
}

/** What the editor checks fields with; exported as RED.settings.plexButlerServerRules. */
export interface EditorRules {
  configVersion: number;
  /** A task name: it goes into the URL path. */
  taskNamePattern: string;
  /** A server address the dialog takes (the runtime's own check is normaliseBaseUrl). */
  urlPattern: string;
  /** The offline list, offered while no server's live list can be had. */
  taskNames: string[];
  /** Every number field of every dialog, by the limit's name. */
  numbers: Record<string, NumberRule>;
}

/** http(s), a host name or an IP address (v6 in brackets), a port, a path; nothing else. */
const URL_PATTERN =
  /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(:\d{1,5})?(\/[^\s?#]*)?$/;

export function editorRules(): EditorRules {
  return {
    configVersion: CONFIG_VERSION,
    taskNamePattern: TASK_NAME_PATTERN.source,
    urlPattern: URL_PATTERN.source,
    taskNames: [...STATIC_TASK_NAMES],
    numbers: {
      timeout: {
        ...LIMITS.timeoutMs,
        node: SERVER_TYPE,
        property: 'timeout',
        empty: true,
        env: true,
      },
      retries: {
        ...LIMITS.retries,
        node: SERVER_TYPE,
        property: 'retries',
        empty: false,
        env: true,
      },
      pollInterval: {
        ...LIMITS.pollIntervalSeconds,
        node: SERVER_TYPE,
        property: 'pollInterval',
        empty: true,
        env: false,
      },
      waitTimeout: {
        ...LIMITS.waitTimeoutMinutes,
        node: 'plex-butler-start',
        property: 'waitTimeout',
        empty: true,
        env: false,
      },
      updateInterval: {
        ...LIMITS.updateIntervalSeconds,
        node: 'plex-butler-watch',
        property: 'rate',
        empty: true,
        env: false,
      },
    },
  };
}
