import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { LIFECYCLE_REQUIRED_MESSAGE } from '../../dev/graph-simulator/subscriptions.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

let sim: GraphSimulator;
let sink: WebhookSink;
let cert: TestCertificate;
let graph: ReturnType<typeof graphClient>;

beforeAll(async () => {
  cert = await createTestCertificate();
  sink = await startWebhookSink();
});
afterAll(() => sink.close());
beforeEach(async () => {
  sim = await startGraphSimulator({ handshakeTimeoutMs: 500, quotaPerTenant: 20 });
  graph = graphClient(sim.baseUrl);
  sink.handshake = 'echo';
});
afterEach(() => sim.close());

const subscription = (overrides: Record<string, unknown> = {}) => ({
  changeType: 'created,updated,deleted',
  notificationUrl: sink.url,
  lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
  resource: '/chats/19:abc@thread.v2/messages',
  expirationDateTime: inMinutes(120),
  clientState: 'secret-state',
  ...overrides,
});

const RESOURCES: [string, 'v1.0' | 'beta', string][] = [
  ['/chats', 'v1.0', 'created,updated'],
  ['/chats/19:abc@thread.v2', 'v1.0', 'created,updated'],
  ['/chats/19:abc@thread.v2?notifyOnUserSpecificProperties=true', 'v1.0', 'updated'],
  ['/users/5f1c0000-0000-4000-8000-000000000001/chats', 'beta', 'created,updated'],
  ['/appCatalogs/teamsApps/app-1/installedToChats?model=B', 'v1.0', 'created,updated'],
  ['/chats/getAllMembers?model=A', 'v1.0', 'created,deleted'],
  ['/chats/19:abc@thread.v2/members', 'v1.0', 'created,deleted'],
  ['/appCatalogs/teamsApps/app-1/installedToChats/getAllMembers?model=B', 'v1.0', 'created,deleted'],
  ['/teams/getAllMessages?model=B', 'v1.0', 'created,updated,deleted'],
  ['/chats/getAllMessages?model=A', 'v1.0', 'created,updated,deleted'],
  ["/teams/t-1/channels/19:c@thread.tacv2/messages?$filter=mentions/any(u: u/mentioned/user/id eq 'u-1')", 'v1.0', 'created'],
  ['/chats/19:abc@thread.v2/messages?$search="budget"', 'v1.0', 'created,updated'],
  ['/users/5f1c0000-0000-4000-8000-000000000001/chats/getAllMessages?model=B', 'beta', 'created'],
  ['/appCatalogs/teamsApps/app-1/installedToChats/getAllMessages?model=B', 'v1.0', 'created,updated,deleted'],
  // Since 25 August 2025 the Teams APIs are no longer metered: model= is optional on every resource that takes one.
  ['/appCatalogs/teamsApps/app-1/installedToChats', 'v1.0', 'created,updated'],
  ['/chats/getAllMembers', 'v1.0', 'created,deleted'],
  ['/appCatalogs/teamsApps/app-1/installedToChats/getAllMembers', 'v1.0', 'created,deleted'],
  ['/teams/getAllMessages', 'v1.0', 'created,updated,deleted'],
  ['/chats/getAllMessages', 'v1.0', 'created,updated,deleted'],
  ['/users/5f1c0000-0000-4000-8000-000000000001/chats/getAllMessages', 'beta', 'created'],
  ['/appCatalogs/teamsApps/app-1/installedToChats/getAllMessages', 'v1.0', 'created,updated,deleted'],
];

