import http from 'node:http';
import https from 'node:https';
import { ButlerError } from './errors';
import { message } from './messages';
import { plexDirectAddress, plexDirectLookup } from './plexdirect';
import type { ResolvedSettings } from './settings';

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

/**
 * Keep-alive probes on idle pooled sockets, as before; the same delay every time a socket goes
 * back to the pool, so Node's setsockopt calls find nothing to change.
 */
const TCP_KEEP_ALIVE_MS = 60_000;

/**
 * One request, one answer, on a keep-alive pool: node:http with nothing in between. The bench
 * showed why: axios's http adapter alone, without any of our code, reached 0.61 (one request at
 * a time) and 0.41 (32 at once) of bare node:http requests per second; the client's target is
 * 0.6 of it. Nothing here follows redirects, reads an environment proxy or decompresses: a Plex
 * server on the LAN needs none of it, and a redirect is reported, not followed.
 */
/** The host and port a URL connects to: IPv6 without URL's brackets, the scheme's default port. */
export function socketAddressOf(url: URL): { hostname: string; port: string } {
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (url.protocol === 'https:' ? '443' : '80'),
  };
}

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
  private readonly open = new Set<http.ClientRequest>();

  constructor(settings: ResolvedSettings) {
    const url = new URL(settings.baseUrl);
    const secure = url.protocol === 'https:';
    this.secure = secure;
    this.request = secure ? https.request : http.request;
    // A bounded pool: a burst of messages queues here instead of opening a socket each.
    const pool = {
      keepAlive: true,
      keepAliveMsecs: TCP_KEEP_ALIVE_MS,
      maxSockets: settings.maxSockets,
      maxFreeSockets: settings.maxSockets,
    };
    this.agent = secure
      ? new https.Agent({ ...pool, ...settings.tlsOptions })
      : new http.Agent(pool);
    // URL keeps IPv6 literals in brackets; a socket wants the bare address.
    const { hostname, port } = socketAddressOf(url);
    this.hostname = hostname;
    this.lookup = plexDirectAddress(hostname) ? plexDirectLookup : undefined;
    this.port = port;
    this.pathPrefix = url.pathname === '/' ? '' : url.pathname;
    this.headers = settings.headers;
    this.maxResponseBytes = settings.maxResponseBytes;
  }

  /**
   * Sends one request. Rejects with a RequestFailure holding Node's own error (mapped to a
   * ButlerError by the client), the `failure` given to cancel(), or a ButlerError for an
   * oversized answer, or AttemptTimedOut. `timeoutMs` runs from the moment the request has a socket
   * (a request waiting for a free one in the pool is not timed) to the last byte of the answer.
   * `onRequest` receives a cancel function, valid until the promise settles.
   */
  send(
    method: string,
    path: string,
    timeoutMs: number,
    onRequest: (cancel: (failure: unknown) => void) => void,
  ): Promise<TransportResponse> {
    const secure = this.secure;
    return new Promise((resolve, reject) => {
      const maxBytes = this.maxResponseBytes;
      const req = this.request({
        hostname: this.hostname,
        port: this.port,
        method,
        path: this.pathPrefix + path,
        headers: this.headers,
        agent: this.agent,
        ...(this.lookup ? { lookup: this.lookup as never } : {}),
      });
      const open = this.open;
      open.add(req);
      let settled = false;
      let connected = false;
      let timer: NodeJS.Timeout | undefined;
      req.once('socket', (socket) => {
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
        open.delete(req);
        reject(new RequestFailure(error, connected));
      };
      req.on('error', fail);
      req.on('response', (res) => {
        const declared = Number(res.headers['content-length']);
        if (declared > maxBytes) {
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
          open.delete(req);
          const contentType = res.headers['content-type'];
          const retryAfter = res.headers['retry-after'];
          resolve({
            status: res.statusCode ?? 0,
            body:
              chunks.length === 1
                ? chunks[0].toString()
                : chunks.length === 0
                  ? ''
                  : Buffer.concat(chunks).toString(),
            contentType,
            retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          });
        });
      });
      onRequest((failure) => req.destroy(failure as Error));
      req.end();
    });
  }

  /** Ends every request on the wire with `failure`, and closes the pooled sockets. */
  destroyAll(failure: Error): void {
    for (const req of this.open) req.destroy(failure);
    this.open.clear();
    this.agent.destroy();
  }
}

function tooLarge(): ButlerError {
  return new ButlerError('bad-response', message('errors.tooLarge'));
}
