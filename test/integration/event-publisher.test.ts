import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHES_IN_FLIGHT, QueueEventPublisher } from '../../shared/route/event-publisher.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { azuriteVia, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

const CHAT = '19:burst@thread.v2';
const event = (i: number): TeamsCloudEvent => ({
  specversion: '1.0',
  id: `burst-${i}`,
  source: '/tenants/t',
  type: 'com.microsoft.graph.teams.chatMessage.created',
  subject: `chats('${CHAT}')/messages('${i}')`,
  time: '2026-11-23T10:00:00Z',
  datacontenttype: 'application/json',
  data: { id: String(i) },
  tenantid: 't',
  subscriptionid: 's',
  changetype: 'created',
  kind: 'chatMessage',
  datamode: 'resource',
  chatid: CHAT,
  messageid: String(i),
});

describe('QueueEventPublisher', () => {
  it('keeps a bounded number of sends in flight, so a burst of events reuses its connections instead of opening one per send', async () => {
    const proxy = await startTcpProxy(azurite.ports.queue);
    try {
      const queues = QueueServiceClient.fromConnectionString(azuriteVia(azurite, { queue: proxy.port }));
      const publisher = new QueueEventPublisher(queues, BlobServiceClient.fromConnectionString(azurite.connectionString), uniqueName('events'));
      const queue = uniqueName('burst');
      // A route's burst: several messages' items at once, each event to its queue.
      const results = await Promise.all(Array.from({ length: 4 * PUBLISHES_IN_FLIGHT }, (_, i) => publisher.publish(event(i), [queue])));
      expect(results.filter((r) => r.published.length !== 1)).toEqual([]);
      const landed = await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue).getProperties();
      expect(landed.approximateMessagesCount).toBe(4 * PUBLISHES_IN_FLIGHT);
      // One connection per send in flight at most (the HTTP agent keeps them for the next sends).
      expect(proxy.peakConnections).toBeGreaterThan(0);
      expect(proxy.peakConnections).toBeLessThanOrEqual(PUBLISHES_IN_FLIGHT);
    } finally {
      await proxy.close();
    }
  });
});
