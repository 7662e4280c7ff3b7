/**
 * npm run bench: what our nodes cost on top of a Plex round trip, measured against the floor in
 * one run, as ratios. The simulator runs in a child process, so its CPU is not counted as ours.
 * Prints a table and writes bench/results.json; PASS/MISS per target, exit code 0 either way.
 *
 *   npm run bench [-- --markdown] [-- --quick] [-- --only overhead,burst,…]
 *   node --expose-gc --import tsx bench/run.ts …   (from the sources: see bench/paths.ts)
 *
 * --markdown also prints the tables as Markdown (the README's Performance section); --quick
 * shortens every phase (to try the harness, not for figures); --only runs some phases:
 * overhead, burst, connections, sockets, memory, redeploys, slow, viewers, journal. Quick and
 * partial runs write bench/results-partial.json.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { ButlerClient, LIMITS } from '../lib';
import { bareClient } from './bare';
import {
  median,
  mergeLoads,
  percentile,
  runLoad,
  settledHeap,
  sleep,
  type LoadResult,
} from './load';
import {
  deploy,
  Injector,
  MINIMAL_START,
  nodeRedVersion,
  runtimeEvents,
  taskActionNode,
  undeploy,
  type FlowNode,
} from './node-red';
import { writeJson } from './output';
import { BENCH_DIR, FROM_SOURCES } from './paths';
import { startSimulatorProcess, type SimulatorProcess } from './sim-control';
import { viewers } from './viewers';
import { mkdtemp, rm } from 'node:fs/promises';
import { openJournal } from '../lib/journal';

const QUICK = process.argv.includes('--quick');
const onlyIndex = process.argv.indexOf('--only');
/** --only overhead,burst,connections,sockets,memory,redeploys,slow,viewers: run some phases. */
const ONLY = onlyIndex > 0 ? new Set(process.argv[onlyIndex + 1].split(',')) : undefined;
const phase = (name: string): boolean => {
  const run = !ONLY || ONLY.has(name);
  if (run) log(name);
  return run;
};
const MARKDOWN = process.argv.includes('--markdown');
/** Partial runs do not overwrite the figures of a full run. */
// Quick or partial figures never replace a full run's.
const RESULTS_FILE = path.join(BENCH_DIR, ONLY || QUICK ? 'results-partial.json' : 'results.json');
const TASK = 'BackupDatabase';
const START_PATH = `/butler/${TASK}`;

const SETTINGS = {
  rounds: QUICK ? 2 : 5,
  roundMs: QUICK ? 300 : 1000,
  /** Each round is run in slices of this length, the variants taking turns. */
  sliceMs: QUICK ? 100 : 200,
  warmupMs: QUICK ? 300 : 1500,
  concurrencies: [1, 32],
  burstMessages: 1000,
  bursts: QUICK ? 2 : 5,
  sequentialStarts: QUICK ? 1000 : 10_000,
  concurrentStarts: 1000,
  socketRounds: QUICK ? 2 : 7,
  memoryMessages: QUICK ? 10_000 : 100_000,
  memoryWarmup: QUICK ? 2_000 : 10_000,
  memoryConcurrency: 32,
  redeploys: QUICK ? 20 : 200,
  slowLatencyMs: 200,
  slowMessages: 100,
  slowBursts: QUICK ? 2 : 5,
  /** Who is watching: rounds of "the last one stops", and how much faster the night runs. */
  viewerStopRounds: QUICK ? 5 : 20,
  viewerSpeedUp: QUICK ? 720 : 120,
};

/** Same client options as the server config node gives its client (nodes/server/client-options.ts). */
const TIMEOUT_MS = 10_000;
const RETRIES = 2;

interface Verdict {
  id: string;
  what: string;
  figure: string;
  target: string;
  pass: boolean;
}

