/**
 * Every failure the client and the notification socket meet, mapped to one ButlerError
 * vocabulary: the same code, retryability and advice whichever of the two saw it.
 */
import { ButlerError, type ButlerErrorCode } from './errors';
import { message, type MessageRef } from '../messages';
import { RETRYABLE_STATUSES, parseRetryAfter } from '../butler/retry';
import { AttemptTimedOut } from '../butler/transport';

const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_PLEX_DIRECT_CERT',
]);

/** The host is there in name but nothing comes back: asleep, switched off, or another network. */
const UNREACHABLE_CODES = ['EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ETIMEDOUT'];
const DNS_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'];
const RESET_CODES = ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'];

/** What the failure happened to: the server's base URL, and the channel, for the words. */
export interface FailureContext {
  baseUrl: string;
  /** Where the failure happened, for the words: the HTTP API (default) or the event socket. */
  channel?: 'request' | 'notification socket';
  /**
   * Whether a connection had come about: a timeout before it means no host answers (asleep,
   * off), after it a Plex that is slow or stuck. Unknown when not given.
   */
  connected?: boolean;
  /** The time limit that ran out, for the words. */
  timeoutMs: number;
}

/** An HTTP answer's status as a ButlerError; `doing` completes "could not …". */
export function statusFailure(
  status: number,
  doing: MessageRef,
  retryAfter?: string | undefined,
): ButlerError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const details = {
    status,
    retryable: RETRYABLE_STATUSES.has(status),
    ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
  };
  let code: ButlerErrorCode;
  let reason: string;
  if (status === 401) {
    code = 'unauthorized';
    reason = 'unauthorized';
  } else if (status === 403) {
    code = 'forbidden';
    reason = 'forbidden';
  } else if (status === 404) {
    code = 'not-found';
    reason = 'notFound';
  } else if (status === 429) {
    code = 'rate-limited';
    reason = 'rateLimited';
  } else if (status >= 500) {
    code = 'server-error';
    reason = RETRYABLE_STATUSES.has(status) ? 'serverBusy' : 'serverFailed';
  } else if (status >= 300 && status < 400) {
    code = 'bad-response';
    reason = 'redirected';
  } else if (status >= 400) {
    code = 'bad-request';
    reason = 'badRequest';
  } else {
    code = 'bad-response';
    reason = 'unexpectedStatus';
  }
  return new ButlerError(
    code,
    message('errors.couldNot', { doing, reason: message(`errors.${reason}`, { status }) }),
    details,
  );
}

/**
 * Anything Node, the TLS layer or the WebSocket library threw, as a ButlerError: the code of
 * the error (and its causes), never its message, which may hold a URL.
 */
export function transportFailure(error: unknown, context: FailureContext): ButlerError {
  if (error instanceof ButlerError) return error;
  const codes = errorCodes(error);
  const has = (...wanted: string[]): boolean => wanted.some((code) => codes.includes(code));
  const url = new URL(context.baseUrl);
  const where = context.channel === 'notification socket' ? message('where.socket') : '';
  if (has('ECONNREFUSED')) {
    return new ButlerError(
      'connection-refused',
      message('errors.connectionRefused', { target: url.host, where }),
      { retryable: true },
    );
  }
  const timedOut =
    error instanceof AttemptTimedOut ||
    has('ECONNABORTED') ||
    /handshake has timed out/i.test(messageOf(error));
  if (has(...UNREACHABLE_CODES) || (timedOut && context.connected === false)) {
    return hostUnreachable(url.host, where);
  }
  if (timedOut) {
    return new ButlerError('timeout', message('errors.timeout', { ms: context.timeoutMs, where }), {
      retryable: true,
    });
  }
  if (has(...DNS_CODES)) {
    return new ButlerError(
      'host-not-found',
      message('errors.hostNotFound', { host: url.hostname, where }),
      { retryable: has('EAI_AGAIN') },
    );
  }
  const tlsCode = codes.find((code) => TLS_ERROR_CODES.has(code));
  if (tlsCode !== undefined) return tlsFailure(tlsCode, context.baseUrl);
  if (has(...RESET_CODES) || /socket hang up|aborted/i.test(messageOf(error))) {
    const hint = url.protocol === 'http:' ? message('hint.useHttps') : '';
    return new ButlerError('connection-reset', message('errors.connectionReset', { where, hint }), {
      retryable: true,
    });
  }
  if (codes.some((code) => code.startsWith('HPE_'))) {
    return new ButlerError('bad-response', message('errors.notHttp', { where }));
  }
  return new ButlerError(
    'bad-response',
    message('errors.connectionFailed', { where, code: codes[0] ?? 'unknown error' }),
  );
}

/** No connection came about: the host sleeps, is off, or is on a network out of reach. */
export function hostUnreachable(target: string, where: MessageRef | '' = ''): ButlerError {
  return new ButlerError('host-unreachable', message('errors.hostUnreachable', { target, where }), {
    retryable: true,
  });
}

/**
 * A start or stop that reached the server, or may have, without a whole answer. Not retried:
 * the retry's 202 or 404 would describe the work of the first attempt.
 */
export function outcomeUnknown(doing: MessageRef, cause: ButlerError): ButlerError {
  return new ButlerError(
    'outcome-unknown',
    message('errors.outcomeUnknown', { doing, cause: cause.code }),
    cause.status !== undefined ? { status: cause.status } : {},
  );
}

export function tlsFailure(code: string, baseUrl: string): ButlerError {
  let advice: MessageRef;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    advice = message('errors.tlsNotHttps', { url: baseUrl.replace(/^(https|wss):/, 'http:') });
  } else if (code === 'ERR_PLEX_DIRECT_CERT') {
    advice = message('errors.tlsNotPlexDirect');
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    advice = message('errors.tlsOtherName');
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    advice = message('errors.tlsExpired');
  } else {
    advice = message('errors.tlsUntrusted');
  }
  return new ButlerError('tls-error', message('errors.tls', { code, advice }));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/** Error codes of an error and its causes (a cause may carry the code that matters). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = (inner as { code?: unknown } | null)?.code;
        if (typeof innerCode === 'string') codes.push(innerCode);
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
