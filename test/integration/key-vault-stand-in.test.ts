import { ManagedIdentityCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { startKeyVaultStandIn, type KeyVaultStandIn } from '../../dev/key-vault/key-vault-stand-in.js';
import { createTestCertificate } from '../helpers/certificates.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const RELAY = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555' };
const STRANGER = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777' };

describe('the Key Vault stand-in in RBAC mode, with tokens from the managed identity stand-in, through the real SDK clients', () => {
  let mi: ManagedIdentityEndpoint;
  let vault: KeyVaultStandIn;
  let restoreEnv: () => void = () => undefined;
  const options = () => ({ tlsOptions: { ca: vault.tlsCa }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } });
  const secrets = (clientId: string) => new SecretClient(vault.url, new ManagedIdentityCredential({ clientId }), options());

  beforeAll(async () => {
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [RELAY, STRANGER] });
    restoreEnv = pointManagedIdentityAt(mi);
    vault = await startKeyVaultStandIn({ entra: { jwksUrl: mi.jwksUrl, issuer: mi.issuer, roles: { [RELAY.principalId]: ['Key Vault Secrets User'] }, tenantId: TENANT } });
    vault.setSecret('graph-client-state', 'first-state');
    vault.setSecret('graph-client-state', 'second-state');
    const cert = await createTestCertificate();
    vault.addVersion('graph-notifications', { der: Buffer.from(cert.base64, 'base64'), secret: cert.pem, contentType: 'application/x-pem-file' });
  });
  afterAll(async () => {
    restoreEnv();
    await vault?.close();
    await mi?.close();
  });

  it('reads the newest version of a secret for an identity with Key Vault Secrets User, after the 401 challenge', async () => {
    const secret = await secrets(RELAY.clientId).getSecret('graph-client-state');
    expect(secret.value).toBe('second-state');
    expect(vault.requests.some((r) => !r.authorized)).toBe(true);
    expect(vault.requests.at(-1)).toMatchObject({ path: expect.stringMatching(/^\/secrets\/graph-client-state\/?$/), authorized: true });
  });

  it('refuses with 403 ForbiddenByRbac what the roles do not allow: certificates for Secrets User, anything for an identity with no role', async () => {
    const certificates = new CertificateClient(vault.url, new ManagedIdentityCredential({ clientId: RELAY.clientId }), options());
    await expect(certificates.getCertificate('graph-notifications')).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
    await expect(secrets(STRANGER.clientId).getSecret('graph-client-state')).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining('secrets/getSecret/action') });
  });

  it("challenges an unauthenticated request naming the vault's own tenant as the authority, and Key Vault as the resource", async () => {
    const res = await fetch(`${vault.url}/secrets/graph-client-state?api-version=7.5`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer authorization="https://login.microsoftonline.com/${TENANT}", resource="https://vault.azure.net"`);
  });

  it('refuses with 401 a token for another resource and the static token of the mode without Entra', async () => {
    const res = await fetch(`${mi.endpoint}?api-version=2019-08-01&resource=https://graph.microsoft.com&client_id=${RELAY.clientId}`, { headers: { 'x-identity-header': mi.header } });
    const { access_token } = (await res.json()) as { access_token: string };
    const forGraph = new SecretClient(vault.url, { getToken: async () => ({ token: access_token, expiresOnTimestamp: Date.now() + 3600_000 }) }, options());
    await expect(forGraph.getSecret('graph-client-state')).rejects.toMatchObject({ statusCode: 401 });
    const staticToken = new SecretClient(vault.url, vault.credential, options());
    await expect(staticToken.getSecret('graph-client-state')).rejects.toMatchObject({ statusCode: 401 });
  });
});
