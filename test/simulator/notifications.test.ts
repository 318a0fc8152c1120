import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { opensslDecrypt } from '../helpers/openssl.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { ALICE, BOB, CAROL } from '../helpers/users.js';
import { nonEmpty } from '../helpers/non-empty.js';

let sim: GraphSimulator;
let sink: WebhookSink;
let cert: TestCertificate;
let graph: ReturnType<typeof graphClient>;

beforeAll(async () => {
  cert = await createTestCertificate();
});
beforeEach(async () => {
  sink = await startWebhookSink();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0005, batchWindowMs: 5 } });
  graph = graphClient(sim.baseUrl);
  for (const [id, displayName] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
    [CAROL, 'Carol'],
  ] as const)
    sim.teams.addUser({ id, displayName });
});
afterEach(async () => {
  await sim.close();
  await sink.close();
});
afterAll(() => undefined);

async function subscribe(resource: string, changeType: string, extra: Record<string, unknown> = {}, version = 'v1.0', client = graph) {
  const res = await client.post(`/${version}/subscriptions`, {
    changeType,
    notificationUrl: sink.url,
    lifecycleNotificationUrl: sink.url,
    resource,
    expirationDateTime: inMinutes(180),
    clientState: 'client-state-1',
    ...extra,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}
const withData = () => ({ includeResourceData: true, encryptionCertificate: cert.base64, encryptionCertificateId: 'cert-v1' });
const decrypt = (n: Record<string, unknown>) => {
  const out = opensslDecrypt(n.encryptedContent as { data: string; dataKey: string; dataSignature: string }, cert.privateKeyPem);
  expect(out.signatureMatches).toBe(true);
  return JSON.parse(out.json) as Record<string, any>;
};

describe('change notifications', () => {
  it('sends a chat message with resource data, encrypted so that openssl decrypts it', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const s = await subscribe(`/chats/${chat.id}/messages`, 'created,updated,deleted', withData());
    const message = sim.teams.postChatMessage(chat.id, { from: ALICE, content: '<p>Hello <at id="0">Bob</at></p>', mentions: [BOB] });
    const [n] = await sink.waitForNotifications(1);
    expect(n).toMatchObject({
      subscriptionId: s.id,
      changeType: 'created',
      clientState: 'client-state-1',
      tenantId: sim.tenantId,
      resource: `chats('${chat.id}')/messages('${message.id}')`,
      resourceData: { id: message.id, '@odata.type': '#Microsoft.Graph.chatMessage', '@odata.id': `chats('${chat.id}')/messages('${message.id}')` },
      encryptedContent: { encryptionCertificateId: 'cert-v1', encryptionCertificateThumbprint: cert.thumbprint },
    });
    const payload = decrypt(n as Record<string, unknown>);
    expect(payload).toMatchObject({
      id: message.id,
      chatId: chat.id,
      etag: expect.any(String),
      body: { contentType: 'html', content: '<p>Hello <at id="0">Bob</at></p>' },
      from: { user: { id: ALICE, displayName: 'Alice', userIdentityType: 'aadUser' } },
      mentions: [{ id: 0, mentionText: 'Bob', mentioned: { user: { id: BOB } } }],
      channelIdentity: null,
    });
  });

  it('uses a fresh key for every notification', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created', withData());
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'one' });
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'one' });
    const [a, b] = await sink.waitForNotifications(2);
    expect((a?.encryptedContent as { dataKey: string }).dataKey).not.toBe((b?.encryptedContent as { dataKey: string }).dataKey);
  });

  it('signs validationTokens that verify with jose against its JWKS: aud, appid (v1), issuer, one hour', async () => {
    sim.signer.issuerVersion = 'v1';
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created', withData());
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hi' });
    await sink.waitForNotifications(1);
    const [body] = sink.notifications();
    expect(body?.validationTokens).toHaveLength(1);
    const { payload, protectedHeader } = await jwtVerify(body?.validationTokens?.[0] ?? '', createRemoteJWKSet(new URL(sim.jwksUrl)), {
      audience: sim.appId,
      issuer: `https://sts.windows.net/${sim.tenantId}/`,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.kid).toBe(sim.signer.kid);
    expect(payload).toMatchObject({ appid: '0bf30f3b-4a52-48df-9a82-234910c4a086', tid: sim.tenantId, ver: '1.0' });
    expect(payload.azp).toBeUndefined();
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
  });

  it('switches to the v2 issuer when told', async () => {
    sim.signer.issuerVersion = 'v2';
    const token = await sim.signer.validationToken(sim.appId, sim.tenantId, Date.now());
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(sim.jwksUrl)), { issuer: `https://login.microsoftonline.com/${sim.tenantId}/v2.0` });
    expect(payload).toMatchObject({ aud: sim.appId, azp: '0bf30f3b-4a52-48df-9a82-234910c4a086', ver: '2.0' });
    expect(payload.appid).toBeUndefined();
  });

  it('mixes both versions in one run by default', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created', withData());
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'one' });
    await sink.waitForNotifications(1);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'two' });
    await sink.waitForNotifications(2);
    const claims = sink.notifications().map((b) => JSON.parse(Buffer.from(b.validationTokens![0]!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>);
    expect(claims.map((c) => [c.ver, typeof c.appid, typeof c.azp])).toEqual([
      ['1.0', 'string', 'undefined'],
      ['2.0', 'undefined', 'string'],
    ]);
  });

  it('sends only references and no tokens without resource data', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hi' });
    const [n] = await sink.waitForNotifications(1);
    expect(n?.encryptedContent).toBeUndefined();
    expect(sink.notifications()[0]?.validationTokens).toBeUndefined();
    const follow = await graph.get(`/v1.0/${String((n?.resourceData as Record<string, string>)['@odata.id']).replace(/\('([^']+)'\)/g, '/$1')}`);
    expect(follow.status).toBe(200);
    expect(follow.body.body.content).toBe('hi');
  });

  it('covers chats, members and messages with the right changeTypes and resource strings', async () => {
    await subscribe('/chats', 'created,updated');
    await subscribe('/chats/getAllMembers?model=A', 'created,deleted');
    await subscribe('/chats/getAllMessages?model=A', 'created,updated,deleted');
    await subscribe('/teams/getAllMessages?model=A', 'created,updated,deleted');
    const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL], topic: 'Plans' });
    sim.teams.renameChat(chat.id, 'Plans v2');
    const carol = [...chat.members.values()].find((m) => m.userId === CAROL);
    sim.teams.removeMember(chat.id, CAROL);
    const msg = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'draft' });
    sim.teams.editChatMessage(chat.id, msg.id, 'final');
    sim.teams.deleteChatMessage(chat.id, msg.id);
    const team = sim.teams.createTeam({ displayName: 'Ops', channels: ['General'] });
    const channel = [...team.channels.values()][0];
    const root = sim.teams.postChannelMessage(team.id, channel?.id ?? '', { from: BOB, content: 'root' });
    const reply = sim.teams.postChannelMessage(team.id, channel?.id ?? '', { from: ALICE, content: 'reply', replyToId: root.id });

    const items = await sink.waitForNotifications(12);
    const seen = items.map((n) => `${String(n.changeType)} ${String(n.resource)}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        `Created chats('${chat.id}')`,
        `Updated chats('${chat.id}')`,
        `Created chats('${chat.id}')/members('${carol?.id}')`,
        `Deleted chats('${chat.id}')/members('${carol?.id}')`,
        `created chats('${chat.id}')/messages('${msg.id}')`,
        `updated chats('${chat.id}')/messages('${msg.id}')`,
        `deleted chats('${chat.id}')/messages('${msg.id}')`,
        `created teams('${team.id}')/channels('${channel?.id}')/messages('${root.id}')`,
        `created teams('${team.id}')/channels('${channel?.id}')/messages('${root.id}')/replies('${reply.id}')`,
      ]),
    );
    await sim.deliveries.idle();
    // Carol's removal is also a system event message in the chat (membersDeleted), notified as a new message.
    expect(sink.notifications().flatMap((b) => b.value)).toHaveLength(2 + 4 + 3 + 1 + 2);
    const types = new Set(items.map((n) => (n.resourceData as Record<string, string>)['@odata.type']));
    expect(types).toEqual(new Set(['#microsoft.graph.chat', '#microsoft.graph.aadUserConversationMember', '#Microsoft.Graph.chatMessage']));
  });

  it('notifies every message of a getAllMessages subscription without model=: no evaluation-mode cap (Teams APIs unmetered since 25 August 2025)', async () => {
    const s = await subscribe('/chats/getAllMessages', 'created');
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    // More than the "about 500 messages a month" evaluation mode once allowed without a model.
    const posted = Array.from({ length: 600 }, (_, i) => sim.teams.postChatMessage(chat.id, { from: i % 2 ? ALICE : BOB, content: `m${i}` }).id);
    await sink.waitForNotifications(posted.length, 60_000);
    await sim.deliveries.idle();
    const all = sink.notifications().flatMap((b) => b.value);
    expect(nonEmpty(all).every((n) => n.subscriptionId === s.id)).toBe(true);
    expect(all.map((n) => (n.resourceData as { id: string }).id).sort()).toEqual(posted.sort());
  });

  it('honours $search and the mentions $filter', async () => {
    const team = sim.teams.createTeam({ displayName: 'Ops' });
    const channel = [...team.channels.values()][0]?.id ?? '';
    await subscribe(`/teams/${team.id}/channels/${channel}/messages?$filter=mentions/any(u: u/mentioned/user/id eq '${BOB}')`, 'created');
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages?$search="budget"`, 'created');
    sim.teams.postChannelMessage(team.id, channel, { from: ALICE, content: 'no mention' });
    const mentioned = sim.teams.postChannelMessage(team.id, channel, { from: ALICE, content: 'hey Bob', mentions: [BOB] });
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'lunch?' });
    const budget = sim.teams.postChatMessage(chat.id, { from: ALICE, content: '<p>The <b>Budget</b> is ready</p>' });
    const items = await sink.waitForNotifications(2);
    await sim.deliveries.idle();
    expect(
      sink
        .notifications()
        .flatMap((b) => b.value)
        .map((n) => (n.resourceData as { id: string }).id)
        .sort(),
    ).toEqual([mentioned.id, budget.id].sort());
    expect(items).toHaveLength(2);
  });

  it("scopes per-user, per-chat and installed-app subscriptions, and sends a user's own view (viewpoint)", async () => {
    const bobsChat = sim.teams.createChat({ members: [ALICE, BOB] });
    const carolsChat = sim.teams.createChat({ members: [ALICE, CAROL] });
    sim.teams.installApp(carolsChat.id, 'app-1');
    await subscribe(`/users/${BOB}/chats/getAllMessages?model=B`, 'created', {}, 'beta');
    await subscribe('/appCatalogs/teamsApps/app-1/installedToChats/getAllMessages?model=B', 'created');
    const delegated = graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: sim.tenantId, oid: BOB, scp: 'Chat.Read' }));
    await subscribe(`/chats/${bobsChat.id}?notifyOnUserSpecificProperties=true`, 'updated', withData(), 'v1.0', delegated);

    const toBob = sim.teams.postChatMessage(bobsChat.id, { from: ALICE, content: 'for bob' });
    const toCarol = sim.teams.postChatMessage(carolsChat.id, { from: ALICE, content: 'for carol' });
    sim.teams.hideChat(bobsChat.id, ALICE); // Alice's view: not Bob's subscription
    sim.teams.hideChat(bobsChat.id, BOB);
    await sink.waitForNotifications(4);
    await sim.deliveries.idle();
    const all = sink.notifications().flatMap((b) => b.value);
    expect(all).toHaveLength(4);
    expect(all.filter((n) => n.resource === `chats('${bobsChat.id}')/messages('${toBob.id}')`)).toHaveLength(1);
    expect(all.filter((n) => n.resource === `chats('${carolsChat.id}')/messages('${toCarol.id}')`)).toHaveLength(1);
    // A user-specific change comes as two payloads: the viewpoint subset, and the whole chat as Bob sees it.
    const hidden = all.filter((n) => n.resource === `chats('${bobsChat.id}')`).map((n) => decrypt(n));
    expect(hidden).toEqual([
      { id: bobsChat.id, '@odata.type': '#microsoft.graph.chat', viewpoint: { isHidden: true, lastMessageReadDateTime: expect.any(String) } },
      expect.objectContaining({ id: bobsChat.id, topic: null, viewpoint: { isHidden: true, lastMessageReadDateTime: expect.any(String) }, members: expect.any(Array) }),
    ]);
  });
});

