import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntraStandIn, type EntraStandIn } from '../../dev/entra/entra-stand-in.js';
import { TOKEN_EXCHANGE_AUDIENCE } from '../../dev/entra/federated-credential.js';
import { TokenVerifier } from '../../dev/graph-simulator/token-verifier.js';
import { createSelfSignedCertificate } from '../../shared/certificates/self-signed.js';
import { createTenantCredentials, HomeTenantOnlyCredentialError, type TenantCredentialSettings } from '../../shared/graph/tenant-credentials.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';
import { setProcessEnv } from '../helpers/process-env.js';
import { rejection } from '../helpers/thrown.js';
import { tokenFrom } from '../helpers/credential-token.js';

const HOME = '11110000-0000-4000-8000-000000000001';
const [B, C] = ['bbbb0000-0000-4000-8000-00000000000b', 'cccc0000-0000-4000-8000-00000000000c'];
const GRAPH = 'https://graph.microsoft.com';
const SCOPE = `${GRAPH}/.default`;
const SECRET = 'multi-tenant~secret.1';
/** The function app's user-assigned managed identity. */
const IDENTITY = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777', roles: { [GRAPH]: ['Chat.Read.All'] } };
/** The multi-tenant app, consented in B (not in C), with a secret, a certificate and a federated credential trusting IDENTITY. */
const APP = { clientId: 'c0ffee00-0000-4000-8000-000000000001', principalId: 'c0ffee00-0000-4000-8000-0000000000f1', roles: { [GRAPH]: ['Chat.Read.All'] } };
/** Apps whose federated credential does not fit IDENTITY's token: another subject, another audience; and one with none. */
const OTHER_SUBJECT = { clientId: 'c0ffee00-0000-4000-8000-000000000002', principalId: 'c0ffee00-0000-4000-8000-0000000000f2', roles: {} };
const OTHER_AUDIENCE = { clientId: 'c0ffee00-0000-4000-8000-000000000003', principalId: 'c0ffee00-0000-4000-8000-0000000000f3', roles: {} };
const NO_FEDERATION = { clientId: 'c0ffee00-0000-4000-8000-000000000004', principalId: 'c0ffee00-0000-4000-8000-0000000000f4', roles: {} };
const B_ROLES = ['ChatMember.Read.All', 'User.Read.All'];