describe('POST /subscriptions', () => {
  it('requires a bearer token', async () => {
    const res = await graphClient(sim.baseUrl, null).post('/v1.0/subscriptions', subscription());
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: expect.any(String), innerError: { 'request-id': expect.any(String) } });
  });

  it.each(RESOURCES)('accepts %s (%s)', async (resource, version, changeType) => {
    const res = await graph.post(`/${version}/subscriptions`, subscription({ resource, changeType }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ id: expect.any(String), resource, changeType, notificationUrl: sink.url, applicationId: sim.appId });
  });

  it('refuses what Graph refuses, with Graph error bodies', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resource: '/users/u1/messages' }, /not supported/],
      [{ resource: '/users/u1/chats' }, /beta/],
      [{ resource: '/chats/getAllMessages?model=C' }, /model=A or model=B/],
      [{ resource: '/appCatalogs/teamsApps/a/installedToChats?model=A' }, /model=B/],
      [{ resource: '/chats?$search=x' }, /not supported/],
      [{ resource: "/chats/1/messages?$filter=from/user/id eq 'x'" }, /mentions/],
      [{ changeType: 'created,renamed' }, /renamed/],
      [{ resource: '/chats', changeType: 'deleted' }, /deleted/],
      [{ expirationDateTime: inMinutes(4321) }, /4320 minutes/],
      [{ expirationDateTime: inMinutes(-5) }, /minutes in the future/],
      [{ clientState: 'x'.repeat(129) }, /128/],
      [{ notificationUrl: 'not a url' }, /notificationUrl/],
      [{ includeResourceData: true }, /encryptionCertificate/],
      [{ includeResourceData: true, encryptionCertificate: 'bm90IGEgY2VydA==', encryptionCertificateId: 'c1' }, /X\.509/],
      [{ includeResourceData: true, encryptionCertificate: cert.base64 }, /encryptionCertificateId/],
    ];
    for (const [overrides, message] of cases) {
      const res = await graph.post('/v1.0/subscriptions', subscription(overrides));
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
  });

  it('requires https, except on loopback', async () => {
    for (const url of ['http://relay.example.com/api/notifications', 'http://10.0.0.4/api/notifications', 'ftp://127.0.0.1/x']) {
      const res = await graph.post('/v1.0/subscriptions', subscription({ notificationUrl: url }));
      expect(res.status, url).toBe(400);
      expect(res.body.error.message).toMatch(/only https URLs are supported/);
    }
    expect((await graph.post('/v1.0/subscriptions', subscription({ lifecycleNotificationUrl: 'http://relay.example.com/api/lifecycle' }))).body.error.message).toMatch(
      /Invalid lifecycleNotificationUrl/,
    );
    // https passes the check and goes on to the handshake (nothing listens there: Graph's ValidationError).
    const https = await graph.post('/v1.0/subscriptions', subscription({ notificationUrl: 'https://127.0.0.1:9/api/notifications' }));
    expect(https.body.error.code).toBe('ValidationError');
    expect((await graph.post('/v1.0/subscriptions', subscription({ notificationUrl: sink.url.replace('127.0.0.1', 'localhost') }))).status).toBe(201);
  });

  it("requires lifecycleNotificationUrl past one hour, with Microsoft's message", async () => {
    const res = await graph.post('/v1.0/subscriptions', subscription({ lifecycleNotificationUrl: undefined, expirationDateTime: inMinutes(61) }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(LIFECYCLE_REQUIRED_MESSAGE);
    const short = await graph.post('/v1.0/subscriptions', subscription({ lifecycleNotificationUrl: undefined, expirationDateTime: inMinutes(50) }));
    expect(short.status).toBe(201);
  });

  it('raises a lifetime under 45 minutes to 45', async () => {
    const res = await graph.post('/v1.0/subscriptions', subscription({ expirationDateTime: inMinutes(5) }));
    expect(res.status).toBe(201);
    const minutes = (Date.parse(res.body.expirationDateTime) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(44.5);
    expect(minutes).toBeLessThan(45.5);
  });

  it('refuses certificates outside 2048-4096 bits', async () => {
    const small = await createTestCertificate(1024);
    const res = await graph.post('/v1.0/subscriptions', subscription({ includeResourceData: true, encryptionCertificate: small.base64, encryptionCertificateId: 'small' }));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/1024 bits/);
    const ok = await graph.post('/v1.0/subscriptions', subscription({ includeResourceData: true, encryptionCertificate: cert.base64, encryptionCertificateId: 'c1' }));
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ includeResourceData: true, encryptionCertificateId: 'c1' });
  });

  it('answers 409 for the same resource and changeType, per app', async () => {
    expect((await graph.post('/v1.0/subscriptions', subscription())).status).toBe(201);
    const again = await graph.post('/v1.0/subscriptions', subscription());
    expect(again.status).toBe(409);
    const otherApp = graphClient(sim.baseUrl, bearerFor({ appid: '99999999-9999-4999-8999-999999999999', tid: sim.tenantId }));
    expect((await otherApp.post('/v1.0/subscriptions', subscription())).status).toBe(201);
  });

  it('allows one subscription per app and chat or channel: another changeType on the same chat answers 403 with the Teams error shape', async () => {
    expect((await graph.post('/v1.0/subscriptions', subscription({ changeType: 'created' }))).status).toBe(201);
    const second = await graph.post('/v1.0/subscriptions', subscription({ changeType: 'created,updated' }));
    expect(second.status).toBe(403);
    expect(second.body.error).toMatchObject({ code: 'ExtensionError', innerError: { 'request-id': expect.any(String), date: expect.any(String) } });
    expect(second.body.error.message).toMatch(/^Operation: Create; Exception: \[Status Code: Forbidden; Reason: The maximum number of subscriptions per application and chat or channel \(1\)/);
    // The same chat with a $search is still that chat's messages.
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:abc@thread.v2/messages?$search="x"' }))).status).toBe(403);
    // Its members and the chat itself are other resources; another chat, another channel, another app are free.
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:abc@thread.v2/members', changeType: 'created' }))).status).toBe(201);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:abc@thread.v2', changeType: 'updated' }))).status).toBe(201);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:other@thread.v2/messages' }))).status).toBe(201);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/teams/t-1/channels/19:c@thread.tacv2/messages' }))).status).toBe(201);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/teams/t-1/channels/19:c@thread.tacv2/messages', changeType: 'created' }))).status).toBe(403);
    const otherApp = graphClient(sim.baseUrl, bearerFor({ appid: '99999999-9999-4999-8999-999999999999', tid: sim.tenantId }));
    expect((await otherApp.post('/v1.0/subscriptions', subscription({ changeType: 'created,updated' }))).status).toBe(201);
    // Once the first is deleted, the slot is free.
    const mine = (await graph.get('/v1.0/subscriptions')).body.value.find((s: { resource: string; changeType: string }) => s.resource === '/chats/19:abc@thread.v2/messages');
    expect((await graph.delete(`/v1.0/subscriptions/${mine.id}`)).status).toBe(204);
    expect((await graph.post('/v1.0/subscriptions', subscription({ changeType: 'created,updated' }))).status).toBe(201);
  });

  it("allows 10 subscriptions per user for the resources tracking all of a user's chats", async () => {
    const user = '5f1c0000-0000-4000-8000-000000000001';
    const apps = Array.from({ length: 11 }, (_, i) => graphClient(sim.baseUrl, bearerFor({ appid: `99999999-9999-4999-8999-9999999999${String(i).padStart(2, '0')}`, tid: sim.tenantId })));
    for (const app of apps.slice(0, 10))
      expect((await app.post('/beta/subscriptions', subscription({ resource: `/users/${user}/chats/getAllMessages?model=B`, changeType: 'created' }))).status).toBe(201);
    const over = await apps[10]!.post('/beta/subscriptions', subscription({ resource: `/users/${user}/chats/getAllMessages?model=B`, changeType: 'created' }));
    expect(over.status).toBe(403);
    expect(over.body.error.message).toMatch(/maximum number of subscriptions per user \(10\)/);
    // Chats (not messages) of the same user, and another user, have their own quota.
    expect((await apps[10]!.post('/beta/subscriptions', subscription({ resource: `/users/${user}/chats`, changeType: 'created' }))).status).toBe(201);
    expect((await apps[10]!.post('/beta/subscriptions', subscription({ resource: '/users/5f1c0000-0000-4000-8000-000000000002/chats/getAllMessages?model=B', changeType: 'created' }))).status).toBe(
      201,
    );
  });

  it('answers 403 once the tenant quota is reached', async () => {
    for (let i = 0; i < 20; i++) expect((await graph.post('/v1.0/subscriptions', subscription({ resource: `/chats/19:c${i}@thread.v2/messages` }))).status).toBe(201);
    const over = await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:one-more@thread.v2/messages' }));
    expect(over.status).toBe(403);
    expect(over.body.error).toMatchObject({ code: 'ExtensionError', message: expect.stringMatching(/quota of 20/) });
  });
});

