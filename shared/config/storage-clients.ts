import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient, type StoragePipelineOptions as BlobPipelineOptions } from '@azure/storage-blob';
import { QueueServiceClient, type StoragePipelineOptions as QueuePipelineOptions } from '@azure/storage-queue';
import type { StorageConnection } from './storage-connection.js';

export function tokenCredential(conn: Extract<StorageConnection, { kind: 'identity' }>): TokenCredential {
  if (conn.credential === 'managedidentity') {
    return conn.clientId ? new ManagedIdentityCredential({ clientId: conn.clientId }) : new ManagedIdentityCredential();
  }
  return new DefaultAzureCredential(conn.clientId ? { managedIdentityClientId: conn.clientId } : {});
}

export function createQueueServiceClient(conn: StorageConnection, options: QueuePipelineOptions = {}): QueueServiceClient {
  return conn.kind === 'connectionString' ? QueueServiceClient.fromConnectionString(conn.connectionString, options) : new QueueServiceClient(conn.queueServiceUri, tokenCredential(conn), options);
}

export function createBlobServiceClient(conn: StorageConnection, options: BlobPipelineOptions = {}): BlobServiceClient {
  return conn.kind === 'connectionString' ? BlobServiceClient.fromConnectionString(conn.connectionString, options) : new BlobServiceClient(conn.blobServiceUri, tokenCredential(conn), options);
}

export function createTableClient(conn: StorageConnection, table: string): TableClient {
  if (conn.kind === 'identity') return new TableClient(conn.tableServiceUri, table, tokenCredential(conn));
  return TableClient.fromConnectionString(conn.connectionString, table, { allowInsecureConnection: conn.connectionString.includes('http://') });
}
