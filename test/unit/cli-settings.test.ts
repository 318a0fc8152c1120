import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCliSettings, settingsPointingAtAzure } from '../../cli/cli-settings.js';
import { azuriteConnectionString } from '../../shared/config/storage-connection.js';
import { ConfigError } from '../../shared/errors.js';
import { thrown } from '../helpers/thrown.js';

const dirs: string[] = [];
/** A folder with local.settings.json holding `values` (none: no file). */
const appDir = (values?: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-cli-settings-'));
  dirs.push(dir);
  if (values) writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: values }));
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What an app in Azure needs besides storage (no secret among them but the client state). */
const AZURE_APP = {
  GRAPH_CLIENT_STATE: 'a-client-state-for-the-test-only',
  GRAPH_APP_ID: '22222222-2222-4222-8222-222222222222',
  GRAPH_TENANT_IDS: '11111111-1111-4111-8111-111111111111',
  GRAPH_NOTIFICATION_URL: 'https://relay.example.net/api/notifications?code=k',
  GRAPH_LIFECYCLE_URL: 'https://relay.example.net/api/lifecycle?code=k',
  KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
};

describe('operator CLI settings', () => {
  it('pointed at Azure with a setting missing, fails naming each missing setting instead of falling back on local defaults', () => {
    const problems = thrown(ConfigError, () => readCliSettings(appDir(), { AzureWebJobsStorage__accountName: 'relaystore' })).problems.join('\n');
    for (const name of ['GRAPH_CLIENT_STATE', 'GRAPH_APP_ID', 'GRAPH_TENANT_IDS', 'KEY_VAULT_URL']) expect(problems).toContain(`${name} is missing`);
    expect(problems).toContain('Production, as AzureWebJobsStorage__accountName points at Azure');
  });

  it('with nothing set (after npm start), runs on the local defaults: Azurite and the simulator on its default port', () => {
    const { environment, settings, target } = readCliSettings(appDir(), {});
    expect(environment).toBe('Development');
    expect(settings.storage).toMatchObject({ kind: 'connectionString', development: true });
    expect(settings.graphBaseUrl.origin).toBe('http://127.0.0.1:7072');
    expect(target).toBe('Development (no setting points at Azure) · storage http://127.0.0.1:10001/devstoreaccount1 · Graph http://127.0.0.1:7072 (simulator)');
  });

  it('says which account and Graph a complete Azure configuration talks to, with no secret in the line', () => {
    const { environment, target } = readCliSettings(
      appDir({ ...AZURE_APP, AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=relaystore;AccountKey=c2VjcmV0LWtleQ==;EndpointSuffix=core.windows.net' }),
      {
        GRAPH_AUTH_MODE: 'clientsecret',
        GRAPH_CLIENT_SECRET: 'the-client-secret',
      },
    );
    expect(environment).toBe('Production');
    expect(target).toBe(
      'Production (AzureWebJobsStorage, GRAPH_AUTH_MODE, KEY_VAULT_URL, GRAPH_CLIENT_SECRET point at Azure) · storage https://relaystore.queue.core.windows.net · Graph https://graph.microsoft.com (clientsecret)',
    );
    for (const secret of ['c2VjcmV0LWtleQ==', 'the-client-secret', AZURE_APP.GRAPH_CLIENT_STATE, 'code=k']) expect(target).not.toContain(secret);
  });

  it('keeps an environment set explicitly, from local.settings.json or the environment (which wins)', () => {
    const dir = appDir({ AZURE_FUNCTIONS_ENVIRONMENT: 'Production', ...AZURE_APP, AzureWebJobsStorage__accountName: 'fromfile' });
    expect(readCliSettings(dir, {}).target).toMatch(/^Production \(AZURE_FUNCTIONS_ENVIRONMENT\) · storage https:\/\/fromfile\.queue\.core\.windows\.net \(DefaultAzureCredential\)/);
    expect(readCliSettings(dir, { AzureWebJobsStorage__accountName: 'fromenv' }).target).toContain('https://fromenv.queue.core.windows.net');
    expect(thrown(ConfigError, () => readCliSettings(appDir(), { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' })).problems.join('\n')).toContain('AzureWebJobsStorage is missing');
  });

  it('takes local fakes (Azurite on any port, the simulator, a Key Vault fake on this machine) as local, and anything else as Azure', () => {
    expect(
      settingsPointingAtAzure({
        AzureWebJobsStorage: azuriteConnectionString('127.0.0.1', { blob: 41000, queue: 41001, table: 41002 }),
        GRAPH_BASE_URL: 'http://127.0.0.1:7072',
        GRAPH_AUTH_MODE: 'clientsecret',
        KEY_VAULT_URL: 'https://localhost:8443',
        AzureWebJobsStorage__accountName: '',
      }),
    ).toEqual([]);
    expect(settingsPointingAtAzure({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', GRAPH_AUTH_MODE: 'simulator' })).toEqual([]);
    expect(
      settingsPointingAtAzure({
        AzureWebJobsStorage: azuriteConnectionString('relaystore.example.net'),
        AzureWebJobsStorage__queueServiceUri: 'https://relaystore.queue.core.windows.net',
        GRAPH_BASE_URL: 'https://graph.microsoft.com',
        KEY_VAULT_URL: 'https://relay-kv.vault.azure.net',
      }),
    ).toEqual(['AzureWebJobsStorage', 'AzureWebJobsStorage__queueServiceUri', 'GRAPH_BASE_URL', 'KEY_VAULT_URL']);
    expect(settingsPointingAtAzure({ GRAPH_AUTH_MODE: 'managedidentity' })).toEqual(['GRAPH_AUTH_MODE']);
  });

  it('refuses a local.settings.json that is not an object of strings, naming the problem', () => {
    const dir = appDir();
    writeFileSync(join(dir, 'local.settings.json'), JSON.stringify({ Values: { GRAPH_APP_ID: 42 } }));
    expect(thrown(ConfigError, () => readCliSettings(dir, {})).problems).toEqual(['local.settings.json: Values must be strings; not so for GRAPH_APP_ID.']);
  });
  it('refuses, in Production, a local value left beside the Azure settings (Azurite storage, simulator tokens) instead of using it', () => {
    const dir = appDir({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', GRAPH_AUTH_MODE: 'simulator', ...AZURE_APP });
    const problems = thrown(ConfigError, () => readCliSettings(dir, { AzureWebJobsStorage__accountName: 'relaystore' })).problems.join('\n');
    expect(problems).toContain('AzureWebJobsStorage points at Azurite');
    expect(problems).toContain('GRAPH_AUTH_MODE is simulator');
    expect(settingsPointingAtAzure({ GRAPH_CLIENT_SECRET: 's' })).toEqual(['GRAPH_CLIENT_SECRET']);
    expect(settingsPointingAtAzure({ AZURE_CLIENT_ID: 'id', GRAPH_CLIENT_CERTIFICATE_PATH: '/c.pem' })).toEqual(['GRAPH_CLIENT_CERTIFICATE_PATH', 'AZURE_CLIENT_ID']);
  });
});
