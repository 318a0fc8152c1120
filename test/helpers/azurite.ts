import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { startAzurite, type AzuriteProcess, type StartAzuriteOptions } from '../../tools/azurite/azurite-process.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { isClaimCheck, unpackQueued, type QueueMessageBody, type QueuedBatch, type QueuedNotification } from '../../shared/queue/queued-notification.js';

export { startAzurite, type AzuriteProcess };

/** A fresh folder for Azurite data, removed by the returned cleanup. */
export function tempDir(prefix = 'tcr-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startTestAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteProcess> {
  return startAzurite(options);
}

let counter = 0;
/** A queue name unique to this test run. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase().slice(0, 63);
}

/** Receives (and deletes) every message of a queue, decoding the app's base64 JSON bodies. */
export async function drainQueue(queue: QueueClient): Promise<{ text: string; body: QueueMessageBody }[]> {
  const out: { text: string; body: QueueMessageBody }[] = [];
  if (!(await queue.exists())) return out;
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return out;
    for (const m of receivedMessageItems) {
      out.push({ text: m.messageText, body: decodeJsonMessage<QueueMessageBody>(m.messageText) });
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

/**
 * Receives (and deletes) every message of an incoming queue and returns the notifications they hold, one
 * per item (a v2 message holds a whole request's items), reading claim-check blobs from `claimChecks`.
 */
export async function drainNotifications(queue: QueueClient, claimChecks?: ContainerClient): Promise<QueuedNotification[]> {
  const out: QueuedNotification[] = [];
  for (const { body } of await drainQueue(queue)) {
    if (!isClaimCheck(body)) out.push(...unpackQueued(body));
    else if (!claimChecks) throw new Error(`Unexpected claim check ${body.claimCheck.blob}.`);
    else out.push(...unpackQueued(JSON.parse((await claimChecks.getBlobClient(body.claimCheck.blob).downloadToBuffer()).toString('utf8')) as QueuedBatch));
  }
  return out;
}

export function queueService(azurite: { connectionString: string }): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(azurite.connectionString);
}
