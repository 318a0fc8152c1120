import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TableClient } from '@azure/data-tables';
import { ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { startIdentityStorage, type IdentityStorage } from '../../dev/azurite/identity-storage.js';
import { createBlobServiceClient, createQueueServiceClient, createTableClient } from '../../shared/config/storage-clients.js';
import { AZURITE_KEY, parseStorageConnection } from '../../shared/config/storage-connection.js';
import { uniqueName } from '../helpers/azurite.js';
import { eventually } from '../helpers/eventually.js';
import { startHost } from '../helpers/local-host-process.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
/** The app's identity, with the roles infra/main.bicep assigns it. */
const RELAY = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555' };
/** An identity that may read blobs and send queue messages, nothing more. */
const SENDER = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777' };
/** An identity of the site with no storage role at all. */
const STRANGER = { clientId: '88888888-8888-4888-8888-888888888888', principalId: '99999999-9999-4999-8999-999999999999' };
const FIXTURE_APP = fileURLToPath(new URL('../fixtures/host-app/', import.meta.url));

describe('storage reached by identity only: Azurite over HTTPS with OAuth behind the storage role gate, through the app’s own clients', () => {
  let mi: ManagedIdentityEndpoint;
  let storage: IdentityStorage;
  let restoreEnv: () => void = () => undefined;
  const queueName = uniqueName('incoming');
  const containerName = uniqueName('payloads');
  const tableName = `gate${process.pid}`;
  /** The app's connection, parsed from the settings infra/main.bicep gives it, for the identity `clientId`. */
  const connectionOf = (clientId: string) => parseStorageConnection(storage.appSettings(clientId), undefined);

  beforeAll(async () => {
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [RELAY, SENDER, STRANGER] });
    restoreEnv = pointManagedIdentityAt(mi);
    storage = await startIdentityStorage({
      jwksUrl: mi.jwksUrl,
      issuer: mi.issuer,
      tenantId: TENANT,
      roles: {
        [RELAY.principalId]: ['Storage Blob Data Owner', 'Storage Queue Data Contributor', 'Storage Table Data Contributor'],
        [SENDER.principalId]: ['Storage Blob Data Reader', 'Storage Queue Data Message Sender'],
      },
    });
    // Provisioning, as the Bicep creates them: through the admin connection, never the gate.
    await QueueServiceClient.fromConnectionString(storage.adminConnectionString).getQueueClient(queueName).create();
    await BlobServiceClient.fromConnectionString(storage.adminConnectionString).getContainerClient(containerName).create();
    await TableClient.fromConnectionString(storage.adminConnectionString, tableName).createTable();
  });
  afterAll(async () => {
    restoreEnv();
    await storage?.stop();
    await mi?.close();
  });

  it('gives the app identity-based settings with no key, which parseStorageConnection reads as a managed identity connection', () => {
    const settings = storage.appSettings(RELAY.clientId);
    expect(Object.values(settings).join(' ')).not.toContain(AZURITE_KEY);
    expect(connectionOf(RELAY.clientId)).toEqual({
      kind: 'identity',
      credential: 'managedidentity',
      clientId: RELAY.clientId,
      queueServiceUri: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/),
      blobServiceUri: storage.blobServiceUri,
      tableServiceUri: storage.tableServiceUri,
    });
  });

  it('sends and receives a queue message, writes and reads a blob, upserts and reads a table entity with the app identity’s roles', async () => {
    const conn = connectionOf(RELAY.clientId);
    const queue = createQueueServiceClient(conn).getQueueClient(queueName);
    await queue.sendMessage('aGVsbG8=');
    const { receivedMessageItems } = await queue.receiveMessages();
    expect(receivedMessageItems.map((m) => m.messageText)).toEqual(['aGVsbG8=']);
    await queue.deleteMessage(receivedMessageItems[0]!.messageId, receivedMessageItems[0]!.popReceipt);

    const blob = createBlobServiceClient(conn).getContainerClient(containerName).getBlockBlobClient('event.json');
    await blob.upload('{"kind":"chatMessage"}', 22);
    expect((await blob.downloadToBuffer()).toString('utf8')).toBe('{"kind":"chatMessage"}');

    const table = createTableClient(conn, tableName);
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 7 });
    expect(await table.getEntity('p', 'r')).toMatchObject({ value: 7 });

    expect(storage.requests.filter((r) => r.status >= 400)).toEqual([]);
    expect(new Set(storage.requests.map((r) => r.service))).toEqual(new Set(['queue', 'blob', 'table']));
    expect(mi.issued.get('https://storage.azure.com')).toBeGreaterThan(0);
  });

  it('refuses with 403 AuthorizationPermissionMismatch what the identity’s roles do not allow, and lets through what they do', async () => {
    const conn = connectionOf(SENDER.clientId);
    const queue = createQueueServiceClient(conn).getQueueClient(queueName);
    await queue.sendMessage('c2VudA==');
    await expect(queue.receiveMessages()).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
    const container = createBlobServiceClient(conn).getContainerClient(containerName);
    await expect(container.getBlockBlobClient('other.json').upload('{}', 2)).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationPermissionMismatch' });
    expect((await container.getBlobClient('event.json').downloadToBuffer()).toString('utf8')).toBe('{"kind":"chatMessage"}');
    // @azure/data-tables leaves RestError.code unset for Table's OData error body, against Azure too: the code is in the message.
    await expect(createTableClient(conn, tableName).getEntity('p', 'r')).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining('"code":"AuthorizationPermissionMismatch"') });
    expect(storage.requests.filter((r) => r.status === 403).map((r) => `${r.service} ${r.method} ${r.code}`)).toEqual([
      'queue GET AuthorizationPermissionMismatch',
      'blob PUT AuthorizationPermissionMismatch',
      'table GET AuthorizationPermissionMismatch',
    ]);
    await expect(createQueueServiceClient(connectionOf(STRANGER.clientId)).getQueueClient(queueName).sendMessage('eA==')).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationPermissionMismatch',
    });
    // What the sender may do reached Azurite: the message it sent is there (and the stranger's is not).
    const admin = QueueServiceClient.fromConnectionString(storage.adminConnectionString).getQueueClient(queueName);
    expect((await admin.peekMessages()).peekedMessageItems.map((m) => m.messageText)).toEqual(['c2VudA==']);
  });

  it('refuses a shared key connection string to the gate with 403 KeyBasedAuthenticationNotPermitted, as an account with shared key access off does', async () => {
    const keyed = [
      'DefaultEndpointsProtocol=https',
      `AccountName=${storage.account}`,
      `AccountKey=${AZURITE_KEY}`,
      `BlobEndpoint=${storage.blobServiceUri}`,
      `QueueEndpoint=${storage.queueServiceUri}`,
      `TableEndpoint=${storage.tableServiceUri}`,
    ].join(';');
    const conn = parseStorageConnection({}, keyed);
    await expect(createQueueServiceClient(conn).getQueueClient(queueName).sendMessage('eA==')).rejects.toMatchObject({ statusCode: 403, code: 'KeyBasedAuthenticationNotPermitted' });
    await expect(createBlobServiceClient(conn).getContainerClient(containerName).exists()).rejects.toMatchObject({ statusCode: 403 });
    await expect(createTableClient(conn, tableName).getEntity('p', 'r')).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining('"code":"KeyBasedAuthenticationNotPermitted"') });
    // An account SAS that claims a delegating identity (`skoid`) is still key-based access.
    const sas = await fetch(`${storage.blobServiceUri}/${containerName}?restype=container&sv=2025-05-05&ss=b&srt=sco&sp=rl&se=2099-01-01&sig=forged&skoid=${RELAY.principalId}`);
    expect(sas.status).toBe(403);
    expect(sas.headers.get('x-ms-error-code')).toBe('KeyBasedAuthenticationNotPermitted');
    // The same key straight to Azurite works: the refusal is the gate's, not a wrong key.
    expect(await BlobServiceClient.fromConnectionString(storage.adminConnectionString).getContainerClient(containerName).exists()).toBe(true);
  });

  it('refuses a token signed by another key, and a request with no credentials, with 401 and the bearer challenge', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ oid: RELAY.principalId, tid: TENANT })
      .setProtectedHeader({ alg: 'RS256', kid: 'not-the-stand-in' })
      .setIssuer(mi.issuer)
      .setAudience('https://storage.azure.com')
      .setIssuedAt(now)
      .setNotBefore(now - 60)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    const forger: TokenCredential = { getToken: async () => ({ token: forged, expiresOnTimestamp: (now + 3600) * 1000 }) };
    await expect(new QueueServiceClient(storage.queueServiceUri, forger).getQueueClient(queueName).sendMessage('eA==')).rejects.toMatchObject({
      statusCode: 401,
      code: 'InvalidAuthenticationInfo',
    });

    const direct = await fetch(`${storage.queueServiceUri}/${queueName}/messages`, { headers: { authorization: `Bearer ${forged}`, 'x-ms-version': '2025-05-05' } });
    expect(direct.status).toBe(401);
    expect(direct.headers.get('www-authenticate')).toBe(`Bearer authorization_uri=https://login.microsoftonline.com/${TENANT}/oauth2/authorize resource_id=https://storage.azure.com`);
    expect(await direct.text()).toMatch(/<Code>InvalidAuthenticationInfo<\/Code>.*<AuthenticationErrorDetail>Signature validation failed/s);

    const anonymous = await fetch(`${storage.tableServiceUri}/Tables`, { headers: { accept: 'application/json;odata=nometadata' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('resource_id=https://storage.azure.com');
    expect(await anonymous.json()).toMatchObject({ 'odata.error': { code: 'NoAuthenticationInformation', message: { lang: 'en-US' } } });
  });

  it('lets the local Functions host’s queue listener poll and complete messages through the gate with the app’s identity', async () => {
    const flaky = uniqueName('flaky');
    await QueueServiceClient.fromConnectionString(storage.adminConnectionString).getQueueClient(flaky).create();
    const host = await startHost(FIXTURE_APP, {
      ...storage.appSettings(RELAY.clientId),
      IDENTITY_ENDPOINT: mi.endpoint,
      IDENTITY_HEADER: mi.header,
      FLAKY_QUEUE: flaky,
      DOOMED_QUEUE: uniqueName('doomed'),
    });
    try {
      const admin = QueueServiceClient.fromConnectionString(storage.adminConnectionString).getQueueClient(flaky);
      await admin.sendMessage(Buffer.from(JSON.stringify({ order: 42 })).toString('base64'));
      await host.waitFor((l) => l.event === 'invocation' && l.function === 'flaky' && l.status === 'succeeded', 60_000);
      // Failed attempts released the message (PUT, visibility 0); the success deleted it, all with the identity's token.
      await eventually(
        () => storage.requests.some((r) => r.service === 'queue' && r.method === 'DELETE' && r.path.includes(flaky) && r.status === 204),
        () => `the host's delete of the message through the gate; it sent ${JSON.stringify(storage.requests.filter((r) => r.path.includes(flaky)))}`,
      );
      expect(storage.requests.filter((r) => r.path.includes(flaky) && r.status >= 400)).toEqual([]);
      await eventually(async () => (await admin.getProperties()).approximateMessagesCount === 0, 'the queue to be empty');
    } finally {
      await host.stop();
    }
  });

  it('restarts Azurite behind the gate on the same ports and data folder: storage goes away, then the same URLs answer with the data kept', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'tcr-identity-storage-'));
    const kept = await startIdentityStorage({ jwksUrl: mi.jwksUrl, issuer: mi.issuer, tenantId: TENANT, roles: { [RELAY.principalId]: ['Storage Queue Data Contributor'] }, location: folder });
    try {
      const name = uniqueName('kept');
      await QueueServiceClient.fromConnectionString(kept.adminConnectionString).getQueueClient(name).create();
      const conn = parseStorageConnection(kept.appSettings(RELAY.clientId), undefined);
      const queue = createQueueServiceClient(conn).getQueueClient(name);
      await queue.sendMessage('YmVmb3Jl');

      // One attempt per call, so that a failure shows at once rather than after the SDK's retries.
      const once = new QueueClient(`${kept.queueServiceUri}/${name}`, new ManagedIdentityCredential({ clientId: RELAY.clientId }), { retryOptions: { maxTries: 1 } });
      const restarted = kept.restartAzurite(1500);
      // While Azurite is down, the gate still takes the connection, and the request through it fails.
      await eventually(
        () =>
          once.getProperties().then(
            () => false,
            () => true,
          ),
        'a request through the gate to fail while Azurite is down',
      );
      await restarted;

      const { receivedMessageItems } = await queue.receiveMessages();
      expect(receivedMessageItems.map((m) => m.messageText)).toEqual(['YmVmb3Jl']);
      await expect(once.getProperties(), 'the same URL answers again').resolves.toMatchObject({ approximateMessagesCount: expect.any(Number) });
    } finally {
      await kept.stop();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
