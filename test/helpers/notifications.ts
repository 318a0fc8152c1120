import { randomUUID } from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import { encodeJsonMessage } from '../../shared/queue/json-message.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../../shared/queue/queued-notification.js';

export const TENANT_A = '11111111-1111-4111-8111-111111111111';
export const TENANT_B = '33333333-3333-4333-8333-333333333333';
export const TENANT_OTHER = '44444444-4444-4444-8444-444444444444';
export const APP_ID = '22222222-2222-4222-8222-222222222222';
export const CLIENT_STATE = 'test-client-state-0123456789';
export const OLD_CLIENT_STATE = 'previous-client-state-abcdef';

/** A change notification without resource data, as Graph sends it for /chats/{id}/messages. */
export function changeNotification(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const chatId = '19:7b1e4c3a9f@thread.v2';
  const messageId = String(Date.now()) + Math.floor(Math.random() * 1000);
  return {
    id: randomUUID(),
    subscriptionId: randomUUID(),
    subscriptionExpirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    changeType: 'created',
    clientState: CLIENT_STATE,
    resource: `chats('${chatId}')/messages('${messageId}')`,
    resourceData: {
      id: messageId,
      '@odata.type': '#Microsoft.Graph.chatMessage',
      '@odata.id': `chats('${chatId}')/messages('${messageId}')`,
    },
    tenantId: TENANT_A,
    ...overrides,
  };
}

/** A notification with (opaque) encrypted resource data; the receive path checks tokens, not content. */
export function encryptedNotification(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return changeNotification({
    encryptedContent: {
      data: Buffer.from('ciphertext-' + randomUUID()).toString('base64'),
      dataKey: Buffer.from('wrapped-key').toString('base64'),
      dataSignature: Buffer.from('signature').toString('base64'),
      encryptionCertificateId: 'relay-cert-v1',
      encryptionCertificateThumbprint: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01',
    },
    ...overrides,
  });
}

export function lifecycleNotification(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subscriptionId: randomUUID(),
    subscriptionExpirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
    tenantId: TENANT_A,
    clientState: CLIENT_STATE,
    lifecycleEvent: 'reauthorizationRequired',
    ...overrides,
  };
}

/** The settings a test receiver runs with (environment variables, as in Azure). */
export function testEnv(overrides: Record<string, string>): Record<string, string> {
  return {
    GRAPH_CLIENT_STATE: CLIENT_STATE,
    GRAPH_APP_ID: APP_ID,
    GRAPH_TENANT_IDS: `${TENANT_A},${TENANT_B}`,
    CERTIFICATE_STORE: 'local',
    ...overrides,
  };
}

/**
 * Puts on an incoming queue a notification as the receive function queues it, encrypted to a certificate
 * the app does not have: no retry can decrypt it, so the route function dead-letters it (`unknown_certificate`).
 */
export async function queueUndecryptableNotification(queue: QueueClient): Promise<void> {
  await queue.createIfNotExists();
  await queue.sendMessage(
    encodeJsonMessage({
      schema: QUEUED_NOTIFICATION_SCHEMA,
      kind: 'change',
      receivedAt: new Date().toISOString(),
      notification: {
        subscriptionId: '00000000-0000-4000-8000-00000000dead',
        changeType: 'created',
        resource: "chats('19:x@thread.v2')/messages('1')",
        tenantId: TENANT_A,
        encryptedContent: { data: 'AAAA', dataKey: 'AAAA', dataSignature: 'AAAA', encryptionCertificateId: 'no-such-certificate' },
      },
    }),
  );
}
