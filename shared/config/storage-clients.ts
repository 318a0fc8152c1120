import { TableClient } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient, type StorageRetryOptions } from '@azure/storage-queue';
import type { StorageConnection } from './storage-connection.js';

/**
 * How long each part of the app waits on storage before it gives up, by who waits. A client is made once per
 * connection and profile (below), so the parts that share a profile share its client.
 */
export const STORAGE_RETRY: { readonly [P in 'standard' | 'message' | 'status']: Readonly<StorageRetryOptions> } = {
  /** The SDK's own (retries over about a minute): timers, the reconciler, the backfill, the CLIs. */
  standard: {},
  /** Routing a queue message: the host retries a failed message (and finally poisons it), so each call fails fast. */
  message: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 },
  /** The operator's status page: an answer within seconds, or a page that says storage did not answer. */
  status: { maxTries: 2, tryTimeoutInMs: 10_000 },
};

/** Receiving: within RECEIVE_STORAGE_TIMEOUT_MS per try, so Graph gets its answer before its 3-s mark. */
export function receiveRetry(storageTimeoutMs: number): StorageRetryOptions {
  return { maxTries: 3, tryTimeoutInMs: storageTimeoutMs, retryDelayInMs: 100, maxRetryDelayInMs: 1000 };
}

interface ClientsOf {
  credential?: TokenCredential;
  readonly made: Map<string, QueueServiceClient | BlobServiceClient | TableClient>;
}

/** What was made for each connection (the settings' one object): its credential and clients, kept as long as it is. */
const madeFor = new WeakMap<StorageConnection, ClientsOf>();

function clientsOf(conn: StorageConnection): ClientsOf {
  let of = madeFor.get(conn);
  if (!of) madeFor.set(conn, (of = { made: new Map() }));
  return of;
}

function once<T extends QueueServiceClient | BlobServiceClient | TableClient>(conn: StorageConnection, key: string, make: () => T): T {
  const of = clientsOf(conn);
  let client = of.made.get(key) as T | undefined;
  if (!client) of.made.set(key, (client = make()));
  return client;
}

/** The identity's credential: one per connection, so its token cache serves every client of the app. */
export function tokenCredential(conn: Extract<StorageConnection, { kind: 'identity' }>): TokenCredential {
  const of = clientsOf(conn);
  if (of.credential) return of.credential;
  of.credential =
    conn.credential === 'managedidentity'
      ? conn.clientId
        ? new ManagedIdentityCredential({ clientId: conn.clientId })
        : new ManagedIdentityCredential()
      : new DefaultAzureCredential(conn.clientId ? { managedIdentityClientId: conn.clientId } : {});
  return of.credential;
}

/** The queue service client of this connection and retry profile (made on first use, then the same one). */
export function createQueueServiceClient(conn: StorageConnection, retryOptions: StorageRetryOptions = STORAGE_RETRY.standard): QueueServiceClient {
  // A copy: the SDK writes its defaults into the options it is given (and the profile is the memo's key).
  const options = { retryOptions: { ...retryOptions } };
  return once(conn, `queue ${JSON.stringify(retryOptions)}`, () =>
    conn.kind === 'connectionString' ? QueueServiceClient.fromConnectionString(conn.connectionString, options) : new QueueServiceClient(conn.queueServiceUri, tokenCredential(conn), options),
  );
}

/** The blob service client of this connection and retry profile (made on first use, then the same one). */
export function createBlobServiceClient(conn: StorageConnection, retryOptions: StorageRetryOptions = STORAGE_RETRY.standard): BlobServiceClient {
  // A copy: the SDK writes its defaults into the options it is given (and the profile is the memo's key).
  const options = { retryOptions: { ...retryOptions } };
  return once(conn, `blob ${JSON.stringify(retryOptions)}`, () =>
    conn.kind === 'connectionString' ? BlobServiceClient.fromConnectionString(conn.connectionString, options) : new BlobServiceClient(conn.blobServiceUri, tokenCredential(conn), options),
  );
}

/** The client of one table of this connection (made on first use, then the same one). */
export function createTableClient(conn: StorageConnection, table: string): TableClient {
  return once(conn, `table ${table}`, () =>
    conn.kind === 'identity'
      ? new TableClient(conn.tableServiceUri, table, tokenCredential(conn))
      : TableClient.fromConnectionString(conn.connectionString, table, { allowInsecureConnection: conn.connectionString.includes('http://') }),
  );
}
