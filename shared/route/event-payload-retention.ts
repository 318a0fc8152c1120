import type { ContainerClient } from '@azure/storage-blob';
import { DAY_MS, deleteBlobsUnder, deleteBlobsWrittenBefore } from '../util/delete-old-blobs.js';

/**
 * Deletes event payload blobs (the `dataref` of events over 64 KiB: decrypted Teams content) last written
 * more than `retentionDays` ago; 0 keeps them forever. In Azure the storage account's lifecycle policy does
 * the same; this keeps a local or policy-less account within the same bound. Returns how many it deleted.
 */
export async function pruneEventPayloads(container: ContainerClient, retentionDays: number, now = Date.now()): Promise<number> {
  if (retentionDays <= 0) return 0;
  return deleteBlobsWrittenBefore(container, now - retentionDays * DAY_MS);
}

/**
 * Deletes a tenant's event payload blobs (`remove --purge`): those under `<tenant id>/` (see
 * eventPayloadBlobName). Returns how many it deleted.
 */
export function deleteTenantEventPayloads(container: ContainerClient, tenantId: string): Promise<number> {
  return deleteBlobsUnder(container, `${tenantId.toLowerCase()}/`);
}
