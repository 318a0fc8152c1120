import { InvalidDefinitionError } from '../../errors.js';
import { parseStorageConnection, type StorageConnection } from '../storage-connection.js';
import { settingsArea } from './define.js';
import { optionalText } from './validators.js';

export interface StorageSettings {
  readonly storage: StorageConnection;
}

const STORAGE_SETTINGS = {
  AzureWebJobsStorage: {
    localDefault: 'UseDevelopmentStorage=true',
    description:
      'Storage for the host and for our queues and blobs: a connection string, `UseDevelopmentStorage=true` (Azurite), or leave unset and use the identity-based `AzureWebJobsStorage__*` settings below.',
    read: optionalText,
  },
  AzureWebJobsStorage__queueServiceUri: {
    description: 'Identity-based storage: the queue endpoint (`https://<account>.queue.core.windows.net`).',
    read: optionalText,
  },
  AzureWebJobsStorage__blobServiceUri: { description: 'Identity-based storage: the blob endpoint (claim-check blobs).', read: optionalText },
  AzureWebJobsStorage__tableServiceUri: { description: 'Identity-based storage: the table endpoint (the de-duplication log).', read: optionalText },
  AzureWebJobsStorage__accountName: {
    description: 'Identity-based storage, public cloud shorthand: the account name, instead of the three URIs.',
    read: optionalText,
  },
  AzureWebJobsStorage__credential: {
    description: '`managedidentity` to use a managed identity (with `__clientId` for a user-assigned one); otherwise DefaultAzureCredential.',
    read: optionalText,
  },
  AzureWebJobsStorage__clientId: { description: 'Client id of the user-assigned managed identity used for storage.', read: optionalText },
};

/** Azure Storage for the host and for the app's queues, blobs and tables. */
export const storageSettings = settingsArea(STORAGE_SETTINGS, {
  slice: (v, report): StorageSettings => {
    try {
      return { storage: parseStorageConnection(v, v.AzureWebJobsStorage) };
    } catch (e) {
      if (!(e instanceof InvalidDefinitionError)) throw e;
      report(e.message);
      return undefined as never;
    }
  },
});
