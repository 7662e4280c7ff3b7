import type https from 'node:https';
import { rootCertificates } from 'node:tls';
import { ButlerError } from '../failures/errors';
import { message, type MessageParam, type MessageRef } from '../messages';
import { plexDirectIdentityCheck } from '../plextv/plexdirect';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

export interface TlsOptions {
  /** Verify the server's certificate (default true). */
  verify?: boolean;
  /**
   * Extra CA certificate(s), PEM, trusted on top of the system's roots (Node's own `ca` option
   * replaces them; here they are added).
   */
  ca?: string | Buffer | Array<string | Buffer>;
  /** A client certificate and its key (PEM), e.g. from a Node-RED tls-config node. */
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** The name to send in SNI and to check the certificate against, when not the URL's host. */
  servername?: string;
  /**
   * Accept a valid certificate issued for another name. The chain is still verified; prefer
   * `plexDirect`, which accepts only the server's own plex.direct certificate.
   */
  allowNameMismatch?: boolean;
  /**
   * A server reached by its LAN address over HTTPS shows its `*.<hash>.plex.direct`
   * certificate: verify the chain (whatever `verify` says), and accept the certificate only
   * for the server's own `plexDirectHash`, the `<hash>` of the names plex.tv lists for it.
   * Without the hash the client refuses to start: nothing else tells whose certificate it is.
   */
  plexDirect?: boolean;
  plexDirectHash?: string;
}

export interface ButlerClientOptions {
  /** http(s)://host[:port][/path prefix of a reverse proxy] */
  url: string;
  token: string;
  /** Stable per configured server: a new one registers a new device on the Plex account. */
  clientIdentifier: string;
  product?: string;
  version?: string;
  platform?: string;
  device?: string;
  deviceName?: string;
  tls?: TlsOptions;
  /** Per attempt, from sending the request to the last byte of the answer. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** How long a fetched task list is trusted for name checks. */
  taskListTtlMs?: number;
  /** Answers larger than this are refused. */
  maxResponseBytes?: number;
  /** Sockets open to the server at once, at most; more requests wait for a free one. */
  maxSockets?: number;
}

/** Sent as X-Plex-Version; a test keeps it equal to package.json's version. */
export const PACKAGE_VERSION = '0.1.0';

const DEFAULT_TASK_LIST_TTL_MS = 60_000;
const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A numeric option's allowed values: the editor, the runtime and the error words use these. */
export interface NumericLimit {
  min: number;
  /** The minimum itself is not allowed: "above 0". */
  exclusiveMin?: boolean;
  max: number;
  default: number;
  integer?: boolean;
  /** For the words: the catalog's unit.* and setting.* keys. */
  unit: 'milliseconds' | 'seconds' | 'minutes' | 'retries' | 'sockets' | 'playbacks';
  setting: string;
}

export const LIMITS = Object.freeze({
  timeoutMs: { min: 100, max: 600_000, default: 10_000, unit: 'milliseconds', setting: 'timeout' },
  retries: { min: 0, max: 10, default: 2, integer: true, unit: 'retries', setting: 'retries' },
  /** A home server needs few: browsers open 6 per host. */
  maxSockets: {
    min: 1,
    max: 1024,
    default: 8,
    integer: true,
    unit: 'sockets',
    setting: 'maxSockets',
  },
  pollIntervalSeconds: {
    min: 0.1,
    max: 3600,
    default: 5,
    unit: 'seconds',
    setting: 'pollInterval',
  },
  /** A start node's "Give up after". */
  waitTimeoutMinutes: {
    min: 0,
    exclusiveMin: true,
    max: 10_080,
    default: 60,
    unit: 'minutes',
    setting: 'waitTimeout',
  },
  /** A watch node's "At most every". */
  updateIntervalSeconds: {
    min: 0,
    exclusiveMin: true,
    max: 86_400,
    default: 5,
    unit: 'seconds',
    setting: 'updateInterval',
  },
  /** A "when idle" node's deadline in minutes: a held message waits at most a week. */
  deadlineMinutes: {
    min: 0,
    exclusiveMin: true,
    max: 10_080,
    default: 60,
    unit: 'minutes',
    setting: 'deadline',
  },
  /**
   * A paused playback counts as use for this long (0: never). A week at most: longer than any
   * pause a limit is meant for.
   */
  pausedLimitMinutes: {
    min: 0,
    max: 10_080,
    default: 30,
    unit: 'minutes',
    setting: 'pausedLimit',
  },
  /** In use from this many counted playbacks on. */
  minimumPlaybacks: {
    min: 0,
    exclusiveMin: true,
    max: 1000,
    default: 1,
    integer: true,
    unit: 'playbacks',
    setting: 'minimumPlaybacks',
  },
} satisfies Record<string, NumericLimit>);

/**
 * A numeric option: empty means the default; anything else must be a number in the limit,
 * or an `invalid-config` error names the option, the value and the allowed range.
 */
export function checkNumber(value: unknown, limit: NumericLimit): number {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return limit.default;
  }
  const number =
    typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  const range = limit.exclusiveMin
    ? limit.integer
      ? 'wholeAbove'
      : 'above'
    : limit.integer
      ? 'wholeFrom'
      : 'from';
  const allowed = message(`range.${range}`, {
    unit: message(`unit.${limit.unit}`),
    min: limit.min,
    max: limit.max,
  });
  if (
    !Number.isFinite(number) ||
    number < limit.min ||
    (limit.exclusiveMin === true && number === limit.min) ||
    number > limit.max ||
    (limit.integer === true && !Number.isInteger(number))
  ) {
    throw invalidConfig(
      message('errors.outOfRange', {
        setting: message(`setting.${limit.setting}`),
        allowed,
        value: shown(value),
      }),
    );
  }
  return number;
}

