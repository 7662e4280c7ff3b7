/**
 * A prototype, for measuring only: the slice of axios the client uses (one request, the answer
 * as text, a size limit, an abort signal), on plain node:http. Shaped like axios's `request`
 * so that the client copy can swap it in. Errors carry the codes the client already maps:
 * Node's own (ECONNREFUSED, ECONNRESET…), ERR_BAD_RESPONSE with "maxContentLength" for a too
 * large answer, and "aborted" for a cut one.
 *
 * Not wire-identical to axios: it sends no `User-Agent: axios/…` and no `Accept-Encoding`
 * (so a proxy never compresses and nothing needs decompressing).
 */
import http from 'node:http';
import https from 'node:https';
import type { AxiosResponse } from 'axios';

export interface NodeHttpTransportOptions {
  baseUrl: string;
  headers: Record<string, string>;
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
  maxContentLength: number;
}

interface RequestConfig {
  method: string;
  url: string;
  signal: AbortSignal;
}

class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function nodeHttpTransport(options: NodeHttpTransportOptions): {
  request<T>(config: RequestConfig): Promise<AxiosResponse<T>>;
} {
  const base = new URL(options.baseUrl);
  const secure = base.protocol === 'https:';
  const transport = secure ? https : http;
  const agent = secure ? options.httpsAgent : options.httpAgent;
  const hostname = base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname;
  const port = base.port;
  const prefix = base.pathname === '/' ? '' : base.pathname;
  const headers = options.headers;
  const limit = options.maxContentLength;
  return {
    request<T>(config: RequestConfig): Promise<AxiosResponse<T>> {
      return new Promise((resolve, reject) => {
        const { signal } = config;
        let settled = false;
        const finish = (error: unknown, response?: AxiosResponse<T>): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          if (response) resolve(response);
          else reject(error);
        };
        const req = transport.request(
          { hostname, port, method: config.method, path: prefix + config.url, headers, agent },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (limit > -1 && size > limit) {
                res.destroy();
                finish(
                  new TransportError(
                    `maxContentLength size of ${limit} exceeded`,
                    'ERR_BAD_RESPONSE',
                  ),
                );
                return;
              }
              chunks.push(chunk);
            });
            res.on('aborted', () =>
              finish(new TransportError('stream has been aborted', 'ECONNRESET')),
            );
            res.on('error', (error) => finish(error));
            res.on('end', () => {
              const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
              finish(undefined, {
                status: res.statusCode ?? 0,
                statusText: res.statusMessage ?? '',
                headers: res.headers,
                data: body.toString('utf8') as T,
                config: {} as never,
              });
            });
          },
        );
        function onAbort(): void {
          req.destroy();
          finish(signal.reason);
        }
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('error', (error) => finish(error));
        req.end();
      });
    },
  };
}
