/**
 * Every admin route of the package answers one shape, `{ ok, data?, error? }`
 * (nodes/server/editor-contract.ts). The suites check that shape at every answer they read and
 * then look at its fields: `data`'s on top, with `error` (and its `code` and `message`) beside.
 */
import * as assert from 'node:assert/strict';

export type FlatAnswer = Record<string, unknown> & {
  ok?: boolean;
  error?: { code: string; message: string; messageRef?: unknown };
  code?: string;
  message?: string;
};

/** The answer's fields after checking it keeps the contract; any other body as it came. */
export function flatAnswer(body: unknown): FlatAnswer {
  if (typeof body !== 'object' || body === null || !('ok' in body)) return body as FlatAnswer;
  const answer = body as { ok: unknown; data?: unknown; error?: unknown };
  assert.deepEqual(
    Object.keys(answer).filter((key) => !['ok', 'data', 'error'].includes(key)),
    [],
    'an admin answer holds ok, data and error only',
  );
  assert.equal(typeof answer.ok, 'boolean');
  if (answer.data !== undefined) assert.equal(typeof answer.data, 'object');
  if (answer.ok) {
    assert.equal(answer.error, undefined, 'no error beside ok: true');
    assert.ok(answer.data !== undefined, 'data with ok: true');
    return { ok: true, ...(answer.data as object) };
  }
  const error = answer.error as { code?: unknown; message?: unknown; messageRef?: unknown };
  assert.equal(typeof error?.code, 'string', 'an error has a code');
  assert.equal(typeof error.message, 'string', 'an error has words');
  assert.equal(typeof (error.messageRef as { key?: unknown })?.key, 'string', 'and their key');
  return {
    ...((answer.data as object | undefined) ?? {}),
    ok: false,
    error: error as FlatAnswer['error'],
    code: error.code as string,
    message: error.message as string,
  };
}
