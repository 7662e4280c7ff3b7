/**
 * CPU profile of one request path in steady state (after a warm-up, so module loading and JIT
 * are not in it), against the simulator in its own process:
 *
 *   node --expose-gc --import tsx bench/profile.ts <path> [concurrency] [seconds]
 *
 * <path>: bare | bare-bounded (bare, held to the client's socket bound) | lib | node
 * (plex-butler-start in Node-RED). (An `adapter` path profiled
 * axios's http adapter alone while the client used axios: 0.61 and 0.41 of bare at c=1 and 32.)
 * Writes bench/profile-<path>-c<concurrency>.cpuprofile (open it in Chrome DevTools or
 * speedscope) and prints self time by area and function, and inclusive time by function.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { ButlerClient, LIMITS } from '../lib';
import { bareClient } from './bare';
import { runLoad } from './load';
import { deploy, Injector, taskActionNode, undeploy } from './node-red';
import { BENCH_DIR } from './paths';
import { printSummary, summarise } from './profile-summary';
import { startSimulatorProcess } from './sim-control';

const TASK = 'BackupDatabase';
const PATHS = ['bare', 'bare-bounded', 'lib', 'node'];

async function main(): Promise<void> {
  const which = process.argv[2] ?? '';
  if (!PATHS.includes(which)) {
    console.error(`usage: bench/profile.ts <${PATHS.join('|')}> [concurrency] [seconds]`);
    process.exit(2);
  }
  const concurrency = Number(process.argv[3] ?? 32);
  const seconds = Number(process.argv[4] ?? 4);
  const sim = await startSimulatorProcess();
  const options = {
    url: sim.url,
    token: sim.token,
    clientIdentifier: 'bench-profile',
    timeoutMs: 10_000,
    retry: { retries: 2 },
    deviceName: 'Node-RED',
  };
  let operation: () => Promise<unknown>;
  let close: () => Promise<void> | void;
  switch (which) {
    case 'bare': {
      const bare = bareClient(sim.url, sim.token);
      operation = () => bare.request('POST', `/butler/${TASK}`);
      close = () => bare.close();
      break;
    }
    case 'bare-bounded': {
      const bare = bareClient(sim.url, sim.token, LIMITS.maxSockets.default);
      operation = () => bare.request('POST', `/butler/${TASK}`);
      close = () => bare.close();
      break;
    }
    case 'lib': {
      const client = new ButlerClient(options);
      operation = () => client.startTask(TASK);
      close = () => client.close();
      break;
    }
    default: {
      await deploy({ url: sim.url, token: sim.token }, [
        taskActionNode('start', 'plex-butler-start', TASK),
        { id: 'out', type: 'helper' },
      ]);
      const injector = new Injector('start', ['out']);
      operation = () => injector.send();
      close = () => undeploy();
    }
  }
  await runLoad(operation, { concurrency, durationMs: 2500 });
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const cpuBefore = process.cpuUsage();
  const result = await runLoad(operation, { concurrency, durationMs: seconds * 1000 });
  const cpu = process.cpuUsage(cpuBefore);
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  await close();
  await sim.stop();
  const file = path.join(BENCH_DIR, `profile-${which}-c${concurrency}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  console.log(
    `${which} at concurrency ${concurrency}: ${Math.round(result.perSecond)} req/s, ${((cpu.user + cpu.system) / result.operations).toFixed(0)} µs CPU per request (profiler on), ${result.errors} errors`,
  );
  printSummary(summarise(profile as never, 40));
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