const verdicts: Verdict[] = [];
function judge(id: string, what: string, figure: string, target: string, pass: boolean): void {
  verdicts.push({ id, what, figure, target, pass });
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const ms = (value: number): string => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const us = (valueMs: number): string => `${Math.round(valueMs * 1000)} µs`;
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(2)} MB`;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function startFlow(): FlowNode[] {
  return [taskActionNode('start', 'plex-butler-start', TASK), { id: 'out', type: 'helper' }];
}

// ---- 1. overhead ------------------------------------------------------------------------------

/**
 * bare: one socket per caller, the floor of earlier runs. bounded: the same loop held to the
 * client's socket bound (LIMITS.maxSockets), so that waiting for a socket is in the floor too:
 * at concurrency 32 the client is compared with it.
 */
type Variant = 'bare' | 'bounded' | 'client' | 'hop' | 'node';
const VARIANTS: Variant[] = ['bare', 'bounded', 'client', 'hop', 'node'];
const LABELS: Record<Variant, string> = {
  bare: 'bare node:http',
  bounded: `bare node:http, ${LIMITS.maxSockets.default} sockets`,
  client: 'ButlerClient',
  hop: 'minimal node (runtime only)',
  node: 'plex-butler-start',
};

interface RunFigures {
  perSecond: number;
  cpuUsPerMessage: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function figuresOf(result: LoadResult, cpu: NodeJS.CpuUsage): RunFigures {
  return {
    perSecond: round1(result.perSecond),
    cpuUsPerMessage: round1((cpu.user + cpu.system) / Math.max(1, result.operations)),
    p50Ms: round3(percentile(result.latencies, 50)),
    p99Ms: round3(percentile(result.latencies, 99)),
    errors: result.errors,
  };
}

async function overhead(sim: SimulatorProcess) {
  await deploy({ url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES }, [
    ...startFlow(),
    { id: 'minimal', type: MINIMAL_START, server: 'server', task: TASK, wires: [['out']] },
  ]);
  const injector = new Injector('start', ['out']);
  const minimal = new Injector('minimal', ['out']);
  const client = new ButlerClient({
    url: sim.url,
    token: sim.token,
    clientIdentifier: 'bench-direct',
    timeoutMs: TIMEOUT_MS,
    retry: { retries: RETRIES },
    deviceName: 'Node-RED',
  });
  const bare = bareClient(sim.url, sim.token);
  const bounded = bareClient(sim.url, sim.token, LIMITS.maxSockets.default);
  const operations: Record<Variant, () => Promise<unknown>> = {
    bare: () => bare.request('POST', START_PATH),
    bounded: () => bounded.request('POST', START_PATH),
    client: () => client.startTask(TASK),
    hop: () => minimal.send(),
    node: () => injector.send(),
  };
  const byConcurrency: Record<string, unknown> = {};
  try {
    for (const concurrency of SETTINGS.concurrencies) {
      log(`  concurrency ${concurrency}`);
      for (const variant of VARIANTS) {
        await runLoad(operations[variant], { concurrency, durationMs: SETTINGS.warmupMs });
      }
      const rounds: Record<Variant, RunFigures>[] = [];
      const latencies: Record<Variant, number[]> = {
        bare: [],
        bounded: [],
        client: [],
        hop: [],
        node: [],
      };
      for (let round = 0; round < SETTINGS.rounds; round++) {
        // Each variant's share of a round runs in slices, taking turns with the others in an
        // order that shifts every slice: a burst of load from elsewhere on a shared machine
        // then falls on every variant alike instead of on one variant's whole round (rounds of
        // one piece each gave per-round ratios from 0.4 to 1.7 on 2 shared cores).
        const slices = Math.max(1, Math.round(SETTINGS.roundMs / SETTINGS.sliceMs));
        const parts = {} as Record<Variant, LoadResult[]>;
        const cpu = {} as Record<Variant, number>;
        for (const variant of VARIANTS) {
          parts[variant] = [];
          cpu[variant] = 0;
        }
        globalThis.gc?.();
        for (let slice = 0; slice < slices; slice++) {
          const turn = round * slices + slice;
          const order = VARIANTS.map((_, i) => VARIANTS[(i + turn) % VARIANTS.length]);
          for (const variant of order) {
            const cpuBefore = process.cpuUsage();
            parts[variant].push(
              await runLoad(operations[variant], { concurrency, durationMs: SETTINGS.sliceMs }),
            );
            const used = process.cpuUsage(cpuBefore);
            cpu[variant] += used.user + used.system;
          }
        }
        const figures = {} as Record<Variant, RunFigures>;
        for (const variant of VARIANTS) {
          const result = mergeLoads(parts[variant]);
          figures[variant] = figuresOf(result, { user: cpu[variant], system: 0 });
          for (const value of result.latencies) latencies[variant].push(value);
        }
        rounds.push(figures);
        log(
          `  round ${round + 1}: ${VARIANTS.map((v) => `${v} ${Math.round(figures[v].perSecond)}/s`).join(', ')}`,
        );
      }
      const medianOf = (variant: Variant, key: keyof RunFigures): number =>
        median(rounds.map((figures) => figures[variant][key]));
      const ratioPerRound = (a: Variant, b: Variant): number[] =>
        rounds.map((figures) => figures[a].perSecond / figures[b].perSecond);
      const variants = Object.fromEntries(
        VARIANTS.map((variant) => [
          variant,
          {
            perSecond: medianOf(variant, 'perSecond'),
            cpuUsPerMessage: medianOf(variant, 'cpuUsPerMessage'),
            p50Ms: round3(percentile(latencies[variant], 50)),
            p99Ms: round3(percentile(latencies[variant], 99)),
            errors: rounds.reduce((sum, figures) => sum + figures[variant].errors, 0),
          },
        ]),
      ) as Record<Variant, RunFigures>;
      const added = (a: Variant, b: Variant) => ({
        p50Ms: round3(variants[a].p50Ms - variants[b].p50Ms),
        p99Ms: round3(variants[a].p99Ms - variants[b].p99Ms),
        cpuUsPerMessage: round1(variants[a].cpuUsPerMessage - variants[b].cpuUsPerMessage),
      });
      const ratios = {
        nodeToClient: round3(median(ratioPerRound('node', 'client'))),
        clientToBare: round3(median(ratioPerRound('client', 'bare'))),
        clientToBounded: round3(median(ratioPerRound('client', 'bounded'))),
        boundedToBare: round3(median(ratioPerRound('bounded', 'bare'))),
        nodeToBare: round3(median(ratioPerRound('node', 'bare'))),
        hopToClient: round3(median(ratioPerRound('hop', 'client'))),
        nodeToHop: round3(median(ratioPerRound('node', 'hop'))),
        perRound: {
          nodeToClient: ratioPerRound('node', 'client').map(round3),
          clientToBare: ratioPerRound('client', 'bare').map(round3),
          clientToBounded: ratioPerRound('client', 'bounded').map(round3),
        },
      };
      byConcurrency[concurrency] = {
        variants,
        ratios,
        addedLatency: {
          nodeOverClient: added('node', 'client'),
          clientOverBare: added('client', 'bare'),
          clientOverBounded: added('client', 'bounded'),
          nodeOverBare: added('node', 'bare'),
          hopOverClient: added('hop', 'client'),
          nodeOverHop: added('node', 'hop'),
        },
        rounds,
      };
      judge(
        `overhead.node-vs-client.c${concurrency}`,
        `node path / direct client, msg/s, concurrency ${concurrency}`,
        ratios.nodeToClient.toFixed(2),
        '≥ 0.90',
        ratios.nodeToClient >= 0.9 && variants.node.errors === 0,
      );
      judge(
        `overhead.client-vs-bare.c${concurrency}`,
        `direct client / bare node:http, req/s, concurrency ${concurrency}`,
        ratios.clientToBare.toFixed(2),
        '≥ 0.60',
        ratios.clientToBare >= 0.6 && variants.client.errors === 0,
      );
      // Where callers outnumber the sockets: against a floor that waits for them too.
      if (concurrency > LIMITS.maxSockets.default) {
        judge(
          `overhead.client-vs-bounded.c${concurrency}`,
          `direct client / bare node:http on ${LIMITS.maxSockets.default} sockets, req/s, concurrency ${concurrency}`,
          ratios.clientToBounded.toFixed(2),
          '≥ 0.90',
          ratios.clientToBounded >= 0.9 && variants.client.errors === 0,
        );
      }
    }
  } finally {
    client.close();
    bare.close();
    bounded.close();
    await undeploy();
  }
  return byConcurrency;
}

// ---- 2. burst ---------------------------------------------------------------------------------

async function burst(sim: SimulatorProcess) {
  await deploy({ url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES }, [
    {
      id: 'tasks',
      type: 'plex-butler-tasks',
      server: 'server',
      enabledOnly: false,
      split: false,
      property: 'payload',
      wires: [['out']],
    },
    { id: 'out', type: 'helper' },
  ]);
  const injector = new Injector('tasks', ['out']);
  const bursts: Array<{
    requests: number;
    answered: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    wallMs: number;
  }> = [];
  const all: number[] = [];
  try {
    for (let i = 0; i < SETTINGS.bursts; i++) {
      await sim.reset();
      const latencies: number[] = [];
      let answered = 0;
      let errors = 0;
      const began = performance.now();
      await Promise.all(
        Array.from({ length: SETTINGS.burstMessages }, () => {
          const sent = performance.now();
          return injector.send().then(
            () => {
              answered++;
              latencies.push(performance.now() - sent);
            },
            () => {
              errors++;
            },
          );
        }),
      );
      const wallMs = performance.now() - began;
      const stats = await sim.stats();
      all.push(...latencies);
      bursts.push({
        requests: stats.requests,
        answered,
        errors,
        p50Ms: round3(percentile(latencies, 50)),
        p99Ms: round3(percentile(latencies, 99)),
        wallMs: round1(wallMs),
      });
    }
  } finally {
    await undeploy();
  }
  const maxRequests = Math.max(...bursts.map((b) => b.requests));
  const allAnswered = bursts.every((b) => b.answered === SETTINGS.burstMessages);
  const result = {
    messagesPerBurst: SETTINGS.burstMessages,
    bursts,
    maxRequestsPerBurst: maxRequests,
    allAnswered,
    p99Ms: round3(percentile(all, 99)),
    p50Ms: round3(percentile(all, 50)),
  };
  judge(
    'burst.requests',
    `${SETTINGS.burstMessages} messages at once into plex-butler-tasks: HTTP requests (worst of ${SETTINGS.bursts})`,
    String(maxRequests),
    '≤ 5',
    maxRequests <= 5,
  );
  judge(
    'burst.answered',
    `all ${SETTINGS.burstMessages} answered, every burst (p99 ${ms(result.p99Ms)})`,
    allAnswered ? 'yes' : 'no',
    'all',
    allAnswered,
  );
  return result;
}

// ---- 3. connections ---------------------------------------------------------------------------

async function connections(sim: SimulatorProcess) {
  await deploy(
    { url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES },
    startFlow(),
  );
  const injector = new Injector('start', ['out']);
  try {
    await sim.reset();
    const result = await runLoad(() => injector.send(), {
      concurrency: 1,
      operations: SETTINGS.sequentialStarts,
    });
    const stats = await sim.stats();
    const figures = {
      messages: result.operations,
      errors: result.errors,
      requests: stats.requests,
      connections: stats.connections,
      perSecond: round1(result.perSecond),
    };
    judge(
      'connections',
      `${SETTINGS.sequentialStarts} sequential start messages: TCP connections opened`,
      String(stats.connections),
      '≤ 2',
      stats.connections <= 2 && result.errors === 0,
    );
    return figures;
  } finally {
    await undeploy();
  }
}

// ---- 3b. a bounded pool -----------------------------------------------------------------------

/**
 * 1,000 starts at once through one client: with the bounded pool (the default) and with one
 * socket per request as before the bound, in alternating rounds. Fresh clients each round, so
 * every connection a round needs is opened in it.
 */
async function sockets(sim: SimulatorProcess) {
  const bound = LIMITS.maxSockets.default;
  const variants = { bounded: bound, unbounded: SETTINGS.concurrentStarts } as const;
  const figures: Record<keyof typeof variants, { perSecond: number[]; connections: number[] }> = {
    bounded: { perSecond: [], connections: [] },
    unbounded: { perSecond: [], connections: [] },
  };
  let errors = 0;
  for (let round = 0; round < SETTINGS.socketRounds; round++) {
    for (const variant of round % 2 === 0
      ? (['bounded', 'unbounded'] as const)
      : (['unbounded', 'bounded'] as const)) {
      const client = new ButlerClient({
        url: sim.url,
        token: sim.token,
        clientIdentifier: 'bench-sockets',
        timeoutMs: TIMEOUT_MS,
        retry: { retries: RETRIES },
        maxSockets: variants[variant],
      });
      try {
        await sim.reset();
        await client.listTasks();
        const began = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: SETTINGS.concurrentStarts }, () => client.startTask(TASK)),
        );
        const wallMs = performance.now() - began;
        errors += results.filter((result) => result.status === 'rejected').length;
        const stats = await sim.stats();
        figures[variant].perSecond.push((SETTINGS.concurrentStarts / wallMs) * 1000);
        figures[variant].connections.push(stats.connections);
      } finally {
        client.close();
      }
    }
  }
  const bounded = median(figures.bounded.perSecond);
  const unbounded = median(figures.unbounded.perSecond);
  const ratio = round3(bounded / unbounded);
  const maxConnections = Math.max(...figures.bounded.connections);
  const result = {
    concurrentStarts: SETTINGS.concurrentStarts,
    maxSockets: bound,
    bounded: { perSecond: round1(bounded), connections: figures.bounded.connections },
    unbounded: { perSecond: round1(unbounded), connections: figures.unbounded.connections },
    ratio,
    errors,
  };
  judge(
    'sockets.max',
    `${SETTINGS.concurrentStarts} starts at once: connections opened (worst of ${SETTINGS.socketRounds}; ${Math.max(...figures.unbounded.connections)} without the bound)`,
    String(maxConnections),
    `≤ ${bound}`,
    maxConnections <= bound && errors === 0,
  );
  judge(
    'sockets.throughput',
    `${SETTINGS.concurrentStarts} starts at once: msg/s bounded / one socket each (${Math.round(bounded)} / ${Math.round(unbounded)})`,
    ratio.toFixed(2),
    '≥ 0.90',
    ratio >= 0.9,
  );
  return result;
}

// ---- 4. memory and redeploys -----------------------------------------------------------------

async function memory(sim: SimulatorProcess) {
  await deploy({ url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES }, [
    taskActionNode('start', 'plex-butler-start', TASK),
    taskActionNode('stop', 'plex-butler-stop', TASK),
    { id: 'out', type: 'helper' },
  ]);
  const start = new Injector('start', ['out']);
  const stop = new Injector('stop', ['out']);
  let turn = 0;
  const operation = (): Promise<unknown> => (turn++ % 2 === 0 ? start.send() : stop.send());
  try {
    await runLoad(operation, {
      concurrency: SETTINGS.memoryConcurrency,
      operations: SETTINGS.memoryWarmup,
    });
    const before = await settledHeap();
    const samples: number[] = [];
    const chunk = SETTINGS.memoryMessages / 4;
    let errors = 0;
    let messages = 0;
    const began = performance.now();
    for (let i = 0; i < 4; i++) {
      const result = await runLoad(operation, {
        concurrency: SETTINGS.memoryConcurrency,
        operations: chunk,
      });
      errors += result.errors;
      messages += result.operations;
      samples.push(process.memoryUsage().heapUsed);
    }
    const seconds = (performance.now() - began) / 1000;
    const after = await settledHeap();
    const growth = after - before;
    judge(
      'memory.heap',
      `${messages} messages through start and stop: heap growth after GC`,
      mb(growth),
      '< 5 MB',
      growth < 5 * 1024 * 1024 && errors === 0,
    );
    return {
      messages,
      errors,
      perSecond: round1(messages / seconds),
      heapBeforeBytes: before,
      heapAfterBytes: after,
      heapGrowthBytes: growth,
      heapDuringBytes: samples,
      pendingAfter: start.inflight + stop.inflight,
    };
  } finally {
    await undeploy();
  }
}

interface HandleCounts {
  resources: Record<string, number>;
  processListeners: Record<string, number>;
  runtimeEventListeners: Record<string, number>;
}

function countHandles(): HandleCounts {
  const resources: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
  const processListeners: Record<string, number> = {};
  for (const name of process.eventNames()) {
    processListeners[String(name)] = process.listenerCount(name);
  }
  const runtimeEventListeners: Record<string, number> = {};
  const events = runtimeEvents();
  for (const name of events.eventNames()) {
    runtimeEventListeners[String(name)] = events.listenerCount(name);
  }
  return { resources, processListeners, runtimeEventListeners };
}

function differences(before: Record<string, number>, after: Record<string, number>) {
  const diff: Record<string, number> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const delta = (after[key] ?? 0) - (before[key] ?? 0);
    if (delta !== 0) diff[key] = delta;
  }
  return diff;
}

async function redeploys(sim: SimulatorProcess) {
  const flow: FlowNode[] = [
    {
      id: 'tasks',
      type: 'plex-butler-tasks',
      server: 'server',
      enabledOnly: false,
      split: false,
      property: 'payload',
      wires: [['out']],
    },
    taskActionNode('start', 'plex-butler-start', TASK),
    taskActionNode('stop', 'plex-butler-stop', TASK),
    { id: 'out', type: 'helper' },
  ];
  const server = { url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES };
  let abandoned = 0;
  const cycle = async (): Promise<void> => {
    await deploy(server, flow);
    const tasks = new Injector('tasks', ['out']);
    const start = new Injector('start', ['out']);
    const stop = new Injector('stop', ['out']);
    await Promise.all([tasks.send(), start.send(), stop.send()]);
    // One more, left in flight when the flow stops: close() must abort it and free its socket.
    void start.send().catch(() => undefined);
    abandoned++;
    await undeploy();
  };
  await cycle();
  await sleep(100);
  await settledHeap();
  const before = countHandles();
  const heapBefore = await settledHeap();
  const began = performance.now();
  for (let i = 0; i < SETTINGS.redeploys; i++) await cycle();
  const seconds = (performance.now() - began) / 1000;
  // Sockets destroyed by close() are gone from the list once their handles have closed.
  await sleep(200);
  const heapAfter = await settledHeap();
  const after = countHandles();
  const leaked = {
    resources: differences(before.resources, after.resources),
    processListeners: differences(before.processListeners, after.processListeners),
    runtimeEventListeners: differences(before.runtimeEventListeners, after.runtimeEventListeners),
  };
  const leftovers = [
    ...Object.entries(leaked.resources),
    ...Object.entries(leaked.processListeners),
    ...Object.entries(leaked.runtimeEventListeners),
  ].filter(([, delta]) => delta > 0);
  judge(
    'redeploys.handles',
    `${SETTINGS.redeploys} redeploys: sockets, timers and listeners left behind`,
    leftovers.length === 0 ? '0' : leftovers.map(([k, d]) => `${k} +${d}`).join(', '),
    '0',
    leftovers.length === 0,
  );
  return {
    redeploys: SETTINGS.redeploys,
    seconds: round1(seconds),
    inFlightAtUnload: abandoned,
    before,
    after,
    leaked,
    heapGrowthBytes: heapAfter - heapBefore,
  };
}

// ---- 5. slow server ---------------------------------------------------------------------------

async function slowServer(sim: SimulatorProcess) {
  const idle = monitorEventLoopDelay({ resolution: 1 });
  idle.enable();
  await sleep(QUICK ? 300 : 1000);
  idle.disable();
  await sim.setLatency(SETTINGS.slowLatencyMs);
  await deploy(
    { url: sim.url, token: sim.token, timeout: TIMEOUT_MS, retries: RETRIES },
    startFlow(),
  );
  const injector = new Injector('start', ['out']);
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const latencies: number[] = [];
  let answered = 0;
  let errors = 0;
  try {
    await sim.reset();
    histogram.enable();
    for (let i = 0; i < SETTINGS.slowBursts; i++) {
      await Promise.all(
        Array.from({ length: SETTINGS.slowMessages }, () => {
          const sent = performance.now();
          return injector.send().then(
            () => {
              answered++;
              latencies.push(performance.now() - sent);
            },
            () => {
              errors++;
            },
          );
        }),
      );
    }
    histogram.disable();
  } finally {
    await undeploy();
    await sim.setLatency(0);
  }
  const stats = await sim.stats();
  const p99 = histogram.percentile(99) / 1e6;
  judge(
    'slow.event-loop',
    `${SETTINGS.slowLatencyMs} ms server, ${SETTINGS.slowMessages} messages at once: event-loop delay p99`,
    ms(p99),
    '< 20 ms',
    p99 < 20 && errors === 0,
  );
  return {
    latencyMs: SETTINGS.slowLatencyMs,
    messagesPerBurst: SETTINGS.slowMessages,
    bursts: SETTINGS.slowBursts,
    answered,
    errors,
    messageP50Ms: round3(percentile(latencies, 50)),
    messageP99Ms: round3(percentile(latencies, 99)),
    connections: stats.connections,
    eventLoopDelay: {
      p50Ms: round3(histogram.percentile(50) / 1e6),
      p99Ms: round3(p99),
      maxMs: round3(histogram.max / 1e6),
    },
    idleEventLoopDelay: {
      p50Ms: round3(idle.percentile(50) / 1e6),
      p99Ms: round3(idle.percentile(99) / 1e6),
      maxMs: round3(idle.max / 1e6),
    },
  };
}

function packageVersion(name: string): string {
  const manifest = readFileSync(require.resolve(`${name}/package.json`), 'utf8');
  return (JSON.parse(manifest) as { version: string }).version;
}

// ---- report -----------------------------------------------------------------------------------

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row, index) => {
      const line = row.map((cell, column) => cell.padEnd(widths[column])).join('  ');
      return index === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

function markdown(rows: string[][]): string {
  const line = (row: string[]): string => `| ${row.join(' | ')} |`;
  return [line(rows[0]), line(rows[0].map(() => '---')), ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  if (!globalThis.gc) {
    console.error('run with node --expose-gc --import tsx bench/run.ts (npm run bench does)');
    process.exit(2);
  }
  const began = performance.now();
  const loadBefore = os.loadavg();
  const sim = await startSimulatorProcess({ taskDurationMs: 3_600_000 });
  log(`simulator pid ${sim.pid} at ${sim.url}; Node-RED ${nodeRedVersion()}`);
  const results: Record<string, unknown> = {};
  try {
    if (phase('overhead')) results.overhead = await overhead(sim);
    if (phase('burst')) results.burst = await burst(sim);
    if (phase('connections')) results.connections = await connections(sim);
    if (phase('sockets')) results.sockets = await sockets(sim);
    if (phase('memory')) results.memory = await memory(sim);
    if (phase('redeploys')) results.redeploys = await redeploys(sim);
    if (phase('slow')) results.slowServer = await slowServer(sim);
    if (phase('viewers')) {
      const settings = { stopRounds: SETTINGS.viewerStopRounds, speedUp: SETTINGS.viewerSpeedUp };
      results.viewers = await viewers(settings, judge);
    }
    if (phase('journal')) results.journal = await journalReport();
  } finally {
    await sim.stop();
  }
  const seconds = (performance.now() - began) / 1000;
  const environment = {
    node: process.version,
    nodeRed: nodeRedVersion(),
    ws: packageVersion('ws'),
    compiled: !FROM_SOURCES,
    phases: ONLY ? [...ONLY] : 'all',
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '',
    platform: `${os.platform()} ${os.release()}`,
    loadAverageBefore: loadBefore.map(round1),
    loadAverageAfter: os.loadavg().map(round1),
    quick: QUICK,
    seconds: round1(seconds),
  };

  const overheadFigures = results.overhead as
    | Record<
        string,
        {
          variants: Record<Variant, RunFigures>;
          ratios: {
            nodeToClient: number;
            clientToBare: number;
            clientToBounded: number;
            boundedToBare: number;
            hopToClient: number;
            nodeToHop: number;
          };
          addedLatency: Record<string, { p50Ms: number; p99Ms: number; cpuUsPerMessage: number }>;
        }
      >
    | undefined;
  const detail: string[][] = [
    ['concurrency', 'path', 'msg/s (median)', 'p50', 'p99', 'CPU/msg', 'ratio'],
  ];
  const added: string[][] = [['concurrency', 'added latency', 'p50', 'p99', 'CPU/msg']];
  for (const concurrency of overheadFigures ? SETTINGS.concurrencies : []) {
    const entry = overheadFigures?.[concurrency];
    if (!entry) continue;
    for (const variant of VARIANTS) {
      const figures = entry.variants[variant];
      const ratio = {
        bare: '1 (floor)',
        bounded: `${entry.ratios.boundedToBare.toFixed(2)} of bare (floor with the bound)`,
        client: `${entry.ratios.clientToBare.toFixed(2)} of bare, ${entry.ratios.clientToBounded.toFixed(2)} of bounded`,
        hop: `${entry.ratios.hopToClient.toFixed(2)} of client`,
        node: `${entry.ratios.nodeToClient.toFixed(2)} of client, ${entry.ratios.nodeToHop.toFixed(2)} of minimal`,
      }[variant];
      detail.push([
        String(concurrency),
        LABELS[variant],
        String(Math.round(figures.perSecond)),
        ms(figures.p50Ms),
        ms(figures.p99Ms),
        us(figures.cpuUsPerMessage / 1000),
        ratio,
      ]);
    }
    for (const [label, key] of [
      ['client over bare', 'clientOverBare'],
      ['client over bare on the same sockets', 'clientOverBounded'],
      ['node over client', 'nodeOverClient'],
      ['  of it the runtime (minimal node over client)', 'hopOverClient'],
      ['  of it our node code (node over minimal node)', 'nodeOverHop'],
      ['node over bare', 'nodeOverBare'],
    ] as const) {
      const extra = entry.addedLatency[key];
      added.push([
        String(concurrency),
        label,
        us(extra.p50Ms),
        us(extra.p99Ms),
        us(extra.cpuUsPerMessage / 1000),
      ]);
    }
  }
  const summary: string[][] = [
    ['target', 'figure', 'goal', 'verdict'],
    ...verdicts.map((v) => [v.what, v.figure, v.target, v.pass ? 'PASS' : 'MISS']),
  ];

  console.log(
    `\nPlex Butler nodes benchmark: Node ${environment.node}, Node-RED ${environment.nodeRed}, ${environment.cpus} CPUs, load average ${environment.loadAverageBefore[0]} → ${environment.loadAverageAfter[0]}, ${environment.seconds} s${QUICK ? ' (--quick: not for figures)' : ''}`,
  );
  console.log(
    `${FROM_SOURCES ? 'FROM TYPESCRIPT SOURCES UNDER TSX: esbuild adds a __name() call per closure, which production code (tsc) has not; npm run bench runs the tsc output.\n' : ''}Simulator in its own process on loopback, latency 0 unless stated. Medians of ${SETTINGS.rounds} rounds of ${SETTINGS.roundMs} ms per path, the paths taking turns every ${SETTINGS.sliceMs} ms; latency percentiles over all rounds; CPU/msg is this process's CPU time per message.\n`,
  );
  if (detail.length > 1) console.log(`${table(detail)}\n\n${table(added)}\n`);
  console.log(table(summary));
  if (MARKDOWN) {
    console.log('\n' + markdown(detail) + '\n\n' + markdown(summary));
  }

  const output = {
    generatedAt: new Date().toISOString(),
    environment,
    settings: SETTINGS,
    verdicts,
    passed: verdicts.every((v) => v.pass),
    ...results,
  };
  await writeJson(RESULTS_FILE, output);
  console.log(`\nwrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

// ---- 6. journal: the report of a long period -----------------------------------------------

/**
 * A journal holding 100,000 activities over twelve days (bounds raised so that none is dropped)
 * and a report of the whole period: how long building it takes ("well under a second", the
 * issue asks), and that against a JSON copy of its activities alone, round by round.
 */
async function journalReport() {
  const activities = 100_000;
  const rounds = QUICK ? 3 : 7;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'plex-butler-bench-journal-'));
  const began = Date.UTC(2026, 0, 1);
  let time = began;
  const journal = openJournal({
    directory,
    serverId: 'bench',
    now: () => time,
    sync: false,
    maxBytes: 256 * 1024 * 1024,
  });
  try {
    await journal.ready();
    const kinds = ['media.generate.bif', 'library.update.section', 'library.refresh.items', 'x.y'];
    for (let index = 0; index < activities; index++) {
      const uuid = `activity-${index}`;
      const type = kinds[index % kinds.length];
      const subtitle = `Item ${index % 500}`;
      journal.activity({ event: 'started', uuid, type, title: 'Working', subtitle, progress: 0 });
      time += 2_000;
      journal.activity({ event: 'ended', uuid, type, title: 'Working', subtitle, progress: 100 });
      time += 8_000;
      if (index % 10_000 === 9_999) await journal.flush();
    }
    await journal.flush();
    const period = { kind: 'between', since: began } as const;
    const reportTimes: number[] = [];
    const copyTimes: number[] = [];
    let held = 0;
    for (let round = 0; round < rounds; round++) {
      globalThis.gc?.();
      const start = performance.now();
      const report = await journal.report({ period });
      reportTimes.push(performance.now() - start);
      held = report.activities.length;
      globalThis.gc?.();
      const copyStart = performance.now();
      JSON.parse(JSON.stringify(report.activities));
      copyTimes.push(performance.now() - copyStart);
    }
    const reportMs = median(reportTimes);
    const copyMs = median(copyTimes);
    const ratio = round3(median(reportTimes.map((value, round) => value / copyTimes[round])));
    judge(
      'journal.report',
      `report of a period with ${held} activities: build time, median of ${rounds}`,
      ms(reportMs),
      '< 1 s',
      reportMs < 1000 && held === activities,
    );
    judge(
      'journal.report-vs-copy',
      `the same report / a JSON copy of its activities alone (${ms(copyMs)}), per round`,
      ratio.toFixed(2),
      '≤ 2.00',
      ratio <= 2,
    );
    return {
      activities: held,
      rounds,
      reportMs: round3(reportMs),
      jsonCopyMs: round3(copyMs),
      ratioToJsonCopy: ratio,
      reportTimesMs: reportTimes.map(round3),
    };
  } finally {
    await journal.release();
    await rm(directory, { recursive: true, force: true });
  }
}
