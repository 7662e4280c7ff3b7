/**
 * Exchange recording: what each request got as its answer, or that it got none, for the
 * simulator's log and its 'exchange' event; and sending a planned answer whole.
 */
import type http from 'node:http';
import type { PlannedAnswer } from './answers';
import type { Timers } from './timers';

export interface RecordedExchange {
  method: string;
  /** Raw request path including the query. */
  url: string;
  /** Decoded pathname inside the server: pathPrefix stripped (kept when the prefix is missing). */
  path: string;
  headers: http.IncomingHttpHeaders;
  /**
   * 0 when no complete answer was given (dropped, hung, truncated, reset, cut by stop(), or the
   * client gave up first), even if a status line had gone out: see responseHeaders for that.
   */
  status: number;
  responseHeaders: Record<string, string>;
  /** What was sent of the body; '' for none; the first 1000 characters for the 'huge' fault. */
  responseBody: string;
  faultInjected: boolean;
  /** When the request arrived (ms since the epoch). */
  time: number;
}

export type ExchangeRecorder = (exchange: RecordedExchange) => void;

/**
 * How many exchanges a simulator keeps by default: enough to look back on, bounded so that a
 * long `npm start` or `npm run simulator` does not grow without end.
 */
export const DEFAULT_MAX_EXCHANGES = 10_000;

/** The maxExchanges option, checked: a whole number of 0 or more, or Infinity (keep all). */
export function exchangeLimit(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_EXCHANGES;
  if (value === Infinity || (Number.isInteger(value) && value >= 0)) return value;
  throw new RangeError(
    `maxExchanges must be a whole number of 0 or more, or Infinity; got ${String(value)}`,
  );
}

/** Appends, then drops the oldest entries beyond `max`. */
export function appendBounded(
  log: RecordedExchange[],
  exchange: RecordedExchange,
  max: number,
): void {
  log.push(exchange);
  if (log.length > max) log.splice(0, log.length - max);
}

/** What the recorder takes from the request itself. */
function requestFields(
  req: http.IncomingMessage,
): Pick<RecordedExchange, 'method' | 'url' | 'headers'> {
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
}

/** The answer to a WebSocket handshake, which goes out on the socket, not as a response. */
export function handshakeExchange(
  req: http.IncomingMessage,
  path: string,
  status: number,
  contentType: string | undefined,
  responseBody: string,
  faultInjected: boolean,
): RecordedExchange {
  const { method, url, headers } = requestFields(req);
  return {
    method,
    url,
    path,
    headers,
    status,
    responseHeaders: contentType ? { 'content-type': contentType } : {},
    responseBody,
    faultInjected,
    time: Date.now(),
  };
}

/** One request being answered: what the recorder needs, and timers to cancel if it goes away. */
export class ExchangeContext {
  /** When the request arrived. */
  readonly time = Date.now();
  faultInjected = false;
  /** The body sent so far, for answers streamed over time (recorded if they are cut). */
  sentBody = '';
  private recorded = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    readonly req: http.IncomingMessage,
    readonly res: http.ServerResponse,
    /** The path inside the server, or the whole path when the pathPrefix is missing. */
    readonly path: string,
    private readonly clock: Timers,
    private readonly recorder: ExchangeRecorder,
  ) {}

  get isRecorded(): boolean {
    return this.recorded;
  }

  /** A timeout that ends with the request (cancelTimers) or with the simulator. */
  later(ms: number, callback: () => void): NodeJS.Timeout {
    return this.clock.later(ms, callback, this.timers);
  }

  cancelTimers(): void {
    for (const timer of this.timers) this.clock.cancel(timer);
    this.timers.clear();
  }

  /** The first call counts: an exchange is recorded once, however it ends. */
  record(status: number, responseBody: string): void {
    if (this.recorded) return;
    this.recorded = true;
    const { method, url, headers } = requestFields(this.req);
    const responseHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.res.getHeaders())) {
      if (value === undefined) continue;
      responseHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value);
    }
    this.recorder({
      method,
      url,
      path: this.path,
      headers,
      status,
      responseHeaders,
      responseBody,
      faultInjected: this.faultInjected,
      time: this.time,
    });
  }
}

export function writeHead(
  context: ExchangeContext,
  planned: PlannedAnswer,
  contentLength: number | undefined,
): void {
  const { res } = context;
  res.statusCode = planned.status;
  res.setHeader('X-Plex-Protocol', '1.0');
  if (planned.contentType) res.setHeader('Content-Type', planned.contentType);
  if (contentLength !== undefined) res.setHeader('Content-Length', String(contentLength));
  res.setHeader('Connection', res.shouldKeepAlive ? 'keep-alive' : 'close');
  for (const [name, value] of Object.entries(planned.extraHeaders ?? {})) {
    res.setHeader(name, value);
  }
}

export function send(context: ExchangeContext, planned: PlannedAnswer): void {
  const body = Buffer.from(planned.body, 'utf8');
  writeHead(context, planned, body.length);
  // Recorded before the bytes leave, so a client that has the answer always finds the record.
  context.record(planned.status, planned.body);
  context.res.end(body);
}