describe('payloads as Graph sends them', () => {
  it('capitalises changeType for chats and members, writes subscriptionExpirationDateTime with an offset and seven fractional digits', async () => {
    const chatSub = await subscribe('/chats', 'created,updated');
    await subscribe('/chats/getAllMembers?model=A', 'created,deleted');
    await subscribe('/chats/getAllMessages?model=A', 'created');
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hi' });
    await sink.waitForNotifications(4);
    await sim.deliveries.idle();
    const all = sink.notifications().flatMap((b) => b.value);
    expect(all.map((n) => n.changeType).sort()).toEqual(['Created', 'Created', 'Created', 'created']);
    const chatItem = all.find((n) => n.subscriptionId === chatSub.id)!;
    expect(chatItem.subscriptionExpirationDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}-08:00$/);
    expect(Date.parse(String(chatItem.subscriptionExpirationDateTime))).toBe(sim.subscriptions.find(chatSub.id)!.expirationMs);
  });

  it("writes membership ids in Graph's format, roles ['Owner'], and chats with members and lastMessagePreview", async () => {
    await subscribe('/chats', 'created,updated', withData());
    await subscribe('/chats/getAllMembers?model=A', 'created,deleted', withData());
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    sim.teams.postChatMessage(chat.id, { from: BOB, content: 'latest' });
    sim.teams.renameChat(chat.id, 'Named');
    await sink.waitForNotifications(4);
    await sim.deliveries.idle();
    const all = sink.notifications().flatMap((b) => b.value);
    const member = all.find((n) => String(n.resource).includes('/members('))!;
    const memberId = /members\('([^']+)'\)/.exec(String(member.resource))![1]!;
    expect(memberId).toMatch(/^MCMjMiMj[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(memberId, 'base64').toString()).toMatch(new RegExp(`^0##2##${sim.tenantId}##${chat.id.replace(/[.]/g, '\\.')}##(${ALICE}|${BOB})$`));
    expect(decrypt(member)).toMatchObject({ id: memberId, roles: ['Owner'], '@odata.type': '#microsoft.graph.aadUserConversationMember' });
    const renamed = decrypt(all.find((n) => n.changeType === 'Updated')!);
    expect(renamed).toMatchObject({
      topic: 'Named',
      members: [expect.objectContaining({ roles: ['Owner'] }), expect.objectContaining({ roles: ['Owner'] })],
      lastMessagePreview: { body: { content: 'latest' }, from: { user: { id: BOB } }, isDeleted: false },
    });
    // The membership id is what a GET of the member answers to (URL-encoded, as it may hold '/').
    expect((await graph.get(`/v1.0/chats/${encodeURIComponent(chat.id)}/members/${encodeURIComponent(memberId)}`)).body).toMatchObject({ id: memberId });
  });

  it('posts a membership change also as a system event message, and notifies a reaction as updated', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created,updated', withData());
    const msg = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hello' });
    sim.teams.addMember(chat.id, CAROL, { initiator: ALICE });
    sim.clock.advance(1000);
    const res = await fetch(`${sim.baseUrl}/_simulator/chats/${encodeURIComponent(chat.id)}/messages/${msg.id}/reactions`, {
      method: 'POST',
      body: JSON.stringify({ userId: BOB, reactionType: 'like' }),
    });
    expect(res.status).toBe(201);
    await sink.waitForNotifications(3);
    await sim.deliveries.idle();
    const [created, system, reacted] = sink
      .notifications()
      .flatMap((b) => b.value)
      .map((n) => ({ changeType: n.changeType, payload: decrypt(n) }));
    expect(created).toMatchObject({ changeType: 'created', payload: { id: msg.id, reactions: [] } });
    expect(system).toMatchObject({ changeType: 'created', payload: { from: null, eventDetail: { '@odata.type': '#microsoft.graph.membersAddedEventMessageDetail', members: [{ id: CAROL }] } } });
    expect(reacted).toMatchObject({ changeType: 'updated', payload: { id: msg.id, reactions: [{ reactionType: 'like', user: { user: { id: BOB } } }] } });
    expect(Date.parse(String(reacted!.payload.lastModifiedDateTime))).toBeGreaterThan(Date.parse(String(created!.payload.lastModifiedDateTime)));
  });
});

