import type { QueueClient } from '@azure/storage-queue';
import { restStatus } from '../errors.js';

/**
 * How long the first visible message of a queue has waited, in seconds (0 when none is visible), or undefined
 * when the queue does not exist. A peek, which hides nothing from the queue's consumers; messages being
 * processed (invisible) are not seen, so this is the age of the oldest message waiting for a worker.
 */
export async function oldestMessageAgeSeconds(queue: QueueClient, now: Date = new Date()): Promise<number | undefined> {
  try {
    const [first] = (await queue.peekMessages({ numberOfMessages: 1 })).peekedMessageItems;
    return first ? Math.max(0, Math.round((now.getTime() - first.insertedOn.getTime()) / 1000)) : 0;
  } catch (e) {
    if (restStatus(e) === 404) return undefined;
    throw e;
  }
}
