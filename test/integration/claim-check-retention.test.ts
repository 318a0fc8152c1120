import { MAX_STORAGE_TIMEOUT_MS } from '../../shared/receive/answer-budget.js';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../shared/errors.js';
import { MIN_CLAIM_CHECK_RETENTION_DAYS, POISON_COPY_DAYS, pruneClaimChecks } from '../../shared/queue/claim-check-retention.js';
import { StorageNotificationStore } from '../../shared/queue/notification-store.js';
import type { QueuedNotification } from '../../shared/queue/queued-notification.js';
import { drainNotifications, azuriteVia, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { changeNotification } from '../helpers/notifications.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const DAY = 24 * 60 * 60 * 1000;

let azurite: AzuriteProcess;
let blobs: BlobServiceClient;
beforeAll(async () => {
  azurite = await testAzurite();
  blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
});
afterAll(() => azurite?.stop());

/** A change notification over the 64 KiB queue limit: stored as a claim-check blob and a message pointing at it. */
const large = (): QueuedNotification => ({
  schema: 'teams-change-relay.queued-notification.v1',
  kind: 'change',
  receivedAt: new Date().toISOString(),
  notification: changeNotification({ resourceData: { padding: 'x'.repeat(100 * 1024) } }) as QueuedNotification['notification'],
});

function store(queueService: QueueServiceClient, names: { queue: string; container: string }, timeoutMs: number): StorageNotificationStore {
  return new StorageNotificationStore({ queueService, blobService: blobs, queues: { change: names.queue, lifecycle: uniqueName('life') }, container: names.container, timeoutMs });
}

async function blobNames(container: ContainerClient): Promise<{ name: string; lastModified: Date }[]> {
  const out = [];
  for await (const b of container.listBlobsFlat()) out.push({ name: b.name, lastModified: b.properties.lastModified });
  return out;
}

describe('claim-check blobs (NOTIFICATIONS_CONTAINER)', () => {
  it('deletes the blob a failed send left behind once older than the retention, keeps it before, and a second run deletes nothing', async () => {
    const names = { queue: uniqueName('notif'), container: uniqueName('claims') };
    const proxy = await startTcpProxy(azurite.ports.queue);
    try {
      // Queue storage down, blob storage up: the blob is written, its message never is (the request is answered 503).
      proxy.mode = 'refuse';
      const queues = QueueServiceClient.fromConnectionString(azuriteVia(azurite, { queue: proxy.port }));
      // The longest wait the receive path allows: on a loaded machine the blob's own write may take over a second.
      await expect(store(queues, names, MAX_STORAGE_TIMEOUT_MS).storeAll([large()])).rejects.toBeInstanceOf(StorageUnavailableError);
    } finally {
      await proxy.close();
    }
    const container = blobs.getContainerClient(names.container);
    const [orphan, ...others] = await blobNames(container);
    expect(orphan).toBeDefined();
    expect(others).toEqual([]);
    const written = orphan!.lastModified.getTime();

    expect(await pruneClaimChecks(container, 30, written + 30 * DAY)).toBe(0); // exactly the retention: kept
    expect((await blobNames(container)).map((b) => b.name)).toEqual([orphan!.name]);
    expect(await pruneClaimChecks(container, 30, written + 30 * DAY + 1000)).toBe(1);
    expect(await blobNames(container)).toEqual([]);
    expect(await pruneClaimChecks(container, 30, written + 30 * DAY + 1000)).toBe(0);
  });

  it('never deletes the blob of a message still queued: routing takes it within the retention less the poison copy’s 7 days', async () => {
    const names = { queue: uniqueName('notif'), container: uniqueName('claims') };
    const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const item = large();
    await store(queues, names, 30_000).storeAll([item]);
    const container = blobs.getContainerClient(names.container);
    const [blob] = await blobNames(container);
    const [message] = (await queues.getQueueClient(names.queue).peekMessages()).peekedMessageItems;
    // The blob is written before its message: a queued message is never older than its blob.
    expect(blob!.lastModified.getTime()).toBeLessThanOrEqual(message!.insertedOn.getTime());

    // By construction the last moment anything may still point at the blob: routing takes the message at the
    // latest retention - POISON_COPY_DAYS after the blob was written (the app stopped that long), fails it
    // into the host's poison copy, which points at the same blob for at most POISON_COPY_DAYS more.
    for (const retention of [MIN_CLAIM_CHECK_RETENTION_DAYS, 30]) {
      const lastUse = blob!.lastModified.getTime() + (retention - POISON_COPY_DAYS) * DAY + POISON_COPY_DAYS * DAY;
      expect(await pruneClaimChecks(container, retention, lastUse)).toBe(0);
    }
    // And the message still reads whole.
    expect(await drainNotifications(queues.getQueueClient(names.queue), container)).toEqual([item]);
  });

  it('refuses a retention shorter than the poison copy’s 7 days and a week of routing', async () => {
    const container = blobs.getContainerClient(uniqueName('claims'));
    await expect(pruneClaimChecks(container, MIN_CLAIM_CHECK_RETENTION_DAYS - 1)).rejects.toBeInstanceOf(RangeError);
    expect(await pruneClaimChecks(container, MIN_CLAIM_CHECK_RETENTION_DAYS)).toBe(0); // no container yet: nothing to do
  });
});
