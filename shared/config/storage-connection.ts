import { InvalidDefinitionError } from '../errors.js';

/**
 * How we reach Azure Storage: a connection string (Azurite included) or an identity-based connection
 * described by `AzureWebJobsStorage__*` settings, as the Functions host itself reads them.
 */
export type StorageConnection =
  | { readonly kind: 'connectionString'; readonly connectionString: string; readonly development: boolean }
  | {
      readonly kind: 'identity';
      readonly queueServiceUri: string;
      readonly blobServiceUri: string;
      readonly tableServiceUri: string;
      readonly credential: 'managedidentity' | 'default';
      readonly clientId?: string;
    };

/** The well-known Azurite account (documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Azurite's connection string; `account`: another account that Azurite was started with, under the well-known key. */
export function azuriteConnectionString(host = '127.0.0.1', ports = { blob: 10000, queue: 10001, table: 10002 }, account = AZURITE_ACCOUNT): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account}`,
    `AccountKey=${AZURITE_KEY}`,
    `BlobEndpoint=http://${host}:${ports.blob}/${account}`,
    `QueueEndpoint=http://${host}:${ports.queue}/${account}`,
    `TableEndpoint=http://${host}:${ports.table}/${account}`,
  ].join(';');
}

/** A connection string's `key=value` parts, keys lower-cased. */
export function connectionStringParts(cs: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of cs.split(';')) {
    const eq = segment.indexOf('=');
    if (eq > 0) parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  return parts;
}

/** True when the connection string is `UseDevelopmentStorage=true` (Azurite on its default ports). */
export function isDevelopmentStorage(connectionString: string | undefined): boolean {
  if (!connectionString) return false;
  return connectionStringParts(connectionString).get('usedevelopmentstorage')?.toLowerCase() === 'true';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `AzureWebJobsStorage` (given as `value`, after defaults) or, when it is unset, the identity-based
 * `AzureWebJobsStorage__*` settings. Throws an InvalidDefinitionError whose message names the setting at fault.
 */
export function parseStorageConnection(env: Env, value: string | undefined, settingName = 'AzureWebJobsStorage'): StorageConnection {
  if (value) {
    if (isDevelopmentStorage(value)) {
      return { kind: 'connectionString', connectionString: azuriteConnectionString(), development: true };
    }
    const parts = connectionStringParts(value);
    const hasAccount = parts.has('accountname') && parts.has('accountkey');
    const hasSas = parts.has('sharedaccesssignature') && (parts.has('queueendpoint') || parts.has('accountname'));
    if (!hasAccount && !hasSas) {
      throw new InvalidDefinitionError(
        `${settingName} is not a usable connection string: it needs AccountName and AccountKey (or a SharedAccessSignature with endpoints), or UseDevelopmentStorage=true.`,
      );
    }
    return { kind: 'connectionString', connectionString: value, development: false };
  }

  const prefix = `${settingName}__`;
  const get = (key: string) => env[prefix + key]?.trim() || undefined;
  const accountName = get('accountName');
  const queueServiceUri = get('queueServiceUri') ?? (accountName && `https://${accountName}.queue.core.windows.net`);
  const blobServiceUri = get('blobServiceUri') ?? (accountName && `https://${accountName}.blob.core.windows.net`);
  const tableServiceUri = get('tableServiceUri') ?? (accountName && `https://${accountName}.table.core.windows.net`);
  if (!queueServiceUri || !blobServiceUri || !tableServiceUri) {
    throw new InvalidDefinitionError(
      `${settingName} is missing: set a connection string, or ${prefix}queueServiceUri, ${prefix}blobServiceUri and ${prefix}tableServiceUri (or ${prefix}accountName) for an identity-based connection.`,
    );
  }
  for (const [name, uri] of [
    ['queueServiceUri', queueServiceUri],
    ['blobServiceUri', blobServiceUri],
    ['tableServiceUri', tableServiceUri],
  ] as const) {
    if (!/^https?:\/\/[^/]+/.test(uri)) throw new InvalidDefinitionError(`${prefix}${name} is not a URL: "${uri}".`);
  }
  const credential = get('credential')?.toLowerCase() === 'managedidentity' ? 'managedidentity' : 'default';
  const clientId = get('clientId');
  return { kind: 'identity', queueServiceUri, blobServiceUri, tableServiceUri, credential, ...(clientId ? { clientId } : {}) };
}

/** Where storage is, for logs: endpoints only, never a key or SAS. */
export function describeStorage(conn: StorageConnection): string {
  if (conn.kind === 'identity') return `${conn.queueServiceUri} (${conn.credential === 'managedidentity' ? 'managed identity' : 'DefaultAzureCredential'})`;
  const parts = connectionStringParts(conn.connectionString);
  const endpoint = parts.get('queueendpoint');
  if (endpoint) return endpoint;
  const account = parts.get('accountname');
  return account ? `https://${account}.queue.${parts.get('endpointsuffix') ?? 'core.windows.net'}` : 'storage account';
}
