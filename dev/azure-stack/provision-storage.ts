import { resolve } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableServiceClient } from '@azure/data-tables';
import { loadFunctionKeys, SECRETS_CONTAINER } from '../local-host/function-keys.js';
import { hostId } from '../local-host/schedule-monitor.js';
import { HostConfigError } from '../local-host/host-errors.js';

/**
 * What provisioning leaves in the storage account before the app first runs: the queues, containers and
 * tables the Bicep's storage module creates, and the host's keys (made on the site's first start in Azure,
 * made here first so that the keyed URLs can go into Key Vault before the app reads them). Done through the
 * account's own connection, as Azure Resource Manager does it, never through the app's identity.
 * Answers the host's default function key. The host id derives from the app's folder as the host resolves it
 * (`startSiteHost` and `start-local --site` both resolve it), so both find the same keys.
 */
export async function provisionStorage(
  adminConnectionString: string,
  resources: { readonly queues: readonly string[]; readonly containers: readonly string[]; readonly tables: readonly string[] },
  site: { readonly appSettings: Readonly<Record<string, string>>; readonly appDir: string },
): Promise<{ functionKey: string }> {
  const queues = QueueServiceClient.fromConnectionString(adminConnectionString);
  const blobs = BlobServiceClient.fromConnectionString(adminConnectionString);
  const tables = TableServiceClient.fromConnectionString(adminConnectionString, { allowInsecureConnection: adminConnectionString.includes('http://') });
  await Promise.all([
    ...resources.queues.map((q) => queues.getQueueClient(q).createIfNotExists()),
    ...resources.containers.map((c) => blobs.getContainerClient(c).createIfNotExists()),
    ...resources.tables.map((t) => tables.createTable(t)),
  ]);
  const keys = await loadFunctionKeys(blobs.getContainerClient(SECRETS_CONTAINER), hostId(site.appSettings, resolve(site.appDir)), []);
  const functionKey = keys.host[0];
  if (!functionKey) throw new HostConfigError(`${SECRETS_CONTAINER} holds no function key of the host.`);
  return { functionKey };
}
