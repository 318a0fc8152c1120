import { loopbackCertificate } from '../tls/loopback-certificate.js';
import { startAzurite, type AzuritePorts } from './azurite-process.js';
import { startStorageRoleGate, type GateRequest } from '../storage/storage-role-gate.js';
import type { StorageRole } from '../storage/storage-roles.js';

export type { GateRequest } from '../storage/storage-role-gate.js';
export type { StorageRole } from '../storage/storage-roles.js';

export interface IdentityStorageOptions {
  /** Where the Entra stand-in publishes its signing keys (the managed identity endpoint's `jwksUrl`). */
  readonly jwksUrl: string;
  /** The issuer tokens must name; unset: Entra's v1 or v2 issuer of `tenantId`. */
  readonly issuer?: string;
  readonly tenantId: string;
  /** Storage roles by principal id (a token's `oid`), as the Bicep's role assignments give them. */
  readonly roles: Readonly<Record<string, readonly StorageRole[]>>;
  /** Folder for Azurite's data; omitted: in memory. */
  readonly location?: string;
}

/**
 * A storage account reached by identity only, as infra/ deploys it: service URLs for the app's
 * `AzureWebJobsStorage__*ServiceUri` settings, behind the storage role gate; and, beside it, a shared key
 * connection straight to Azurite for what is not the app (provisioning queues, containers and tables as
 * the Bicep does, and tests' set-up and checks), which the app's settings must never name.
 */
export interface IdentityStorage {
  readonly blobServiceUri: string;
  readonly queueServiceUri: string;
  readonly tableServiceUri: string;
  readonly account: string;
  /** Shared key, straight to Azurite over HTTPS: provisioning and test set-up only, never the app's. */
  readonly adminConnectionString: string;
  /** Every request the gate answered, in order: `{ service, method, path, status, code? }`. */
  readonly requests: readonly GateRequest[];
  /** The app's identity-based storage settings for the user-assigned identity `clientId`, as infra/main.bicep sets them. */
  appSettings(clientId: string): Record<string, string>;
  /**
   * Stops Azurite (SIGTERM: what it acknowledged is on disk), waits `downMs`, and starts it again on the same
   * ports and data folder (in memory: empty again): the gate stays, so clients see storage go away and come
   * back at the same URLs.
   */
  restartAzurite(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts Azurite over HTTPS with `--oauth basic` and the storage role gate in front of it (both on free ports). */
export async function startIdentityStorage(options: IdentityStorageOptions): Promise<IdentityStorage> {
  const tls = await loopbackCertificate();
  const start = (ports?: AzuritePorts) => startAzurite({ tls, oauth: 'basic', ...(options.location ? { location: options.location } : {}), ...(ports ? { ports } : {}) });
  let azurite = await start();
  try {
    const gate = await startStorageRoleGate({
      account: azurite.account,
      tenantId: options.tenantId,
      jwksUrl: options.jwksUrl,
      ...(options.issuer ? { issuer: options.issuer } : {}),
      roles: options.roles,
      upstream: { host: '127.0.0.1', ports: azurite.ports, ca: tls.cert },
      tls,
    });
    const { blob, queue, table } = gate.serviceUris;
    return {
      blobServiceUri: blob,
      queueServiceUri: queue,
      tableServiceUri: table,
      account: azurite.account,
      adminConnectionString: azurite.connectionString,
      requests: gate.requests,
      appSettings: (clientId) => ({
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: clientId,
        AzureWebJobsStorage__blobServiceUri: blob,
        AzureWebJobsStorage__queueServiceUri: queue,
        AzureWebJobsStorage__tableServiceUri: table,
      }),
      restartAzurite: async (downMs) => {
        await azurite.stop();
        await new Promise((r) => setTimeout(r, downMs));
        azurite = await start(azurite.ports);
      },
      stop: async () => {
        await gate.close();
        await azurite.stop();
      },
    };
  } catch (e) {
    await azurite.stop();
    throw e;
  }
}
