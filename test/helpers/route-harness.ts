import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { BlobServiceClient } from '@azure/storage-blob';
import { readSettings } from '../../shared/config/settings.js';
import type { CertificateStore } from '../../shared/certificates/certificate-store.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { createRecordingLogger } from '../../shared/log.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../../shared/queue/queued-notification.js';
import { StorageNotificationStore } from '../../shared/queue/notification-store.js';
import { createNotificationProcessor } from '../../shared/route/create-notification-processor.js';
import type { DeadLetter } from '../../shared/route/dead-letter.js';
import type { NotificationProcessorOptions } from '../../shared/route/notification-processor.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { encryptResourceData, parseEncryptionCertificate } from '../../dev/graph-simulator/encrypt-resource-data.js';
import { queueService, testAzurite, uniqueName, type AzuriteProcess } from './azurite.js';
import { testEnv, TENANT_A } from './notifications.js';

export const CHAT = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';

/** A chat message payload whose etag and lastModifiedDateTime are its version. */
export const chatMessage = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  etag: id,
  lastModifiedDateTime: '2026-11-22T10:00:00Z',
  body: { contentType: 'text', content: `message ${id}` },
  ...extra,
});

/**
 * For a test file: Azurite, a folder and a local certificate store for the whole file (started in
 * beforeAll, removed in afterAll), and the decrypt-and-route path wired from settings as the app wires it,
 * with queue, table and container names unique to each setup, plus readers for what it wrote.
 */
export function useRouteHarness() {
  let azurite: AzuriteProcess;
  let folder: string;
  let store: LocalCertificateStore;
  beforeAll(async () => {
    azurite = await testAzurite();
    folder = mkdtempSync(join(tmpdir(), 'tcr-route-'));
    store = new LocalCertificateStore(join(folder, 'certs'));
    await store.current();
  });
  afterAll(async () => {
    await azurite?.stop();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });
  return {
    ...routeHarness(
      () => azurite,
      () => store,
      () => folder,
    ),
    azurite: () => azurite,
    dir: () => folder,
    certs: () => store,
  };
}

function routeHarness(azurite: () => AzuriteProcess, certs: () => LocalCertificateStore, dir: () => string) {
  function writeRoutes(content: unknown): string {
    const path = join(dir(), `routes-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(content));
    return path;
  }

  function setup(env: Record<string, string> = {}, connectionString = azurite().connectionString, store: CertificateStore = certs(), memberships?: NotificationProcessorOptions['memberships']) {
    const names = {
      NOTIFICATIONS_QUEUE: uniqueName('in'),
      DEAD_LETTER_QUEUE: uniqueName('dead'),
      DEDUP_TABLE: `dedup${Math.random().toString(36).slice(2, 10)}`,
      NOTIFICATIONS_CONTAINER: uniqueName('claims'),
      EVENTS_CONTAINER: uniqueName('events'),
    };
    const settings = readSettings(testEnv({ AzureWebJobsStorage: connectionString, LOCAL_CERTIFICATE_DIR: join(dir(), 'certs'), ...names, ...env }));
    const processor = createNotificationProcessor(settings, { certificates: store, memberships });
    const logger = createRecordingLogger();
    const service = queueService(azurite());
    return {
      settings,
      logger,
      /** `messageId` is the incoming queue message's id (the same for each retry of one message). */
      process: (message: unknown, messageId?: string) => processor.process(message, { sourceQueue: names.NOTIFICATIONS_QUEUE, logger, ...(messageId ? { messageId } : {}) }),
      events: async (queue: string) => {
        const q = service.getQueueClient(queue);
        if (!(await q.exists())) return [];
        const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 32 });
        return receivedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
      },
      /** Stores queued notifications on this setup's incoming queue as the receive path does (claim checks included). */
      storeIncoming: (items: QueuedNotification[]) =>
        new StorageNotificationStore({
          queueService: service,
          blobService: BlobServiceClient.fromConnectionString(connectionString),
          queues: { change: names.NOTIFICATIONS_QUEUE, lifecycle: uniqueName('life') },
          container: names.NOTIFICATIONS_CONTAINER,
          timeoutMs: 9000,
        }).storeAll(items),
      deadLetters: async () => {
        const q = service.getQueueClient(names.DEAD_LETTER_QUEUE);
        if (!(await q.exists())) return [];
        return (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<DeadLetter>(m.messageText));
      },
    };
  }

  /** A queued change notification for `resource` (a chat message by default), encrypted when a payload is given. */
  async function queuedMessage(payload: Record<string, unknown> | undefined, over: Record<string, unknown> = {}, certificate?: { base64: string; id: string }): Promise<QueuedNotification> {
    const id = typeof payload?.id === 'string' ? payload.id : '1';
    const resource = `chats('${CHAT}')/messages('${id}')`;
    const notification: Record<string, unknown> = {
      subscriptionId: 'sub-1',
      changeType: 'created',
      resource,
      resourceData: { id, '@odata.type': '#Microsoft.Graph.chatMessage', '@odata.id': resource },
      tenantId: TENANT_A,
      ...over,
    };
    if (payload) {
      const current: { base64: string; id: string } =
        certificate ??
        (await certs()
          .current()
          .then((c) => ({ base64: c.certificateBase64, id: c.id })));
      const cert = parseEncryptionCertificate(current.base64, current.id);
      if (typeof cert === 'string') throw new Error(cert);
      notification.encryptedContent = encryptResourceData(payload, cert);
    }
    return { schema: QUEUED_NOTIFICATION_SCHEMA, kind: 'change', receivedAt: new Date().toISOString(), notification: notification as never };
  }

  return { setup, queuedMessage, writeRoutes };
}
