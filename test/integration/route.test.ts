import { createHash } from 'node:crypto';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it, vi } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { QUEUED_BATCH_SCHEMA } from '../../shared/queue/queued-notification.js';
import { KeyVaultCertificateStore } from '../../shared/certificates/key-vault-certificate-store.js';
import { TableRoutedEventLog } from '../../shared/route/routed-event-log.js';
import { MembershipLog } from '../../shared/backfill/membership-log.js';
import { TableWriteBatcher } from '../../shared/route/table-write-batcher.js';
import { createTableClient } from '../../shared/config/storage-clients.js';
import { replayMessages } from '../../shared/route/replay.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { azuriteVia, azuriteSasConnectionString, queueService, uniqueName } from '../helpers/azurite.js';
import { createTestCertificate } from '../helpers/certificates.js';
import { startKeyVaultStandIn } from '../../dev/key-vault/key-vault-stand-in.js';
import { TENANT_A, TENANT_B } from '../helpers/notifications.js';
import { CHAT, chatMessage, useRouteHarness } from '../helpers/route-harness.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { nonEmpty } from '../helpers/non-empty.js';

const harness = useRouteHarness();
const { setup, queuedMessage, writeRoutes } = harness;
const message = chatMessage;

/** The fake Key Vault with one certificate version, and a certificate store reading it (no SDK retries). */
async function startKeyVaultStore() {
  const vault = await startKeyVaultStandIn();
  const cert = await createTestCertificate();
  const version = vault.addVersion('graph-notifications', { der: Buffer.from(cert.base64, 'base64'), secret: cert.pem, contentType: 'application/x-pem-file' });
  const kv = new KeyVaultCertificateStore({
    vaultUrl: vault.url,
    certificateName: 'graph-notifications',
    credential: vault.credential,
    clientOptions: { tlsOptions: { ca: vault.tlsCa }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 0 } },
  });
  return { vault, cert, version, kv };
}

