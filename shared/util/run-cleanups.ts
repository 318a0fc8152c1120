import { RelayError } from '../errors.js';
import { errorFields, type LogFields, type Logger } from '../log.js';

/** One clean-up of the daily timer: `run` deletes what has expired and says how much, logged as `event`. */
export interface Cleanup {
  readonly event: string;
  run(): Promise<LogFields>;
}

/** Some clean-ups failed (the others ran): the timer invocation fails so that the host and operators see it. */
export class CleanupFailedError extends RelayError {
  /** The `event` of each clean-up that failed. */
  readonly failed: readonly string[];
  constructor(failed: readonly string[], cause: unknown) {
    super('ERR_CLEANUP_FAILED', `Clean-ups failed: ${failed.join(', ')} (the others ran).`, { cause });
    this.failed = failed;
  }
}

/**
 * Runs every clean-up at once, each whatever becomes of the others: they delete from different stores, and
 * one store's outage (or a store that hangs) must not let the others grow. Each success is logged as its
 * `event`, each failure as `cleanup.failed`; once all have settled, throws CleanupFailedError if any failed.
 */
export async function runCleanups(cleanups: readonly Cleanup[], logger: Logger): Promise<void> {
  const settled = await Promise.allSettled(
    cleanups.map(async (cleanup) => {
      try {
        logger.info(cleanup.event, await cleanup.run());
      } catch (e) {
        logger.error('cleanup.failed', { cleanup: cleanup.event, ...errorFields(e) });
        throw e;
      }
    }),
  );
  const failed = cleanups.filter((_, i) => settled[i]?.status === 'rejected').map((c) => c.event);
  const first = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (first) throw new CleanupFailedError(failed, first.reason);
}
