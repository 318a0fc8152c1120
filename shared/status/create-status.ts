import type { QueueServiceClient } from '@azure/storage-queue';
import { DeliveryLog } from '../backfill/delivery-log.js';
import { createQueueServiceClient, createTableClient, STORAGE_RETRY } from '../config/storage-clients.js';
import type { Settings } from '../config/settings.js';
import { TableMetrics } from '../metrics/table-metrics.js';
import { appQueues } from '../queue/app-queues.js';
import { decodeJsonMessage } from '../queue/json-message.js';
import { messageCount } from '../queue/message-count.js';
import { createRoutingTable } from '../route/create-notification-processor.js';
import { ConfiguredClientStates, describeClientStateUse } from '../subscriptions/client-state-fingerprint.js';
import { readDesiredSubscriptions } from '../subscriptions/create-subscription-manager.js';
import { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { gatherStatus, type StatusSnapshot } from './status-snapshot.js';
import { restStatus as status } from '../errors.js';

/** The metrics table of these settings (the app writes it; status reads it). */
export function createTableMetrics(settings: Settings, options: ConstructorParameters<typeof TableMetrics>[1] = {}): TableMetrics {
  return new TableMetrics(createTableClient(settings.storage, settings.metrics.table), options);
}

async function peekReasons(queues: QueueServiceClient, name: string): Promise<string[]> {
  try {
    const peeked = await queues.getQueueClient(name).peekMessages({ numberOfMessages: 32 });
    return peeked.peekedMessageItems.map((m) => {
      try {
        const reason = decodeJsonMessage<{ reason?: unknown }>(m.messageText).reason;
        return typeof reason === 'string' ? reason : 'unknown';
      } catch {
        return 'unreadable';
      }
    });
  } catch (e) {
    if (status(e) === 404) return [];
    throw e;
  }
}

/** A function that gathers the status snapshot from the storage these settings name; reads only. */
export function createStatusReader(settings: Settings, options: { metrics?: Pick<TableMetrics, 'read'> } = {}): () => Promise<StatusSnapshot> {
  const queues = createQueueServiceClient(settings.storage, STORAGE_RETRY.status);
  const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
  const deliveries = new DeliveryLog(createTableClient(settings.storage, settings.backfill.table));
  const clientStates = new ConfiguredClientStates(settings.clientStates);
  const desired = readDesiredSubscriptions(settings);
  const metrics = options.metrics ?? createTableMetrics(settings);
  const owned = appQueues(settings, createRoutingTable(settings).queues);
  return () =>
    gatherStatus({
      desired,
      records,
      clientStateOf: (r) => (r.subscriptionId ? describeClientStateUse(clientStates.useOf(r.clientStateFingerprint ? { fingerprint: r.clientStateFingerprint } : {})) : undefined),
      deliveries,
      queues: owned,
      messageCount: (name) => messageCount(queues.getQueueClient(name)),
      peekDeadLetterReasons: () => peekReasons(queues, settings.deadLetterQueue),
      deadLetterQueue: settings.deadLetterQueue,
      metrics,
    });
}