describe('Graph credentials per tenant against the Entra stand-in holding other tenants (AZURE_AUTHORITY_HOST)', () => {
  let entra: EntraStandIn;
  let verifier: TokenVerifier;
  let dir: string;
  let certificatePath: string;
  let restoreEnv: () => void = () => undefined;
  const settings = (graphAuth: TenantCredentialSettings['graphAuth'], appId = APP.clientId): TenantCredentialSettings => ({
    graphBaseUrl: new URL(GRAPH),
    graphAuth,
    appId,
    tenantIds: [HOME, B, C],
    azureClientId: IDENTITY.clientId,
    authorityHost: new URL(entra.authorityHost),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenant-credentials-'));
    const registered = await createSelfSignedCertificate({ subject: 'CN=relay multi-tenant app' });
    certificatePath = join(dir, 'app.pem');
    writeFileSync(certificatePath, registered.pem);
    const federated = (subject: string, audience = TOKEN_EXCHANGE_AUDIENCE) => [{ issuer: `https://login.microsoftonline.com/${HOME}/v2.0`, subject, audiences: [audience] }];
    entra = await startEntraStandIn({
      tenantId: HOME,
      identities: [IDENTITY],
      apps: [
        { ...APP, secret: SECRET, certificate: registered.certificate.toString(), federatedCredentials: federated(IDENTITY.principalId) },
        { ...OTHER_SUBJECT, federatedCredentials: federated('99999999-9999-4999-8999-999999999999') },
        { ...OTHER_AUDIENCE, federatedCredentials: federated(IDENTITY.principalId, 'api://AzureADTokenExchangeUSGov') },
        NO_FEDERATION,
      ],
      tenants: [{ tenantId: B, consents: [APP, OTHER_SUBJECT, OTHER_AUDIENCE, NO_FEDERATION].map((a) => ({ clientId: a.clientId, roles: { [GRAPH]: B_ROLES } })) }, { tenantId: C }],
    });
    const restoreIdentity = pointManagedIdentityAt(entra.managedIdentity);
    const restoreAuthority = setProcessEnv({ AZURE_AUTHORITY_HOST: entra.authorityHost });
    restoreEnv = () => {
      restoreAuthority();
      restoreIdentity();
    };
    verifier = new TokenVerifier({ jwksUrl: entra.jwksUrl, issuer: `https://sts.windows.net/${B}/` });
  });
  afterAll(async () => {
    restoreEnv();
    await entra?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [mode, graphAuth, appidacr] of [
    ['certificate', () => ({ mode: 'certificate', certificatePath }) as const, '2'],
    ['clientsecret', () => ({ mode: 'clientsecret', secret: SECRET }) as const, '1'],
    ['federated', () => ({ mode: 'federated' }) as const, '2'],
  ] as const) {
    it(`${mode}: a signed token of tenant B with B's roles, one credential per tenant; C, which never consented, refuses with AADSTS7000229`, async () => {
      const credentials = createTenantCredentials(settings(graphAuth()));
      const inB = credentials.forTenant(B);
      const token = await tokenFrom(inB);
      await expect(verifier.verify(token)).resolves.toMatchObject({ appId: APP.clientId, tenantId: B, roles: B_ROLES });
      expect(decodeJwt(token)).toMatchObject({ tid: B, iss: `https://sts.windows.net/${B}/`, appidacr });
      expect(decodeJwt(token).oid).not.toBe(APP.principalId);
      expect(credentials.forTenant(B)).toBe(inB);

      const home = decodeJwt(await tokenFrom(credentials.forTenant(HOME)));
      expect(home).toMatchObject({ tid: HOME, oid: APP.principalId, roles: APP.roles[GRAPH] });

      const refused = await rejection(credentials.forTenant(C).getToken(SCOPE));
      expect(refused.message).toContain(`AADSTS7000229: The client application ${APP.clientId} is missing service principal in the tenant ${C}.`);
    });
  }

  it("federated: presents the managed identity's token for the token exchange as the app's assertion, one token for every tenant", async () => {
    const credentials = createTenantCredentials(settings({ mode: 'federated' }));
    await credentials.forTenant(B).getToken(SCOPE);
    await credentials.forTenant(HOME).getToken(SCOPE);
    // The managed identity's token lasts a day and MSAL keeps it: every tenant's credential presents the same one.
    expect(entra.managedIdentity.issued.get(TOKEN_EXCHANGE_AUDIENCE)).toBe(1);
  });

  it('federated: refuses the assertion when no federated credential of the app matches its subject (AADSTS700213), audience (AADSTS700212) or issuer (AADSTS700211)', async () => {
    const refusal = async (appId: string) =>
      (
        await rejection(
          createTenantCredentials(settings({ mode: 'federated' }, appId))
            .forTenant(B)
            .getToken(SCOPE),
        )
      ).message;
    expect(await refusal(OTHER_SUBJECT.clientId)).toContain(
      `AADSTS700213: No matching federated identity record found for presented assertion subject '${IDENTITY.principalId}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
    );
    expect(await refusal(OTHER_AUDIENCE.clientId)).toContain(`AADSTS700212: No matching federated identity record found for presented assertion audience '${TOKEN_EXCHANGE_AUDIENCE}'.`);
    expect(await refusal(NO_FEDERATION.clientId)).toContain(
      `AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://login.microsoftonline.com/${HOME}/v2.0'.`,
    );
  });

  it("federated: refuses on the wire an assertion that claims the managed identity but is not signed by Entra's key (AADSTS50027)", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ oid: IDENTITY.principalId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(`https://login.microsoftonline.com/${HOME}/v2.0`)
      .setSubject(IDENTITY.principalId)
      .setAudience(TOKEN_EXCHANGE_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const res = await fetch(entra.tokenUrlOf(B), {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: APP.clientId,
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: forged,
        scope: SCOPE,
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', error_codes: [50027] });
  });

  it("managedidentity: the identity's token in the own tenant; in B a typed error before any request", async () => {
    const credentials = createTenantCredentials(settings({ mode: 'managedidentity' }));
    expect(decodeJwt(await tokenFrom(credentials.forTenant(HOME)))).toMatchObject({ tid: HOME, appid: IDENTITY.clientId, roles: IDENTITY.roles[GRAPH] });
    const before = entra.managedIdentity.issued.get(GRAPH) ?? 0;
    expect(() => credentials.forTenant(B)).toThrow(HomeTenantOnlyCredentialError);
    expect(entra.managedIdentity.issued.get(GRAPH)).toBe(before);
  });
});
