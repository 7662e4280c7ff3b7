/** Like the Plex SDKs' RetryConfig: bounded attempts, exponential backoff with jitter, a deadline. */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 turns retrying off. */
  retries: number;
  initialDelayMs: number;
  maxDelayMs: number;
  exponent: number;
  /** 0.25 spreads each delay by ±25%, so many clients do not retry in step. */
  jitter: number;
  /** No attempt starts after this long from the first; waits never run past it. */
  maxElapsedMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 2,
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  exponent: 2,
  jitter: 0.25,
  maxElapsedMs: 60_000,
});

/** HTTP statuses where the same request may well succeed a moment later. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export function backoffDelay(
  policy: RetryPolicy,
  retryIndex: number,
  random = Math.random,
): number {
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.exponent ** retryIndex);
  const spread = base * policy.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
