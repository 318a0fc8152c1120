import { createBlobServiceClient, createQueueServiceClient, receiveRetry } from '../config/storage-clients.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ReceiveSettings, StorageSettings } from '../config/settings.js';
import { notificationQueueNames } from '../queue/notification-queues.js';
import { StorageNotificationStore } from '../queue/notification-store.js';
import { ClientStateVerifier } from './client-state.js';
import { JWKS_FETCH_TIMEOUT_MS } from './answer-budget.js';
import { remoteKeySet } from './remote-key-set.js';
import { NotificationReceiver, type TenantAllowList } from './notification-receiver.js';
import { StorageOutageWatch } from './storage-outage-watch.js';
import { ValidationTokenVerifier } from './validation-tokens.js';

/**
 * Wires the receive path with its real parts from validated settings: Azure Storage clients with bounded
 * retries, the remote JWKS (cached, refreshed on unknown key ids at most once per cooldown), the clientState
 * secrets.
 */
export function createNotificationReceiver(
  settings: StorageSettings & ReceiveSettings,
  options: { onStorageLoss?: (from: Date, to: Date) => Promise<unknown>; metrics?: Metrics; now?: () => number; tenants?: TenantAllowList; deadlineMs?: number } = {},
): NotificationReceiver {
  const retryOptions = receiveRetry(settings.storageTimeoutMs);
  const store = new StorageNotificationStore({
    queueService: createQueueServiceClient(settings.storage, retryOptions),
    blobService: createBlobServiceClient(settings.storage, retryOptions),
    queues: { change: notificationQueueNames(settings), lifecycle: settings.lifecycleQueue },
    container: settings.notificationsContainer,
    timeoutMs: settings.storageTimeoutMs,
  });
  // The tenant registry's served tenants when the app gives them (createApp); else GRAPH_TENANT_IDS alone.
  const tenantIds: TenantAllowList = options.tenants ?? new Set(settings.tenantIds);
  // jose refetches the key set on an unknown kid at most once per cooldown (forged kids cannot make it
  // hammer the endpoint) and every cacheMaxAge (10 minutes) regardless.
  const jwksCooldownMs = 30_000;
  return new NotificationReceiver({
    clientState: new ClientStateVerifier(settings.clientStates),
    tokens: new ValidationTokenVerifier({
      appId: settings.appId,
      tenantIds,
      getKey: remoteKeySet(settings.jwksUrl, { timeoutMs: JWKS_FETCH_TIMEOUT_MS, cooldownMs: jwksCooldownMs }),
    }),
    unknownKeyRetryAfterSeconds: jwksCooldownMs / 1000,
    store,
    tenantIds,
    maxBodyBytes: settings.maxBodyBytes,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.deadlineMs !== undefined ? { deadlineMs: options.deadlineMs } : {}),
    ...(options.onStorageLoss ? { outages: new StorageOutageWatch({ onLoss: options.onStorageLoss }) } : {}),
  });
}
