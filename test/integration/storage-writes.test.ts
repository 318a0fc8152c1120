import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStorageOpCounter, type StorageOpCounter } from '../../bench/storage-op-counter.js';
import { FIRST_SEND_WAIT_MS, sendToQueue } from '../../shared/queue/storage-writes.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { azuriteVia, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { eventually } from '../helpers/eventually.js';

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

/** A client of a new queue (not created) through a proxy that counts every storage request by kind. */
async function countedQueue(): Promise<{ queue: QueueClient; counts: () => Record<string, number>; count: () => Promise<number> }> {
  const counter = await startStorageOpCounter(azurite);
  counters.push(counter);
  const name = uniqueName('writes');
  const queue = QueueServiceClient.fromConnectionString(counter.connectionString).getQueueClient(name);
  const count = async () => (await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(name).getProperties()).approximateMessagesCount ?? 0;
  return { queue, counts: () => counter.counts(), count };
}
const counters: StorageOpCounter[] = [];
afterAll(() => Promise.all(counters.map((c) => c.close())));

describe('sendToQueue', () => {
  it('creates a missing queue once when many messages are sent to it at once, and every message lands', async () => {
    const { queue, counts, count } = await countedQueue();
    await Promise.all(Array.from({ length: 32 }, (_, i) => sendToQueue(queue, `message ${i}`)));
    expect(await count()).toBe(32);
    // One create (a PUT on the queue); one send answered 404 before it, then each message once.
    expect(counts()).toEqual({ 'queue send': 33, 'queue PUT': 1 });
  });

  it('sends at once to a queue it reached before, and creates it again, without losing a message, once it was deleted', async () => {
    const { queue, counts, count } = await countedQueue();
    await sendToQueue(queue, 'first');
    await Promise.all(Array.from({ length: 8 }, (_, i) => sendToQueue(queue, `then ${i}`)));
    expect(counts()).toEqual({ 'queue send': 10, 'queue PUT': 1 });
    expect(await count()).toBe(9);

    await queue.delete(); // a storage account reset, an operator's mistake
    await sendToQueue(queue, 'after the delete');
    await Promise.all(Array.from({ length: 8 }, (_, i) => sendToQueue(queue, `after ${i}`)));
    expect(await count()).toBe(9);
    // The first send after the delete met the 404 and created the queue again; the rest went straight in.
    expect(counts()).toEqual({ 'queue send': 20, 'queue PUT': 2, 'queue DELETE': 1 });
  });

  it('stops waiting for a first send that storage never answers after FIRST_SEND_WAIT_MS, and sends on its own', async () => {
    const name = uniqueName('writes');
    await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(name).create();
    const proxy = await startTcpProxy(azurite.ports.queue);
    try {
      // No try timeout to speak of: the first send hangs until the test aborts it.
      const through = azuriteVia(azurite, { queue: proxy.port });
      const queue = QueueServiceClient.fromConnectionString(through, { retryOptions: { tryTimeoutInMs: 600_000 } }).getQueueClient(name);
      proxy.mode = 'hang'; // the first send's connection is accepted and never answered
      const stop = new AbortController();
      const first = sendToQueue(queue, 'first', { abortSignal: stop.signal }).then(
        () => 'sent',
        () => 'aborted',
      );
      await eventually(() => proxy.connections > 0, 'the first send to reach the proxy', { intervalMs: 10 });
      proxy.mode = 'pass';
      const started = Date.now();
      let firstSettled = false;
      void first.then(() => (firstSettled = true));
      await sendToQueue(queue, 'second');
      expect(Date.now() - started).toBeGreaterThanOrEqual(FIRST_SEND_WAIT_MS - 50);
      expect(firstSettled).toBe(false); // it went on while the first still hung
      const landed = await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(name).peekMessages({ numberOfMessages: 32 });
      expect(landed.peekedMessageItems.map((m) => m.messageText)).toEqual(['second']);
      stop.abort();
      expect(await first).toBe('aborted');
    } finally {
      await proxy.close();
    }
  });

  it('gives up waiting for the first send when its own abort signal fires, with the signal’s reason', async () => {
    const { queue } = await countedQueue();
    const controller = new AbortController();
    const first = sendToQueue(queue, 'first');
    const waiting = sendToQueue(queue, 'second', { abortSignal: controller.signal });
    controller.abort(new Error('receive deadline'));
    await expect(waiting).rejects.toThrow('receive deadline');
    await first;
  });
});
