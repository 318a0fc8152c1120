import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, runHost, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { APP_ID, CLIENT_STATE, TENANT_A } from '../helpers/notifications.js';

/** The keys the host wrote where Azure's keeps them: `azure-webjobs-secrets/<hostId>/<file>.json`. */
async function storedKeys(azurite: AzuriteProcess): Promise<{ master: string; hostDefault: string; notifications: string; lifecycle: string }> {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('azure-webjobs-secrets');
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat()) names.push(blob.name);
  const read = async (file: string) => {
    const name = names.find((n) => n.endsWith(`/${file}`));
    if (!name) throw new Error(`No ${file} among ${names.join(', ')}`);
    return JSON.parse((await container.getBlobClient(name).downloadToBuffer()).toString('utf8')) as Record<string, any>;
  };
  const host = await read('host.json');
  return {
    master: host.masterKey.value,
    hostDefault: host.functionKeys[0].value,
    notifications: (await read('notifications.json')).keys[0].value,
    lifecycle: (await read('lifecycle.json')).keys[0].value,
  };
}

describe('the local host in Production (--environment Production): function keys as Azure enforces them', () => {
  let azurite: AzuriteProcess;
  let host: HostProcess;
  let keys: Awaited<ReturnType<typeof storedKeys>>;

  beforeAll(async () => {
    azurite = await testAzurite();
    host = await startHost(
      REPO_ROOT,
      {
        AzureWebJobsStorage: azurite.connectionString,
        GRAPH_CLIENT_STATE: CLIENT_STATE,
        GRAPH_APP_ID: APP_ID,
        GRAPH_TENANT_IDS: TENANT_A,
        CERTIFICATE_STORE: 'local',
        'AzureWebJobs.routeNotifications.Disabled': 'true',
        'AzureWebJobs.detectGaps.Disabled': 'true',
      },
      undefined,
      ['--environment', 'Production'],
    );
    keys = await storedKeys(azurite);
  });
  afterAll(async () => {
    await host?.stop();
    await azurite?.stop();
  });

  const handshake = (path: string, key?: { code?: string; header?: string }) => {
    const url = new URL(`${host.url}/api/${path}`);
    url.searchParams.set('validationToken', 'keyed');
    if (key?.code) url.searchParams.set('code', key.code);
    return fetch(url, { method: 'POST', headers: key?.header ? { 'x-functions-key': key.header } : {} });
  };

  it('runs the app in Production and writes a master key, a host key and a key per HTTP function', async () => {
    expect(host.lines.find((l) => l.event === 'app.configured')).toMatchObject({ environment: 'Production' });
    expect(new Set([keys.master, keys.hostDefault, keys.notifications, keys.lifecycle]).size).toBe(4);
    expect(keys.master.length).toBeGreaterThanOrEqual(40);
    // The keys are never logged: only where they are.
    expect(host.lines.some((l) => JSON.stringify(l).includes(keys.master) || JSON.stringify(l).includes(keys.notifications))).toBe(false);
  });

  it('answers 401 without a key or with a wrong one, and never invokes the function', async () => {
    for (const res of [await handshake('notifications'), await handshake('notifications', { code: 'not-a-key' }), await handshake('lifecycle', { code: keys.notifications })]) {
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('');
    }
    expect(host.lines.filter((l) => l.event === 'http.unauthorized').length).toBeGreaterThanOrEqual(3);
  });

  it('opens a function with its own key, a host key or the master key, in ?code= or x-functions-key', async () => {
    for (const key of [{ code: keys.notifications }, { header: keys.notifications }, { code: keys.hostDefault }, { header: keys.master }]) {
      const res = await handshake('notifications', key);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('keyed');
    }
  });

  it('opens the admin status page with the master key only', async () => {
    expect((await fetch(`${host.url}/api/status?code=${keys.hostDefault}`)).status).toBe(401);
    expect((await fetch(`${host.url}/api/status`)).status).toBe(401);
    const page = await fetch(`${host.url}/api/status`, { headers: { 'x-functions-key': keys.master } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

describe('the local host in Production: Key Vault references as App Service resolves them', () => {
  it('passes a reference it cannot read to the app as its text, and the app refuses to start naming the setting', async () => {
    const azurite = await testAzurite();
    try {
      const reference = '@Microsoft.KeyVault(VaultName=relay-kv;SecretName=graph-client-state)';
      const { exit, output } = runHost(
        REPO_ROOT,
        { AzureWebJobsStorage: azurite.connectionString, GRAPH_CLIENT_STATE: reference, GRAPH_APP_ID: APP_ID, GRAPH_TENANT_IDS: TENANT_A, CERTIFICATE_STORE: 'local' },
        0,
        ['--environment', 'Production'],
      );
      expect(await exit).toBe(1);
      const { stdout, stderr } = output();
      const unresolved = stdout
        .split('\n')
        .filter((l) => l.includes('host.key_vault_reference_unresolved'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(unresolved).toEqual([expect.objectContaining({ setting: 'GRAPH_CLIENT_STATE', reason: 'the vault could not be read (NoIdentity)' })]);
      expect(stderr).toContain('GRAPH_CLIENT_STATE is a Key Vault reference that App Service could not resolve');
      expect(stdout + stderr).not.toContain('relay-kv');
    } finally {
      await azurite.stop();
    }
  });
});
