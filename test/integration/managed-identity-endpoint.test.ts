import { ManagedIdentityCredential } from '@azure/identity';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const RELAY = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555' };
const OTHER = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777' };

describe("the managed identity endpoint stand-in, through @azure/identity's ManagedIdentityCredential unchanged", () => {
  let mi: ManagedIdentityEndpoint;
  let restoreEnv: () => void = () => undefined;

  beforeAll(async () => {
    mi = await startManagedIdentityEndpoint({
      tenantId: TENANT,
      identities: [{ ...RELAY, roles: { 'https://graph.microsoft.com': ['Chat.Read.All', 'ChatMember.Read.All'] } }, OTHER],
    });
    restoreEnv = pointManagedIdentityAt(mi);
  });
  afterAll(async () => {
    restoreEnv();
    await mi?.close();
  });

  it("gives a user-assigned identity a signed token for the resource asked, with that resource's roles", async () => {
    const { token, expiresOnTimestamp } = await new ManagedIdentityCredential({ clientId: RELAY.clientId }).getToken('https://graph.microsoft.com/.default');
    expect(expiresOnTimestamp).toBeGreaterThan(Date.now() + 3600_000);
    const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(mi.jwksUrl)), { issuer: mi.issuer, audience: 'https://graph.microsoft.com' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ tid: TENANT, appid: RELAY.clientId, oid: RELAY.principalId, sub: RELAY.principalId, roles: ['Chat.Read.All', 'ChatMember.Read.All'] });

    const vault = await new ManagedIdentityCredential({ clientId: RELAY.clientId }).getToken('https://vault.azure.net/.default');
    const { payload: forVault } = await jwtVerify(vault.token, createRemoteJWKSet(new URL(mi.jwksUrl)), { audience: 'https://vault.azure.net' });
    expect(forVault.roles).toBeUndefined();
    await expect(jwtVerify(vault.token, createRemoteJWKSet(new URL(mi.jwksUrl)), { audience: 'https://graph.microsoft.com' })).rejects.toThrow(/aud/);
  });

  it('refuses an identity it does not hold, and a request without the identity header', async () => {
    await expect(new ManagedIdentityCredential({ clientId: '88888888-8888-4888-8888-888888888888' }).getToken('https://storage.azure.com/.default')).rejects.toThrow();
    const bare = await fetch(`${mi.endpoint}?api-version=2019-08-01&resource=https://storage.azure.com&client_id=${RELAY.clientId}`);
    expect(bare.status).toBe(401);
    const wrong = await fetch(`${mi.endpoint}?api-version=2019-08-01&resource=https://storage.azure.com&client_id=${RELAY.clientId}`, { headers: { 'x-identity-header': 'guessed' } });
    expect(wrong.status).toBe(401);
    // Naming no identity asks for the system-assigned one; this site has only user-assigned ones, as infra/ makes it.
    const unnamed = await fetch(`${mi.endpoint}?api-version=2019-08-01&resource=https://storage.azure.com`, { headers: { 'x-identity-header': mi.header } });
    expect(unnamed.status).toBe(400);
    expect(mi.issued.get('https://storage.azure.com')).toBeUndefined();
  });

  it('refuses a resource no service principal of the tenant stands for, as Entra does (AADSTS500011)', async () => {
    const res = await fetch(`${mi.endpoint}?api-version=2019-08-01&resource=http://127.0.0.1:9/&client_id=${RELAY.clientId}`, { headers: { 'x-identity-header': mi.header } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/^AADSTS500011: The resource principal named http:\/\/127\.0\.0\.1:9 was not found/);
  });

  it('gives a request that names no identity the system-assigned one, and finds a user-assigned one by mi_res_id', async () => {
    const resourceId = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/relay';
    const site = await startManagedIdentityEndpoint({
      tenantId: TENANT,
      identities: [
        { ...OTHER, systemAssigned: true },
        { ...RELAY, resourceId },
      ],
    });
    try {
      const ask = async (extra: string) => {
        const res = await fetch(`${site.endpoint}?api-version=2019-08-01&resource=https://vault.azure.net${extra}`, { headers: { 'x-identity-header': site.header } });
        return ((await res.json()) as { client_id: string }).client_id;
      };
      expect(await ask('')).toBe(OTHER.clientId);
      expect(await ask(`&mi_res_id=${encodeURIComponent(resourceId)}`)).toBe(RELAY.clientId);
    } finally {
      await site.close();
    }
  });
});
