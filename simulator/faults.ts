/**
 * Faults a real network, proxy or server produces, injected one request at a time: latency,
 * error statuses, dropped or cut connections, bodies that are not what the client asked for.
 */
import { TLSSocket } from 'node:tls';
import type { PlannedAnswer } from './answers';
import { send, writeHead, type ExchangeContext } from './exchange';
import { PROXY_LOGIN_HTML, statusHtml } from './pages';

export type FaultKind =
  | 'latency'
  | 'status'
  | 'drop'
  | 'hang'
  | 'malformed'
  | 'truncated'
  | 'huge'
  | 'html'
  | 'empty'
  | 'xml'
  | 'drip'
  | 'reset-mid-body'
  | 'held';

export interface Fault {
  kind: FaultKind;
  /** For 'status' (default 500) and 'html' (default 200). */
  status?: number;
  /** Retry-After header value sent with 'status'. */
  retryAfter?: string;
  /**
   * For 'latency' (delay added before the server answers), 'held' (the server's answer, as it
   * was when the request arrived, held back this long, as by a busy server or a proxy that
   * buffers HTTP answers but passes the notification socket through) and 'drip' (delay
   * between body bytes).
   */
  ms?: number;
  /** For 'huge' (default 20 MiB). */
  bytes?: number;
  /** How many matching requests it applies to before it is removed; default: until cleared. */
  times?: number;
  /**
   * Which requests it applies to; default every request. `path` is compared with the decoded
   * path inside the server (after pathPrefix is stripped): a string must be equal, a RegExp match.
   */
  match?: { method?: string; path?: string | RegExp };
}

const MALFORMED_JSON = '{"ButlerTasks": {"ButlerTask": [ {"name": }';
const DEFAULT_HUGE_BYTES = 20 * 1024 * 1024;
const DEFAULT_DRIP_MS = 50;
const HUGE_CHUNK_BYTES = 64 * 1024;
const RECORDED_HUGE_CHARS = 1000;
/** Time for the client to read the partial body before the reset, so it sees headers first. */
const RESET_DELAY_MS = 20;

/** The faults waiting for requests, in order of injection. */
export class FaultList {
  private faults: Fault[] = [];

  inject(fault: Fault): void {
    if (fault.times !== undefined && fault.times <= 0) return;
    // A copy: counting down `times` must not change the caller's object.
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  /** The first matching fault, in order of injection; its `times` is used up by this request. */
  take(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex((fault) => {
      const match = fault.match;
      if (!match) return true;
      if (match.method && match.method.toUpperCase() !== method.toUpperCase()) return false;
      if (match.path === undefined) return true;
      if (typeof match.path === 'string') return match.path === path;
      match.path.lastIndex = 0;
      return match.path.test(path);
    });
    if (index < 0) return undefined;
    const fault = this.faults[index];
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) this.faults.splice(index, 1);
    }
    return fault;
  }
}

/** How long the fault holds the answer back, beyond the simulator's own latency. */
export function faultDelayMs(fault: Fault | undefined): number {
  return fault?.kind === 'latency' ? (fault.ms ?? 0) : 0;
}

/**
 * Answers as `fault` says, or plainly without one. `route` is the server's own answer; it is
 * only asked for (with its side effects, such as a task starting) when the request reaches the
 * server, which is also the case when the answer is then cut, as on a real network.
 */
export function answerWithFault(
  context: ExchangeContext,
  fault: Fault | undefined,
  route: (forceXml: boolean) => PlannedAnswer,
): void {
  const { req, res } = context;
  if (res.destroyed) return;
  switch (fault?.kind) {
    case 'drop':
      context.record(0, '');
      req.socket.destroy();
      return;
    case 'hang':
      // Never answered; recorded with status 0 when the socket closes.
      return;
    case 'status': {
      const status = fault.status ?? 500;
      const extraHeaders: Record<string, string> = {};
      if (fault.retryAfter !== undefined) extraHeaders['Retry-After'] = fault.retryAfter;
      send(context, {
        status,
        contentType: 'text/html',
        extraHeaders,
        // These statuses never carry a body.
        body: status === 204 || status === 304 ? '' : statusHtml(status),
      });
      return;
    }
    case 'malformed':
      send(context, { status: 200, contentType: 'application/json', body: MALFORMED_JSON });
      return;
    case 'empty':
      send(context, { status: 200, contentType: 'application/json', body: '' });
      return;
    case 'html':
      send(context, {
        status: fault.status ?? 200,
        contentType: 'text/html; charset=utf-8',
        body: PROXY_LOGIN_HTML,
      });
      return;
    case 'huge':
      sendHuge(context, fault.bytes ?? DEFAULT_HUGE_BYTES);
      return;
    default:
      break;
  }
  const planned = route(fault?.kind === 'xml');
  switch (fault?.kind) {
    case 'truncated':
      sendTruncated(context, planned);
      return;
    case 'reset-mid-body':
      sendReset(context, planned);
      return;
    case 'drip':
      sendDrip(context, planned, fault.ms ?? DEFAULT_DRIP_MS);
      return;
    case 'held':
      // Events sent meanwhile on the notification socket overtake this answer.
      context.later(fault.ms ?? 0, () => send(context, planned));
      return;
    default:
      send(context, planned);
  }
}

