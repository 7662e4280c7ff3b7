/**
 * The Plex simulator in a process of its own, for the benchmarks: its CPU must not be counted as
 * ours. Started by bench/sim-control.ts with an IPC channel, which the simulator CLI does not
 * have: the benchmark needs the simulator's own counters (requests, TCP connections) and to
 * change its latency between phases. It keeps no exchange log (maxExchanges 0): a benchmark sends
 * millions of requests.
 */
import { PlexSimulator } from '../simulator';

export type SimCommand =
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'latency'; ms: number }
  | { id: number; cmd: 'stop' };

export interface SimStats {
  requests: number;
  connections: number;
  openConnections: number;
  requestsByRoute: Record<string, number>;
}

export type SimReply =
  { id: number; ok: true; stats?: SimStats } | { id: number; ok: false; error: string };

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/sim-process.ts must be started with an IPC channel');
  const sim = new PlexSimulator({
    token: argument('token', 'bench-token'),
    latencyMs: Number(argument('latency', '0')),
    taskDurationMs: Number(argument('task-duration', '3600000')),
    maxExchanges: 0,
  });
  const url = await sim.start();
  const send = (message: unknown): void => {
    process.send?.(message);
  };
  const snapshot = (): SimStats => ({
    requests: sim.stats.requests,
    connections: sim.stats.connections,
    openConnections: sim.stats.openConnections,
    requestsByRoute: { ...sim.stats.requestsByRoute },
  });
  process.on('message', (message: SimCommand) => {
    try {
      switch (message.cmd) {
        case 'stats':
          send({ id: message.id, ok: true, stats: snapshot() } satisfies SimReply);
          return;
        case 'reset':
          sim.resetStats();
          send({ id: message.id, ok: true } satisfies SimReply);
          return;
        case 'latency':
          sim.setLatency(message.ms);
          send({ id: message.id, ok: true } satisfies SimReply);
          return;
        case 'stop':
          void sim.stop().then(() => {
            send({ id: message.id, ok: true } satisfies SimReply);
            process.disconnect();
          });
          return;
      }
    } catch (error) {
      send({ id: message.id, ok: false, error: String(error) } satisfies SimReply);
    }
  });
  // The parent going away (crash, Ctrl-C) must not leave a simulator behind.
  process.on('disconnect', () => {
    void sim.stop().finally(() => process.exit(0));
  });
  send({ ready: url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
