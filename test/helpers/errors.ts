// The message of the typed error an async or sync call throws, asserting its class.
import { expect } from 'vitest';

export async function errorMessage(call: () => unknown, type: abstract new (...args: never[]) => Error): Promise<string> {
  let err: unknown;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(type);
  return (err as Error).message;
}
