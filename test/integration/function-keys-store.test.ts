import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFunctionKeys, SECRETS_CONTAINER } from '../../dev/local-host/function-keys.js';
import { HostConfigError } from '../../dev/local-host/host-errors.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';

describe("the local host's function keys, kept where Azure's host keeps them", () => {
  let azurite: AzuriteProcess;
  let container: ContainerClient;
  beforeAll(async () => {
    azurite = await testAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(SECRETS_CONTAINER);
  });
  afterAll(async () => azurite?.stop());

  const write = async (blob: string, value: unknown) => {
    await container.createIfNotExists();
    const text = JSON.stringify(value);
    await container.getBlockBlobClient(blob).upload(text, Buffer.byteLength(text));
  };

  it('makes the keys on first start and reads the same ones at the next', async () => {
    const host = uniqueName('host');
    const first = await loadFunctionKeys(container, host, ['notifications']);
    expect(first.master).toMatch(/^[\w-]{40,}$/);
    expect(first.host).toHaveLength(1);
    expect(await loadFunctionKeys(container, host, ['notifications'])).toEqual(first);
  });

  it('refuses, naming the blob, a key encrypted by another host and a file not shaped as the host writes it', async () => {
    const encrypted = uniqueName('host');
    await write(`${encrypted}/host.json`, { masterKey: { name: 'master', value: 'CfDJ8…', encrypted: true }, functionKeys: [] });
    const refusal = loadFunctionKeys(container, encrypted, []);
    await expect(refusal).rejects.toBeInstanceOf(HostConfigError);
    await expect(refusal).rejects.toThrow(`${SECRETS_CONTAINER}/${encrypted}/host.json holds a key encrypted by another host`);

    const malformed = uniqueName('host');
    await write(`${malformed}/host.json`, { masterKey: { name: 'master', value: 'k'.repeat(40), encrypted: false }, functionKeys: [] });
    await write(`${malformed}/notifications.json`, { keys: [{ name: 'default' }] });
    await expect(loadFunctionKeys(container, malformed, ['notifications'])).rejects.toThrow(`${SECRETS_CONTAINER}/${malformed}/notifications.json is not shaped as the host writes its keys`);
  });
});
