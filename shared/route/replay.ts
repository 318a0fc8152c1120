import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { restStatus } from '../errors.js';
import { sendToQueue, uploadJson } from '../queue/storage-writes.js';
import { readDeadLetter } from './dead-letter.js';

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

/** Where replay reads and writes: the queues, and the blobs of dead letters and of the claim checks they copied. */
export interface ReplayStorage {
  readonly queues: QueueServiceClient;
  readonly blobs: BlobServiceClient;
}

/** How long a message being moved (or left for later) stays hidden from other readers, in seconds. */
const TAKEN_SECONDS = 300;

/**
 * Moves messages back for another try after a fix: each dead letter's original message to the queue it
 * came from, or each poison message (`<queue>-poison`) to `<queue>`. A message is deleted only after its
 * copy was sent (and a dead letter's blob only after that); one that cannot be read stays where it is.
 *
 * Only the messages there when the replay starts are moved: one that fails again while the app runs comes
 * back as a new message within seconds, and moving it too would go on for ever. The start is the storage
 * service's clock (a response's `Date`, whole seconds), and moving begins only once that second is over,
 * so every message a move causes is inserted after it; a message inserted after the start is kept hidden
 * until the end (so that it is not read again and again) and then made visible again.
 */
export async function replayMessages(storage: ReplayStorage, from: { kind: 'deadletter'; queue: string } | { kind: 'poison'; queue: string }, options: ReplayOptions = {}): Promise<ReplayResult> {
  const source = storage.queues.getQueueClient(from.kind === 'poison' ? `${from.queue}-poison` : from.queue);
  const started = await serviceTime(source);
  if (started === undefined) return { moved: 0, skipped: 0 };
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let skipped = 0;
  if (options.dryRun) {
    // A dry run peeks (the first 32: storage shows no more without taking them).
    const peeked = (await source.peekMessages({ numberOfMessages: Math.min(32, limit) })).peekedMessageItems;
    for (const message of peeked) {
      if (from.kind === 'poison' || (await readDeadLetter(storage.blobs, message.messageText))) moved++;
      else skipped++;
    }
    return { moved, skipped };
  }
  await new Promise((resolve) => setTimeout(resolve, started.wait));
  /** Messages inserted after the start, hidden while this replay runs: id → latest pop receipt. */
  const later = new Map<string, string>();
  try {
    while (moved + skipped < limit) {
      // Real runs take the messages for a while so that two replays cannot move the same one.
      const want = Math.min(32, limit - moved - skipped);
      const batch = (await source.receiveMessages({ numberOfMessages: want, visibilityTimeout: TAKEN_SECONDS })).receivedMessageItems;
      if (batch.length === 0) break;
      for (const message of batch) {
        // Seen before (it outlived its hiding in a long run) or inserted after the start: left for later.
        const seen = later.has(message.messageId);
        if (seen || message.insertedOn.getTime() > started.at) {
          later.set(message.messageId, message.popReceipt);
          continue;
        }
        if (from.kind === 'poison') {
          await sendToQueue(storage.queues.getQueueClient(from.queue), message.messageText);
          await source.deleteMessage(message.messageId, message.popReceipt);
          moved++;
          continue;
        }
        const read = await readDeadLetter(storage.blobs, message.messageText);
        if (!read) {
          skipped++;
          later.set(message.messageId, message.popReceipt); // left in place, visible again at the end
          continue;
        }
        const { letter, claimCheck } = read;
        // The blob the original refers to first (the letter's copy, under its name), then the original.
        if (letter.referencedBlob) await uploadJson(storage.blobs.getContainerClient(letter.referencedBlob.container), letter.referencedBlob.blob, letter.referencedBlob.content);
        await sendToQueue(storage.queues.getQueueClient(letter.sourceQueue), letter.originalMessage);
        await source.deleteMessage(message.messageId, message.popReceipt);
        // Last: a letter whose blob went first would be unreadable if deleting the letter then failed.
        if (claimCheck)
          await storage.blobs
            .getContainerClient(claimCheck.container)
            .deleteBlob(claimCheck.blob)
            .catch(() => undefined);
        moved++;
      }
    }
  } finally {
    await showAgain(source, later);
  }
  return { moved, skipped };
}

/**
 * The storage service's time now (`at`, ms: the last moment of the second its answer names) and how long
 * to wait until that second is over (`wait`, ms); undefined when the queue does not exist.
 */
async function serviceTime(queue: QueueClient): Promise<{ at: number; wait: number } | undefined> {
  try {
    const ms = ((await queue.getProperties()).date ?? new Date()).getTime();
    // The answer's `Date` is the whole second it was made in: a second after the answer, that second is over,
    // and every message inserted from then on is inserted after `at` (whether storage counts in seconds or ms).
    return { at: ms - (ms % 1000) + 999, wait: 1000 };
  } catch (e) {
    if (restStatus(e) === 404) return undefined;
    throw e;
  }
}

/** Makes the messages a replay left in place visible again (a failure leaves them hidden until their timeout). */
async function showAgain(queue: QueueClient, hidden: Map<string, string>): Promise<void> {
  for (const [id, popReceipt] of hidden) await queue.updateMessage(id, popReceipt, undefined, 0).catch(() => undefined);
}