function shown(value: unknown): MessageParam {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number') return String(value);
  return message('value.other', { type: typeof value });
}

/** The options checked once, in the shape the HTTP client and the notification socket use. */
export interface ResolvedClientOptions {
  baseUrl: string;
  /** Every header Plex wants on every request, the token among them. */
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  retryPolicy: Readonly<RetryPolicy>;
  taskListTtlMs: number;
  maxResponseBytes: number;
  maxSockets: number;
  /** With `tls.plexDirect`: the hash of the plex.direct names whose certificate is accepted. */
  plexDirect?: { readonly hash: string };
  /** For an https.Agent or a TLS socket: verification, extra CA, name-mismatch tolerance. */
  tlsOptions: https.AgentOptions;
}

/** Checks the options; throws an `invalid-config` ButlerError naming the problem. */
export function resolveClientOptions(options: ButlerClientOptions): ResolvedClientOptions {
  const baseUrl = normaliseBaseUrl(options.url);
  const token = checkHeaderValue('token', options.token, true);
  const clientIdentifier = checkHeaderValue('clientIdentifier', options.clientIdentifier, true);
  const retry = definedOnly(options.retry);
  const retryPolicy = Object.freeze({
    ...DEFAULT_RETRY_POLICY,
    ...retry,
    retries: checkNumber(retry.retries ?? DEFAULT_RETRY_POLICY.retries, LIMITS.retries),
  });
  const tls = options.tls ?? {};
  const extraCa = (Array.isArray(tls.ca) ? tls.ca : tls.ca ? [tls.ca] : []).filter(
    (pem) => String(pem).trim() !== '',
  );
  // Certificates only matter for https: an http URL keeps a saved mode without its hash.
  const plexDirect =
    tls.plexDirect && baseUrl.startsWith('https:')
      ? { hash: checkPlexDirectHash(tls.plexDirectHash) }
      : undefined;
  return {
    baseUrl,
    headers: Object.freeze({
      Accept: 'application/json',
      'X-Plex-Token': token,
      'X-Plex-Client-Identifier': clientIdentifier,
      'X-Plex-Product':
        checkHeaderValue('product', options.product, false) || 'node-red-plex-butler',
      'X-Plex-Version': checkHeaderValue('version', options.version, false) || PACKAGE_VERSION,
      'X-Plex-Platform': checkHeaderValue('platform', options.platform, false) || 'Node.js',
      'X-Plex-Platform-Version': process.versions.node,
      'X-Plex-Device': checkHeaderValue('device', options.device, false) || 'Node-RED',
      'X-Plex-Device-Name':
        checkHeaderValue('deviceName', options.deviceName, false) || 'Node-RED Plex Butler',
    }),
    timeoutMs: checkNumber(options.timeoutMs, LIMITS.timeoutMs),
    retryPolicy,
    taskListTtlMs: options.taskListTtlMs ?? DEFAULT_TASK_LIST_TTL_MS,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxSockets: checkNumber(options.maxSockets, LIMITS.maxSockets),
    ...(plexDirect ? { plexDirect } : {}),
    tlsOptions: {
      rejectUnauthorized: plexDirect !== undefined || tls.verify !== false,
      ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
      ...(tls.servername ? { servername: tls.servername } : {}),
      ...(plexDirect
        ? { checkServerIdentity: plexDirectIdentityCheck(plexDirect.hash) }
        : tls.allowNameMismatch
          ? { checkServerIdentity: () => undefined }
          : {}),
    },
  };
}

function invalidConfig(reason: MessageRef): ButlerError {
  return new ButlerError('invalid-config', reason);
}

/** Normalises the server URL and refuses what would leak or misroute a request. */
export function normaliseBaseUrl(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') {
    throw invalidConfig(message('errors.noUrl'));
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw invalidConfig(message('errors.badUrl'));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidConfig(message('errors.urlProtocol', { protocol: url.protocol }));
  }
  if (url.username !== '' || url.password !== '') {
    throw invalidConfig(message('errors.urlCredentials'));
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalidConfig(message('errors.urlQuery'));
  }
  return `${url.protocol}//${url.host}${withoutTrailingSlashes(url.pathname)}`;
}

/** A loop, not /\/+$/: that pattern takes quadratic time on a long run of slashes. */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end -= 1;
  return path.slice(0, end);
}

/** The `<hash>` label of a server's plex.direct names: letters and digits only. */
function checkPlexDirectHash(value: unknown): string {
  const hash = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (hash === '') throw invalidConfig(message('errors.plexDirectNoHash'));
  if (!/^[0-9a-z]{1,63}$/.test(hash)) {
    throw invalidConfig(message('errors.plexDirectBadHash'));
  }
  return hash;
}

function checkHeaderValue(name: string, value: unknown, required: boolean): string {
  const setting = message(`setting.${name}`);
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw invalidConfig(message('errors.notText', { setting, type: typeof value }));
  }
  // Spaces alone are no value: a token of blanks would only earn a 401.
  const text = (value ?? '').trim();
  if (text === '') {
    if (required) throw invalidConfig(message('errors.notSet', { setting }));
    return '';
  }
  if (/[^\t\x20-\x7e\x80-\xff]/.test(text)) {
    throw invalidConfig(message('errors.headerCharacters', { setting }));
  }
  return text;
}

function definedOnly<T extends object>(value: Partial<T> | undefined): Partial<T> {
  const copy: Partial<T> = {};
  if (!value) return copy;
  for (const [key, entry] of Object.entries(value) as [keyof T, T[keyof T]][]) {
    if (entry !== undefined) copy[key] = entry;
  }
  return copy;
}
