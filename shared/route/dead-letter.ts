import type { QueueClient } from '@azure/storage-queue';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';

export const DEAD_LETTER_SCHEMA = 'teams-change-relay.dead-letter.v1';

/** A message that can never succeed as it is, kept with why, for a person to fix and replay. */
export interface DeadLetter {
  readonly schema: typeof DEAD_LETTER_SCHEMA;
  /** Stable reason code, e.g. `signature_mismatch`, `unknown_certificate`, `no_route`. */
  readonly reason: string;
  readonly error: string;
  readonly failedAt: string;
  /** The queue the original message came from, where replay puts it back. */
  readonly sourceQueue: string;
  /** The original message text, exactly as it was on the source queue. */
  readonly originalMessage: string;
}

/**
 * A queue message's text from the value a queue trigger handed over (the parsed JSON, or the text when it
 * was not JSON), encoded back as the app writes messages, so a replay puts back what was there.
 */
export function originalMessageText(triggerValue: unknown): string {
  return typeof triggerValue === 'string' ? Buffer.from(triggerValue, 'utf8').toString('base64') : encodeJsonMessage(triggerValue);
}

export class DeadLetterQueue {
  readonly #queue: QueueClient;
  constructor(queue: QueueClient) {
    this.#queue = queue;
  }

  get name(): string {
    return this.#queue.name;
  }

  async send(letter: Omit<DeadLetter, 'schema'>): Promise<void> {
    const body: DeadLetter = { schema: DEAD_LETTER_SCHEMA, ...letter };
    await sendToQueue(this.#queue, encodeJsonMessage(body));
  }
}
