import type { ContainerClient } from '@azure/storage-blob';
import { DAY_MS, deleteBlobsWrittenBefore } from '../util/delete-old-blobs.js';

/**
 * How long the host's `-poison` copy of a message lives: it is a new message with the same body (the same
 * claim check) and the queue service's default time-to-live of 7 days.
 */
export const POISON_COPY_DAYS = 7;

/**
 * The least CLAIM_CHECK_RETENTION_DAYS: the poison copy's 7 days and 7 more for routing to take the incoming
 * message (see pruneClaimChecks).
 */
export const MIN_CLAIM_CHECK_RETENTION_DAYS = 2 * POISON_COPY_DAYS;

/**
 * Deletes claim-check blobs (NOTIFICATIONS_CONTAINER) last written more than `retentionDays` ago. In Azure
 * the storage account's lifecycle policy deletes them too (infra/modules/storage.bicep, the same number of
 * days); this keeps Azurite, which has no lifecycle management, and a policy-less account within the same bound.
 *
 * Why: the receive path writes the blob before the message that points at it, so a send that fails (the
 * request is answered 503 and Graph retries it with a new blob) leaves a blob no message points at, and the
 * route deletes a blob only once its message is done. A queue cannot be searched for the messages that point
 * at a blob, so blobs expire by age, and that age must exceed the longest a message pointing at one can live:
 * - the incoming message never expires (time-to-live -1): it lives until routing takes it, which finishes it
 *   (and deletes the blob), dead-letters it, or after the host's last attempt (minutes) poisons it;
 * - the host's poison copy points at the same blob and lives POISON_COPY_DAYS at most (the poison mover
 *   moves it to the dead-letter queue within seconds while the app runs);
 * - a dead letter does not point into NOTIFICATIONS_CONTAINER: it keeps its own copy of the content in the
 *   dead-letter container, and replay writes the blob again before it queues the message again (this
 *   prune relies on both).
 * A blob is written before its message is sent (RECEIVE_STORAGE_TIMEOUT_MS at most, seconds), so while a
 * message is queued its blob is at most as old as the message plus those seconds. A message is therefore
 * safe as long as routing takes it within `retentionDays - POISON_COPY_DAYS` days of its arrival: routing
 * waits only while the app (or routeNotifications) is stopped, and a message queued at the start of a
 * longer stop would find its blob gone (it is then dead-lettered `claim_check_missing`). The setting's least
 * value, MIN_CLAIM_CHECK_RETENTION_DAYS, leaves a week; the default of 30 days leaves 23.
 */
export async function pruneClaimChecks(container: ContainerClient, retentionDays: number, now = Date.now()): Promise<number> {
  if (retentionDays < MIN_CLAIM_CHECK_RETENTION_DAYS) throw new RangeError(`Claim-check blobs are kept at least ${MIN_CLAIM_CHECK_RETENTION_DAYS} days, not ${retentionDays}.`);
  return deleteBlobsWrittenBefore(container, now - retentionDays * DAY_MS);
}
