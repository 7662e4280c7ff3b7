import { strict as assert } from 'node:assert';
import { DEFAULT_RETRY_POLICY, backoffDelay, parseRetryAfter } from '../../lib/butler/retry';
import { suggestTaskNames, STATIC_TASK_NAMES, checkTaskNameSyntax } from '../../lib';

describe('retry policy', () => {
  const policy = {
    ...DEFAULT_RETRY_POLICY,
    initialDelayMs: 100,
    maxDelayMs: 1000,
    exponent: 2,
    jitter: 0.25,
  };

  it('backs off exponentially up to the ceiling', () => {
    const middle = (): number => 0.5;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((retry) => backoffDelay(policy, retry, middle)),
      [100, 200, 400, 800, 1000, 1000],
    );
  });

  it('spreads each delay by the jitter, both ways', () => {
    assert.equal(
      backoffDelay(policy, 1, () => 0),
      150,
    );
    assert.equal(
      backoffDelay(policy, 1, () => 1),
      250,
    );
  });

  it('reads Retry-After in seconds and as an HTTP date', () => {
    const now = Date.parse('2026-11-22T03:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 03:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sun, 22 Nov 2026 02:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});

describe('task names', () => {
  it('suggests the same name in another case first', () => {
    assert.deepEqual(suggestTaskNames('BACKUPDATABASE', STATIC_TASK_NAMES), ['BackupDatabase']);
  });

  it('suggests near misses, closest first, and nothing for unrelated words', () => {
    assert.deepEqual(suggestTaskNames('OptimiseDatabase', STATIC_TASK_NAMES), ['OptimizeDatabase']);
    assert.deepEqual(suggestTaskNames('RefreshLibrary', STATIC_TASK_NAMES)[0], 'RefreshLibraries');
    assert.deepEqual(suggestTaskNames('Banana', STATIC_TASK_NAMES), []);
  });

  it('quotes a bad name safely: bounded and with control characters escaped', () => {
    const long = `A${'x'.repeat(5000)}\n`;
    assert.throws(
      () => checkTaskNameSyntax(long, STATIC_TASK_NAMES),
      (error: Error) =>
        error.message.length < 1500 &&
        !error.message.includes('\n') &&
        /malformed/.test(error.message),
    );
  });
});
