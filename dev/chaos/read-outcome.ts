import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import { decryptResourceData, type EncryptedResourceData } from '../../shared/certificates/decrypt-resource-data.js';
import type { CertificateStore } from '../../shared/certificates/certificate-store.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { isClaimCheck, isQueueMessageBody, unpackQueued, type QueueMessageBody } from '../../shared/queue/queued-notification.js';
import { readDeadLetter } from '../../shared/route/dead-letter.js';
import { parseResourcePath } from '../../shared/route/resource-path.js';
import { DEAD_LETTER_QUEUES, EVENT_QUEUES } from './chaos-config.js';
import type { FoundEvent } from './ledger.js';

/** Every downstream event (received without deleting: the run is over). */
export async function readEvents(queues: QueueServiceClient): Promise<FoundEvent[]> {
  const out: FoundEvent[] = [];
  for (const name of EVENT_QUEUES) {
    for (const text of await readAll(queues, name)) {
      const e = decodeJsonMessage<{ tenantid: string; subject: string; changetype: string; kind: string; time: string; data?: Record<string, unknown>; backfilled?: boolean }>(text);
      out.push({ tenantId: e.tenantid, subject: e.subject, changeType: e.changetype, kind: e.kind, version: versionOf(e.kind, e.data), timeMs: Date.parse(e.time), backfilled: e.backfilled === true });
    }
  }
  return out;
}

/** The version of a resource as the ledger compares it: a chat's lastUpdatedDateTime, a message's etag (or its last change as ms); none for a membership. */
function versionOf(kind: string, data: Record<string, unknown> | undefined): string | null {
  if (!data) return null;
  const s = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  if (kind === 'chat') return s(data.lastUpdatedDateTime) ?? null;
  if (kind === 'chatMember') return null;
  return s(data.etag) ?? s(data['@odata.etag']) ?? (s(data.lastModifiedDateTime) ? String(Date.parse(s(data.lastModifiedDateTime)!)) : null);
}

/** Every message of a queue, received (hidden for an hour) without deleting. */
async function readAll(queues: QueueServiceClient, name: string): Promise<string[]> {
  const q = queues.getQueueClient(name);
  if (!(await q.exists())) return [];
  const texts: string[] = [];
  for (;;) {
    const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 3600 });
    if (receivedMessageItems.length === 0) return texts;
    texts.push(...receivedMessageItems.map((m) => m.messageText));
  }
}

/** What the dead-letter and poison queues hold, decrypted with the run's certificates (`store`) where possible. */
export async function readDeadLetters(queues: QueueServiceClient, blobs: BlobServiceClient, store: Pick<CertificateStore, 'decryptionKey'>): Promise<Omit<FoundEvent, 'timeMs' | 'backfilled'>[]> {
  const out: Omit<FoundEvent, 'timeMs' | 'backfilled'>[] = [];
  for (const name of DEAD_LETTER_QUEUES) {
    for (const text of await readAll(queues, name)) {
      // A dead letter's original (its own blob read when large; the copy of the blob a claim check refers to), or a poison message.
      const letter = (await readDeadLetter(blobs, text))?.letter;
      let body: QueueMessageBody;
      try {
        body = letter?.referencedBlob ? (JSON.parse(letter.referencedBlob.content) as QueueMessageBody) : decodeJsonMessage<QueueMessageBody>(letter?.originalMessage ?? text);
      } catch {
        continue;
      }
      // A poisoned v2 message holds a whole Graph request: each of its items counts.
      const items = isQueueMessageBody(body) && !isClaimCheck(body) ? unpackQueued(body) : [];
      for (const item of items) {
        if (!item.notification.resource) continue;
        const n = item.notification as { tenantId?: string; resource: string; changeType: string; encryptedContent?: EncryptedResourceData & { encryptionCertificateId: string } };
        let version: string | null = null;
        const kind = parseResourcePath(n.resource)?.kind ?? 'chat';
        if (n.encryptedContent) {
          const key = await store.decryptionKey(n.encryptedContent.encryptionCertificateId).catch(() => undefined);
          if (key) {
            try {
              version = versionOf(kind, decryptResourceData(n.encryptedContent, key) as Record<string, unknown>);
            } catch {
              version = null;
            }
          }
        }
        out.push({ ...(n.tenantId ? { tenantId: n.tenantId } : {}), subject: n.resource, changeType: n.changeType, kind, version });
      }
    }
  }
  return out;
}