function sendTruncated(context: ExchangeContext, planned: PlannedAnswer): void {
  const { res } = context;
  const body = Buffer.from(planned.body, 'utf8');
  // An empty body still needs a promise of bytes that never come.
  const declared = Math.max(body.length, 16);
  const sent = body.subarray(0, Math.floor(body.length / 2));
  writeHead(context, planned, declared);
  context.record(0, sent.toString('utf8'));
  res.flushHeaders();
  // Ending the socket, not the response: the client sees the connection close mid-body.
  if (sent.length === 0) res.socket?.end();
  else res.write(sent, () => res.socket?.end());
}

function sendReset(context: ExchangeContext, planned: PlannedAnswer): void {
  const { res } = context;
  const body = Buffer.from(planned.body, 'utf8');
  const sent = body.subarray(0, Math.floor(body.length / 2));
  writeHead(context, planned, Math.max(body.length, 16));
  context.record(0, sent.toString('utf8'));
  res.flushHeaders();
  if (sent.length > 0) res.write(sent);
  const socket = res.socket;
  context.later(RESET_DELAY_MS, () => {
    if (!socket || socket.destroyed) return;
    // A real RST for plain TCP; a TLS socket cannot send one, so it is closed instead.
    if (socket instanceof TLSSocket) socket.destroy();
    else socket.resetAndDestroy();
  });
}

function sendDrip(context: ExchangeContext, planned: PlannedAnswer, ms: number): void {
  const { res } = context;
  const body = Buffer.from(planned.body, 'utf8');
  writeHead(context, planned, undefined);
  res.flushHeaders();
  let offset = 0;
  const next = (): void => {
    if (res.destroyed) return;
    if (offset >= body.length) {
      context.record(planned.status, planned.body);
      res.end();
      return;
    }
    res.write(body.subarray(offset, offset + 1));
    offset += 1;
    context.sentBody = body.subarray(0, offset).toString('utf8');
    context.later(ms, next);
  };
  next();
}

function sendHuge(context: ExchangeContext, bytes: number): void {
  const { res } = context;
  const pieces = hugeJsonPieces(bytes);
  writeHead(
    context,
    { status: 200, contentType: 'application/json', body: '' },
    hugeJsonLength(bytes),
  );
  // Written as fast as the client reads, never faster, so memory stays flat.
  const pump = (): void => {
    for (;;) {
      if (res.destroyed) return;
      const piece = pieces.next();
      if (piece.done) {
        context.record(200, context.sentBody);
        res.end();
        return;
      }
      if (context.sentBody.length < RECORDED_HUGE_CHARS) {
        context.sentBody = (context.sentBody + piece.value).slice(0, RECORDED_HUGE_CHARS);
      }
      if (!res.write(piece.value)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

const HUGE_HEAD = '{"ButlerTasks":{"ButlerTask":[';
const HUGE_TAIL = ']}}';
const HUGE_ENTRY = JSON.stringify({
  name: 'BackupDatabase',
  interval: 3,
  scheduleRandomized: false,
  enabled: true,
  title: 'Backup Database',
});

/** Byte length of the 'huge' body: as asked, or the smallest valid document if that is less. */
function hugeJsonLength(bytes: number): number {
  return Math.max(bytes, HUGE_HEAD.length + HUGE_TAIL.length);
}

/**
 * A valid JSON task list of hugeJsonLength(bytes) ASCII bytes: one task repeated, then
 * whitespace. Produced in pieces so that 20 MiB never sits in memory at once.
 */
function* hugeJsonPieces(bytes: number): Generator<string> {
  const head = HUGE_HEAD;
  const tail = HUGE_TAIL;
  const entry = HUGE_ENTRY;
  const room = hugeJsonLength(bytes) - head.length - tail.length;
  const entries = Math.floor((room + 1) / (entry.length + 1));
  let padding = room - (entries > 0 ? entries * (entry.length + 1) - 1 : 0);
  yield head;
  const perPiece = Math.max(1, Math.floor(HUGE_CHUNK_BYTES / (entry.length + 1)));
  for (let written = 0; written < entries;) {
    const count = Math.min(perPiece, entries - written);
    const items = new Array<string>(count).fill(entry).join(',');
    yield written === 0 ? items : `,${items}`;
    written += count;
  }
  while (padding > 0) {
    const size = Math.min(padding, HUGE_CHUNK_BYTES);
    yield ' '.repeat(size);
    padding -= size;
  }
  yield tail;
}
