import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { BlobClient, BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBlob } from '../../shared/queue/read-blob.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

describe('readBlob', () => {
  it('reads a blob that is being rewritten as one whole version (old or new), never one cut to the other’s length, in one request', async () => {
    const requests: string[] = [];
    const policy: PipelinePolicy = { name: 'count-requests', sendRequest: (req, next) => (requests.push(req.method), next(req)) };
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(uniqueName('read-blob'));
    await container.create();
    const blob = container.getBlockBlobClient('status');
    // The pipeline passes core-client's additionalPolicies through (StoragePipelineOptions does not declare them).
    const counting = { retryOptions: { maxTries: 1 }, additionalPolicies: [{ policy, position: 'perCall' as const }] };
    const counted = new BlobClient(azurite.connectionString, container.containerName, 'status', counting);
    // Two versions of different lengths, as a timer's status before and after its first run.
    const versions = [JSON.stringify({ Last: '2026-11-23T17:00:00+00:00' }), JSON.stringify({ Last: '2026-11-23T20:07:31.456+00:00', Next: '2026-11-23T21:00:00+00:00' })];
    await blob.upload(versions[0]!, versions[0]!.length);

    requests.length = 0;
    expect((await readBlob(counted)).toString('utf8')).toBe(versions[0]);
    expect(requests).toEqual(['GET']);

    let writing = true;
    const writer = (async () => {
      for (let i = 1; writing; i++) await blob.upload(versions[i % 2]!, versions[i % 2]!.length);
    })();
    const seen = new Set<string>();
    try {
      const readers = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 150; i++) seen.add((await readBlob(blob)).toString('utf8'));
      });
      await Promise.all(readers);
    } finally {
      writing = false;
      await writer;
    }
    // Every read was one of the two versions whole; both were seen, so reads did overlap the writes.
    expect([...seen].sort()).toEqual([...versions].sort());
  });

  it('fails with the service’s 404 for a blob that is not there', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(uniqueName('read-blob'));
    await container.create();
    await expect(readBlob(container.getBlobClient('absent'))).rejects.toMatchObject({ statusCode: 404 });
  });
});
