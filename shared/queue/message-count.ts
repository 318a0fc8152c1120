import type { QueueClient } from '@azure/storage-queue';
import { restStatus } from '../errors.js';

/**
 * How many messages a queue holds, visible or not (Azure's approximate count: never lower than the truth,
 * possibly higher), or undefined when the queue does not exist.
 */
export async function messageCount(queue: QueueClient): Promise<number | undefined> {
  try {
    return (await queue.getProperties()).approximateMessagesCount ?? 0;
  } catch (e) {
    if (restStatus(e) === 404) return undefined;
    throw e;
  }
}
