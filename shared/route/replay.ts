import type { QueueServiceClient } from '@azure/storage-queue';
import { sendToQueue } from '../queue/storage-writes.js';
import { DEAD_LETTER_SCHEMA, type DeadLetter } from './dead-letter.js';

export interface ReplayResult {
  readonly moved: number;
  /** Messages left where they were because they could not be read (never deleted). */
  readonly skipped: number;
}

export interface ReplayOptions {
  /** Most messages to move; default all. */
  readonly limit?: number;
  readonly dryRun?: boolean;
}

/**
 * Moves messages back for another try after a fix: each dead letter's original message to the queue it
 * came from, or each poison message (`<queue>-poison`) to `<queue>`. A message is deleted only after its
 * copy was sent; one that cannot be read stays where it is.
 */
export async function replayMessages(service: QueueServiceClient, from: { kind: 'deadletter'; queue: string } | { kind: 'poison'; queue: string }, options: ReplayOptions = {}): Promise<ReplayResult> {
  const source = service.getQueueClient(from.kind === 'poison' ? `${from.queue}-poison` : from.queue);
  if (!(await source.exists())) return { moved: 0, skipped: 0 };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let skipped = 0;
  while (moved + skipped < limit) {
    const want = Math.min(32, limit - moved - skipped);
    // Dry runs peek; real runs take the messages for a while so that two replays cannot move the same one.
    const batch = options.dryRun
      ? (await source.peekMessages({ numberOfMessages: want })).peekedMessageItems.map((m) => ({ ...m, popReceipt: '' }))
      : (await source.receiveMessages({ numberOfMessages: want, visibilityTimeout: 300 })).receivedMessageItems;
    if (batch.length === 0) break;
    for (const message of batch) {
      let target: string;
      let text: string;
      if (from.kind === 'poison') {
        target = from.queue;
        text = message.messageText;
      } else {
        let letter: DeadLetter;
        try {
          letter = JSON.parse(Buffer.from(message.messageText, 'base64').toString('utf8')) as DeadLetter;
        } catch {
          skipped++;
          continue;
        }
        if (letter.schema !== DEAD_LETTER_SCHEMA || !letter.sourceQueue || !letter.originalMessage) {
          skipped++;
          continue;
        }
        target = letter.sourceQueue;
        text = letter.originalMessage;
      }
      if (!options.dryRun) {
        await sendToQueue(service.getQueueClient(target), text);
        await source.deleteMessage(message.messageId, message.popReceipt);
      }
      moved++;
    }
    if (options.dryRun) break;
  }
  return { moved, skipped };
}
