import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationRequiredError, CredentialUnavailableError, ManagedIdentityCredential } from '@azure/identity';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEntraStandIn, type EntraStandIn } from '../../dev/entra/entra-stand-in.js';
import { startGraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { TokenVerifier } from '../../dev/graph-simulator/token-verifier.js';
import { createSelfSignedCertificate, type SelfSignedCertificate } from '../../shared/certificates/self-signed.js';
import { createGraphCredential } from '../../shared/graph/graph-credential.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';
import { setProcessEnv } from '../helpers/process-env.js';
import { rejection } from '../helpers/thrown.js';
import { tokenFrom } from '../helpers/credential-token.js';
import { startWebhookSink } from '../helpers/webhook-sink.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const GRAPH = 'https://graph.microsoft.com';
const SECRET = 'relay-secret~value.1';
/** An app registration with a client secret, and one with a certificate credential. */
const BY_SECRET = { clientId: '22222222-2222-4222-8222-222222222222', principalId: '33333333-3333-4333-8333-333333333333', roles: { [GRAPH]: ['Chat.Read.All', 'ChatMember.Read.All'] } };
const BY_CERTIFICATE = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555', roles: { [GRAPH]: ['ChatMessage.Read.All'] } };
/** An app registration whose only client secret expired yesterday. */
const EXPIRED_SECRET = { clientId: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', principalId: 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', roles: { [GRAPH]: ['Chat.Read.All'] } };
const IDENTITY = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777', roles: { [GRAPH]: ['Chat.Read.All'] } };

/** The app's own credential, as createApp builds it from GRAPH_AUTH_MODE and the settings. */
const graphCredential = (appId: string, graphAuth: { mode: 'clientsecret'; secret: string } | { mode: 'certificate'; certificatePath: string }, tenantId = TENANT) =>
  createGraphCredential({ graphBaseUrl: new URL(`${GRAPH}/v1.0`), graphAuth, appId, tenantIds: [tenantId], authorityHost: new URL(String(process.env.AZURE_AUTHORITY_HOST)) });

describe("Entra's token endpoint stand-in, through the app's own ClientSecretCredential and ClientCertificateCredential (AZURE_AUTHORITY_HOST)", () => {
  let entra: EntraStandIn;
  let verifier: TokenVerifier;
  let registered: SelfSignedCertificate;
  let dir: string;
  let restoreEnv: () => void = () => undefined;
  /** A PEM file for ClientCertificateCredential: a certificate, then a private key. */
  const pemFile = (name: string, pem: string) => {
    const path = join(dir, name);
    writeFileSync(path, pem);
    return path;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'entra-token-endpoint-'));
    registered = await createSelfSignedCertificate({ subject: 'CN=relay graph credential' });
    entra = await startEntraStandIn({
      tenantId: TENANT,
      identities: [IDENTITY],
      apps: [
        { ...BY_SECRET, secret: SECRET },
        { ...BY_CERTIFICATE, certificate: registered.certificate.toString() },
        { ...EXPIRED_SECRET, secret: SECRET, secretExpiresAt: new Date(Date.now() - 86_400_000) },
      ],
    });
    restoreEnv = setProcessEnv({ AZURE_AUTHORITY_HOST: entra.authorityHost });
    verifier = new TokenVerifier({ jwksUrl: entra.jwksUrl, issuer: entra.issuers.v1 });
  });
  afterAll(async () => {
    restoreEnv();
    await entra?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the clientsecret mode a signed Graph token naming the app, its service principal and the roles granted to it', async () => {
    const token = await tokenFrom(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }));
    await expect(verifier.verify(token)).resolves.toMatchObject({ appId: BY_SECRET.clientId, tenantId: TENANT, roles: BY_SECRET.roles[GRAPH] });
    expect(decodeJwt(token)).toMatchObject({ aud: GRAPH, oid: BY_SECRET.principalId, sub: BY_SECRET.principalId, idtyp: 'app', appidacr: '1', ver: '1.0' });
    expect(entra.issued.get(GRAPH)).toBeGreaterThan(0);
  });

  it('gives the certificate mode a signed Graph token after checking the assertion with the registered certificate', async () => {
    const path = pemFile('relay.pem', registered.pem);
    const token = await tokenFrom(graphCredential(BY_CERTIFICATE.clientId, { mode: 'certificate', certificatePath: path }));
    await expect(verifier.verify(token)).resolves.toMatchObject({ appId: BY_CERTIFICATE.clientId, tenantId: TENANT, roles: BY_CERTIFICATE.roles[GRAPH] });
    expect(decodeJwt(token)).toMatchObject({ oid: BY_CERTIFICATE.principalId, appidacr: '2' });
  });

  it('refuses a wrong secret with AADSTS7000215, which @azure/identity surfaces, and answers on the wire as Entra does', async () => {
    const refused = await rejection(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: 'not-the-secret' }).getToken(`${GRAPH}/.default`));
    expect(refused).toBeInstanceOf(AuthenticationRequiredError);
    expect(refused.message).toContain('AADSTS7000215: Invalid client secret provided.');

    const res = await fetch(entra.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: BY_SECRET.clientId, client_secret: 'guess', scope: `${GRAPH}/.default` }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000215], correlation_id: 'c0ffee00-0000-4000-8000-000000000001' });
    expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.error_description).toMatch(/^AADSTS7000215: .*\r\nTrace ID: .*\r\nCorrelation ID: c0ffee00-0000-4000-8000-000000000001\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s);
  });

  it('refuses an expired secret with AADSTS7000222 naming the app, which @azure/identity surfaces; a wrong one stays AADSTS7000215', async () => {
    const refused = await rejection(graphCredential(EXPIRED_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }).getToken(`${GRAPH}/.default`));
    expect(refused).toBeInstanceOf(AuthenticationRequiredError);
    expect(refused.message).toContain(`AADSTS7000222: The provided client secret keys for app '${EXPIRED_SECRET.clientId}' are expired.`);

    const answer = (secret: string) =>
      fetch(entra.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: EXPIRED_SECRET.clientId, client_secret: secret, scope: `${GRAPH}/.default` }),
      });
    const res = await answer(SECRET);
    expect(res.status).toBe(401);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ error: 'invalid_client', error_codes: [7000222] });
    expect(body.error_description).toMatch(new RegExp(`^AADSTS7000222: The provided client secret keys for app '${EXPIRED_SECRET.clientId}' are expired\\. `));
    expect((await (await answer('not-the-secret')).json()) as Record<string, unknown>).toMatchObject({ error_codes: [7000215] });
  });

  it('refuses an assertion made with another certificate, and one whose signature is not by the registered certificate', async () => {
    const other = await createSelfSignedCertificate({ subject: 'CN=someone else' });
    const unregistered = await rejection(graphCredential(BY_CERTIFICATE.clientId, { mode: 'certificate', certificatePath: pemFile('other.pem', other.pem) }).getToken(`${GRAPH}/.default`));
    expect(unregistered.message).toContain('AADSTS700027');
    expect(unregistered.message).toContain('The key was not found.');

    // The registered certificate's thumbprint in the header, but another key signed the assertion.
    const otherKey = other.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const forged = pemFile('forged.pem', registered.certificate.toString() + otherKey);
    const badSignature = await rejection(graphCredential(BY_CERTIFICATE.clientId, { mode: 'certificate', certificatePath: forged }).getToken(`${GRAPH}/.default`));
    expect(badSignature.message).toContain('AADSTS700027');
    expect(badSignature.message).toContain('did not match the expected signature value');
    expect(unregistered.message).not.toContain('did not match the expected signature value');
  });

  it("checks a hand-made assertion's audience, lifetime and subject as Entra does (AADSTS700023, 700024, 700021)", async () => {
    const x5t = createHash('sha1').update(registered.certificate.raw).digest('base64url');
    const now = Math.floor(Date.now() / 1000);
    const assertion = (claims: { aud?: string; sub?: string; exp?: number } = {}) =>
      new SignJWT({ jti: randomUUID() })
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5t })
        .setIssuer(BY_CERTIFICATE.clientId)
        .setSubject(claims.sub ?? BY_CERTIFICATE.clientId)
        .setAudience(claims.aud ?? entra.tokenUrl)
        .setNotBefore(now - 60)
        .setExpirationTime(claims.exp ?? now + 600)
        .sign(registered.privateKey);
    const exchange = async (jwt: string) => {
      const res = await fetch(entra.tokenUrl, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: BY_CERTIFICATE.clientId,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: jwt,
          scope: `${GRAPH}/.default`,
        }),
      });
      return { status: res.status, body: (await res.json()) as { error_codes?: number[]; access_token?: string } };
    };
    const accepted = await exchange(await assertion());
    expect(accepted.status).toBe(200);
    await expect(verifier.verify(accepted.body.access_token ?? '')).resolves.toMatchObject({ appId: BY_CERTIFICATE.clientId });
    expect(await exchange(await assertion({ aud: `${entra.authorityHost}/common/oauth2/v2.0/token` }))).toMatchObject({ status: 401, body: { error_codes: [700023] } });
    expect(await exchange(await assertion({ exp: now - 600 }))).toMatchObject({ status: 401, body: { error_codes: [700024] } });
    expect(await exchange(await assertion({ sub: BY_SECRET.clientId }))).toMatchObject({ status: 401, body: { error_codes: [700021] } });
  });

  it('refuses a secret for the certificate app, an unknown client, an unknown resource and an unknown tenant', async () => {
    const noSecret = await rejection(graphCredential(BY_CERTIFICATE.clientId, { mode: 'clientsecret', secret: SECRET }).getToken(`${GRAPH}/.default`));
    expect(noSecret.message).toContain('AADSTS7000215');

    const stranger = await rejection(graphCredential('88888888-8888-4888-8888-888888888888', { mode: 'clientsecret', secret: SECRET }).getToken(`${GRAPH}/.default`));
    expect(stranger).toBeInstanceOf(AuthenticationRequiredError);
    expect(stranger.message).toContain("AADSTS700016: Application with identifier '88888888-8888-4888-8888-888888888888' was not found");

    const nowhere = await rejection(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }).getToken('https://nowhere.example.com/.default'));
    expect(nowhere.message).toContain('AADSTS500011: The resource principal named https://nowhere.example.com was not found');

    // MSAL reads the tenant's OpenID configuration first: Entra's 400 there makes the credential unavailable.
    const otherTenant = '99999999-9999-4999-8999-999999999999';
    await expect(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }, otherTenant).getToken(`${GRAPH}/.default`)).rejects.toBeInstanceOf(CredentialUnavailableError);
    const res = await fetch(`${entra.authorityHost}/${otherTenant}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: BY_SECRET.clientId, client_secret: SECRET, scope: `${GRAPH}/.default` }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', error_codes: [90002] });
  });

  it("signs the managed identity endpoint's tokens with the same keys, published at one jwksUrl", async () => {
    const restore = pointManagedIdentityAt(entra.managedIdentity);
    try {
      const token = await tokenFrom(new ManagedIdentityCredential({ clientId: IDENTITY.clientId }));
      await expect(verifier.verify(token)).resolves.toMatchObject({ appId: IDENTITY.clientId, roles: IDENTITY.roles[GRAPH] });
    } finally {
      restore();
    }
    const token = await tokenFrom(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }));
    const fromMiKeys = new TokenVerifier({ jwksUrl: entra.managedIdentity.jwksUrl, issuer: entra.issuers.v1 });
    await expect(fromMiKeys.verify(token)).resolves.toMatchObject({ appId: BY_SECRET.clientId });
  });

  it("lets the Graph simulator checking tokens (verifyTokens) create a subscription with the clientsecret mode's token", async () => {
    const sink = await startWebhookSink();
    sink.handshake = 'echo';
    const sim = await startGraphSimulator({ tenantId: TENANT, verifyTokens: { jwksUrl: entra.jwksUrl, issuer: entra.issuers.v1 } });
    try {
      const token = await tokenFrom(graphCredential(BY_SECRET.clientId, { mode: 'clientsecret', secret: SECRET }));
      const created = await graphClient(sim.baseUrl, token).post('/v1.0/subscriptions', {
        changeType: 'created,deleted',
        notificationUrl: sink.url,
        lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
        resource: '/chats/getAllMembers?model=A',
        expirationDateTime: inMinutes(50),
        clientState: 'secret-state',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect(created.body).toMatchObject({ applicationId: BY_SECRET.clientId });
      expect((await graphClient(sim.baseUrl, 'unsigned').get('/v1.0/subscriptions')).status).toBe(401);
    } finally {
      await sim.close();
      await sink.close();
    }
  });
});
