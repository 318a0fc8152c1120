import type { ContainerClient } from '@azure/storage-blob';
import { restStatus } from '../errors.js';
import { hasReadableGaps, isClaimCheck, isQueueMessageBody, QUEUED_BATCH_SCHEMA, QUEUED_NOTIFICATION_SCHEMA, type QueuedBatch, type QueuedNotification } from '../queue/queued-notification.js';
import { readBlob } from '../queue/read-blob.js';
import { PermanentFailure } from './dead-letter-reason.js';

/**
 * The content of a message of the incoming queue (the queue trigger's value), its claim-check blob read from
 * `claimChecks`: one notification (v1) or one request's items (v2). Throws PermanentFailure for a message
 * that is none of these, or whose blob is gone or not JSON; a storage failure reading the blob throws as it is.
 */
export async function resolveQueued(message: unknown, claimChecks: ContainerClient): Promise<QueuedNotification | QueuedBatch> {
  if (!isQueueMessageBody(message)) {
    throw new PermanentFailure('malformed_message', `The message is not a ${QUEUED_NOTIFICATION_SCHEMA} or ${QUEUED_BATCH_SCHEMA} message.`);
  }
  let body: QueuedNotification | QueuedBatch;
  if (!isClaimCheck(message)) body = message;
  else {
    try {
      const blob = await readBlob(claimChecks.getBlobClient(message.claimCheck.blob));
      body = JSON.parse(blob.toString('utf8')) as QueuedNotification | QueuedBatch;
    } catch (e) {
      if (restStatus(e) === 404) throw new PermanentFailure('claim_check_missing', `Claim-check blob ${message.claimCheck.blob} does not exist.`);
      if (e instanceof SyntaxError) throw new PermanentFailure('malformed_message', `Claim-check blob ${message.claimCheck.blob} is not JSON.`);
      throw e;
    }
  }
  if (body.schema === QUEUED_BATCH_SCHEMA && !Array.isArray(body.items)) throw new PermanentFailure('malformed_message', 'A queued batch without items.');
  if (body.schema === QUEUED_BATCH_SCHEMA && !hasReadableGaps(body)) throw new PermanentFailure('malformed_message', 'A queued batch whose gaps are not gap requests.');
  return body;
}
