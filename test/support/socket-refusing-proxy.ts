import http from 'node:http';
import type { Socket } from 'node:net';

export interface SocketRefusingProxy {
  /** The proxy's base URL: the target's path prefix included. */
  url: string;
  /** Handshakes it has refused. */
  refused: number;
  stop(): Promise<void>;
}

/**
 * A reverse proxy on 127.0.0.1 that passes HTTP requests on to `target` as they are (the token
 * header included) and answers every WebSocket handshake with `status` itself: a proxy whose
 * rules let the API through but not the notification socket.
 */
export async function startSocketRefusingProxy(
  target: string,
  status: number,
): Promise<SocketRefusingProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const forwarded = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  const proxy: SocketRefusingProxy = {
    url: '',
    refused: 0,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (_req: http.IncomingMessage, socket: Socket) => {
    proxy.refused += 1;
    const body = `<html><body><h1>${status} ${http.STATUS_CODES[status] ?? ''}</h1></body></html>`;
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/html\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  proxy.url = `http://127.0.0.1:${address.port}${upstream.pathname === '/' ? '' : upstream.pathname}`;
  return proxy;
}