describe('permissions of the calling app', () => {
  const grants = (body: Record<string, unknown>) => fetch(`${sim.baseUrl}/_simulator/apps/${sim.appId}/grants`, { method: 'PATCH', body: JSON.stringify(body) });

  it('refuses creation with 403 and the Teams error shape, naming the permissions, when no application permission of the resource is granted', async () => {
    const set = await grants({ permissions: ['ChannelMessage.Read.All'] });
    expect(await set.json()).toEqual({ permissions: ['ChannelMessage.Read.All'], protectedApiAccess: true });
    const refused = await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/getAllMessages?model=A' }));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'ExtensionError', innerError: { 'request-id': expect.any(String) } });
    expect(refused.body.error.message).toBe(
      "Operation: Create; Exception: [Status Code: Forbidden; Reason: Required permissions to access all chat messages subscription one of ('Chat.Read.All,Chat.ReadWrite.All') is missing.]",
    );
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/getAllMembers?model=A', changeType: 'created' }))).body.error.message).toMatch(/ChatMember\.Read\.All/);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/teams/getAllMessages?model=A' }))).status).toBe(201);
    await grants({ permissions: ['Chat.ReadWrite.All'] });
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats/getAllMessages?model=A' }))).status).toBe(201);
    // A delegated (user) caller is not an application-permission subscription.
    const user = graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: sim.tenantId, scp: 'Chat.Read', oid: '5f1c0000-0000-4000-8000-000000000001' }));
    expect((await user.post('/v1.0/subscriptions', subscription({ resource: '/chats/19:user@thread.v2', changeType: 'updated' }))).status).toBe(201);
  });

  it("refuses the backfill's listing of users and teams with 403 to an app granted none of their permissions", async () => {
    await grants({ permissions: ['Chat.Read.All', 'ChannelMessage.Read.All'] });
    expect((await graph.get('/v1.0/users?$select=id')).body.error).toMatchObject({ code: 'Authorization_RequestDenied' });
    expect((await graph.get('/v1.0/users?$select=id')).status).toBe(403);
    expect((await graph.get('/v1.0/teams?$select=id')).status).toBe(403);
    // Any one of Graph's permissions for the listing will do, the least privileged or a higher one.
    await grants({ permissions: ['Directory.Read.All', 'TeamSettings.Read.All'] });
    expect((await graph.get('/v1.0/users?$select=id')).status).toBe(200);
    expect((await graph.get('/v1.0/teams?$select=id')).status).toBe(200);
  });

  it('requires protected-API access for message subscriptions', async () => {
    await grants({ protectedApiAccess: false });
    const messages = await graph.post('/v1.0/subscriptions', subscription());
    expect(messages.status).toBe(403);
    expect(messages.body.error.message).toMatch(/not approved for protected APIs/);
    expect((await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats', changeType: 'created' }))).status).toBe(201);
  });

  it('never refuses a model= for licensing or billing: the Teams APIs are no longer metered (since 25 August 2025)', async () => {
    // An app with no billing set up (what a grant of `licensingModels: []` meant): every model, and none, is accepted.
    expect((await grants({ licensingModels: [] })).status).toBe(200);
    for (const [resource, changeType] of [
      ['/chats/getAllMembers?model=A', 'created'],
      ['/chats/getAllMessages?model=B', 'created'],
      ['/teams/getAllMessages', 'created'],
      ['/appCatalogs/teamsApps/app-1/installedToChats?model=B', 'created'],
    ]) {
      const res = await graph.post('/v1.0/subscriptions', subscription({ resource, changeType }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
  });

  it('refuses renewal and reauthorization once a permission is revoked', async () => {
    const created = (await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats', changeType: 'created' }))).body;
    await grants({ permissions: [] });
    const reauthorize = await graph.post(`/v1.0/subscriptions/${created.id}/reauthorize`);
    expect(reauthorize.status).toBe(403);
    expect(reauthorize.body.error.message).toMatch(/^Operation: Reauthorize; .*Chat\.ReadBasic\.All/);
    expect((await graph.patch(`/v1.0/subscriptions/${created.id}`, { expirationDateTime: inMinutes(200) })).status).toBe(403);
  });
});

describe('the validation handshake', () => {
  it('POSTs the URL-encoded token to both URLs, keeping their query strings, and expects an exact echo', async () => {
    const before = sink.posts.length;
    const res = await graph.post('/v1.0/subscriptions', subscription({ notificationUrl: `${sink.url}?code=fn-key` }));
    expect(res.status).toBe(201);
    const handshakes = sink.posts.slice(before);
    expect(handshakes).toHaveLength(2);
    expect(handshakes[0]?.query.get('code')).toBe('fn-key');
    expect(handshakes[0]?.query.get('validationToken')).toMatch(/^Validation: Testing client application reachability/);
    expect(handshakes[0]?.contentType).toMatch(/^text\/plain/);
  });

  it.each([
    ['a wrong echo', 'wrong' as const],
    ['an error status', 'error' as const],
    ['an answer too slow', { delayMs: 1500 }],
  ])('fails creation with 400 ValidationError on %s', async (_, behaviour) => {
    sink.handshake = behaviour;
    const res = await graph.post('/v1.0/subscriptions', subscription());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ValidationError');
    expect(res.body.error.message).toMatch(/^Subscription validation request failed/);
    sink.handshake = 'echo';
    expect((await graph.get('/v1.0/subscriptions')).body.value).toHaveLength(0);
  });
});

describe('GET, PATCH, DELETE, reauthorize', () => {
  it("lists and reads the caller app's subscriptions only", async () => {
    const created = (await graph.post('/v1.0/subscriptions', subscription())).body;
    expect((await graph.get('/v1.0/subscriptions')).body.value.map((s: { id: string }) => s.id)).toEqual([created.id]);
    expect((await graph.get(`/v1.0/subscriptions/${created.id}`)).body.id).toBe(created.id);
    const otherApp = graphClient(sim.baseUrl, bearerFor({ appid: '99999999-9999-4999-8999-999999999999' }));
    expect((await otherApp.get('/v1.0/subscriptions')).body.value).toHaveLength(0);
    expect((await otherApp.get(`/v1.0/subscriptions/${created.id}`)).status).toBe(404);
  });

  it('renews, rotates the certificate, and refuses what PATCH cannot change', async () => {
    const created = (await graph.post('/v1.0/subscriptions', subscription({ includeResourceData: true, encryptionCertificate: cert.base64, encryptionCertificateId: 'v1' }))).body;
    const renewed = await graph.patch(`/v1.0/subscriptions/${created.id}`, { expirationDateTime: inMinutes(4000) });
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expirationDateTime)).toBeGreaterThan(Date.parse(created.expirationDateTime));
    const next = await createTestCertificate();
    const rotated = await graph.patch(`/v1.0/subscriptions/${created.id}`, { encryptionCertificate: next.base64, encryptionCertificateId: 'v2' });
    expect(rotated.body.encryptionCertificateId).toBe('v2');
    expect((await graph.patch(`/v1.0/subscriptions/${created.id}`, { resource: '/chats' })).status).toBe(400);
    expect((await graph.patch(`/v1.0/subscriptions/${created.id}`, { encryptionCertificateId: 'v3' })).status).toBe(400);
    const noLifecycle = (await graph.post('/v1.0/subscriptions', subscription({ resource: '/chats', changeType: 'created', lifecycleNotificationUrl: undefined, expirationDateTime: inMinutes(50) })))
      .body;
    const add = await graph.patch(`/v1.0/subscriptions/${noLifecycle.id}`, { lifecycleNotificationUrl: sink.url });
    expect(add.status).toBe(400);
    expect(add.body.error.message).toMatch(/delete it and create it again/);
  });

  it('repeats the handshake on PATCH and reauthorize', async () => {
    const created = (await graph.post('/v1.0/subscriptions', subscription())).body;
    expect((await graph.post(`/v1.0/subscriptions/${created.id}/reauthorize`)).status).toBe(204);
    sink.handshake = 'wrong';
    expect((await graph.post(`/v1.0/subscriptions/${created.id}/reauthorize`)).status).toBe(400);
    expect((await graph.patch(`/v1.0/subscriptions/${created.id}`, { expirationDateTime: inMinutes(200) })).status).toBe(400);
  });

  it('answers 404 after DELETE and after expiry', async () => {
    const a = (await graph.post('/v1.0/subscriptions', subscription())).body;
    expect((await graph.delete(`/v1.0/subscriptions/${a.id}`)).status).toBe(204);
    expect((await graph.get(`/v1.0/subscriptions/${a.id}`)).status).toBe(404);
    const b = (await graph.post('/v1.0/subscriptions', subscription())).body;
    sim.clock.advance(121 * 60_000);
    expect((await graph.patch(`/v1.0/subscriptions/${b.id}`, { expirationDateTime: inMinutes(300, sim.clock.now()) })).status).toBe(404);
    expect((await graph.get('/v1.0/subscriptions/does-not-exist')).status).toBe(404);
  });
});

describe('fault injection', () => {
  it('answers 429 with Retry-After, then 503, then normally', async () => {
    sim.faults.failNext(1, 429, 7);
    sim.faults.failNext(1, 503, 2);
    const first = await graph.get('/v1.0/subscriptions');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('7');
    expect((await graph.get('/v1.0/subscriptions')).status).toBe(503);
    expect((await graph.get('/v1.0/subscriptions')).status).toBe(200);
  });

  it('is steerable over the driver API', async () => {
    const res = await fetch(`${sim.baseUrl}/_simulator/faults`, { method: 'POST', body: JSON.stringify({ count: 2, status: 429, retryAfterSeconds: 3 }) });
    expect(res.status).toBe(204);
    expect((await graph.post('/v1.0/subscriptions', subscription())).status).toBe(429);
    expect((await graph.post('/v1.0/subscriptions', subscription())).status).toBe(429);
    expect((await graph.post('/v1.0/subscriptions', subscription())).status).toBe(201);
  });
});
