/** Closed-loop load: `concurrency` callers, each starting its next operation when one ends. */
import { performance } from 'node:perf_hooks';

export type Operation = () => Promise<unknown>;

export interface LoadResult {
  operations: number;
  errors: number;
  elapsedMs: number;
  perSecond: number;
  /** Per-operation latency in ms, in completion order. */
  latencies: Float64Array;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop starting new operations after this long... */
  durationMs?: number;
  /** ...or after this many. */
  operations?: number;
}

export async function runLoad(operation: Operation, options: LoadOptions): Promise<LoadResult> {
  const { concurrency } = options;
  const limit = options.operations ?? Number.POSITIVE_INFINITY;
  let latencies = new Float64Array(Math.min(Number.isFinite(limit) ? limit : 1 << 16, 1 << 22));
  let completed = 0;
  let started = 0;
  let errors = 0;
  const startedAt = performance.now();
  const deadline = options.durationMs === undefined ? Infinity : startedAt + options.durationMs;
  const worker = async (): Promise<void> => {
    while (started < limit && performance.now() < deadline) {
      started++;
      const begin = performance.now();
      try {
        await operation();
      } catch {
        errors++;
      }
      if (completed === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[completed++] = performance.now() - begin;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - startedAt;
  return {
    operations: completed,
    errors,
    elapsedMs,
    perSecond: (completed / elapsedMs) * 1000,
    latencies: latencies.subarray(0, completed),
  };
}

/** Several runs of one operation as one: their operations, errors, time and latencies added up. */
export function mergeLoads(parts: readonly LoadResult[]): LoadResult {
  let operations = 0;
  let errors = 0;
  let elapsedMs = 0;
  for (const part of parts) {
    operations += part.operations;
    errors += part.errors;
    elapsedMs += part.elapsedMs;
  }
  const latencies = new Float64Array(operations);
  let offset = 0;
  for (const part of parts) {
    latencies.set(part.latencies, offset);
    offset += part.latencies.length;
  }
  return {
    operations,
    errors,
    elapsedMs,
    perSecond: elapsedMs > 0 ? (operations / elapsedMs) * 1000 : 0,
    latencies,
  };
}

export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Full collections until the heap stops shrinking. Needs node --expose-gc. */
export async function settledHeap(): Promise<number> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with node --expose-gc');
  let previous = Infinity;
  for (let round = 0; round < 10; round++) {
    gc();
    await sleep(20);
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= previous - 64 * 1024) return used;
    previous = used;
  }
  return process.memoryUsage().heapUsed;
}
