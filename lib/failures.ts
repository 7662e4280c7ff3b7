/**
 * Every failure the client and the notification socket meet, mapped to one ButlerError
 * vocabulary: the same code, retryability and advice whichever of the two saw it.
 */
import { ButlerError, type ButlerErrorCode } from './errors';
import { RETRYABLE_STATUSES, parseRetryAfter } from './retry';
import { AttemptTimedOut } from './transport';

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
]);

/** The host is there in name but nothing comes back: asleep, switched off, or another network. */
const UNREACHABLE_CODES = ['EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN'];
const DNS_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'];
const RESET_CODES = ['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE'];

/** What the failure happened to: the server's base URL, and the action, for the words. */
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
  timeoutMs?: number;
}

/** An HTTP answer's status as a ButlerError; `doing` completes "could not …". */
export function statusFailure(
  status: number,
  doing: string,
  retryAfter?: string | undefined,
): ButlerError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const details = {
    status,
    retryable: RETRYABLE_STATUSES.has(status),
    ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
  };
  let code: ButlerErrorCode;
  let advice: string;
  if (status === 401) {
    code = 'unauthorized';
    advice = 'token rejected by the server (401): check the token in the server config';
  } else if (status === 403) {
    code = 'forbidden';
    advice =
      'the server refused this token (403): Butler tasks need the token of the server owner or an admin';
  } else if (status === 404) {
    code = 'not-found';
    advice =
      'the server has no such endpoint (404): check the server URL and any reverse-proxy path';
  } else if (status === 429) {
    code = 'rate-limited';
    advice =
      'the server is rate-limiting requests (429): send fewer requests, or wait and try again';
  } else if (status >= 500) {
    code = 'server-error';
    advice = `Plex answered ${status}${RETRYABLE_STATUSES.has(status) ? ': it may be restarting or updating, try again in a minute' : ': an internal server error, see the Plex server logs'}`;
  } else if (status >= 300 && status < 400) {
    code = 'bad-response';
    advice = `the server redirected the request (${status}): use the address it redirects to (often https://) in the server config`;
  } else if (status >= 400) {
    code = 'bad-request';
    advice = `the server refused the request as malformed (${status})`;
  } else {
    code = 'bad-response';
    advice = `the server gave an unexpected answer (${status})`;
  }
  return new ButlerError(code, `could not ${doing}: ${advice}`, details);
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
  const target = url.host;
  const onSocket = context.channel === 'notification socket' ? ' (notification socket)' : '';
  if (has('ECONNREFUSED')) {
    return new ButlerError(
      'connection-refused',
      `nothing answers at ${target}${onSocket}: check that Plex is running and the host and port in the server URL`,
      { retryable: true },
    );
  }
  const timedOut =
    error instanceof AttemptTimedOut ||
    has('ECONNABORTED') ||
    /handshake has timed out/i.test(messageOf(error));
  if (has(...UNREACHABLE_CODES, 'ETIMEDOUT') || (timedOut && context.connected === false)) {
    return hostUnreachable(target, onSocket);
  }
  if (timedOut) {
    const limit = context.timeoutMs !== undefined ? ` within ${context.timeoutMs} ms` : ' in time';
    return new ButlerError(
      'timeout',
      `Plex did not answer${limit}${onSocket}: check that the server is running, or raise the timeout in the server config`,
      { retryable: true },
    );
  }
  if (has(...DNS_CODES)) {
    return new ButlerError(
      'host-not-found',
      `the host name in the server URL (${url.hostname}) cannot be resolved${onSocket}: check it, or use the server's IP address`,
      { retryable: has('EAI_AGAIN') },
    );
  }
  const tlsCode = codes.find((code) => TLS_ERROR_CODES.has(code));
  if (tlsCode !== undefined) return tlsFailure(tlsCode, context.baseUrl);
  if (has(...RESET_CODES) || /socket hang up|aborted/i.test(messageOf(error))) {
    const plainToTls = url.protocol === 'http:';
    return new ButlerError(
      'connection-reset',
      `the server closed the connection before answering completely${onSocket}${plainToTls ? ' (if the server only accepts HTTPS on this port, use an https:// URL)' : ''}: try again`,
      { retryable: true },
    );
  }
  if (codes.some((code) => code.startsWith('HPE_'))) {
    return new ButlerError(
      'bad-response',
      `the server sent an answer that is not valid HTTP${onSocket}: check the server URL and port`,
    );
  }
  return new ButlerError(
    'bad-response',
    `the connection to Plex failed${onSocket} (${codes[0] ?? 'unknown error'})`,
  );
}

/** No connection came about: the host sleeps, is off, or is on a network out of reach. */
export function hostUnreachable(target: string, onSocket = ''): ButlerError {
  return new ButlerError(
    'host-unreachable',
    `${target} does not answer${onSocket}: the server may be asleep, switched off or on another network; wake it, or check the address in the server URL`,
    { retryable: true },
  );
}

/**
 * A start or stop that reached the server, or may have, without a whole answer. Not retried:
 * the retry's 202 or 404 would describe the work of the first attempt.
 */
export function outcomeUnknown(doing: string, cause: ButlerError): ButlerError {
  return new ButlerError(
    'outcome-unknown',
    `the request to ${doing} was sent, but no complete answer came (${cause.code}): Plex may or may not have done it. It was not sent again; get tasks or a watch node shows what runs`,
    cause.status !== undefined ? { status: cause.status } : {},
  );
}

export function tlsFailure(code: string, baseUrl: string): ButlerError {
  let advice: string;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    advice = `the server does not speak HTTPS on this port: use ${baseUrl.replace(/^(https|wss):/, 'http:')} or the server's HTTPS port`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    advice =
      "the server's certificate is for another host name (a *.plex.direct certificate reached by IP address?): use the https://<ip-dashed>.<id>.plex.direct:32400 address, or turn off certificate verification in the server config";
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    advice =
      "the server's certificate is expired or not yet valid: renew it, or check this machine's clock";
  } else {
    advice =
      "the server's certificate is not trusted (self-signed or unknown issuer): paste its CA certificate (PEM) into the server config, or turn off certificate verification";
  }
  return new ButlerError('tls-error', `TLS error (${code}): ${advice}`);
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
