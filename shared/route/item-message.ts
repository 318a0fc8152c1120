import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import { encodeJsonMessage } from '../queue/json-message.js';
import { MAX_QUEUE_MESSAGE_CHARS, QUEUED_NOTIFICATION_SCHEMA, type QueuedClaimCheck, type QueuedNotification } from '../queue/queued-notification.js';
import { uploadJson } from '../queue/storage-writes.js';

/**
 * One item of a queued batch as the text of a v1 message of its own (what its dead letter keeps, and replay
 * puts back): the item itself, or, when too large for a queue message, a claim check of a new blob of
 * `claimChecks` holding it.
 */
export async function itemMessageText(item: QueuedNotification, claimChecks: ContainerClient): Promise<string> {
  const text = encodeJsonMessage(item);
  if (text.length <= MAX_QUEUE_MESSAGE_CHARS) return text;
  const json = JSON.stringify(item);
  const blob = `${item.receivedAt.slice(0, 10)}/${randomUUID()}.json`;
  await uploadJson(claimChecks, blob, json);
  const ref: QueuedClaimCheck = {
    schema: QUEUED_NOTIFICATION_SCHEMA,
    kind: item.kind,
    receivedAt: item.receivedAt,
    claimCheck: { container: claimChecks.containerName, blob, bytes: Buffer.byteLength(json) },
  };
  return encodeJsonMessage(ref);
}
