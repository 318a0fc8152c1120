import { DefaultAzureCredential } from '@azure/identity';
import type { CertificateStore } from '../certificates/certificate-store.js';
import { KeyVaultCertificateStore } from '../certificates/key-vault-certificate-store.js';
import { LocalCertificateStore } from '../certificates/local-certificate-store.js';
import { createBlobServiceClient, createQueueServiceClient, createTableClient, STORAGE_RETRY } from '../config/storage-clients.js';
import type { CertificateSettings, ReceiveSettings, RouteSettings, StorageSettings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { pruneClaimChecks } from '../queue/claim-check-retention.js';
import type { Cleanup } from '../util/run-cleanups.js';
import { isLoopbackUrl } from '../util/loopback-url.js';
import { DeadLetterQueue } from './dead-letter.js';
import { pruneEventPayloads } from './event-payload-retention.js';
import { PoisonMover } from './poison-mover.js';
import type { ResourceHydrator } from './resource-hydrator.js';
import { QueueEventPublisher } from './event-publisher.js';
import { NotificationProcessor, type NotificationProcessorOptions } from './notification-processor.js';
import { TableRoutedEventLog } from './routed-event-log.js';
import { loadRoutingTable, RoutingTable } from './routing-table.js';

export function createCertificateStore(settings: CertificateSettings): CertificateStore {
  const c = settings.certificates;
  if (c.kind === 'local') return new LocalCertificateStore(c.folder);
  return new KeyVaultCertificateStore({
    vaultUrl: c.vaultUrl,
    certificateName: c.certificateName,
    credential: new DefaultAzureCredential(c.clientId ? { managedIdentityClientId: c.clientId } : {}),
    // Key Vault's challenge names https://vault.azure.net, which the SDK checks against the vault's host: a local
    // stand-in (loopback, never a real vault) cannot pass that check, and is the only vault it is skipped for.
    ...(isLoopbackUrl(c.vaultUrl) ? { clientOptions: { disableChallengeResourceVerification: true } } : {}),
  });
}

/** Reads the routing file once; a bad one stops start-up with a message naming each mistake. */
export function createRoutingTable(settings: Pick<RouteSettings, 'routesFile'>): RoutingTable {
  if (!settings.routesFile) return new RoutingTable();
  try {
    return loadRoutingTable(settings.routesFile);
  } catch (e) {
    throw new ConfigError([(e as Error).message]);
  }
}

/** The de-duplication log in Table storage. */
export function createRoutedEventLog(settings: StorageSettings & RouteSettings): TableRoutedEventLog {
  return new TableRoutedEventLog(createTableClient(settings.storage, settings.dedupTable), { windowMs: settings.dedupWindowMinutes * 60_000 });
}

/**
 * The route's daily clean-ups: de-duplication records past their window, event payload blobs and claim-check
 * blobs past their retention (in Azure the lifecycle policy deletes both kinds of blob too; running these
 * there as well costs a listing a day and keeps an account without the policy within the same bounds).
 */
export function createRouteCleanups(
  settings: StorageSettings & RouteSettings & Pick<ReceiveSettings, 'notificationsContainer' | 'claimCheckRetentionDays'>,
  routedLog: TableRoutedEventLog = createRoutedEventLog(settings),
): Cleanup[] {
  const blobs = createBlobServiceClient(settings.storage);
  const payloads = blobs.getContainerClient(settings.eventsContainer);
  const claimChecks = blobs.getContainerClient(settings.notificationsContainer);
  return [
    { event: 'dedup.pruned', run: async () => ({ dedupRecords: await routedLog.prune() }) },
    { event: 'payloads.pruned', run: async () => ({ payloadBlobs: await pruneEventPayloads(payloads, settings.eventPayloadRetentionDays) }) },
    { event: 'claim_checks.pruned', run: async () => ({ claimCheckBlobs: await pruneClaimChecks(claimChecks, settings.claimCheckRetentionDays) }) },
  ];
}

/** The dead-letter queue, with its container for letters too large for a message. */
export function createDeadLetterQueue(settings: StorageSettings & Pick<RouteSettings, 'deadLetterQueue' | 'deadLetterContainer'>): DeadLetterQueue {
  return new DeadLetterQueue(createQueueServiceClient(settings.storage).getQueueClient(settings.deadLetterQueue), createBlobServiceClient(settings.storage), settings.deadLetterContainer);
}

/** Moves the host's poison messages into the dead-letter queue. */
export function createPoisonMover(settings: StorageSettings & RouteSettings): PoisonMover {
  return new PoisonMover(createDeadLetterQueue(settings));
}

/** Wires the decrypt-and-route path with its real parts from validated settings. */
/** What a notification processor is built with besides its settings; each part left out is built from them (or left out). */
export interface NotificationProcessorParts {
  readonly certificates?: CertificateStore;
  readonly routedLog?: TableRoutedEventLog;
  readonly hydrator?: ResourceHydrator;
  /** Where each subscription's last delivery is recorded (the gap log). */
  readonly deliveries?: NotificationProcessorOptions['deliveries'];
  readonly memberships?: NotificationProcessorOptions['memberships'];
  readonly gapRequests?: NotificationProcessorOptions['gapRequests'];
  /** The tenants served (the tenant registry's): a notification of a tenant removed since it was queued is dropped. */
  readonly serves?: NotificationProcessorOptions['serves'];
}

export function createNotificationProcessor(
  settings: StorageSettings & Pick<ReceiveSettings, 'notificationsContainer'> & RouteSettings & CertificateSettings,
  parts: NotificationProcessorParts = {},
): NotificationProcessor {
  const { hydrator, deliveries, memberships, gapRequests, serves } = parts;
  const queues = createQueueServiceClient(settings.storage, STORAGE_RETRY.message);
  const blobs = createBlobServiceClient(settings.storage, STORAGE_RETRY.message);
  return new NotificationProcessor({
    certificates: parts.certificates ?? createCertificateStore(settings),
    routes: createRoutingTable(settings),
    publisher: new QueueEventPublisher(queues, blobs, settings.eventsContainer, { timeToLiveSeconds: settings.eventTtlSeconds }),
    routedLog: parts.routedLog ?? createRoutedEventLog(settings),
    deadLetters: new DeadLetterQueue(queues.getQueueClient(settings.deadLetterQueue), blobs, settings.deadLetterContainer),
    claimChecks: blobs.getContainerClient(settings.notificationsContainer),
    ...(hydrator ? { hydrator } : {}),
    ...(deliveries ? { deliveries } : {}),
    ...(memberships ? { memberships } : {}),
    ...(gapRequests ? { gapRequests } : {}),
    ...(serves ? { serves } : {}),
  });
}
