import type { CertificateStore } from '../certificates/certificate-store.js';
import { createBlobServiceClient, createQueueServiceClient, createTableClient } from '../config/storage-clients.js';
import type { Settings, SubscriptionSettings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { createDeadLetterQueue } from '../route/create-notification-processor.js';
import { GraphClient } from '../graph/graph-client.js';
import { createGraphCredential } from '../graph/graph-credential.js';
import type { Logger } from '../log.js';
import { BlobLeaseLock } from './blob-lease-lock.js';
import { checkEndpoints } from './endpoint-check.js';
import { ConfiguredClientStates } from './client-state-fingerprint.js';
import { loadDesiredSubscriptions, type DesiredSubscription } from './desired-subscriptions.js';
import { LifecycleProcessor } from './lifecycle-processor.js';
import { ResyncEvents } from './resync-events.js';
import { SubscriptionRecords } from './subscription-records.js';
import { SubscriptionReconciler } from './subscription-reconciler.js';

export interface SubscriptionManager {
  readonly graph: GraphClient;
  readonly records: SubscriptionRecords;
  readonly reconciler: SubscriptionReconciler;
  readonly lifecycle: LifecycleProcessor;
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

/** Wires the subscription side (Graph client, records, lock, reconciler, lifecycle handling) from settings. */
export function createSubscriptionManager(settings: Settings, certificates: CertificateStore, logger: Logger, options: { graph?: GraphClient; now?: () => number } = {}): SubscriptionManager {
  const client = options.graph ?? new GraphClient({ baseUrl: settings.graphBaseUrl.href, credential: createGraphCredential(settings) });
  const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
  const resync = new ResyncEvents(createQueueServiceClient(settings.storage).getQueueClient(settings.subscriptionEventsQueue));
  const reconciler = new SubscriptionReconciler({
    graph: client,
    certificates,
    records,
    lock: new BlobLeaseLock(createBlobServiceClient(settings.storage).getContainerClient('teams-change-relay-locks'), `${settings.subscriptionsTable}-reconciler`),
    desired: readDesiredSubscriptions(settings),
    notificationUrl: settings.notificationUrl,
    lifecycleUrl: settings.lifecycleUrl,
    clientStates: new ConfiguredClientStates(settings.clientStates),
    resync,
    tenantId: settings.tenantIds[0] ?? '',
    renewWithinMinutes: settings.renewWithinMinutes,
    deleteUndesired: settings.deleteUndesiredSubscriptions,
    endpointCheck: settings.checkEndpointsBeforeCreate
      ? { run: () => checkEndpoints({ GRAPH_NOTIFICATION_URL: settings.notificationUrl, GRAPH_LIFECYCLE_URL: settings.lifecycleUrl }) }
      : { off: ENDPOINT_CHECK_OFF },
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  const lifecycle = new LifecycleProcessor({
    graph: client,
    records,
    reconciler,
    resync,
    deadLetters: createDeadLetterQueue(settings),
    sourceQueue: settings.lifecycleQueue,
  });
  return { graph: client, records, reconciler, lifecycle };
}
