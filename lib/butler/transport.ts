import http from 'node:http';
import https from 'node:https';
import { ButlerError } from '../failures/errors';
import { message } from '../messages';
import { plexDirectAddress, plexDirectLookup } from '../plextv/plexdirect';
import type { ResolvedClientOptions } from './client-options';

/** An HTTP answer as the client reads it: any status, the body as text. */
export interface TransportResponse {
  status: number;
  body: string;
  contentType: string | undefined;
  retryAfter: string | undefined;
}

/**
 * A request that failed before a whole answer came. `connected`: the request had a connected
 * (for HTTPS: handshaken) socket, so its bytes may have reached the server; before that, they
 * cannot have (refused, DNS, TLS handshake, no route), and a retry cannot repeat an action.
 */
export class RequestFailure {
  constructor(
    readonly reason: unknown,
    readonly connected: boolean,
  ) {}
}

/** The reason of a RequestFailure whose attempt ran out of time. */
export class AttemptTimedOut extends Error {}

/** One entry of a LinkedList: remove() takes it out. */
export interface Link<T> {
  readonly value: T;
  remove(): void;
}

class ListNode<T> implements Link<T> {
  prev: ListNode<T> | undefined;
  next: ListNode<T> | undefined;
  constructor(readonly value: T) {}

  remove(): void {
    if (this.prev) this.prev.next = this.next;
    if (this.next) this.next.prev = this.prev;
    // A removed entry points nowhere: see LinkedList.
    this.prev = undefined;
    this.next = undefined;
  }
}

/**
 * What is in flight, for the whole of its flight: entries join and leave in O(1), and the list
 * holds nothing it no longer lists. Not a Set: a Set's table is replaced as entries come and
 * go, and each replaced table keeps a link to the next one with the entries it held. Once the
 * garbage collector has moved one table to the old generation (the client idle while the rest
 * of the process allocates), every later table and every request in it survives each young
 * collection until the next full one. In the bench, 32 requests at once after another path's
 * turn: 2.7 MB instead of 0.2 MB surviving each young collection, 30% more CPU per request.
 */
export class LinkedList<T> {
  private readonly head = new ListNode<T>(undefined as never);

  add(value: T): Link<T> {
    const node = new ListNode(value);
    const first = this.head.next;
    node.prev = this.head;
    node.next = first;
    if (first) first.prev = node;
    this.head.next = node;
    return node;
  }

  /** Takes every entry out and gives each to `use`, newest first. */
  drain(use: (value: T) => void): void {
    let node = this.head.next;
    this.head.next = undefined;
    while (node) {
      const next = node.next;
      node.prev = undefined;
      node.next = undefined;
      use(node.value);
      node = next;
    }
  }
}

/**
 * Keep-alive probes on idle pooled sockets, as before; the same delay every time a socket goes
 * back to the pool, so Node's setsockopt calls find nothing to change.
 */
const TCP_KEEP_ALIVE_MS = 60_000;

/** The host and port a URL connects to: IPv6 without URL's brackets, the scheme's default port. */
export function socketAddressOf(url: URL): { hostname: string; port: string } {
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
  };
}

/**
 * One request, one answer, on a keep-alive pool: node:http with nothing in between. The bench
 * showed why: axios's http adapter alone, without any of our code, reached 0.61 (one request at
 * a time) and 0.41 (32 at once) of bare node:http requests per second; the client's target is
 * 0.6 of it. Nothing here follows redirects, reads an environment proxy or decompresses: a Plex
 * server on the LAN needs none of it, and a redirect is reported, not followed.
 */
export class HttpTransport {
  private readonly request: typeof http.request;
  private readonly secure: boolean;
  private readonly agent: http.Agent;
  private readonly hostname: string;
  /** For plex.direct names: their address is in the name, no DNS needed. */
  private readonly lookup: typeof plexDirectLookup | undefined;
  private readonly port: string;
  private readonly pathPrefix: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly maxResponseBytes: number;
  /** Requests on the wire, for destroyAll(). */
  private readonly open = new LinkedList<http.ClientRequest>();

