import { ChaosStepError } from './chaos-error.js';

/** Resolves after `ms` (at once when `ms` is not positive, as a time already past is). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Polls `check` every half second until it holds (a failing check counts as not yet); ChaosStepError naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new ChaosStepError(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
