import type { QueueServiceClient } from '@azure/storage-queue';
import { DeliveryLog } from '../backfill/delivery-log.js';
import { GapLog } from '../backfill/gap-log.js';
import { storeSelfChecks } from '../health/create-self-checks.js';
import { HealthStore } from '../health/health-store.js';
import { createQueueServiceClient, createTableClient, STORAGE_RETRY } from '../config/storage-clients.js';
import type { Settings } from '../config/settings.js';
import { TableMetrics } from '../metrics/table-metrics.js';
import { appQueues } from '../queue/app-queues.js';
import { decodeJsonMessage } from '../queue/json-message.js';
import { messageCount } from '../queue/message-count.js';
import { oldestMessageAgeSeconds } from '../queue/oldest-message-age.js';
import { createRoutingTable } from '../route/create-notification-processor.js';
import { ConfiguredClientStates, describeClientStateUse } from '../subscriptions/client-state-fingerprint.js';
import { readDesiredSubscriptions } from '../subscriptions/create-subscription-manager.js';
import { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { TenantDesiredSubscriptions } from '../subscriptions/tenant-desired-subscriptions.js';
import { TenantDirectory } from '../tenants/tenant-directory.js';
import { TenantRegistry } from '../tenants/tenant-registry.js';
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

/** The health table of these settings (checkHealth writes it; status reads it). */
export const createHealthStore = (settings: Settings) => new HealthStore(createTableClient(settings.storage, settings.health.table));

/** The relay's own stores as the status and the self-checks read them, one client each (queues with the status's short retries). */
export function createStatusStores(settings: Settings, options: { metrics?: Pick<TableMetrics, 'read'> } = {}) {
  const backfillTable = createTableClient(settings.storage, settings.backfill.table);
  const tenants = new TenantDirectory({ configured: settings.tenantIds, registry: new TenantRegistry(createTableClient(settings.storage, settings.tenants.table)) });
  return {
    queues: createQueueServiceClient(settings.storage, STORAGE_RETRY.status),
    tenants,
    desired: new TenantDesiredSubscriptions(readDesiredSubscriptions(settings), tenants),
    records: new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable)),
    deliveries: new DeliveryLog(backfillTable),
    gaps: new GapLog(backfillTable),
    metrics: options.metrics ?? createTableMetrics(settings),
    selfChecks: createHealthStore(settings),
    owned: appQueues(settings, createRoutingTable(settings).queues),
  };
}

/**
 * A function that gathers the status snapshot from the storage these settings name; reads only (the
 * self-checks that read only storage run on each call; the others' last results come from HEALTH_TABLE).
 */
export function createStatusReader(settings: Settings, options: { metrics?: Pick<TableMetrics, 'read'> } = {}): () => Promise<StatusSnapshot> {
  const stores = createStatusStores(settings, options);
  const clientStates = new ConfiguredClientStates(settings.clientStates);
  const liveChecks = storeSelfChecks(settings, stores);
  return () =>
    gatherStatus({
      desired: stores.desired,
      tenants: stores.tenants,
      records: stores.records,
      clientStateOf: (r) => (r.subscriptionId ? describeClientStateUse(clientStates.useOf(r.clientStateFingerprint ? { fingerprint: r.clientStateFingerprint } : {})) : undefined),
      deliveries: stores.deliveries,
      queues: stores.owned,
      messageCount: (name) => messageCount(stores.queues.getQueueClient(name)),
      oldestMessageAge: (name) => oldestMessageAgeSeconds(stores.queues.getQueueClient(name)),
      peekDeadLetterReasons: () => peekReasons(stores.queues, settings.deadLetterQueue),
      deadLetterQueue: settings.deadLetterQueue,
      metrics: stores.metrics,
      selfChecks: stores.selfChecks,
      liveChecks,
      queueAgeMinutes: settings.health.queueAgeMinutes,
    });
}