  constructor(resolved: ResolvedClientOptions) {
    const url = new URL(resolved.baseUrl);
    const secure = url.protocol === 'https:';
    this.secure = secure;
    this.request = secure ? https.request : http.request;
    // A bounded pool: a burst of messages queues here instead of opening a socket each. Its
    // options are copied into every request's options (one dictionary per request): only what
    // a request needs is in them. maxFreeSockets would be no bound below maxSockets, and the
    // keep-alive delay is read from the agent itself.
    const pool = { keepAlive: true, maxSockets: resolved.maxSockets };
    const agent = secure
      ? new https.Agent({ ...pool, ...resolved.tlsOptions })
      : new http.Agent(pool);
    (agent as http.Agent & { keepAliveMsecs: number }).keepAliveMsecs = TCP_KEEP_ALIVE_MS;
    this.agent = agent;
    // URL keeps IPv6 literals in brackets; a socket wants the bare address.
    const { hostname, port } = socketAddressOf(url);
    this.hostname = hostname;
    this.lookup = plexDirectAddress(hostname) ? plexDirectLookup : undefined;
    this.port = port;
    this.pathPrefix = url.pathname === '/' ? '' : url.pathname;
    this.headers = resolved.headers;
    this.maxResponseBytes = resolved.maxResponseBytes;
  }

  /**
   * Sends one request. Rejects with a RequestFailure holding Node's own error (mapped to a
   * ButlerError by the client), the `failure` given to cancel(), or a ButlerError for an
   * oversized answer, or AttemptTimedOut. `timeoutMs` runs from the moment the request has a socket
   * (a request waiting for a free one in the pool is not timed) to the last byte of the answer.
   * `onRequest`, when given, receives a cancel function, valid until the promise settles.
   */
  send(
    method: string,
    path: string,
    timeoutMs: number,
    onRequest?: (cancel: (failure: unknown) => void) => void,
  ): Promise<TransportResponse> {
    const secure = this.secure;
    return new Promise((resolve, reject) => {
      const maxBytes = this.maxResponseBytes;
      const req = this.request({
        host: this.hostname,
        port: this.port,
        method,
        path: this.pathPrefix + path,
        headers: this.headers,
        agent: this.agent,
        ...(this.lookup ? { lookup: this.lookup as never } : {}),
      });
      const open = this.open.add(req);
      let settled = false;
      let connected = false;
      let timer: NodeJS.Timeout | undefined;
      // `on`, not `once`: a request gets one socket, and `once` would cost a wrapper and a
      // listener removal per request.
      req.on('socket', (socket) => {
        if (!settled) timer = setTimeout(() => req.destroy(new AttemptTimedOut()), timeoutMs);
        // A pooled socket is connected already (also one handed to a queued request, which
        // reusedSocket does not mark); a new one says so when it is. A listener on a connected
        // socket would never fire and stay for the socket's life.
        if (req.reusedSocket || !socket.connecting) {
          connected = true;
        } else {
          socket.once(secure ? 'secureConnect' : 'connect', () => {
            connected = true;
          });
        }
      });
      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        open.remove();
        reject(new RequestFailure(error, connected));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const headers = answerHeaders(res.rawHeaders);
        if (Number(headers.contentLength) > maxBytes) {
          req.destroy(tooLarge());
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(tooLarge());
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          open.remove();
          resolve({
            status: res.statusCode ?? 0,
            body:
              chunks.length === 1
                ? chunks[0].toString()
                : chunks.length === 0
                  ? ''
                  : Buffer.concat(chunks).toString(),
            contentType: headers.contentType,
            retryAfter: headers.retryAfter,
          });
        });
      });
      onRequest?.((failure) => req.destroy(failure as Error));
      req.end();
    });
  }

  /** Ends every request on the wire with `failure`, and closes the pooled sockets. */
  destroyAll(failure: Error): void {
    this.open.drain((req) => req.destroy(failure));
    this.agent.destroy();
  }
}

interface AnswerHeaders {
  contentLength: string | undefined;
  contentType: string | undefined;
  retryAfter: string | undefined;
}

/**
 * The three headers the client reads, from the raw list: the first of each, as `res.headers`
 * keeps them, without building `res.headers` (all the answer's headers, for every answer).
 */
function answerHeaders(raw: readonly string[]): AnswerHeaders {
  const found: AnswerHeaders = {
    contentLength: undefined,
    contentType: undefined,
    retryAfter: undefined,
  };
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    switch (name.length) {
      case 14:
        if (found.contentLength === undefined && name.toLowerCase() === 'content-length') {
          found.contentLength = raw[i + 1];
        }
        break;
      case 12:
        if (found.contentType === undefined && name.toLowerCase() === 'content-type') {
          found.contentType = raw[i + 1];
        }
        break;
      case 11:
        if (found.retryAfter === undefined && name.toLowerCase() === 'retry-after') {
          found.retryAfter = raw[i + 1];
        }
        break;
      default:
        break;
    }
  }
  return found;
}

function tooLarge(): ButlerError {
  return new ButlerError('bad-response', message('errors.tooLarge'));
}