describe('delivery', () => {
  it('batches several notifications per POST', async () => {
    sim.deliveries.options = { ...sim.deliveries.options, maxBatchSize: 3, batchWindowMs: 50 };
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    for (let i = 0; i < 7; i++) sim.teams.postChatMessage(chat.id, { from: ALICE, content: `m${i}` });
    await sink.waitForNotifications(7);
    expect(sink.notifications().map((b) => b.value.length)).toEqual([3, 3, 1]);
  });

  it('retries with exponential back-off until the endpoint accepts, and logs each attempt', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sink.answers.push(503, 500);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'retry me' });
    await sink.waitForNotifications(3);
    await sim.deliveries.idle();
    const log = sim.deliveries.log;
    expect(log.map((a) => [a.attempt, a.status])).toEqual([
      [1, 503],
      [2, 500],
      [3, 202],
    ]);
    expect(new Set(log.map((a) => a.batchId)).size).toBe(1);
    // Graph's back-off doubles: 1 minute, then 2 (× the time scale); read from the log, not from a clock.
    const scale = sim.deliveries.options.timeScale;
    expect(log.map((a) => a.retryInMs)).toEqual([60_000 * scale, 120_000 * scale, undefined]);
    expect(Date.parse(log[2]!.at) - Date.parse(log[0]!.at)).toBeGreaterThanOrEqual(Math.floor(180_000 * scale));
  });

  it("keeps retrying past the scaled horizon when given Graph's own (the chaos run: delays sped up, 4 hours kept)", async () => {
    sim.deliveries.options = { ...sim.deliveries.options, timeScale: 0.00002, retryHorizonMs: 4 * 3600_000 };
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    // Past the scaled horizon (4 h × 0.00002 = 288 ms: about 6 attempts), then accepted.
    for (let i = 0; i < 9; i++) sink.answers.push(503);
    sink.answers.push(202);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'late but kept' });
    await sim.deliveries.idle();
    const log = sim.deliveries.log;
    expect(log.map((a) => a.status)).toEqual([...Array(9).fill(503), 202]);
    expect(log.some((a) => a.droppedAfterRetries)).toBe(false);
  });

  it('counts a slow answer as a failure and gives up after the retry horizon', async () => {
    sim.deliveries.options = { ...sim.deliveries.options, requestTimeoutMs: 200, timeScale: 0.00002 };
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sink.answers.push({ status: 202, delayMs: 600 });
    for (let i = 0; i < 20; i++) sink.answers.push(500);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'doomed' });
    await sim.deliveries.idle();
    const log = sim.deliveries.log;
    expect(log[0]?.status).toBe('timeout');
    expect(log.at(-1)).toMatchObject({ droppedAfterRetries: true });
    // How many retries fit in the (sped-up) horizon depends on the machine's speed; that it retries does not.
    expect(log.length).toBeGreaterThan(1);
    expect(nonEmpty(log.slice(1)).every((a) => a.status === 500)).toBe(true);
  });

  it('drops new notifications for an endpoint whose answers were too often slow (15 % or more), logging why', async () => {
    const res = await fetch(`${sim.baseUrl}/_simulator/delivery`, { method: 'PATCH', body: JSON.stringify({ slowEndpoint: { enabled: true, thresholdMs: 300, minNotifications: 4 } }) });
    expect(await res.json()).toMatchObject({ slowEndpoint: { enabled: true, thresholdMs: 300, minNotifications: 4, dropShare: 0.15 } });
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    for (let i = 0; i < 4; i++) {
      sink.answers.push({ status: 202, delayMs: 800 }); // slower than the threshold, whatever the machine
      sim.teams.postChatMessage(chat.id, { from: ALICE, content: `slow ${i}` });
      await sim.deliveries.idle();
    }
    expect(sim.deliveries.slowShare(sink.url)).toBe(1);
    const dropped = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'never delivered' });
    await sim.deliveries.idle();
    expect(sink.notifications().flatMap((b) => b.value)).toHaveLength(4);
    expect(sim.deliveries.log.at(-1)).toMatchObject({
      status: 'dropped',
      dropped: true,
      droppedBecause: 'slowEndpoint',
      attempt: 0,
      items: [expect.objectContaining({ resource: `chats('${chat.id}')/messages('${dropped.id}')` })],
    });
  });

  it('delays new notifications for an endpoint past the delay share, and delivers them after the delay', async () => {
    // Any slow answer at all delays (delayShare 0), and nothing is dropped (dropShare 2: a share is at most 1).
    sim.deliveries.options = {
      ...sim.deliveries.options,
      slowEndpoint: { ...sim.deliveries.options.slowEndpoint, enabled: true, thresholdMs: 300, minNotifications: 1, delayShare: 0, dropShare: 2, delayMs: 200_000 },
    };
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sink.answers.push({ status: 202, delayMs: 800 });
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'slow' });
    await sim.deliveries.idle();
    const later = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'delayed' });
    await sim.deliveries.idle(); // waits out the delay (200 s × the test's time scale)
    const last = sim.deliveries.log.at(-1)!;
    expect(last).toMatchObject({ status: 202, delayedMs: 200_000 * sim.deliveries.options.timeScale, items: [expect.objectContaining({ resource: `chats('${chat.id}')/messages('${later.id}')` })] });
  });

  it('delivers some batches twice when told to', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sim.deliveries.duplicateNext(1);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'twice' });
    const [a, b] = await sink.waitForNotifications(2);
    expect(a).toEqual(b);
    await sim.deliveries.idle(); // the second attempt is logged once its answer is in
    expect(sim.deliveries.log.map((x) => x.duplicate)).toEqual([false, true]);
  });

  it('serves its delivery log over the driver API', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    await subscribe(`/chats/${chat.id}/messages`, 'created');
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'x' });
    await sink.waitForNotifications(1);
    await sim.deliveries.idle();
    const log = (await (await fetch(`${sim.baseUrl}/_simulator/deliveries`)).json()) as { value: Record<string, unknown>[] };
    expect(log.value[0]).toMatchObject({ url: sink.url, attempt: 1, status: 202, notifications: 1, latencyMs: expect.any(Number) });
  });
});

