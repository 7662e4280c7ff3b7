/** Resolves once `check()` is true; rejects naming `what` after `timeoutMs`. Polls every 10 ms. */
export function waitUntil(
  check: () => boolean,
  timeoutMs = 4000,
  what = 'condition',
): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`${what} not met in ${timeoutMs} ms`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}
