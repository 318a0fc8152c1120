import type { Logger } from '../log.js';
import { originalMessageText, type DeadLetterQueue } from './dead-letter.js';

/** The suffix the Functions host gives the queue it moves a message to after its last failed attempt. */
export const POISON_SUFFIX = '-poison';

/**
 * Moves what the Functions host poisoned into the dead-letter queue. The host copies a message that failed
 * `maxDequeueCount` times to `<queue>-poison` with the service's default time-to-live of 7 days, after which
 * it would vanish unnoticed; a dead letter never expires, says why (`poisoned`) and where it came from, and
 * `npm run replay -- --from deadletter` puts it back.
 */
export class PoisonMover {
  readonly #deadLetters: DeadLetterQueue;

  constructor(deadLetters: DeadLetterQueue) {
    this.#deadLetters = deadLetters;
  }

  /** `sourceQueue` is the queue the message failed on (the poison queue without its suffix). */
  async move(triggerValue: unknown, sourceQueue: string, logger: Logger, dequeueCount?: number): Promise<void> {
    await this.#deadLetters.send({
      reason: 'poisoned',
      error: `The Functions host gave up on the message after its attempts on ${sourceQueue} (transient failures that did not clear); see the log for the last error.`,
      failedAt: new Date().toISOString(),
      sourceQueue,
      originalMessage: originalMessageText(triggerValue),
    });
    logger.error('route.poison_dead_lettered', { sourceQueue, deadLetterQueue: this.#deadLetters.name, ...(dequeueCount !== undefined ? { poisonDequeueCount: dequeueCount } : {}) });
  }
}