describe("reauthorization as the caller's token lapses", () => {
  const tokenFor = (minutes: number) => graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: sim.tenantId, exp: Math.floor(Date.now() / 1000) + minutes * 60 }));
  const lifecycleEvents = () =>
    sink
      .notifications()
      .flatMap((b) => b.value)
      .filter((n) => n.lifecycleEvent)
      .map((n) => n.lifecycleEvent);
  const changes = () =>
    sink
      .notifications()
      .flatMap((b) => b.value)
      .filter((n) => n.changeType);

  it('asks again and again while unanswered, holds notifications once the token lapsed, and delivers them on reauthorize', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const s = await subscribe(`/chats/${chat.id}/messages`, 'created', {}, 'v1.0', tokenFor(20));
    sim.clock.advance(5 * 60_000);
    await sim.deliveries.idle();
    expect(lifecycleEvents()).toEqual([]);
    sim.clock.advance(6 * 60_000); // 9 minutes left
    await sim.deliveries.idle();
    expect(lifecycleEvents()).toEqual(['reauthorizationRequired']);
    sim.clock.advance(10 * 60_000); // lapsed a minute ago: paused
    await sim.deliveries.idle();
    expect(lifecycleEvents()).toEqual(['reauthorizationRequired', 'reauthorizationRequired']);
    const held = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'while paused' });
    await sim.deliveries.idle();
    expect(changes()).toEqual([]);
    expect(sim.subscriptions.find(s.id)?.held).toHaveLength(1);

    expect((await tokenFor(60).post(`/v1.0/subscriptions/${s.id}/reauthorize`)).status).toBe(204);
    const [delivered] = await sink.waitForNotifications(3).then(() => changes());
    expect(delivered).toMatchObject({ subscriptionId: s.id, changeType: 'created', resource: `chats('${chat.id}')/messages('${held.id}')` });
    sim.teams.postChatMessage(chat.id, { from: BOB, content: 'after' });
    await sim.deliveries.idle();
    expect(changes()).toHaveLength(2);
    // Answered: no more asking until the new token nears its end.
    sim.clock.advance(30 * 60_000);
    await sim.deliveries.idle();
    expect(lifecycleEvents()).toHaveLength(2);
  });

  it('a renewal (PATCH) also answers it; left unanswered, the subscription is removed with subscriptionRemoved and what it held is lost', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const renewed = await subscribe(`/chats/${chat.id}/messages`, 'created', {}, 'v1.0', tokenFor(15));
    const ignored = await subscribe(`/chats/${chat.id}/members`, 'created', {}, 'v1.0', tokenFor(15));
    sim.clock.advance(16 * 60_000);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'held' });
    expect((await tokenFor(60).patch(`/v1.0/subscriptions/${renewed.id}`, { expirationDateTime: inMinutes(180, sim.clock.now()) })).status).toBe(200);
    await sim.deliveries.idle();
    expect(changes().map((n) => n.subscriptionId)).toEqual([renewed.id]);

    sim.teams.addMember(chat.id, CAROL);
    sim.clock.advance(60 * 60_000);
    await sim.deliveries.idle();
    const removed = sink
      .notifications()
      .flatMap((b) => b.value)
      .filter((n) => n.lifecycleEvent === 'subscriptionRemoved');
    expect(removed.map((n) => n.subscriptionId)).toEqual([ignored.id]);
    expect((await graph.get(`/v1.0/subscriptions/${ignored.id}`)).status).toBe(404);
    // Carol's addition reached the renewed subscription (its system event message), never the removed one.
    expect(new Set(changes().map((n) => n.subscriptionId))).toEqual(new Set([renewed.id]));
  });

  it('sends lifecycle notifications only to lifecycleNotificationUrl: none for a subscription without one', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const s = await subscribe(`/chats/${chat.id}/messages`, 'created', { lifecycleNotificationUrl: undefined, expirationDateTime: inMinutes(50) });
    const lifecycled = await subscribe(`/chats/${chat.id}/members`, 'created', { lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle') });
    sim.sendLifecycle(s.id, 'missed');
    sim.sendLifecycle(lifecycled.id, 'missed');
    await sim.deliveries.idle();
    const posts = sink.posts.filter((p) => !p.query.has('validationToken'));
    expect(posts.map((p) => [p.path, (JSON.parse(p.body) as { value: { subscriptionId: string }[] }).value[0]?.subscriptionId])).toEqual([['/api/lifecycle', lifecycled.id]]);
  });
});

