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
 * Runs every clean-up in turn, each whatever became of the ones before it: they delete from different
 * stores, and one store's outage must not let the others grow. Each success is logged as its `event`, each
 * failure as `cleanup.failed`; then throws CleanupFailedError if any failed.
 */
export async function runCleanups(cleanups: readonly Cleanup[], logger: Logger): Promise<void> {
  const failed: string[] = [];
  let firstError: unknown;
  for (const cleanup of cleanups) {
    try {
      logger.info(cleanup.event, await cleanup.run());
    } catch (e) {
      if (failed.length === 0) firstError = e;
      failed.push(cleanup.event);
      logger.error('cleanup.failed', { cleanup: cleanup.event, ...errorFields(e) });
    }
  }
  if (failed.length > 0) throw new CleanupFailedError(failed, firstError);
}
