/**
 * Which client tunings pay: each alone and together, on a copy of lib/client.ts
 * (bench/tuning/client-copy.ts), against bare node:http, same simulator (in its own process).
 * Not part of `npm run bench`.
 *
 *   node --expose-gc --import tsx bench/tuning.ts [--quick] [--only name,name]
 *
 * Each variant runs in a process of its own next to the bare node:http loop, alternating
 * rounds: in one process, many client configurations would make axios's code megamorphic and
 * slow every variant down, which a real Node-RED (one configuration) never sees. Compare the
 * "of bare" ratios and CPU per request between rows, not requests per second.
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import axios, { AxiosHeaders, type AxiosResponse } from 'axios';
import { ButlerClient } from '../lib';
import { bareClient, plexHeaders } from './bare';
import { median, percentile, runLoad } from './load';
import { writeJson } from './output';
import { BENCH_DIR, CHILD_EXEC_ARGV, FROM_SOURCES } from './paths';
import { startSimulatorProcess } from './sim-control';
import { ButlerClient as TunedClient, type Tuning } from './tuning/client-copy';
import { PROPOSED } from './tuning/proposed';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 12;
const ROUND_MS = QUICK ? 150 : 250;
const WARMUP_MS = QUICK ? 300 : 700;

/** Single tunings are compared at 32 (CPU-bound: CPU per request is the figure); the rest at both. */
function concurrencies(variant: string): number[] {
  return variant.startsWith('+ ') ? [32] : [1, 32];
}
const TASK = 'BackupDatabase';

const VARIANTS: Record<string, Tuning | 'lib' | 'adapter'> = {
  'lib/client.ts as is': 'lib',
  'copy, no tuning': {},
  '+ keepAliveMsecs': { keepAliveMsecs: true },
  '+ plainAxios (adapter http, no defaults)': { plainAxios: true, adapterHttp: true },
  '+ adapterHttp': { adapterHttp: true },
  '+ noTransformRequest': { noTransformRequest: true },
  '+ noTransformResponse': { noTransformResponse: true },
  '+ lifetimeSet': { lifetimeSet: true },
  '+ cachedNames': { cachedNames: true },
  '+ decompressOff': { decompressOff: true },
  '+ unlimitedContentLength': { unlimitedContentLength: true },
  '+ arraybuffer': { arraybuffer: true },
  '+ noTimer': { noTimer: true },
  '+ noController': { noController: true },
  PROPOSED: PROPOSED,
  'PROPOSED + noTimer + noController': { ...PROPOSED, noTimer: true, noController: true },
  'axios http adapter alone (floor)': 'adapter',
  'node:http transport prototype': { ...PROPOSED, nodeHttp: true },
};

interface ChildResult {
  variant: string;
  byConcurrency: Record<
    string,
    {
      perSecond: number;
      ofBare: number;
      libOfBare: number;
      cpuUs: number;
      bareCpuUs: number;
      libCpuUs: number;
      cpuOfLib: number;
      cpuOfBare: number;
      p50Ms: number;
      errors: number;
    }
  >;
}

function argument(name: string): string {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0 || index + 1 >= process.argv.length) throw new Error(`--${name} is missing`);
  return process.argv[index + 1];
}