describe('lifecycle notifications', () => {
  it('sends reauthorizationRequired, missed and subscriptionRemoved on demand; a removed subscription stops delivering', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const s = await subscribe(`/chats/${chat.id}/messages`, 'created');
    for (const event of ['reauthorizationRequired', 'missed', 'subscriptionRemoved'] as const) sim.sendLifecycle(s.id, event);
    const items = await sink.waitForNotifications(3);
    expect(items.map((n) => n.lifecycleEvent)).toEqual(['reauthorizationRequired', 'missed', 'subscriptionRemoved']);
    expect(items[0]).toMatchObject({ subscriptionId: s.id, clientState: 'client-state-1', tenantId: sim.tenantId, subscriptionExpirationDateTime: expect.any(String) });
    expect(items[0]?.resource).toBeUndefined();
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'after removal' });
    await sim.deliveries.idle();
    expect(sink.notifications().flatMap((b) => b.value)).toHaveLength(3);
    expect((await graph.get(`/v1.0/subscriptions/${s.id}`)).status).toBe(404);
  });

  it('sends reauthorizationRequired by itself as expiry nears, once, and stops delivering after expiry', async () => {
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    // A token that outlives the subscription: only the expiry asks for reauthorization here.
    const longToken = graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: sim.tenantId, exp: Math.floor(Date.now() / 1000) + 6 * 3600 }));
    const s = await subscribe(`/chats/${chat.id}/messages`, 'created', {}, 'v1.0', longToken);
    sim.clock.advance(170 * 60_000);
    sim.clock.advance(60_000);
    const [n] = await sink.waitForNotifications(1);
    expect(n).toMatchObject({ subscriptionId: s.id, lifecycleEvent: 'reauthorizationRequired' });
    sim.clock.advance(10 * 60_000);
    sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'too late' });
    await sim.deliveries.idle();
    expect(sink.notifications().flatMap((b) => b.value)).toHaveLength(1);
  });
});
