/**
 * The floor: one keep-alive node:http Agent and plain http.request, the same request our client
 * sends (method, path, the Plex headers), the body read to the end as text. No timeout, no
 * abort signal, no error mapping: everything the client adds on top is what it costs.
 */
import http from 'node:http';

export interface BareClient {
  request(method: string, path: string): Promise<{ status: number; body: string }>;
  close(): void;
}

export function plexHeaders(token: string): Record<string, string> {
  return {
    Accept: 'application/json',
    'X-Plex-Token': token,
    'X-Plex-Client-Identifier': 'bench-client',
    'X-Plex-Product': 'node-red-plex-butler',
    'X-Plex-Version': '0.1.0',
    'X-Plex-Platform': 'Node.js',
    'X-Plex-Platform-Version': process.versions.node,
    'X-Plex-Device': 'Node-RED',
    'X-Plex-Device-Name': 'Node-RED Plex Butler',
  };
}

/**
 * `maxSockets`: the same bound as the client's pool, so that queueing for a socket is in the
 * floor too; without it, one socket per caller.
 */
export function bareClient(baseUrl: string, token: string, maxSockets?: number): BareClient {
  const url = new URL(baseUrl);
  const agent = new http.Agent(
    maxSockets === undefined ? { keepAlive: true } : { keepAlive: true, maxSockets },
  );
  const headers = plexHeaders(token);
  const prefix = url.pathname.replace(/\/+$/, '');
  return {
    request(method, path) {
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            method,
            path: prefix + path,
            headers,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                body: chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString(),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    close() {
      agent.destroy();
    },
  };
}
