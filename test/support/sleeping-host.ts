/**
 * A host that takes no connections, like a server that sleeps: a port on loopback whose
 * listener never accepts, with its accept queue full, so the kernel drops every further SYN
 * and a connect neither succeeds nor fails. Real sockets, no packet leaves the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';

// The child listens, reports its port, then blocks its own event loop: it never accepts.
const LISTENER = `
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.send(server.address().port);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000);
});
`;

export interface SleepingHost {
  url: string;
  stop(): Promise<void>;
}

export async function startSleepingHost(): Promise<SleepingHost> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTENER], {
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve(Number(message)));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the listener exited (${code})`)));
  });
  // Fill the accept queue (backlog 1: two fit; 0 would mean Node's default of 511): later connects hang in SYN_SENT.
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    fillers.push(socket);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    async stop(): Promise<void> {
      for (const socket of fillers) socket.destroy();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
