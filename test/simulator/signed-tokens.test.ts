import { ManagedIdentityCredential } from '@azure/identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedIdentityEndpoint, type ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const RELAY = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555' };
/** Consented to read chats' members, not their messages. */
const ROLES = ['ChatMember.Read.All'];
/** An identity no admin consented anything to on Graph: its Graph tokens carry no `roles`. */
const UNCONSENTED = { clientId: '66666666-6666-4666-8666-666666666666', principalId: '77777777-7777-4777-8777-777777777777' };
/** Consented to list the tenant's users and teams (what a backfill of tenant-wide subscriptions walks). */
const LISTER = {
  clientId: '88888888-8888-4888-8888-888888888888',
  principalId: '99999999-9999-4999-8999-999999999999',
  roles: { 'https://graph.microsoft.com': ['User.Read.All', 'Team.ReadBasic.All'] },
};

describe('the Graph simulator checking tokens as Graph does (verifyTokens), with tokens from the managed identity stand-in', () => {
  let mi: ManagedIdentityEndpoint;
  let sim: GraphSimulator;
  let sink: WebhookSink;
  let cert: TestCertificate;
  let restoreEnv: () => void = () => undefined;
  const tokenFor = async (resource: string) => (await new ManagedIdentityCredential({ clientId: RELAY.clientId }).getToken(`${resource}/.default`)).token;

  beforeAll(async () => {
    cert = await createTestCertificate();
    sink = await startWebhookSink();
    sink.handshake = 'echo';
    mi = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [{ ...RELAY, roles: { 'https://graph.microsoft.com': ROLES } }, UNCONSENTED, LISTER] });
    restoreEnv = pointManagedIdentityAt(mi);
    sim = await startGraphSimulator({ tenantId: TENANT, verifyTokens: { jwksUrl: mi.jwksUrl, issuer: mi.issuer } });
  });
  afterAll(async () => {
    restoreEnv();
    await sim?.close();
    await mi?.close();
    await sink?.close();
  });

  const subscription = (resource: string, changeType = 'created,updated,deleted') => ({
    changeType,
    notificationUrl: sink.url,
    lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
    resource,
    expirationDateTime: inMinutes(50),
    clientState: 'secret-state',
    includeResourceData: true,
    encryptionCertificate: cert.base64,
    encryptionCertificateId: 'cert-1',
  });

  it('creates a subscription for the app and tenant the signed token names, on a permission its roles hold', async () => {
    const graph = graphClient(sim.baseUrl, await tokenFor('https://graph.microsoft.com'));
    const created = await graph.post('/v1.0/subscriptions', subscription('/chats/getAllMembers?model=A', 'created,deleted'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ applicationId: RELAY.clientId });
    expect((await graph.get('/v1.0/subscriptions')).body.value.map((s: { id: string }) => s.id)).toEqual([created.body.id]);
  });

  it('answers 403 naming the permission when the roles lack it, whatever grant the app was given', async () => {
    expect(sim.grants.of(RELAY.clientId).permissions).toContain('Chat.Read.All');
    const graph = graphClient(sim.baseUrl, await tokenFor('https://graph.microsoft.com'));
    const refused = await graph.post('/v1.0/subscriptions', subscription('/chats/getAllMessages?model=A'));
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toContain('Chat.Read.All');
  });

  it("refuses the backfill's tenant-wide listings with Graph's 403 when the roles hold none of their permissions, whatever the app's grant", async () => {
    expect(sim.grants.of(RELAY.clientId).permissions).toEqual(expect.arrayContaining(['User.Read.All', 'Team.ReadBasic.All']));
    const relay = graphClient(sim.baseUrl, await tokenFor('https://graph.microsoft.com'));
    const users = await relay.get('/v1.0/users?$select=id');
    expect(users.status).toBe(403);
    expect(users.body.error).toMatchObject({ code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    const teams = await relay.get('/v1.0/teams?$select=id');
    expect(teams.status).toBe(403);
    expect(teams.body.error).toMatchObject({
      code: 'Forbidden',
      message: "Missing role permissions on the request. API requires one of 'Team.ReadBasic.All, TeamSettings.Read.All, TeamSettings.ReadWrite.All'. Roles on the request 'ChatMember.Read.All'.",
    });

    const lister = graphClient(sim.baseUrl, (await new ManagedIdentityCredential({ clientId: LISTER.clientId }).getToken('https://graph.microsoft.com/.default')).token);
    expect((await lister.get('/v1.0/users?$select=id')).status).toBe(200);
    expect((await lister.get('/v1.0/teams?$select=id')).status).toBe(200);
  });

  it("answers 401 to an unsigned token, another resource's token and no token", async () => {
    const unsigned = await graphClient(sim.baseUrl, bearerFor({ appid: RELAY.clientId, tid: TENANT, roles: ROLES })).get('/v1.0/subscriptions');
    expect(unsigned.status).toBe(401);
    expect(unsigned.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Invalid signature.' });
    const forVault = await graphClient(sim.baseUrl, await tokenFor('https://vault.azure.net')).get('/v1.0/subscriptions');
    expect(forVault.status).toBe(401);
    expect(forVault.body.error.message).toBe('Access token validation failure. Invalid audience.');
    expect((await graphClient(sim.baseUrl, null).get('/v1.0/subscriptions')).status).toBe(401);
  });

  it('answers 401 to a signed token of an identity granted nothing on Graph (no roles, no scp), as Graph does', async () => {
    const token = (await new ManagedIdentityCredential({ clientId: UNCONSENTED.clientId }).getToken('https://graph.microsoft.com/.default')).token;
    const answer = await graphClient(sim.baseUrl, token).get('/v1.0/subscriptions');
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: 'Either scp or roles claim need to be present in the token.' });
  });

  it('answers 401 to an expired token', async () => {
    const stale = await startManagedIdentityEndpoint({ tenantId: TENANT, identities: [RELAY], lifetimeSeconds: -900 });
    try {
      const expiring = await startGraphSimulator({ tenantId: TENANT, verifyTokens: { jwksUrl: stale.jwksUrl } });
      try {
        const res = await fetch(`${stale.endpoint}?api-version=2019-08-01&resource=https://graph.microsoft.com&client_id=${RELAY.clientId}`, {
          headers: { 'x-identity-header': stale.header },
        });
        const { access_token } = (await res.json()) as { access_token: string };
        const answer = await graphClient(expiring.baseUrl, access_token).get('/v1.0/subscriptions');
        expect(answer.status).toBe(401);
        expect(answer.body.error.message).toBe('Lifetime validation failed, the token is expired.');
      } finally {
        await expiring.close();
      }
    } finally {
      await stale.close();
    }
  });
});