/** One variant next to the bare loop, in this process. */
async function child(): Promise<void> {
  const variant = argument('child');
  const url = argument('url');
  const token = argument('token');
  const spec = VARIANTS[variant];
  const options = {
    url,
    token,
    clientIdentifier: 'bench-tuning',
    timeoutMs: 10_000,
    retry: { retries: 2 },
    deviceName: 'Node-RED',
  };
  const bare = bareClient(url, token);
  let operation: () => Promise<unknown>;
  let close: () => void;
  if (spec === 'lib') {
    const client = new ButlerClient(options);
    operation = () => client.startTask(TASK);
    close = () => client.close();
  } else if (spec === 'adapter') {
    // The floor of anything built on axios: its http adapter called with a finished config,
    // skipping Axios.request, mergeConfig, interceptors and transforms altogether.
    const adapter = axios.getAdapter('http');
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    const headers = new AxiosHeaders({
      ...plexHeaders(token),
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    const target = `${url}/butler/${TASK}`;
    operation = () =>
      adapter({
        url: target,
        method: 'post',
        headers: new AxiosHeaders(headers),
        httpAgent: agent,
        proxy: false,
        maxRedirects: 0,
        maxBodyLength: -1,
        maxContentLength: 8 * 1024 * 1024,
        validateStatus: null,
        responseType: 'text',
      } as never) as Promise<AxiosResponse>;
    close = () => agent.destroy();
  } else {
    const client = new TunedClient(options, spec);
    operation = () => client.startTask(TASK);
    close = () => client.close();
  }
  const bareOperation = () => bare.request('POST', `/butler/${TASK}`);
  const reference = new ButlerClient({ ...options, clientIdentifier: 'bench-reference' });
  const libOperation = () => reference.startTask(TASK);
  await operation();
  await libOperation();
  const runs: Array<[string, () => Promise<unknown>]> = [
    ['bare', bareOperation],
    ['lib', libOperation],
    ['variant', operation],
  ];
  const result: ChildResult = { variant, byConcurrency: {} };
  for (const concurrency of concurrencies(variant)) {
    for (const [, op] of runs) await runLoad(op, { concurrency, durationMs: WARMUP_MS });
    const rounds: Array<
      Record<string, { rate: number; cpu: number; p50: number; errors: number }>
    > = [];
    for (let round = 0; round < ROUNDS; round++) {
      const figures: (typeof rounds)[number] = {};
      // Rotated order, so that each path runs first, second and third equally often.
      for (let i = 0; i < runs.length; i++) {
        const [name, op] = runs[(i + round) % runs.length];
        globalThis.gc?.();
        const before = process.cpuUsage();
        const run = await runLoad(op, { concurrency, durationMs: ROUND_MS });
        const used = process.cpuUsage(before);
        figures[name] = {
          rate: run.perSecond,
          cpu: (used.user + used.system) / Math.max(1, run.operations),
          p50: percentile(run.latencies, 50),
          errors: run.errors,
        };
      }
      rounds.push(figures);
    }
    const med = (pick: (r: (typeof rounds)[number]) => number): number => median(rounds.map(pick));
    result.byConcurrency[concurrency] = {
      perSecond: med((r) => r.variant.rate),
      ofBare: med((r) => r.variant.rate / r.bare.rate),
      libOfBare: med((r) => r.lib.rate / r.bare.rate),
      cpuUs: med((r) => r.variant.cpu),
      bareCpuUs: med((r) => r.bare.cpu),
      libCpuUs: med((r) => r.lib.cpu),
      cpuOfLib: med((r) => r.variant.cpu / r.lib.cpu),
      cpuOfBare: med((r) => r.variant.cpu / r.bare.cpu),
      p50Ms: med((r) => r.variant.p50),
      errors: rounds.reduce((sum, r) => sum + r.variant.errors, 0),
    };
  }
  reference.close();
  close();
  bare.close();
  process.send?.(result);
}

function runChild(variant: string, url: string, token: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const worker = fork(
      __filename,
      ['--child', variant, '--url', url, '--token', token, ...(QUICK ? ['--quick'] : [])],
      {
        execArgv: ['--expose-gc', ...CHILD_EXEC_ARGV],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    let result: ChildResult | undefined;
    worker.on('message', (message: ChildResult) => {
      result = message;
    });
    worker.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`${variant}: exit ${code}`)),
    );
  });
}

async function parent(): Promise<void> {
  const onlyIndex = process.argv.indexOf('--only');
  const only = onlyIndex > 0 ? process.argv[onlyIndex + 1].split(',') : undefined;
  const names = Object.keys(VARIANTS).filter(
    (name) => !only || only.some((wanted) => name.includes(wanted)),
  );
  const sim = await startSimulatorProcess();
  const results: ChildResult[] = [];
  try {
    for (const name of names) {
      process.stderr.write(`${name}\n`);
      results.push(await runChild(name, sim.url, sim.token));
    }
  } finally {
    await sim.stop();
  }
  for (const concurrency of ['1', '32']) {
    const rows: string[][] = [
      [
        'variant',
        'req/s of bare',
        '(lib of bare)',
        'CPU µs/req',
        'CPU of lib',
        'CPU of bare',
        'p50',
      ],
    ];
    for (const result of results) {
      const figures = result.byConcurrency[concurrency];
      if (!figures) continue;
      rows.push([
        result.variant,
        figures.ofBare.toFixed(2),
        `(${figures.libOfBare.toFixed(2)})`,
        figures.cpuUs.toFixed(0),
        figures.cpuOfLib.toFixed(2),
        figures.cpuOfBare.toFixed(2),
        `${Math.round(figures.p50Ms * 1000)} µs`,
      ]);
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    console.log(
      `\nconcurrency ${concurrency} (medians of ${ROUNDS} rotated rounds; ratios paired per round)`,
    );
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c])).join('  '));
  }
  const file = path.join(BENCH_DIR, 'tuning-results.json');
  await writeJson(file, {
    generatedAt: new Date().toISOString(),
    node: process.version,
    compiled: !FROM_SOURCES,
    results,
  });
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

(process.argv.includes('--child') ? child() : parent()).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
