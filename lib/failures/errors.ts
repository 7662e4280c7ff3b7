import { formatMessage, type MessageRef } from '../messages';

/** Stable error codes: flows (Catch nodes, switch on msg.error.code) rely on these strings. */
export const BUTLER_ERROR_CODES = [
  'unauthorized',
  'forbidden',
  'not-found',
  'bad-request',
  'server-error',
  'rate-limited',
  'timeout',
  'connection-refused',
  'connection-reset',
  'host-not-found',
  'host-unreachable',
  'tls-error',
  'bad-response',
  'invalid-task',
  'invalid-config',
  'invalid-setting',
  'outcome-unknown',
  'aborted',
] as const;

export type ButlerErrorCode = (typeof BUTLER_ERROR_CODES)[number];

export interface ButlerErrorDetails {
  status?: number;
  retryable?: boolean;
  /** Valid task names, set on invalid-task errors. */
  validTasks?: readonly string[];
  /** Closest valid names, set on invalid-task errors when there is a near miss. */
  suggestions?: readonly string[];
  /** Seconds the server asked us to wait (429/503 with Retry-After). */
  retryAfterSeconds?: number;
}

/**
 * The only error type the library throws. It carries no request config, headers or raw
 * transport error, so it can be logged, sent to the editor or put in a message as it is.
 */
export class ButlerError extends Error {
  readonly code: ButlerErrorCode;
  /** The message as a catalog reference, so that a node can word it in the user's language. */
  readonly messageRef: MessageRef;
  readonly status?: number;
  readonly retryable: boolean;
  readonly validTasks?: readonly string[];
  readonly suggestions?: readonly string[];
  readonly retryAfterSeconds?: number;

  /** `message`: a catalog reference (worded in English here), or words of the caller's own. */
  constructor(
    code: ButlerErrorCode,
    message: MessageRef | string,
    details: ButlerErrorDetails = {},
  ) {
    super(typeof message === 'string' ? message : formatMessage(message));
    this.messageRef =
      typeof message === 'string' ? { key: 'errors.text', params: { text: message } } : message;
    this.name = 'ButlerError';
    this.code = code;
    this.retryable = details.retryable ?? false;
    if (details.status !== undefined) this.status = details.status;
    if (details.validTasks) this.validTasks = details.validTasks;
    if (details.suggestions) this.suggestions = details.suggestions;
    if (details.retryAfterSeconds !== undefined) this.retryAfterSeconds = details.retryAfterSeconds;
  }

  /** The same error, worded by `translate` (a catalog look-up with parameters filled in). */
  localized(
    translate: (key: string, params: Record<string, string | number>) => string,
  ): ButlerError {
    const copy = new ButlerError(this.code, this.messageRef, this.details());
    copy.message = formatMessage(this.messageRef, translate);
    return copy;
  }

  private details(): ButlerErrorDetails {
    return {
      status: this.status,
      retryable: this.retryable,
      validTasks: this.validTasks,
      suggestions: this.suggestions,
      retryAfterSeconds: this.retryAfterSeconds,
    };
  }

  /** Plain object for JSON answers and msg.error. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      retryable: this.retryable,
      validTasks: this.validTasks,
      suggestions: this.suggestions,
    };
  }
}

export function isButlerError(value: unknown): value is ButlerError {
  return value instanceof ButlerError;
}
