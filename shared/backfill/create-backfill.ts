import type { TableClient } from '@azure/data-tables';
import { createQueueServiceClient, createTableClient } from '../config/storage-clients.js';
import type { Settings } from '../config/settings.js';
import type { GraphClient } from '../graph/graph-client.js';
import { createTenantCredentials } from '../graph/tenant-credentials.js';
import { TenantGraphClients } from '../graph/tenant-graph-clients.js';
import type { NotificationProcessor } from '../route/notification-processor.js';
import type { SubscriptionManager } from '../subscriptions/create-subscription-manager.js';
import { ResyncEvents } from '../subscriptions/resync-events.js';
import { BackfillWorker } from './backfill-worker.js';
import { GapDetector } from './gap-detector.js';
import { GapLog } from './gap-log.js';
import { HeartbeatStore } from './heartbeat-store.js';
import { MembershipLog } from './membership-log.js';
import { PieceStore } from './piece-store.js';
import { TenantReadShares } from './tenant-read-shares.js';

/** The backfill's parts: its stores (one Table client, BACKFILL_TABLE), the worker and the detector. */
export interface Backfill {
  readonly gaps: GapLog;
  readonly pieces: PieceStore;
  readonly heartbeat: HeartbeatStore;
  readonly worker: BackfillWorker;
  readonly detector: GapDetector;
}

/** Wires gap detection and backfill from validated settings, on the app's route and subscription parts. */
export function createBackfill(
  settings: Settings,
  processor: NotificationProcessor,
  subscriptions: SubscriptionManager,
  options: { graph?: GraphClient; table?: TableClient; memberships?: MembershipLog; now?: () => number } = {},
): Backfill {
  const table = options.table ?? createTableClient(settings.storage, settings.backfill.table);
  const gaps = new GapLog(table);
  const pieces = new PieceStore(table);
  const heartbeat = new HeartbeatStore(table);
  const memberships = options.memberships ?? new MembershipLog(table);
  const queues = createQueueServiceClient(settings.storage);
  // No waiting inside a piece: a 429 puts the piece back on the queue for after Retry-After instead; a reset
  // connection (a keep-alive socket the server closed) or a 5xx is resent at once, twice at most.
  const graphs = new TenantGraphClients(createTenantCredentials(settings), { baseUrl: settings.graphBaseUrl.href, maxRetries: 2, maxRetryDelayMs: 0 });
  const graphIn = (tenantId: string) => (options.graph && tenantId === graphs.homeTenantId ? options.graph : graphs.forTenant(tenantId));
  const resync = new ResyncEvents(queues.getQueueClient(settings.subscriptionEventsQueue));
  const desired = subscriptions.desired;
  const margin = settings.backfill.marginMinutes * 60_000;
  const worker = new BackfillWorker({
    graphIn,
    gaps,
    pieces,
    queue: queues.getQueueClient(settings.backfill.queue),
    processor,
    records: subscriptions.records,
    desired,
    serves: (tenantId) => subscriptions.tenants.serves(tenantId),
    shares: new TenantReadShares(settings.backfill.readsPerSecond),
    marginBeforeMs: margin,
    marginAfterMs: margin,
    memberships,
    resync: async (gap, note) => {
      const d = desired.byName(gap.name);
      const record = (await subscriptions.records.get(gap.name)) ?? { name: gap.name, resource: d?.resource ?? '', changeTypes: d?.changeTypes.join(',') ?? '', updatedAt: '' };
      await resync.publish({
        reason: 'backfillIncomplete',
        tenantId: d?.tenantId ?? graphs.homeTenantId,
        record,
        subscriptionId: record.subscriptionId ?? '',
        gap: { from: gap.from, to: gap.to },
        note,
      });
    },
    ...(options.now ? { now: options.now } : {}),
  });
  const detector = new GapDetector({
    gaps,
    pieces,
    heartbeat,
    worker,
    desired,
    records: subscriptions.records,
    afterDowntimeSeconds: settings.backfill.afterDowntimeSeconds,
    safetyNetHours: settings.backfill.safetyNetHours,
    ...(options.now ? { now: options.now } : {}),
  });
  return { gaps, pieces, heartbeat, worker, detector };
}
