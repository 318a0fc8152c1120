import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  QueueServiceClient,
  StorageSharedKeyCredential,
  type QueueClient,
} from '@azure/storage-queue';
import { inject } from 'vitest';
import { AZURITE_KEY, azuriteConnectionString } from '../../shared/config/storage-connection.js';
import { startAzurite, type AzuritePorts, type AzuriteProcess, type StartAzuriteOptions } from '../../dev/azurite/azurite-process.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { isClaimCheck, unpackQueued, type QueueMessageBody, type QueuedBatch, type QueuedNotification } from '../../shared/queue/queued-notification.js';

export { startAzurite, type AzuriteProcess };

/** A fresh folder for Azurite data, removed by the returned cleanup. */
export function tempDir(prefix = 'tcr-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** An Azurite of this file's own, for a test that stops, kills or restarts it. Otherwise use testAzurite(). */
export async function startTestAzurite(options: StartAzuriteOptions = {}): Promise<AzuriteProcess> {
  return startAzurite(options);
}

/**
 * A storage account of this file's own on its worker's Azurite (test/setup/azurite.global.ts): empty, as a
 * fresh Azurite would be. `stop()` leaves that Azurite running; `kill()` is refused (use startTestAzurite).
 */
export async function testAzurite(): Promise<AzuriteProcess> {
  const { ports: byWorker, accounts, claims } = inject('testAzurite');
  const ports = byWorker[Number(process.env.VITEST_POOL_ID ?? '1') - 1];
  // TCR_TEST_AZURITE=own: an Azurite per file, as before (to compare, or to rule the shared ones out).
  if (!ports || process.env.TCR_TEST_AZURITE === 'own') return startAzurite();
  const account = accounts.find((name) => {
    try {
      mkdirSync(join(claims, name));
      return true;
    } catch {
      return false;
    }
  });
  if (!account) throw new Error(`All ${accounts.length} storage accounts of the run's Azurite are taken: add accounts in test/setup/azurite.global.ts.`);
  return {
    ports,
    account,
    pid: undefined,
    connectionString: azuriteConnectionString('127.0.0.1', ports, account),
    stop: async () => {},
    kill: () => Promise.reject(new Error("The run's Azurite is shared: a test that kills Azurite starts its own (startTestAzurite).")),
  };
}

/** The connection string of `azurite`'s account with some services reached on other ports (a TCP proxy's). */
export function azuriteVia(azurite: Pick<AzuriteProcess, 'ports' | 'account'>, ports: Partial<AzuritePorts>): string {
  return azuriteConnectionString('127.0.0.1', { ...azurite.ports, ...ports }, azurite.account);
}

let counter = 0;
/** A queue name unique to this test run. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`.toLowerCase().slice(0, 63);
}

/** Receives (and deletes) every message of a queue, decoding the app's base64 JSON bodies. */
export async function drainQueue(queue: QueueClient): Promise<{ text: string; body: QueueMessageBody }[]> {
  const out: { text: string; body: QueueMessageBody }[] = [];
  if (!(await queue.exists())) return out;
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
    if (receivedMessageItems.length === 0) return out;
    for (const m of receivedMessageItems) {
      out.push({ text: m.messageText, body: decodeJsonMessage<QueueMessageBody>(m.messageText) });
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

/**
 * Receives (and deletes) every message of an incoming queue and returns the notifications they hold, one
 * per item (a v2 message holds a whole request's items), reading claim-check blobs from `claimChecks`.
 */
export async function drainNotifications(queue: QueueClient, claimChecks?: ContainerClient): Promise<QueuedNotification[]> {
  const out: QueuedNotification[] = [];
  for (const { body } of await drainQueue(queue)) {
    if (!isClaimCheck(body)) out.push(...unpackQueued(body));
    else if (!claimChecks) throw new Error(`Unexpected claim check ${body.claimCheck.blob}.`);
    else out.push(...unpackQueued(JSON.parse((await claimChecks.getBlobClient(body.claimCheck.blob).downloadToBuffer()).toString('utf8')) as QueuedBatch));
  }
  return out;
}

export function queueService(azurite: { connectionString: string }): QueueServiceClient {
  return QueueServiceClient.fromConnectionString(azurite.connectionString);
}

/**
 * A connection string that reaches this Azurite with an account SAS for an hour instead of the account key:
 * `permissions` as in AccountSASPermissions.parse ('a': add only), `services` as in AccountSASServices.parse
 * ('q', 'bqt'); only the endpoints of those services are named.
 */
export function azuriteSasConnectionString(azurite: AzuriteProcess, permissions: string, services: string): string {
  const sas = generateAccountSASQueryParameters(
    {
      permissions: AccountSASPermissions.parse(permissions),
      services: AccountSASServices.parse(services).toString(),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      expiresOn: new Date(Date.now() + 3_600_000),
    },
    new StorageSharedKeyCredential(azurite.account, AZURITE_KEY),
  ).toString();
  const endpoint = (port: number) => `http://127.0.0.1:${port}/${azurite.account}`;
  const endpoints = [
    services.includes('b') ? `BlobEndpoint=${endpoint(azurite.ports.blob)}` : '',
    services.includes('q') ? `QueueEndpoint=${endpoint(azurite.ports.queue)}` : '',
    services.includes('t') ? `TableEndpoint=${endpoint(azurite.ports.table)}` : '',
  ].filter(Boolean);
  return [...endpoints, `SharedAccessSignature=${sas}`].join(';');
}
