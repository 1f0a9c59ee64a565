/**
 * Assert that fn throws the sdk's LedgersealError with the given code; a RegExp
 * message must match, a string message must be equal.
 */
import { expect } from 'vitest';
import { LedgersealError, type ErrorCode } from '../../sdk/src/errors.ts';

export function expectSdkError(fn: () => unknown, code: ErrorCode, message?: RegExp | string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected LedgersealError ${code}`).toBeInstanceOf(LedgersealError);
  const err = caught as LedgersealError;
  expect(err.code).toBe(code);
  if (typeof message === 'string') expect(err.message).toBe(message);
  else if (message) expect(err.message).toMatch(message);
}
