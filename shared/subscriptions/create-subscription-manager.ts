import type { CertificateStore } from '../certificates/certificate-store.js';
import { createBlobServiceClient, createQueueServiceClient, createTableClient } from '../config/storage-clients.js';
import type { Settings, SubscriptionSettings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createDeadLetterQueue } from '../route/create-notification-processor.js';
import { GraphClient } from '../graph/graph-client.js';
import { createTenantCredentials } from '../graph/tenant-credentials.js';
import { TenantGraphClients } from '../graph/tenant-graph-clients.js';
import { TenantDirectory } from '../tenants/tenant-directory.js';
import { TenantRegistry } from '../tenants/tenant-registry.js';
import type { Logger } from '../log.js';
import { BlobLeaseLock } from './blob-lease-lock.js';
import { checkEndpoints } from './endpoint-check.js';
import { ConfiguredClientStates } from './client-state-fingerprint.js';
import { loadDesiredSubscriptions, type DesiredSubscription } from './desired-subscriptions.js';
import { LifecycleProcessor } from './lifecycle-processor.js';
import { ResyncEvents } from './resync-events.js';
import { SubscriptionRecords } from './subscription-records.js';
import { SubscriptionReconciler } from './subscription-reconciler.js';
import type { EndpointCheck } from './pre-create-check.js';
import { TenantDesiredSubscriptions, type DesiredSubscriptionSource } from './tenant-desired-subscriptions.js';
import { TenantReconcilers, type TenantRunObserver } from './tenant-reconcilers.js';

export interface SubscriptionManager {
  /** The Graph client of the app's own tenant. */
  readonly graph: GraphClient;
  /** A Graph client per tenant. */
  readonly graphs: TenantGraphClients;
  readonly records: SubscriptionRecords;
  readonly reconciler: TenantReconcilers;
  readonly lifecycle: LifecycleProcessor;
  /** The tenants served (GRAPH_TENANT_IDS and the registry's). */
  readonly tenants: TenantDirectory;
  readonly registry: TenantRegistry;
  /** The desired subscriptions applied to each served tenant. */
  readonly desired: DesiredSubscriptionSource;
}

/** Reads the desired-subscriptions file once; a bad one stops start-up with each mistake named. */
export function readDesiredSubscriptions(settings: Pick<SubscriptionSettings, 'subscriptionsFile'>): DesiredSubscription[] {
  if (!settings.subscriptionsFile) return [];
  try {
    return loadDesiredSubscriptions(settings.subscriptionsFile);
  } catch (e) {
    throw new ConfigError([(e as Error).message]);
  }
}

/** Why the pre-create check is off: logged, so that an operator sees creations go to Graph unchecked. */
const ENDPOINT_CHECK_OFF =
  "SUBSCRIPTIONS_CHECK_ENDPOINTS=false (set with the Bicep's restrictToGraph, whose access restrictions refuse the app's own calls to its public URLs): Graph's validation handshake on create is the only check of GRAPH_NOTIFICATION_URL and GRAPH_LIFECYCLE_URL";

/** Wires the subscription side (Graph clients, records, per-tenant reconcilers, lifecycle handling) from settings. */
export function createSubscriptionManager(
  settings: Settings,
  certificates: CertificateStore,
  logger: Logger,
  options: { graph?: GraphClient; now?: () => number; observer?: TenantRunObserver } = {},
): SubscriptionManager {
  const graphs = new TenantGraphClients(createTenantCredentials(settings), { baseUrl: settings.graphBaseUrl.href });
  const home = graphs.homeTenantId;
  const graphIn = (tenantId: string) => (options.graph && tenantId === home ? options.graph : graphs.forTenant(tenantId));
  const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
  const resync = new ResyncEvents(createQueueServiceClient(settings.storage).getQueueClient(settings.subscriptionEventsQueue));
  const registry = new TenantRegistry(createTableClient(settings.storage, settings.tenants.table));
  const tenants = new TenantDirectory({ configured: settings.tenantIds, registry, ...(options.now ? { now: options.now } : {}) });
  const desired = new TenantDesiredSubscriptions(readDesiredSubscriptions(settings), tenants);
  const locks = createBlobServiceClient(settings.storage).getContainerClient('teams-change-relay-locks');
  const clientStates = new ConfiguredClientStates(settings.clientStates);
  const endpointCheck: EndpointCheck = settings.checkEndpointsBeforeCreate
    ? { run: () => checkEndpoints({ GRAPH_NOTIFICATION_URL: settings.notificationUrl, GRAPH_LIFECYCLE_URL: settings.lifecycleUrl }) }
    : { off: ENDPOINT_CHECK_OFF };
  const reconciler = new TenantReconcilers({
    desired,
    servedTenants: () => tenants.served,
    ...(options.observer ? { observer: options.observer } : {}),
    logger,
    make: (tenantId, entries) =>
      new SubscriptionReconciler({
        graph: graphIn(tenantId),
        certificates,
        records,
        // One lease per tenant: tenants reconcile side by side. The home tenant keeps the lease it always had.
        lock: new BlobLeaseLock(locks, tenantId === home ? `${settings.subscriptionsTable}-reconciler` : `${settings.subscriptionsTable}-reconciler-${tenantId}`),
        desired: entries,
        notificationUrl: settings.notificationUrl,
        lifecycleUrl: settings.lifecycleUrl,
        clientStates,
        resync,
        tenantId,
        renewWithinMinutes: settings.renewWithinMinutes,
        deleteUndesired: settings.deleteUndesiredSubscriptions,
        endpointCheck,
        // Read again once the lease is held: `remove` may have offboarded the tenant while this run waited.
        stillServed: async () => {
          await tenants.refresh({ force: true }).catch(() => undefined);
          return tenants.has(tenantId);
        },
        logger,
        ...(options.now ? { now: options.now } : {}),
      }),
  });
  const lifecycle = new LifecycleProcessor({
    graphIn,
    records,
    reconciler,
    resync,
    deadLetters: createDeadLetterQueue(settings),
    sourceQueue: settings.lifecycleQueue,
  });
  return { graph: graphIn(home), graphs, records, reconciler, lifecycle, tenants, registry, desired };
}
