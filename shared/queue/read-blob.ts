import type { BlobClient } from '@azure/storage-blob';

/**
 * A blob's whole content in one GET. The SDK's `downloadToBuffer` asks for the size first (HEAD) and then
 * for that many bytes (ranged GET): a blob replaced in between comes back as the new content cut to the
 * old length (a status blob rewritten by a timer read as broken JSON), and every read costs two storage
 * operations. One GET returns one version of the blob, whole, for one operation.
 */
export async function readBlob(blob: BlobClient, abortSignal?: AbortSignal): Promise<Buffer> {
  const response = await blob.download(0, undefined, { abortSignal });
  const body = response.readableStreamBody;
  if (!body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
