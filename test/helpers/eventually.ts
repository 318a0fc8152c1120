/**
 * Polls `probe` until it gives a value (anything but undefined, null or false), and returns it; after
 * `timeoutMs` fails naming `what` (a function: read at the failure, to say what was seen instead). The one
 * polling loop of the tests: every wait has a deadline, and a loaded machine only makes it slower.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  what: string | (() => string),
  { timeoutMs = 60_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
