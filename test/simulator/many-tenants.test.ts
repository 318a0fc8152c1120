import { ClientSecretCredential } from '@azure/identity';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { startEntraStandIn, type EntraStandIn } from '../../dev/entra/entra-stand-in.js';
import { TEAMS_APPLICATION_PERMISSIONS } from '../../dev/graph-simulator/app-grants.js';
import { startGraphSimulator, type GraphSimulator, type GraphSimulatorOptions } from '../../dev/graph-simulator/graph-simulator.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

/** One multi-tenant app, consented in tenants A and B, never in C. */
const APP = 'c0ffee00-0000-4000-8000-000000000001';
const [A, B, C] = ['aaaa0000-0000-4000-8000-00000000000a', 'bbbb0000-0000-4000-8000-00000000000b', 'cccc0000-0000-4000-8000-00000000000c'];
/** A user of each tenant. */
const [ANN, BEN, CID] = ['a0000000-0000-4000-8000-0000000000a1', 'b0000000-0000-4000-8000-0000000000b1', 'c0000000-0000-4000-8000-0000000000c1'];

let sim: GraphSimulator;
let sink: WebhookSink;
let cert: TestCertificate;
let driver: ReturnType<typeof graphClient>;
/** The app's Graph client in a tenant: an unsigned token naming the app and the tenant, as simulatorCredential sends. */
const appIn = (tenantId: string) => graphClient(sim.baseUrl, bearerFor({ appid: APP, tid: tenantId, exp: Math.floor(Date.now() / 1000) + 3600 }));

/** A simulator holding tenants A, B and C (a user each), the app consented in A and B, all through the driver's HTTP API. */
async function start(options: GraphSimulatorOptions = {}): Promise<void> {
  cert ??= await createTestCertificate();
  sink = await startWebhookSink();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0005, batchWindowMs: 5 }, ...options });
  driver = graphClient(sim.baseUrl);
  for (const [id, displayName, user] of [
    [A, 'Tenant A', ANN],
    [B, 'Tenant B', BEN],
    [C, 'Tenant C', CID],
  ] as const) {
    expect((await driver.post('/_simulator/tenants', { id, displayName })).status).toBe(201);
    expect((await driver.post('/_simulator/users', { tenantId: id, id: user, displayName: `User of ${displayName}` })).status).toBe(201);
  }
  for (const tenant of [A, B]) expect((await driver.post(`/_simulator/tenants/${tenant}/consent`, { appId: APP, permissions: [...TEAMS_APPLICATION_PERMISSIONS] })).status).toBe(200);
}

afterEach(async () => {
  await sim?.close();
  await sink?.close();
});

const subscription = (resource: string, changeType = 'created,updated,deleted') => ({
  changeType,
  notificationUrl: sink.url,
  lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
  resource,
  expirationDateTime: inMinutes(120),
  clientState: 'state',
  includeResourceData: true,
  encryptionCertificate: cert.base64,
  encryptionCertificateId: 'cert-1',
});

const chatIn = async (tenantId: string, members: readonly string[]): Promise<string> => {
  const created = await driver.post('/_simulator/chats', { tenantId, members, chatType: 'group' });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id as string;
};

const post = async (chatId: string, from: string, content: string) => expect((await driver.post(`/_simulator/chats/${chatId}/messages`, { from, content })).status).toBe(201);

/** The deliveries of change notifications (lifecycle notifications go to their own URL and are left out). */
const changeDeliveries = () =>
  sink.posts.filter((p) => p.path === '/api/notifications' && !p.query.has('validationToken')).map((p) => JSON.parse(p.body) as ReturnType<WebhookSink['notifications']>[number]);

/** The `tid` of each validation token of a delivery, verified against the simulator's keys for the app. */
async function tokenTenants(tokens: readonly string[] | undefined): Promise<string[]> {
  const keys = createRemoteJWKSet(new URL(sim.jwksUrl));
  const tids = await Promise.all((tokens ?? []).map(async (t) => (await jwtVerify(t, keys, { audience: APP, algorithms: ['RS256'] })).payload.tid as string));
  return tids.sort();
}

