/**
 * Do two clients put the same bytes on the wire? Captures the raw request heads that
 * lib/client.ts and the tuned copy (bench/tuning/proposed.ts) send for every call the library
 * makes, and compares them line by line.
 *
 *   node --import tsx bench/tuning/wire-check.ts
 */
import net from 'node:net';
import { ButlerClient } from '../../lib';
import { ButlerClient as TunedClient } from './client-copy';
import { PROPOSED } from './proposed';

const TASKS = JSON.stringify({
  ButlerTasks: {
    ButlerTask: [
      {
        name: 'BackupDatabase',
        interval: 3,
        scheduleRandomized: false,
        enabled: true,
        title: 'Backup Database',
      },
    ],
  },
});
const IDENTITY = JSON.stringify({
  MediaContainer: {
    size: 0,
    claimed: true,
    machineIdentifier: 'abc',
    version: '1.41.3.9314-a0bfb8370',
  },
});

function captureServer(): Promise<{ url: string; heads: string[]; close(): void }> {
  const heads: string[] = [];
  const server = net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        heads.push(head);
        const requestLine = head.split('\r\n')[0];
        const body = requestLine.startsWith('GET /butler ')
          ? TASKS
          : requestLine.startsWith('GET /identity ')
            ? IDENTITY
            : requestLine.startsWith('GET /activities ')
              ? '{"MediaContainer":{"size":0}}'
              : '';
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
        );
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({ url: `http://127.0.0.1:${address.port}`, heads, close: () => server.close() });
    });
  });
}

type Client = Pick<
  ButlerClient,
  | 'listTasks'
  | 'listActivities'
  | 'getIdentity'
  | 'startTask'
  | 'stopTask'
  | 'startAllTasks'
  | 'stopAllTasks'
  | 'close'
>;

async function exercise(make: (url: string) => Client): Promise<string[]> {
  const server = await captureServer();
  const client = make(server.url);
  await client.getIdentity();
  await client.listTasks();
  await client.listActivities();
  await client.startTask('BackupDatabase');
  await client.stopTask('BackupDatabase');
  await client.startAllTasks();
  await client.stopAllTasks();
  client.close();
  server.close();
  // The port differs between the two servers; nothing else may.
  return server.heads.map((head) => head.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:PORT'));
}

async function main(): Promise<void> {
  const options = (url: string) => ({ url, token: 'wire-token', clientIdentifier: 'wire-check' });
  const lib = await exercise((url) => new ButlerClient(options(url)));
  const tuned = await exercise((url) => new TunedClient(options(url), PROPOSED));
  let same = lib.length === tuned.length;
  for (let i = 0; i < Math.max(lib.length, tuned.length); i++) {
    if (lib[i] !== tuned[i]) {
      same = false;
      console.log(`request ${i + 1} differs:\n--- lib\n${lib[i]}\n--- tuned\n${tuned[i]}\n`);
    }
  }
  console.log(lib.join('\n\n'));
  console.log(
    same
      ? `\n${lib.length} requests, byte-identical heads (lib/client.ts vs the proposed tuning)`
      : '\nDIFFERENT',
  );
  process.exitCode = same ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
