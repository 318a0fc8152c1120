import { describe, expect, it } from 'vitest';
import { createBlobServiceClient, createQueueServiceClient, createTableClient, receiveRetry, STORAGE_RETRY, tokenCredential } from '../../shared/config/storage-clients.js';
import { azuriteConnectionString, type StorageConnection } from '../../shared/config/storage-connection.js';

const local = (): StorageConnection => ({ kind: 'connectionString', connectionString: azuriteConnectionString(), development: true });
const identity = (): Extract<StorageConnection, { kind: 'identity' }> => ({
  kind: 'identity',
  queueServiceUri: 'https://relay.queue.core.windows.net',
  blobServiceUri: 'https://relay.blob.core.windows.net',
  tableServiceUri: 'https://relay.table.core.windows.net',
  credential: 'managedidentity',
  clientId: '33333333-3333-4333-8333-333333333333',
});

describe('storage clients: one per connection and retry profile', () => {
  it('gives the parts that share a profile one client, and each profile its own', () => {
    const conn = local();
    expect(createQueueServiceClient(conn, STORAGE_RETRY.message)).toBe(createQueueServiceClient(conn, STORAGE_RETRY.message));
    expect(createQueueServiceClient(conn)).toBe(createQueueServiceClient(conn, STORAGE_RETRY.standard));
    expect(createQueueServiceClient(conn, STORAGE_RETRY.message)).not.toBe(createQueueServiceClient(conn));
    expect(createBlobServiceClient(conn, receiveRetry(1200))).toBe(createBlobServiceClient(conn, receiveRetry(1200)));
    expect(createBlobServiceClient(conn, receiveRetry(1200))).not.toBe(createBlobServiceClient(conn, receiveRetry(900)));
  });

  it('gives one client per table, and nothing of one connection to another', () => {
    const conn = local();
    expect(createTableClient(conn, 'backfill')).toBe(createTableClient(conn, 'backfill'));
    expect(createTableClient(conn, 'backfill')).not.toBe(createTableClient(conn, 'metrics'));
    expect(createTableClient(local(), 'backfill')).not.toBe(createTableClient(conn, 'backfill'));
    expect(createQueueServiceClient(local())).not.toBe(createQueueServiceClient(conn));
  });

  it("builds an identity's credential once, for every client of its connection", () => {
    const conn = identity();
    const credential = tokenCredential(conn);
    createQueueServiceClient(conn);
    createTableClient(conn, 'subscriptions');
    expect(tokenCredential(conn)).toBe(credential);
    expect(tokenCredential(identity())).not.toBe(credential);
    expect(createQueueServiceClient(conn).url).toBe('https://relay.queue.core.windows.net');
  });
});
