import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteIdentityCredential } from '../../dev/azure-stack/site-identity-credential.js';
import { readSiteSettings, type AzureSite } from '../../dev/azure-stack/site-host.js';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { startKeyVaultStandIn, type KeyVaultStandIn } from '../../dev/key-vault/key-vault-stand-in.js';
import { setProcessEnv } from '../helpers/process-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const SITE_IDENTITY = {
  clientId: '44444444-4444-4444-8444-444444444444',
  principalId: '55555555-5555-4555-8555-555555555555',
  resourceId: '/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-relay',
};

describe("the site's identity, named by its platform variables rather than this process's environment", () => {
  let mi: ManagedIdentityEndpoint;
  let vault: KeyVaultStandIn;
  let site: AzureSite;
  let restoreEnv: () => void = () => undefined;

  beforeAll(async () => {
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [SITE_IDENTITY] });
    vault = await startKeyVaultStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, roles: { [SITE_IDENTITY.principalId]: ['Key Vault Secrets User'] }, tenantId: TENANT } });
    vault.setSecret('graph-client-state', 'the-state');
    site = {
      appSettings: { GRAPH_CLIENT_STATE: `@Microsoft.KeyVault(SecretUri=${vault.url}/secrets/graph-client-state/)`, GRAPH_BASE_URL: 'http://127.0.0.1:1' },
      platformEnv: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production', IDENTITY_ENDPOINT: mi.endpoint, IDENTITY_HEADER: mi.header },
      keyVaultReferenceIdentity: SITE_IDENTITY.resourceId,
    };
    // This process's own variables name another endpoint, which nothing answers: the site's must be the ones used.
    restoreEnv = setProcessEnv({ IDENTITY_ENDPOINT: 'http://127.0.0.1:9/msi/token', IDENTITY_HEADER: 'not-the-site-s' });
  });
  afterAll(async () => {
    restoreEnv();
    await vault?.close();
    await mi?.close();
  });

  it('reads the Key Vault references with the identity the site names, from its endpoint', async () => {
    expect(await readSiteSettings(site)).toEqual({ GRAPH_CLIENT_STATE: 'the-state', GRAPH_BASE_URL: 'http://127.0.0.1:1' });
    expect(vault.requests.at(-1)).toMatchObject({ path: expect.stringMatching(/^\/secrets\/graph-client-state\/?$/), authorized: true });
  });

  it('asks for the resource of the scope, as the named user-assigned identity', async () => {
    const got = await siteIdentityCredential(site).getToken('https://vault.azure.net/.default');
    expect(got?.expiresOnTimestamp).toBeGreaterThan(Date.now() + 3600_000);
    const { payload } = await jwtVerify(String(got?.token), createRemoteJWKSet(new URL(mi.jwksUrl)), { issuer: mi.issuer, audience: 'https://vault.azure.net' });
    expect(payload).toMatchObject({ tid: TENANT, appid: SITE_IDENTITY.clientId, oid: SITE_IDENTITY.principalId });
  });

  it('fails as ManagedIdentityCredential does (CredentialUnavailableError) for an identity the site has not, a wrong header, or no endpoint', async () => {
    const failures: AzureSite[] = [
      { ...site, keyVaultReferenceIdentity: undefined },
      { ...site, platformEnv: { ...site.platformEnv, IDENTITY_HEADER: 'wrong' } },
      { ...site, platformEnv: { AZURE_FUNCTIONS_ENVIRONMENT: 'Production' } },
    ];
    const errors = await Promise.all(
      failures.map((s) =>
        siteIdentityCredential(s)
          .getToken('https://vault.azure.net/.default')
          .then(
            () => undefined,
            (e: Error) => e,
          ),
      ),
    );
    expect(errors.map((e) => e?.name)).toEqual(['CredentialUnavailableError', 'CredentialUnavailableError', 'CredentialUnavailableError']);
    expect(errors.map((e) => e?.message)).toEqual([
      expect.stringContaining('answered 400: No Managed Identity found'),
      expect.stringContaining('answered 401'),
      expect.stringContaining('no managed identity endpoint'),
    ]);
    expect(errors.map((e) => e?.message).join('\n')).not.toContain(mi.header);
  });
});
