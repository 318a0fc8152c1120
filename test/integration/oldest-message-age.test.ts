import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oldestMessageAgeSeconds } from '../../shared/queue/oldest-message-age.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

describe("a work queue's oldest message", () => {
  it('is its first visible message, aged from when it was queued; 0 when none waits; undefined without the queue', async () => {
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(uniqueName('age'));
    expect(await oldestMessageAgeSeconds(queue)).toBeUndefined();
    await queue.create();
    expect(await oldestMessageAgeSeconds(queue)).toBe(0);
    await queue.sendMessage('first');
    await queue.sendMessage('second');
    const queuedAt = (await queue.peekMessages()).peekedMessageItems[0]?.insertedOn ?? new Date(0);
    // Asked as if ten minutes later: the age is the first message's, whoever reads it.
    expect(await oldestMessageAgeSeconds(queue, new Date(queuedAt.getTime() + 600_000))).toBe(600);
    // A message being processed (invisible) is not waiting: the next visible one counts.
    await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: 60 });
    const second = (await queue.peekMessages()).peekedMessageItems[0];
    expect(second?.messageText).toBe('second');
    expect(await oldestMessageAgeSeconds(queue, new Date((second?.insertedOn ?? new Date(0)).getTime() + 30_000))).toBe(30);
  });
});