describe('decrypt and route', () => {
  it('decrypts a queued notification and publishes its CloudEvent on teams-chat-messages, base64 JSON', async () => {
    const t = setup();
    const outcome = await t.process(await queuedMessage(message('100')));
    expect(outcome).toMatchObject({ status: 'routed', queues: ['teams-chat-messages'] });
    const events = (await t.events('teams-chat-messages')).filter((e) => e.messageid === '100');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'com.microsoft.graph.teams.chatMessage.created', data: message('100'), chatid: CHAT, datamode: 'resource' });
  });

  it('publishes reference-only notifications as reference events', async () => {
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: { kind: 'chatMessage' }, queues: [uniqueName('refs')] }] }) });
    const outcome = await t.process(await queuedMessage(undefined, { resource: `chats('${CHAT}')/messages('7')` }));
    expect(outcome.status).toBe('routed');
    if (outcome.status !== 'routed') throw new Error('not routed');
    const [event] = await t.events(outcome.queues[0] ?? '');
    expect(event).toMatchObject({ datamode: 'reference', data: { resource: `chats('${CHAT}')/messages('7')` } });
  });

  it('fans out to every queue of the matching route', async () => {
    const [a, b] = [uniqueName('fan-a'), uniqueName('fan-b')];
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: { kind: 'chatMessage', changeType: 'created' }, queues: [a, b] }] }) });
    await t.process(await queuedMessage(message('200')));
    expect((await t.events(a)).map((e) => e.messageid)).toEqual(['200']);
    expect((await t.events(b)).map((e) => e.messageid)).toEqual(['200']);
  });

  it('skips a duplicate within the window, but records an id only after routing succeeded', async () => {
    const proxy = await startTcpProxy(harness.azurite().ports.queue);
    try {
      const queue = uniqueName('dedup');
      const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) }, azuriteVia(harness.azurite(), { queue: proxy.port }));
      const queued = await queuedMessage(message('300'));
      proxy.mode = 'refuse';
      await expect(t.process(queued)).rejects.toThrow();
      proxy.mode = 'pass';
      expect(await t.process(queued)).toMatchObject({ status: 'routed' });
      const redelivered = await queuedMessage(message('300'), { subscriptionId: 'another-subscription' });
      expect(await t.process(redelivered)).toMatchObject({ status: 'duplicate' });
      expect(await t.events(queue)).toHaveLength(1);
      expect(await t.process(await queuedMessage(message('300', { etag: '301' })))).toMatchObject({ status: 'routed' });
    } finally {
      await proxy.close();
    }
  });

  it("routes one change seen by two tenants to one queue once for each tenant, each with an id of its own; the same tenant's copy once", async () => {
    const queue = uniqueName('tenants');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
    // A cross-tenant chat: each tenant's subscription is notified of the same change (same resource, changeType, version).
    const copies = async (id: string) => [await queuedMessage(message(id)), await queuedMessage(message(id), { tenantId: TENANT_B, subscriptionId: 'sub-of-tenant-b' })] as const;
    const [a, b] = await copies('360');
    // The change's record as a version before the tenant was hashed into ids wrote it (id: resource path,
    // changeType, version), as if routed just before an upgrade: it suppresses neither tenant's copy now.
    const log = new TableRoutedEventLog(createTableClient(t.settings.storage, t.settings.dedupTable), { windowMs: 60 * 60_000 });
    const oldId = createHash('sha256').update(`chats('${CHAT}')/messages('360')\ncreated\n360`.toLowerCase()).digest('hex').slice(0, 40);
    await (await log.claim({ eventId: oldId, queues: [queue], owner: 'an earlier version' })).complete();
    expect(await t.process(a, 'from-tenant-a')).toMatchObject({ status: 'routed' });
    expect(await t.process(b, 'from-tenant-b')).toMatchObject({ status: 'routed' });
    expect(await t.process(a, 'from-tenant-a-again')).toMatchObject({ status: 'duplicate' });
    const events = await t.events(queue);
    expect(events.map((e) => e.tenantid).sort()).toEqual([TENANT_A, TENANT_B]);
    expect(new Set(events.map((e) => e.id)).size).toBe(2); // a consumer de-duplicating on `id` keeps both
    // The same in one Graph request.
    const [c, d] = await copies('361');
    const batch = { schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt: c.receivedAt, items: [c, d, c].map((q) => q.notification) };
    expect(await t.process(batch, 'both-tenants')).toMatchObject({ items: [{ status: 'routed' }, { status: 'routed' }, { status: 'duplicate' }] });
    expect((await t.events(queue)).map((e) => e.tenantid).sort()).toEqual([TENANT_A, TENANT_B]);
  });

  it('routes two copies processed at the same moment once', async () => {
    const queue = uniqueName('race');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
    const queued = await queuedMessage(message('350'));
    const outcomes = await Promise.all([t.process(queued), t.process(queued), t.process(queued)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'duplicate', 'routed']);
    expect(await t.events(queue)).toHaveLength(1);
  });

  it("waits out a claim whose invocation died and takes it over when its lease ends, instead of failing the message's attempt, looking less and less often", async () => {
    const t = setup();
    const reads: string[] = [];
    const policy: PipelinePolicy = { name: 'count-reads', sendRequest: (req, next) => (req.method === 'GET' && reads.push(req.url), next(req)) };
    const table = TableClient.fromConnectionString(harness.azurite().connectionString, t.settings.dedupTable, { allowInsecureConnection: true, additionalPolicies: [{ policy, position: 'perCall' }] });
    // A lease longer than the 5 s that an attempt used to wait: the attempt failed, and a message carrying
    // the event lost attempt after attempt to a dead claim (a chaos soak: 9 messages into the poison queue).
    const log = new TableRoutedEventLog(table, { windowMs: 60 * 60_000, claimLeaseMs: 6_000 });
    await log.claim({ eventId: 'c0ffee-dead-claim', queues: ['q'], owner: 'an invocation that died' });
    const claim = await log.claim({ eventId: 'c0ffee-dead-claim', queues: ['q'], owner: 'another message with the same event' });
    expect(claim.queues).toEqual(['q']);
    await claim.complete();
    expect((await log.claim({ eventId: 'c0ffee-dead-claim', queues: ['q'], owner: 'a third' })).queues).toEqual([]);
    expect(reads.length).toBeLessThan(15); // polling every 100 ms for 6 s would read 60 times
  });

  it("remembers a member's change whose route was cut short once its event was out: the retry, a duplicate by then, remembers it", async () => {
    // The chat's known members, as a backfill compares them; its first write fails (storage went away, the host died).
    const known = new MembershipLog(TableClient.fromConnectionString(harness.azurite().connectionString, `members${Math.random().toString(36).slice(2, 10)}`, { allowInsecureConnection: true }));
    let failNext = true;
    const memberships = {
      remember: (tenantId: string, chatId: string, member: Parameters<MembershipLog['remember']>[2]) =>
        failNext ? ((failNext = false), Promise.reject(new Error('storage went away'))) : known.remember(tenantId, chatId, member),
    };
    const queue = uniqueName('members');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) }, undefined, undefined, memberships);
    const carol = { id: 'm-carol', userId: 'c4a01000-0000-4000-8000-000000000003', displayName: 'Carol', roles: [] };
    await known.remember(TENANT_A, CHAT, { userId: carol.userId, membershipId: carol.id, resource: carol, present: true });
    failNext = true;
    const resource = `chats('${CHAT}')/members('${carol.id}')`;
    const removed = await queuedMessage(carol, { changeType: 'deleted', resource, resourceData: { id: carol.id, '@odata.type': '#microsoft.graph.aadUserConversationMember', '@odata.id': resource } });

    await expect(t.process(removed, 'message-1')).rejects.toThrow('storage went away');
    expect((await t.events(queue)).map((e) => `${e.memberid} ${e.changetype}`)).toEqual([`${carol.id} deleted`]); // out before the failure
    expect((await known.known(TENANT_A, CHAT)).get(carol.userId)).toMatchObject({ present: true }); // not remembered yet

    expect(await t.process(removed, 'message-1')).toMatchObject({ status: 'duplicate' });
    // Remembered as gone: Carol added again during a later gap now shows as a change.
    expect((await known.known(TENANT_A, CHAT)).get(carol.userId)).toMatchObject({ present: false });
  });

  it("remembers a chat's members per tenant (a cross-tenant chat), over what a version before the upgrade remembered for any tenant", async () => {
    const table = TableClient.fromConnectionString(harness.azurite().connectionString, `members${Math.random().toString(36).slice(2, 10)}`, { allowInsecureConnection: true });
    const known = new MembershipLog(table);
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [uniqueName('members')] }] }) }, undefined, undefined, known);
    const member = (name: string, userId: string) => ({ id: `m-${name}`, userId, displayName: name, roles: [] });
    const [dave, erin] = [member('dave', 'd4e00000-0000-4000-8000-000000000004'), member('erin', 'e4100000-0000-4000-8000-000000000005')];
    const change = (m: typeof dave, changeType: string, tenantId: string) => {
      const resource = `chats('${CHAT}')/members('${m.id}')`;
      return queuedMessage(m, { changeType, tenantId, resource, resourceData: { id: m.id, '@odata.type': '#microsoft.graph.aadUserConversationMember', '@odata.id': resource } });
    };
    // Remembered before the upgrade (chat only, whichever tenant's event it was): Dave and Erin present.
    await table.createTable();
    for (const m of [dave, erin]) await table.createEntity({ partitionKey: `member|${encodeURIComponent(CHAT)}`, rowKey: m.userId, membershipId: m.id, resource: JSON.stringify(m), present: true });
    // Tenant B's subscription sees Dave leave; tenant A's notification of it is lost (A's backfill must see it).
    await t.process(await change(dave, 'deleted', TENANT_B), 'from-tenant-b');
    expect([...(await known.known(TENANT_A, CHAT)).values()].map((m) => `${String(m.resource.displayName)} ${m.present}`).sort()).toEqual(['dave true', 'erin true']);
    expect((await known.known(TENANT_B, CHAT)).get(dave.userId)?.present).toBe(false);
    // Tenant A's own record wins over the older one.
    await t.process(await change(erin, 'deleted', TENANT_A.toUpperCase()), 'from-tenant-a');
    expect((await known.known(TENANT_A, CHAT)).get(erin.userId)?.present).toBe(false);
    expect((await known.known(TENANT_B, CHAT)).get(erin.userId)?.present).toBe(true);
  });

  it('writes de-duplication records together, each with its own answer, when one of them conflicts', async () => {
    const t = setup();
    const table = createTableClient(t.settings.storage, t.settings.dedupTable);
    const writes = new TableWriteBatcher(table);
    const row = (rowKey: string, n: number) => ({ partitionKey: 'a', rowKey, n });
    // The table does not exist yet: created once, then every write answered.
    expect(await writes.write(row('a1', 1), undefined)).toEqual(expect.any(String));
    // One group of the same partition: a1 exists, so the transaction fails and each write is tried alone.
    const [again, fresh, twice1, twice2] = await Promise.all([
      writes.write(row('a1', 2), undefined),
      writes.write(row('a2', 1), undefined),
      writes.write(row('a3', 1), undefined),
      writes.write(row('a3', 2), undefined),
    ]);
    expect(again).toBeUndefined();
    expect(fresh).toEqual(expect.any(String));
    expect([twice1, twice2].filter((e) => e === undefined)).toHaveLength(1); // one row written twice: one wins
    // Replaces in one transaction, each conditional on its own etag; a stale etag loses alone.
    const [replaced, stale] = await Promise.all([writes.write(row('a2', 2), fresh), writes.write(row('a1', 3), fresh)]);
    expect(replaced).toEqual(expect.any(String));
    expect(stale).toBeUndefined();
    const n = async (rowKey: string) => (await table.getEntity<{ n: number }>('a', rowKey)).n;
    expect([await n('a1'), await n('a2')]).toEqual([1, 2]);
    // Many writes of one partition at once go out as transactions and all land.
    const many = await Promise.all(Array.from({ length: 150 }, (_, i) => writes.write(row(`m${i}`, i), undefined)));
    expect(nonEmpty(many).every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
  });

  it('sends a first transaction to a missing table again as one transaction once the table is created', async () => {
    const t = setup();
    const table = createTableClient(t.settings.storage, uniqueName('fresh').replace(/[^A-Za-z0-9]/g, ''));
    const transactions = vi.spyOn(table, 'submitTransaction');
    const singles = vi.spyOn(table, 'createEntity');
    const writes = new TableWriteBatcher(table);
    const etags = await Promise.all(Array.from({ length: 30 }, (_, i) => writes.write({ partitionKey: 'p', rowKey: `r${i}`, n: i }, undefined)));
    expect(nonEmpty(etags).every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
    // The first attempt fails for the missing table; the second carries all 30 writes: none is sent alone.
    expect(transactions).toHaveBeenCalledTimes(2);
    expect(singles).not.toHaveBeenCalled();
    let stored = 0;
    for await (const _ of table.listEntities()) stored++;
    expect(stored).toBe(30);
  });

  it('prunes de-duplication records older than the window, keeping the recent ones', async () => {
    const t = setup();
    let now = Date.parse('2026-01-01T00:00:00Z');
    const log = new TableRoutedEventLog(createTableClient(t.settings.storage, t.settings.dedupTable), { windowMs: 60 * 60_000, now: () => now });
    const change = (eventId: string) => ({ eventId, queues: ['q'], owner: 'test' });
    for (let i = 0; i < 130; i++) await (await log.claim(change(`aa${i}`))).complete();
    await log.claim(change('bb-abandoned'));
    now += 2 * 60 * 60_000;
    await (await log.claim(change('cc-recent'))).complete();
    expect(await log.prune()).toBe(131);
    expect((await log.claim(change('aa1'))).queues).toEqual(['q']);
    expect((await log.claim(change('cc-recent'))).queues).toEqual([]);
  });

  it('resolves incoming claim checks and sends events over 64 KiB with dataref to the full event', async () => {
    const queue = uniqueName('big');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
    const big = await queuedMessage(message('400', { body: { contentType: 'text', content: 'x'.repeat(150 * 1024) } }));
    await t.storeIncoming([big]);
    const [incoming] = (await queueService(harness.azurite()).getQueueClient(t.settings.notificationsQueue).receiveMessages()).receivedMessageItems;
    const claim = decodeJsonMessage<unknown>(incoming?.messageText ?? '');
    expect(claim).toHaveProperty('claimCheck');

    expect(await t.process(claim)).toMatchObject({ status: 'batch', items: [{ status: 'routed' }] });
    const [event] = await t.events(queue);
    expect(event?.data).toBeUndefined();
    expect(event?.dataref).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/${harness.azurite().account}/`));
    const blobName = decodeURIComponent(new URL(event?.dataref ?? '').pathname.split('/').slice(3).join('/'));
    const full = JSON.parse(
      (await BlobServiceClient.fromConnectionString(harness.azurite().connectionString).getContainerClient(t.settings.eventsContainer).getBlobClient(blobName).downloadToBuffer()).toString('utf8'),
    ) as TeamsCloudEvent;
    expect(full.id).toBe(event?.id);
    expect((full.data as { body: { content: string } }).body.content).toHaveLength(150 * 1024);
  });

  it("publishes dataref without the app's SAS when storage is reached by a SAS connection string", async () => {
    const sasConnection = azuriteSasConnectionString(harness.azurite(), 'rwdlacup', 'bqt');
    const queue = uniqueName('big-sas');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) }, sasConnection);
    expect(await t.process(await queuedMessage(message('410', { body: { contentType: 'text', content: 'y'.repeat(80 * 1024) } })))).toMatchObject({ status: 'routed' });
    const [event] = await t.events(queue);
    const dataref = new URL(event?.dataref ?? '');
    expect(dataref.search).toBe('');
    expect(event?.dataref).not.toMatch(/sig=/);
    // A consumer reads it with its own credentials.
    const blobName = decodeURIComponent(dataref.pathname.split('/').slice(3).join('/'));
    const full = JSON.parse(
      (await BlobServiceClient.fromConnectionString(harness.azurite().connectionString).getContainerClient(t.settings.eventsContainer).getBlobClient(blobName).downloadToBuffer()).toString('utf8'),
    ) as TeamsCloudEvent;
    expect(full.id).toBe(event?.id);
  });
});

describe('failures', () => {
  it('dead-letters a bad signature at once, with the reason and the original message', async () => {
    const t = setup();
    const queued = await queuedMessage(message('500'));
    const content = (queued.notification as { encryptedContent: { dataSignature: string } }).encryptedContent;
    content.dataSignature = Buffer.alloc(32, 1).toString('base64');
    expect(await t.process(queued)).toEqual({ status: 'dead-lettered', reason: 'signature_mismatch' });
    const [letter] = await t.deadLetters();
    expect(letter).toMatchObject({
      schema: 'teams-change-relay.dead-letter.v1',
      reason: 'signature_mismatch',
      sourceQueue: t.settings.notificationsQueue,
      error: expect.stringMatching(/dataSignature/),
    });
    expect(decodeJsonMessage(letter?.originalMessage ?? '')).toEqual(queued);
    expect(t.logger.lines.find((l) => l.event === 'route.dead_lettered')?.fields.reason).toBe('signature_mismatch');
  });

  it('dead-letters unknown certificates, unsupported resources, malformed messages and unrouted events', async () => {
    const t = setup({ ROUTES_FILE: writeRoutes({ defaultRoutes: false, routes: [{ match: { kind: 'chat' }, queues: ['chats-only'] }] }) });
    const other = await createTestCertificate();
    expect(await t.process(await queuedMessage(message('600'), {}, { base64: other.base64, id: 'not-in-store' }))).toMatchObject({ reason: 'unknown_certificate' });
    expect(await t.process(await queuedMessage(undefined, { resource: "users('u')/events('e')" }))).toMatchObject({ reason: 'unsupported_resource' });
    expect(await t.process('not json at all')).toMatchObject({ reason: 'malformed_message' });
    expect(await t.process({ hello: 'world' })).toMatchObject({ reason: 'malformed_message' });
    expect(await t.process(await queuedMessage(message('601')))).toMatchObject({ reason: 'no_route' });
    expect((await t.deadLetters()).map((d) => d.reason)).toEqual(['unknown_certificate', 'unsupported_resource', 'malformed_message', 'malformed_message', 'no_route']);
  });

  it('throws while Key Vault is down (so the host retries) and routes once it is back', async () => {
    const { vault, cert, version, kv } = await startKeyVaultStore();
    try {
      const queue = uniqueName('kv');
      const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) }, harness.azurite().connectionString, kv);
      const queued = await queuedMessage(message('700'), {}, { base64: cert.base64, id: `graph-notifications/${version}` });
      vault.down = true;
      await expect(t.process(queued)).rejects.toMatchObject({ statusCode: 503 });
      expect(await t.deadLetters()).toHaveLength(0);
      vault.down = false;
      expect(await t.process(queued)).toMatchObject({ status: 'routed' });
      expect((await t.events(queue))[0]?.data).toEqual(message('700'));
    } finally {
      await vault.close();
    }
  });

  it("retries a batch whose one item failed for now: routes the others once and dead-letters its bad item once, however often the host retries; the letter's replay is dead-lettered once more, and routes once the cause is fixed", async () => {
    const { vault, cert, version, kv } = await startKeyVaultStore();
    try {
      const queue = uniqueName('once');
      const routes = (kind: string[]) => writeRoutes({ defaultRoutes: false, routes: [{ match: { kind }, queues: [queue] }] });
      const t = setup({ ROUTES_FILE: routes(['chatMessage']) }, harness.azurite().connectionString, kv);
      const reference = await queuedMessage(undefined, { resource: `chats('${CHAT}')/messages('730')` });
      const encrypted = await queuedMessage(message('731'), {}, { base64: cert.base64, id: `graph-notifications/${version}` });
      // A chat change with no route (fixable: the operator adds one), with a Graph id: its event id is the same on every delivery.
      const chat = `chats('${CHAT}')`;
      const unrouted = await queuedMessage(undefined, { id: 'graph-732', resource: chat, resourceData: { id: CHAT, '@odata.type': '#Microsoft.Graph.chat', '@odata.id': chat } });
      const batch = { schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt: reference.receivedAt, items: [reference, encrypted, unrouted].map((q) => q.notification) };

      vault.down = true; // the encrypted item fails for now: the host tries the message five times
      for (let attempt = 1; attempt < 5; attempt++) await expect(t.process(batch, 'incoming-once')).rejects.toMatchObject({ statusCode: 503 });
      vault.down = false;
      expect(await t.process(batch, 'incoming-once')).toMatchObject({ items: [{ status: 'duplicate' }, { status: 'routed' }, { status: 'dead-lettered', reason: 'no_route' }] });
      const events = await t.events(queue);
      expect(events.map((e) => `${e.messageid} ${e.datamode}`).sort()).toEqual(['730 reference', '731 resource']);
      expect(events.find((e) => e.datamode === 'resource')?.data).toEqual(message('731'));
      // The bad item alone, as a v1 message of its own, once: each retry found it settled.
      const letters = await t.deadLetters();
      expect(letters.map((l) => l.reason)).toEqual(['no_route']);
      expect(decodeJsonMessage(letters[0]?.originalMessage ?? '')).toEqual({ ...unrouted, receivedAt: batch.receivedAt });

      // A replay is a new message: dead-lettered once more (once, however often it is retried) while unfixed...
      const service = queueService(harness.azurite());
      const replayed = async () => {
        expect(
          await replayMessages({ queues: service, blobs: BlobServiceClient.fromConnectionString(harness.azurite().connectionString) }, { kind: 'deadletter', queue: t.settings.deadLetterQueue }),
        ).toEqual({ moved: 1, skipped: 0 });
        const [back] = (await service.getQueueClient(t.settings.notificationsQueue).receiveMessages()).receivedMessageItems;
        return { message: decodeJsonMessage<unknown>(back?.messageText ?? ''), id: back?.messageId ?? '' };
      };
      const first = await replayed();
      for (let attempt = 0; attempt < 2; attempt++) expect(await t.process(first.message, first.id)).toMatchObject({ status: 'dead-lettered', reason: 'no_route' });
      expect((await t.deadLetters()).map((l) => l.reason)).toEqual(['no_route']);
      // ...and routed once the route exists (same queues and de-duplication table, the routing file fixed).
      const s = t.settings;
      const names = {
        NOTIFICATIONS_QUEUE: s.notificationsQueue,
        DEAD_LETTER_QUEUE: s.deadLetterQueue,
        DEDUP_TABLE: s.dedupTable,
        NOTIFICATIONS_CONTAINER: s.notificationsContainer,
        EVENTS_CONTAINER: s.eventsContainer,
      };
      const fixed = setup({ ...names, ROUTES_FILE: routes(['chatMessage', 'chat']) });
      const second = await replayed();
      expect(await fixed.process(second.message, second.id)).toMatchObject({ status: 'routed' });
      expect((await t.events(queue)).map((e) => `${e.kind} ${e.graphnotificationid}`)).toEqual(['chat graph-732']);
      expect(await t.deadLetters()).toEqual([]);
    } finally {
      await vault.close();
    }
  });

  it('routes two copies of one change in the same batch once, and records every routed item of the batch', async () => {
    const queue = uniqueName('twice');
    const t = setup({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
    const first = await queuedMessage(message('720'));
    const other = await queuedMessage(message('721'));
    const batch = { schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt: first.receivedAt, items: [first, other, first].map((q) => q.notification) };
    const outcome = await t.process(batch, 'incoming-twice');
    expect(outcome).toMatchObject({ status: 'batch', items: [{ status: 'routed' }, { status: 'routed' }, { status: 'duplicate' }] });
    expect((await t.events(queue)).map((e) => e.messageid).sort()).toEqual(['720', '721']);
    // Another delivery of the batch (a new message) finds both recorded: nothing goes out again.
    expect(await t.process(batch, 'incoming-again')).toMatchObject({ items: [{ status: 'duplicate' }, { status: 'duplicate' }, { status: 'duplicate' }] });
    expect(await t.events(queue)).toEqual([]); // `events` takes what it reads: nothing new arrived
  });

  it('replays dead letters to their source queue, and poison messages to their queue', async () => {
    const t = setup();
    const queued = await queuedMessage(undefined, { resource: "users('u')/events('e')" });
    await t.process(queued);
    const service = queueService(harness.azurite());
    const storage = { queues: service, blobs: BlobServiceClient.fromConnectionString(harness.azurite().connectionString) };
    expect(await replayMessages(storage, { kind: 'deadletter', queue: t.settings.deadLetterQueue }, { dryRun: true })).toEqual({ moved: 1, skipped: 0 });
    expect(await t.deadLetters()).toHaveLength(1);
    expect(await replayMessages(storage, { kind: 'deadletter', queue: t.settings.deadLetterQueue })).toEqual({ moved: 1, skipped: 0 });
    expect(await t.deadLetters()).toHaveLength(0);
    const [back] = (await service.getQueueClient(t.settings.notificationsQueue).receiveMessages()).receivedMessageItems;
    expect(decodeJsonMessage(back?.messageText ?? '')).toEqual(queued);

    const poison = service.getQueueClient(`${t.settings.notificationsQueue}-poison`);
    await poison.createIfNotExists();
    await poison.sendMessage('cG9pc29uZWQ=');
    expect(await replayMessages(storage, { kind: 'poison', queue: t.settings.notificationsQueue })).toEqual({ moved: 1, skipped: 0 });
    const texts = (await service.getQueueClient(t.settings.notificationsQueue).receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((m) => m.messageText);
    expect(texts).toContain('cG9pc29uZWQ=');
  });
});
