import { strict as assert } from 'node:assert';
import { ButlerError, type ButlerErrorCode } from '../../lib';

/** Awaits a promise that must fail with a ButlerError of the given code; returns the error. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: ButlerErrorCode,
): Promise<ButlerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ButlerError, `expected a ButlerError, got ${String(error)}`);
    assert.equal(error.code, code, `expected code ${code}, got ${error.code}: ${error.message}`);
    return error;
  }
  assert.fail(`expected a ${code} error, but the call succeeded`);
}

/** Everything a person could see of an error, to search for secrets. */
export function everythingVisible(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return [error.message, error.stack ?? '', JSON.stringify(error), String(error)].join('\n');
}
