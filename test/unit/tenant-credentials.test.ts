import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/errors.js';
import { readSettings } from '../../shared/config/settings.js';
import { createSelfSignedCertificate } from '../../shared/certificates/self-signed.js';
import { createGraphCredential } from '../../shared/graph/graph-credential.js';
import { createTenantCredentials, HomeTenantOnlyCredentialError, tokenExchangeScope, type TenantCredentialSettings } from '../../shared/graph/tenant-credentials.js';
import { thrown } from '../helpers/thrown.js';

const HOME = '11111111-1111-4111-8111-111111111111';
const B = 'bbbb0000-0000-4000-8000-00000000000b';
const APP = '22222222-2222-4222-8222-222222222222';

const settingsWith = (graphAuth: TenantCredentialSettings['graphAuth'], extra: Partial<TenantCredentialSettings> = {}): TenantCredentialSettings => ({
  graphBaseUrl: new URL('https://graph.microsoft.com'),
  graphAuth,
  appId: APP,
  tenantIds: [HOME, B],
  ...extra,
});

describe('createTenantCredentials: the Graph credential of each tenant, per GRAPH_AUTH_MODE', () => {
  let dir: string;
  let certificatePath: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenant-credentials-'));
    certificatePath = join(dir, 'app.pem');
    writeFileSync(certificatePath, (await createSelfSignedCertificate({ subject: 'CN=relay app' })).pem);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes the first of GRAPH_TENANT_IDS as the app's own tenant", () => {
    expect(createTenantCredentials(settingsWith({ mode: 'simulator' }, { tenantIds: [B.toUpperCase(), HOME] })).homeTenantId).toBe(B);
  });

  it('makes the app credential of the mode for any tenant: certificate, clientsecret, and federated (a client assertion)', () => {
    expect(createTenantCredentials(settingsWith({ mode: 'certificate', certificatePath })).forTenant(B)).toBeInstanceOf(ClientCertificateCredential);
    expect(createTenantCredentials(settingsWith({ mode: 'clientsecret', secret: 'not-a-real-secret' })).forTenant(B)).toBeInstanceOf(ClientSecretCredential);
    expect(createTenantCredentials(settingsWith({ mode: 'federated' })).forTenant(B)).toBeInstanceOf(ClientAssertionCredential);
  });

  it('makes each tenant its credential once, whatever the case of its id, and another one for another tenant', () => {
    for (const graphAuth of [{ mode: 'federated' }, { mode: 'certificate', certificatePath }, { mode: 'simulator' }] as const) {
      const credentials = createTenantCredentials(settingsWith(graphAuth));
      const inB = credentials.forTenant(B);
      expect(credentials.forTenant(B.toUpperCase())).toBe(inB);
      expect(credentials.forTenant(HOME)).not.toBe(inB);
    }
  });

  it('gives the simulator mode an unsigned token naming the tenant asked for and the app', async () => {
    const credentials = createTenantCredentials(settingsWith({ mode: 'simulator' }));
    const token = await credentials.forTenant(B).getToken('https://graph.microsoft.com/.default');
    expect(decodeJwt(token?.token ?? '')).toMatchObject({ tid: B, appid: APP });
  });

  it("serves the managedidentity and default modes in the app's own tenant only, and names the modes that serve others", () => {
    const identity = createTenantCredentials(settingsWith({ mode: 'managedidentity' }, { azureClientId: '66666666-6666-4666-8666-666666666666' }));
    expect(identity.forTenant(HOME)).toBeInstanceOf(ManagedIdentityCredential);
    expect(createTenantCredentials(settingsWith({ mode: 'default' })).forTenant(HOME.toUpperCase())).toBeInstanceOf(DefaultAzureCredential);
    for (const mode of ['managedidentity', 'default'] as const) {
      const e = thrown(HomeTenantOnlyCredentialError, () => createTenantCredentials(settingsWith({ mode })).forTenant(B));
      expect(e.code).toBe('ERR_GRAPH_CREDENTIAL_HOME_TENANT_ONLY');
      expect(e).toMatchObject({ mode, tenantId: B });
      expect(e.message).toContain(`GRAPH_AUTH_MODE=${mode} cannot get a Graph token for tenant ${B}`);
      expect(e.message).toContain(`own tenant (${HOME})`);
      expect(e.message).toMatch(/certificate .* federated/);
    }
  });

  it("keeps createGraphCredential as the own tenant's credential", async () => {
    const token = await createGraphCredential(settingsWith({ mode: 'simulator' })).getToken('https://graph.microsoft.com/.default');
    expect(decodeJwt(token?.token ?? '')).toMatchObject({ tid: HOME });
    expect(createGraphCredential(settingsWith({ mode: 'managedidentity' }))).toBeInstanceOf(ManagedIdentityCredential);
  });

  it("asks the managed identity for the token exchange audience of the authority's cloud", () => {
    expect(tokenExchangeScope(undefined)).toBe('api://AzureADTokenExchange/.default');
    expect(tokenExchangeScope(new URL('https://127.0.0.1:7443'))).toBe('api://AzureADTokenExchange/.default');
    expect(tokenExchangeScope(new URL('https://login.microsoftonline.us'))).toBe('api://AzureADTokenExchangeUSGov/.default');
    expect(tokenExchangeScope(new URL('https://login.chinacloudapi.cn'))).toBe('api://AzureADTokenExchangeChina/.default');
  });
});

describe('GRAPH_AUTH_MODE=federated in the settings', () => {
  const azure = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', GRAPH_CLIENT_STATE: 's', GRAPH_APP_ID: APP, GRAPH_TENANT_IDS: `${HOME},${B}`, CERTIFICATE_STORE: 'local' };

  it('is read with no secret or certificate: the managed identity (AZURE_CLIENT_ID) backs it', () => {
    expect(readSettings({ ...azure, GRAPH_AUTH_MODE: 'federated' }).graphAuth).toEqual({ mode: 'federated' });
  });

  it('is named among the modes when GRAPH_AUTH_MODE is none of them', () => {
    const e = thrown(ConfigError, () => readSettings({ ...azure, GRAPH_AUTH_MODE: 'workloadidentity' }));
    expect(e.problems).toContain('GRAPH_AUTH_MODE must be managedidentity, federated, clientsecret, certificate, default or simulator, not "workloadidentity".');
  });
});
