import type { TableClient } from '@azure/data-tables';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueServiceClient } from '@azure/storage-queue';
import { createBlobServiceClient, createQueueServiceClient, createTableClient } from '../../shared/config/storage-clients.js';
import { parseStorageConnection } from '../../shared/config/storage-connection.js';
import { BACKFILL_TABLE, SUBSCRIPTIONS_TABLE, TENANTS_TABLE } from './chaos-config.js';

/** The run's Azurite as the harness reads it: the queues, the blobs, and the app's backfill, subscriptions and tenants tables. */
export interface RunStorage {
  readonly queues: QueueServiceClient;
  readonly blobs: BlobServiceClient;
  readonly backfillTable: TableClient;
  readonly subscriptionsTable: TableClient;
  readonly tenantsTable: TableClient;
}

export function runStorage(connectionString: string): RunStorage {
  const conn = parseStorageConnection({}, connectionString);
  return {
    queues: createQueueServiceClient(conn),
    blobs: createBlobServiceClient(conn),
    backfillTable: createTableClient(conn, BACKFILL_TABLE),
    subscriptionsTable: createTableClient(conn, SUBSCRIPTIONS_TABLE),
    tenantsTable: createTableClient(conn, TENANTS_TABLE),
  };
}
