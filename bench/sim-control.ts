/** Starts bench/sim-process.ts as a child process and talks to it over IPC. */
import { fork, type ChildProcess } from 'node:child_process';
import { CHILD_EXEC_ARGV, REPOSITORY, scriptFile } from './paths';
import type { SimCommand, SimReply, SimStats } from './sim-process';

type Pending = (reply: SimReply) => void;
type Command = SimCommand extends infer C ? (C extends SimCommand ? Omit<C, 'id'> : never) : never;

export interface SimulatorProcess {
  url: string;
  token: string;
  pid: number;
  stats(): Promise<SimStats>;
  reset(): Promise<void>;
  setLatency(ms: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulatorProcess(
  options: { token?: string; latencyMs?: number; taskDurationMs?: number } = {},
): Promise<SimulatorProcess> {
  const token = options.token ?? 'bench-token';
  const child: ChildProcess = fork(
    scriptFile('sim-process'),
    [
      ...['--token', token],
      ...['--latency', String(options.latencyMs ?? 0)],
      ...['--task-duration', String(options.taskDurationMs ?? 3_600_000)],
    ],
    {
      execArgv: CHILD_EXEC_ARGV,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      cwd: REPOSITORY,
    },
  );
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const url = await new Promise<string>((resolve, reject) => {
    const onExit = (code: number | null): void =>
      reject(new Error(`the simulator process exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.on('message', (message: { ready?: string } | SimReply) => {
      if ('ready' in message && message.ready) {
        child.off('exit', onExit);
        resolve(message.ready);
        return;
      }
      const reply = message as SimReply;
      pending.get(reply.id)?.(reply);
      pending.delete(reply.id);
    });
  });
  const call = (command: Command): Promise<SimReply> =>
    new Promise((resolve, reject) => {
      if (!child.connected) {
        reject(new Error('the simulator process is gone'));
        return;
      }
      const id = nextId++;
      pending.set(id, (reply) => (reply.ok ? resolve(reply) : reject(new Error(reply.error))));
      child.send({ ...command, id });
    });
  return {
    url,
    token,
    pid: child.pid ?? 0,
    async stats() {
      const reply = await call({ cmd: 'stats' });
      if (!reply.ok || !reply.stats) throw new Error('no stats from the simulator');
      return reply.stats;
    },
    async reset() {
      await call({ cmd: 'reset' });
    },
    async setLatency(ms: number) {
      await call({ cmd: 'latency', ms });
    },
    async stop() {
      const exited = new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve();
        else child.once('exit', () => resolve());
      });
      try {
        await call({ cmd: 'stop' });
      } catch {
        // Gone already.
      }
      await exited;
    },
  };
}
