import type { ContainerClient } from '@azure/storage-blob';
import { restStatus } from '../errors.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes event payload blobs (the `dataref` of events over 64 KiB: decrypted Teams content) last written
 * more than `retentionDays` ago; 0 keeps them forever. In Azure the storage account's lifecycle policy does
 * the same; this keeps a local or policy-less account within the same bound. Returns how many it deleted.
 */
export async function pruneEventPayloads(container: ContainerClient, retentionDays: number, now = Date.now()): Promise<number> {
  if (retentionDays <= 0) return 0;
  const cutoff = now - retentionDays * DAY_MS;
  let deleted = 0;
  try {
    for await (const blob of container.listBlobsFlat()) {
      if (blob.properties.lastModified.getTime() >= cutoff) continue;
      if ((await container.deleteBlob(blob.name, { deleteSnapshots: 'include' }).then(() => true, notFound)) === true) deleted++;
    }
  } catch (e) {
    if (restStatus(e) === 404) return deleted; // no container yet
    throw e;
  }
  return deleted;
}

const notFound = (e: unknown) => {
  if (restStatus(e) === 404) return false;
  throw e;
};
