/** Runs `fn` and returns what it threw, which must be an instance of `type` (anything else fails the test). */
export function thrown<T extends Error>(type: new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Awaits `p`, which must reject, and returns the error it rejected with (a fulfilment fails the test). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: Error) => e,
  );
}