describe('tenants in the Graph simulator: each with its own directory, consent per app and tenant', () => {
  it('creates tenants with the driver, lists them with their flag beside the default tenant, and refuses a taken id or an unknown tenant', async () => {
    await start();
    const listed = await driver.get('/_simulator/tenants');
    expect(listed.body.value).toEqual([
      { id: sim.tenantId, displayName: 'Contoso (simulator)', appRoleAssignmentRequired: false },
      { id: A, displayName: 'Tenant A', appRoleAssignmentRequired: false },
      { id: B, displayName: 'Tenant B', appRoleAssignmentRequired: false },
      { id: C, displayName: 'Tenant C', appRoleAssignmentRequired: false },
    ]);
    const generated = await driver.post('/_simulator/tenants', { displayName: 'Tenant D' });
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await driver.post('/_simulator/tenants', { id: A, displayName: 'again' })).status).toBe(409);
    const unknown = 'dddd0000-0000-4000-8000-00000000000d';
    expect((await driver.post('/_simulator/users', { tenantId: unknown, displayName: 'Nobody' })).status).toBe(404);
    expect((await driver.post(`/_simulator/tenants/${unknown}/consent`, { appId: APP, permissions: [] })).status).toBe(404);
    expect((await driver.post(`/_simulator/tenants/${A}/consent`, { appId: APP, permissions: 'all' })).status).toBe(400);
  });

  it("serves each tenant's token from that tenant's directory: its users, its teams, its subscriptions only", async () => {
    await start();
    const team = await driver.post('/_simulator/teams', { tenantId: B, displayName: 'B team' });
    expect(team.body.tenantId).toBe(B);
    expect((await appIn(A).get('/v1.0/users')).body.value.map((u: { id: string }) => u.id)).toEqual([ANN]);
    expect((await appIn(B).get('/v1.0/users')).body.value.map((u: { id: string }) => u.id)).toEqual([BEN]);
    expect((await appIn(A).get('/v1.0/teams')).body.value).toEqual([]);
    expect((await appIn(B).get('/v1.0/teams')).body.value.map((t: { id: string }) => t.id)).toEqual([team.body.id]);

    const inA = await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const inB = await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    expect([inA.status, inB.status]).toEqual([201, 201]);
    expect((await appIn(A).get('/v1.0/subscriptions')).body.value.map((s: { id: string }) => s.id)).toEqual([inA.body.id]);
    expect((await appIn(B).get('/v1.0/subscriptions')).body.value.map((s: { id: string }) => s.id)).toEqual([inB.body.id]);
    expect((await appIn(B).get(`/v1.0/subscriptions/${inA.body.id}`)).status).toBe(404);
    expect((await driver.get(`/_simulator/subscriptions?tenantId=${B}`)).body.value.map((s: { id: string }) => s.id)).toEqual([inB.body.id]);
    // The default tenant is untouched: the app's own token there sees none of them.
    expect((await graphClient(sim.baseUrl).get('/v1.0/subscriptions')).body.value).toEqual([]);
  });

  it("notifies a change in tenant B to B's subscription only, with B's tenantId and a validation token of B", async () => {
    await start();
    const inA = await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const inB = await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const chat = await chatIn(B, [BEN]);
    await post(chat, BEN, 'only in B');
    await sink.waitForNotifications(1);
    await sim.deliveries.idle();
    const [delivery, ...more] = changeDeliveries();
    expect(more).toEqual([]);
    expect(delivery?.value.map((n) => [n.subscriptionId, n.tenantId])).toEqual([[inB.body.id, B]]);
    expect(await tokenTenants(delivery?.validationTokens)).toEqual([B]);
    expect(inA.status).toBe(201);
  });

  it("notifies a cross-tenant chat to both tenants' subscriptions in one delivery: one item and one validation token per tenant", async () => {
    await start();
    const inA = await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const inB = await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const chat = await chatIn(A, [ANN, BEN]);
    await post(chat, BEN, 'across tenants');
    await sink.waitForNotifications(2);
    await sim.deliveries.idle();
    const [delivery, ...more] = changeDeliveries();
    expect(more).toEqual([]);
    expect(delivery?.value.map((n) => [n.subscriptionId, n.tenantId]).sort()).toEqual(
      [
        [inA.body.id, A],
        [inB.body.id, B],
      ].sort(),
    );
    expect(await tokenTenants(delivery?.validationTokens)).toEqual([A, B].sort());

    // Both tenants read the chat back; its members say where each lives.
    const members = await appIn(B).get(`/v1.0/chats/${chat}/members`);
    expect(members.body.value.map((m: { userId: string; tenantId: string }) => [m.userId, m.tenantId])).toEqual([
      [ANN, A],
      [BEN, B],
    ]);
    expect((await appIn(B).get(`/v1.0/chats/${chat}/messages`)).body.value.map((m: { body: { content: string } }) => m.body.content)).toEqual(['across tenants']);
    expect((await appIn(A).get(`/v1.0/chats/${chat}`)).status).toBe(200);
  });

  it("refuses a subscription on another tenant's chat or team with 404, and every call of an app never consented in the tenant with 401", async () => {
    await start();
    const onlyA = await chatIn(A, [ANN]);
    const teamOfA = await driver.post('/_simulator/teams', { tenantId: A, displayName: 'A team' });
    const channel = teamOfA.body.channels[0].id as string;
    const chatOfOther = await appIn(B).post('/v1.0/subscriptions', subscription(`/chats/${onlyA}/messages`));
    expect(chatOfOther.status).toBe(404);
    expect(chatOfOther.body.error).toMatchObject({ code: 'ExtensionError', message: 'Operation: Create; Exception: [Status Code: NotFound; Reason: Not Found]' });
    expect((await appIn(B).post('/v1.0/subscriptions', subscription(`/teams/${teamOfA.body.id}/channels/${channel}/messages`))).status).toBe(404);
    expect((await appIn(B).get(`/v1.0/chats/${onlyA}`)).status).toBe(404);
    expect((await appIn(A).post('/v1.0/subscriptions', subscription(`/chats/${onlyA}/messages`))).status).toBe(201);

    for (const call of [appIn(C).post('/v1.0/subscriptions', subscription('/chats/getAllMessages')), appIn(C).get('/v1.0/subscriptions'), appIn(C).get('/v1.0/users')]) {
      const refused = await call;
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('InvalidAuthenticationToken');
      expect(refused.body.error.message).toContain(`has no admin consent in tenant '${C}'`);
    }
    const unknownTenant = await graphClient(sim.baseUrl, bearerFor({ appid: APP, tid: 'eeee0000-0000-4000-8000-00000000000e' })).get('/v1.0/subscriptions');
    expect(unknownTenant.status).toBe(401);
  });

  it('holds a consent to its permissions: a subscription needing one not consented is refused with 403 naming it', async () => {
    await start();
    expect((await driver.post(`/_simulator/tenants/${B}/consent`, { appId: APP, permissions: ['ChatMember.Read.All'] })).body).toEqual({
      tenantId: B,
      appId: APP,
      permissions: ['ChatMember.Read.All'],
    });
    const refused = await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('Chat.Read.All');
    expect((await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMembers', 'created,deleted'))).status).toBe(201);
    expect((await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'))).status).toBe(201);
  });

  it("revoking the consent in B fails B's later calls and pauses B's notifications, while A's flow on", async () => {
    await start();
    const inA = await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    const inB = await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    expect((await driver.delete(`/_simulator/tenants/${B}/consent/${APP}`)).status).toBe(204);
    expect((await driver.delete(`/_simulator/tenants/${B}/consent/${APP}`)).status).toBe(404);

    expect((await appIn(B).get('/v1.0/subscriptions')).status).toBe(401);
    expect((await appIn(B).post(`/v1.0/subscriptions/${inB.body.id}/reauthorize`)).status).toBe(401);
    expect((await appIn(A).get('/v1.0/subscriptions')).status).toBe(200);

    await post(await chatIn(B, [BEN]), BEN, 'after revocation');
    await post(await chatIn(A, [ANN]), ANN, 'in A');
    await sink.waitForNotifications(1);
    await sim.deliveries.idle();
    expect(changeDeliveries().flatMap((d) => d.value.map((n) => n.subscriptionId))).toEqual([inA.body.id]);
    expect(sim.subscriptions.find(inB.body.id)?.held).toHaveLength(1);

    // Consent again and reauthorize: what was held is delivered.
    await driver.post(`/_simulator/tenants/${B}/consent`, { appId: APP, permissions: [...TEAMS_APPLICATION_PERMISSIONS] });
    expect((await appIn(B).post(`/v1.0/subscriptions/${inB.body.id}/reauthorize`)).status).toBe(204);
    await sink.waitForNotifications(2);
    await sim.deliveries.idle();
    expect(changeDeliveries().flatMap((d) => d.value.map((n) => [n.subscriptionId, n.tenantId]))).toEqual([
      [inA.body.id, A],
      [inB.body.id, B],
    ]);
  });

  it("counts the Teams subscription quota per tenant: a full tenant A leaves B's quota whole", async () => {
    await start({ quotaPerTenant: 2 });
    for (const resource of ['/chats/getAllMessages', '/chats/getAllMembers']) expect((await appIn(A).post('/v1.0/subscriptions', subscription(resource, 'created,deleted'))).status).toBe(201);
    const over = await appIn(A).post('/v1.0/subscriptions', subscription('/teams/getAllMessages'));
    expect(over.status).toBe(403);
    expect(over.body.error.message).toContain('The subscription quota of 2 for Teams resources in this tenant has been reached.');
    for (const resource of ['/chats/getAllMessages', '/teams/getAllMessages']) expect((await appIn(B).post('/v1.0/subscriptions', subscription(resource))).status).toBe(201);
    expect((await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMembers', 'created,deleted'))).status).toBe(403);
  });

  it("keeps the appRoleAssignmentRequired flag per tenant: a mixed delivery leaves out only B's validation token", async () => {
    await start();
    const patched = await driver.patch(`/_simulator/tenants/${B}`, { appRoleAssignmentRequired: true });
    expect(patched.body).toEqual({ id: B, appRoleAssignmentRequired: true });
    expect((await driver.get('/_simulator/tenants')).body.value.filter((t: { appRoleAssignmentRequired: boolean }) => t.appRoleAssignmentRequired).map((t: { id: string }) => t.id)).toEqual([B]);
    await appIn(A).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    await appIn(B).post('/v1.0/subscriptions', subscription('/chats/getAllMessages'));
    await post(await chatIn(A, [ANN, BEN]), ANN, 'mixed');
    await sink.waitForNotifications(2);
    await sim.deliveries.idle();
    const [delivery] = changeDeliveries();
    expect(delivery?.value.map((n) => n.tenantId).sort()).toEqual([A, B].sort());
    expect(await tokenTenants(delivery?.validationTokens)).toEqual([A]);
  });
});

describe("the Entra stand-in holding other tenants: a multi-tenant app's tokens per tenant, as consented there", () => {
  const HOME = '11110000-0000-4000-8000-000000000001';
  const GRAPH = 'https://graph.microsoft.com';
  const SECRET = 'multi-tenant~secret.1';
  let entra: EntraStandIn;
  const credentialIn = (tenantId: string) => new ClientSecretCredential(tenantId, APP, SECRET, { authorityHost: entra.authorityHost, disableInstanceDiscovery: true });

  afterEach(async () => {
    await entra?.close();
  });

  it("issues a token of tenant B with B's consented roles, which the simulator checking tokens serves from B; refuses C (no service principal) with AADSTS7000229, and B once revoked", async () => {
    entra = await startEntraStandIn({
      tenantId: HOME,
      apps: [{ clientId: APP, principalId: 'c0ffee00-0000-4000-8000-0000000000f1', secret: SECRET, roles: { [GRAPH]: ['Chat.Read.All'] } }],
      tenants: [{ tenantId: B, consents: [{ clientId: APP, roles: { [GRAPH]: ['ChatMember.Read.All', 'User.Read.All'] } }] }, { tenantId: C }],
    });
    sink = await startWebhookSink();
    sim = await startGraphSimulator({ tenantId: HOME, verifyTokens: { jwksUrl: entra.jwksUrl } });
    driver = graphClient(sim.baseUrl);
    cert ??= await createTestCertificate();
    await driver.post('/_simulator/tenants', { id: B, displayName: 'Tenant B' });
    await driver.post('/_simulator/users', { tenantId: B, id: BEN, displayName: 'Ben' });
    const token = (await credentialIn(B).getToken(`${GRAPH}/.default`)).token;
    expect(decodeJwt(token)).toMatchObject({ tid: B, iss: `https://sts.windows.net/${B}/`, appid: APP, roles: ['ChatMember.Read.All', 'User.Read.All'] });
    expect(decodeJwt(token).oid).not.toBe('c0ffee00-0000-4000-8000-0000000000f1');
    const inB = graphClient(sim.baseUrl, token);
    expect((await inB.get('/v1.0/users')).body.value.map((u: { id: string }) => u.id)).toEqual([BEN]);
    expect((await inB.post('/v1.0/subscriptions', subscription('/chats/getAllMembers', 'created,deleted'))).status).toBe(201);
    expect((await inB.post('/v1.0/subscriptions', subscription('/chats/getAllMessages'))).status).toBe(403);
    expect((await inB.get('/v1.0/subscriptions')).body.value).toHaveLength(1);

    await expect(credentialIn(C).getToken(`${GRAPH}/.default`)).rejects.toThrow(`AADSTS7000229: The client application ${APP} is missing service principal in the tenant ${C}.`);
    const wire = await fetch(entra.tokenUrlOf(C), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: `${GRAPH}/.default` }),
    });
    expect(wire.status).toBe(400);
    expect(await wire.json()).toMatchObject({ error: 'invalid_client', error_codes: [7000229] });

    entra.revokeConsent(B, APP);
    await expect(credentialIn(B).getToken(`${GRAPH}/.default`)).rejects.toThrow(`AADSTS7000229: The client application ${APP} is missing service principal in the tenant ${B}.`);
  });
});
