import type { BlobItem, ContainerClient } from '@azure/storage-blob';
import { restStatus } from '../errors.js';

export const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes the blobs of `container` last written before `cutoff` (ms since the epoch): what a storage lifecycle
 * rule `daysAfterModificationGreaterThan` does, for Azurite (which has none) and policy-less accounts. A blob
 * already gone (deleted meanwhile by the app or the policy) and a container not created yet count as nothing
 * to do. Returns how many it deleted.
 */
export function deleteBlobsWrittenBefore(container: ContainerClient, cutoff: number): Promise<number> {
  return deleteBlobs(container, (blob) => blob.properties.lastModified.getTime() < cutoff);
}

/** Deletes every blob of `container` whose name starts with `prefix` (as deleteBlobsWrittenBefore: one gone meanwhile, or no container, is nothing to do). Returns how many. */
export function deleteBlobsUnder(container: ContainerClient, prefix: string): Promise<number> {
  return deleteBlobs(container, () => true, prefix);
}

async function deleteBlobs(container: ContainerClient, selected: (blob: BlobItem) => boolean, prefix?: string): Promise<number> {
  let deleted = 0;
  try {
    for await (const blob of container.listBlobsFlat(prefix ? { prefix } : {})) {
      if (!selected(blob)) continue;
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
