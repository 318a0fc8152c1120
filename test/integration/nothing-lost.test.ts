import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { decodeJsonMessage, encodeJsonMessage } from '../../shared/queue/json-message.js';
import { QUEUED_BATCH_SCHEMA } from '../../shared/queue/queued-notification.js';
import { readDeadLetter } from '../../shared/route/dead-letter.js';
import { createTableClient } from '../../shared/config/storage-clients.js';
import { pruneEventPayloads } from '../../shared/route/event-payload-retention.js';
import { azuriteVia, drainQueue, queueService, uniqueName } from '../helpers/azurite.js';
import { CHAT, chatMessage, useRouteHarness } from '../helpers/route-harness.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const harness = useRouteHarness();
const { setup, queuedMessage, writeRoutes } = harness;
const onlyTo = (queue: string) => ({ ROUTES_FILE: writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** A membership change as Graph sends it: an aadUserConversationMember has no etag and no timestamp. */
function memberChange(changeType: 'created' | 'deleted', over: Record<string, unknown> = {}) {
  const resource = `chats('${CHAT}')/members('MCMjMSMj')`;
  const member = { '@odata.type': '#microsoft.graph.aadUserConversationMember', id: 'MCMjMSMj', userId: 'u-1', displayName: 'Adele', roles: ['owner'] };
  return queuedMessage(member, { changeType, resource, resourceData: { id: 'MCMjMSMj', '@odata.type': '#microsoft.graph.aadUserConversationMember', '@odata.id': resource }, ...over });
}

describe('event identity: distinct changes are never merged', () => {
  it('routes a member added, removed, added and removed again as 2 created + 2 deleted events, in whatever order they are processed', async () => {
    const queue = uniqueName('members');
    const t = setup(onlyTo(queue));
    // Graph promises no order, and the queue function runs messages side by side: c1 d1 d2 c2 is as likely as c1 d1 c2 d2.
    const changes = [await memberChange('created'), await memberChange('deleted'), await memberChange('deleted'), await memberChange('created')];
    const outcomes = await Promise.all(changes.map((c, i) => t.process(c, `incoming-${i}`)));
    expect(outcomes.map((o) => o.status)).toEqual(['routed', 'routed', 'routed', 'routed']);
    const events = await t.events(queue);
    expect(events.map((e) => e.changetype).sort()).toEqual(['created', 'created', 'deleted', 'deleted']);
    expect(new Set(events.map((e) => e.id)).size).toBe(4);
  });

  it('skips a copy that Graph sent again under the same notification id', async () => {
    const queue = uniqueName('graph-id');
    const t = setup(onlyTo(queue));
    const added = await memberChange('created', { id: 'graph-notification-1' });
    expect(await t.process(added, 'incoming-1')).toMatchObject({ status: 'routed' });
    expect(await t.process(added, 'incoming-2')).toMatchObject({ status: 'duplicate' });
    expect(await t.events(queue)).toHaveLength(1);
  });

  it('gives distinct ids to distinct deliveries of a reference-only change when there is nothing to compare', async () => {
    const queue = uniqueName('refs');
    const t = setup(onlyTo(queue));
    const edit = await queuedMessage(undefined, { changeType: 'updated', resource: `chats('${CHAT}')/messages('9')` });
    await t.process(edit, 'edit-1');
    await t.process(edit, 'edit-2');
    const events = await t.events(queue);
    expect(events).toHaveLength(2);
    expect(events[0]?.id).not.toBe(events[1]?.id);
  });

  it('keeps the id of a change without version across retries of the same queue message', async () => {
    const queue = uniqueName('retry-id');
    const t = setup({ ...onlyTo(queue), DEDUP_WINDOW_MINUTES: '0' });
    const added = await memberChange('created');
    await t.process(added, 'same-message');
    await t.process(added, 'same-message');
    const [a, b] = await t.events(queue);
    expect(a?.id).toBe(b?.id);
  });
});

describe('de-duplication per destination', () => {
  /** Routes by subscription: sub-a's events to `a`, sub-b's to `b` (and to `a` too when `bAlsoToA`). */
  const bySubscription = (a: string, b: string, bAlsoToA = false) => ({
    ROUTES_FILE: writeRoutes({
      routes: [
        { match: { subscriptionId: 'sub-a' }, queues: [a] },
        { match: { subscriptionId: 'sub-b' }, queues: bAlsoToA ? [b, a] : [b] },
      ],
    }),
  });

  it('delivers a message seen by two subscriptions to the queue each routes to, and a third copy nowhere', async () => {
    const [qa, qb] = [uniqueName('sub-a'), uniqueName('sub-b')];
    const t = setup(bySubscription(qa, qb));
    const payload = chatMessage('800');
    expect(await t.process(await queuedMessage(payload, { subscriptionId: 'sub-a' }))).toMatchObject({ status: 'routed', queues: [qa] });
    expect(await t.process(await queuedMessage(payload, { subscriptionId: 'sub-b' }))).toMatchObject({ status: 'routed', queues: [qb] });
    expect(await t.process(await queuedMessage(payload, { subscriptionId: 'sub-a' }))).toMatchObject({ status: 'duplicate' });
    const [a, b] = [await t.events(qa), await t.events(qb)];
    expect(a.map((e) => e.messageid)).toEqual(['800']);
    expect(b.map((e) => e.messageid)).toEqual(['800']);
    expect(a[0]?.id).toBe(b[0]?.id);
  });

  it("delivers two subscriptions' copies of a message in one Graph request to the queues each routes to", async () => {
    // One request may carry the notifications of several subscriptions: both copies have the same event id
    // (the same message version), their routes do not.
    const [qa, qb] = [uniqueName('batch-a'), uniqueName('batch-b')];
    const t = setup(bySubscription(qa, qb, true));
    const [a, b] = [await queuedMessage(chatMessage('805'), { subscriptionId: 'sub-a' }), await queuedMessage(chatMessage('805'), { subscriptionId: 'sub-b' })];
    const request = { schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt: a.receivedAt, items: [a, b, a].map((q) => q.notification) };
    expect(await t.process(request, 'one-request')).toMatchObject({
      status: 'batch',
      items: [{ status: 'routed', queues: [qa] }, { status: 'routed', queues: [qb] }, { status: 'duplicate' }],
    });
    expect((await t.events(qa)).map((e) => e.messageid)).toEqual(['805']);
    expect((await t.events(qb)).map((e) => e.messageid)).toEqual(['805']);
    // Its retry (the same message) and a redelivery (another) find every queue recorded.
    for (const messageId of ['one-request', 'one-request-again']) {
      expect(await t.process(request, messageId)).toMatchObject({ items: [{ status: 'duplicate' }, { status: 'duplicate' }, { status: 'duplicate' }] });
    }
    expect([...(await t.events(qa)), ...(await t.events(qb))]).toEqual([]);
  });

  it('routes two large Graph requests carrying the same changes in opposite order, at the same time, on their first attempt', async () => {
    // Graph redelivers (and subscriptions overlap): two incoming messages share events. Each request is
    // larger than the items routed at once, so each message's first items take the claims the other's last
    // items need: a copy must wait only for the other's publish of that one event, never for the other's
    // whole batch, or the two wait for each other until both give up, attempt after attempt, into poison.
    const queue = uniqueName('overlap');
    const t = setup(onlyTo(queue));
    const items = await Promise.all(Array.from({ length: 160 }, (_, i) => queuedMessage(chatMessage(String(1000 + i)))));
    const request = (order: typeof items) => ({ schema: QUEUED_BATCH_SCHEMA, kind: 'change', receivedAt: items[0]!.receivedAt, items: order.map((q) => q.notification) });
    const [forward, backward] = [request(items), request([...items.slice(80), ...items.slice(0, 80)])];
    const outcomes = await Promise.all([t.process(forward, 'forward'), t.process(backward, 'backward')]);
    const statuses = outcomes.flatMap((o) => (o.status === 'batch' ? o.items.map((i) => i.status) : [o.status]));
    expect(statuses.filter((s) => s === 'routed')).toHaveLength(160);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(160);
    const routed = await drainQueue(queueService(harness.azurite()).getQueueClient(queue));
    expect(routed.map((m) => Number((m.body as { messageid?: string }).messageid)).sort((x, y) => x - y)).toEqual(items.map((_, i) => 1000 + i));
  });

  it('delivers a message seen in two tenants to each tenant route', async () => {
    const [qa, qb] = [uniqueName('tenant-a'), uniqueName('tenant-b')];
    const [tenantA, tenantB] = ['11111111-1111-4111-8111-111111111111', '33333333-3333-4333-8333-333333333333'];
    const t = setup({
      GRAPH_TENANT_IDS: `${tenantA},${tenantB}`,
      ROUTES_FILE: writeRoutes({
        routes: [
          { match: { tenantId: tenantA }, queues: [qa] },
          { match: { tenantId: tenantB }, queues: [qb] },
        ],
      }),
    });
    await t.process(await queuedMessage(chatMessage('810'), { tenantId: tenantA }));
    await t.process(await queuedMessage(chatMessage('810'), { tenantId: tenantB }));
    expect((await t.events(qa)).map((e) => e.tenantid)).toEqual([tenantA]);
    expect((await t.events(qb)).map((e) => e.tenantid)).toEqual([tenantB]);
  });
});

describe('lifetimes', () => {
  const expiries = async (queue: string) => (await queueService(harness.azurite()).getQueueClient(queue).peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.expiresOn.getTime());

  it('sends downstream events and dead letters that do not expire within a year', async () => {
    const queue = uniqueName('ttl');
    const t = setup(onlyTo(queue));
    await t.process(await queuedMessage(chatMessage('900')));
    await t.process(await queuedMessage(undefined, { resource: "users('u')/events('e')" }));
    const [event] = await expiries(queue);
    const [letter] = await expiries(t.settings.deadLetterQueue);
    expect(event).toBeGreaterThan(Date.now() + YEAR_MS);
    expect(letter).toBeGreaterThan(Date.now() + YEAR_MS);
  });

  it('sends downstream events with EVENT_TTL_SECONDS when it is set', async () => {
    const queue = uniqueName('ttl-set');
    const t = setup({ ...onlyTo(queue), EVENT_TTL_SECONDS: '3600' });
    await t.process(await queuedMessage(chatMessage('901')));
    const [event] = await expiries(queue);
    expect(event).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect(event).toBeLessThan(Date.now() + 2 * 3600_000);
  });

  it("deletes a batch's claim-check blob once every item is routed or dead-lettered; a bad item is dead-lettered alone, replayable", async () => {
    const queue = uniqueName('claims');
    const t = setup({ ...onlyTo(queue), DEDUP_WINDOW_MINUTES: '0' });
    const blobs = BlobServiceClient.fromConnectionString(harness.azurite().connectionString).getContainerClient(t.settings.notificationsContainer);
    const big = (id: string, over: Record<string, unknown> = {}) => queuedMessage(chatMessage(id, { body: { contentType: 'text', content: 'x'.repeat(100 * 1024) } }), over);
    const bad = await big('951', { resource: "users('u')/events('e')" });
    await t.storeIncoming([await big('950'), bad]);
    const incoming = (await queueService(harness.azurite()).getQueueClient(t.settings.notificationsQueue).receiveMessages({ numberOfMessages: 2 })).receivedMessageItems;
    expect(incoming).toHaveLength(1);
    const claim = decodeJsonMessage<{ claimCheck: { blob: string } }>(incoming[0]?.messageText ?? '');
    const names = async () => {
      const out: string[] = [];
      for await (const b of blobs.listBlobsFlat()) out.push(b.name);
      return out.sort();
    };
    expect(await names()).toEqual([claim.claimCheck.blob]);
    expect(await t.process(claim)).toMatchObject({ status: 'batch', items: [{ status: 'routed' }, { status: 'dead-lettered', reason: 'unsupported_resource' }] });
    expect((await t.events(queue)).map((e) => e.messageid)).toEqual(['950']);
    // The bad item is too large for a message of its own: its original is a claim check of its own, and the
    // dead letter (too large for a message with its copy of that blob) is kept whole in a dead-letter blob.
    const [stub] = await t.deadLetters();
    expect(stub).toMatchObject({ reason: 'unsupported_resource', claimCheck: { container: t.settings.deadLetterContainer } });
    const letter = (await readDeadLetter(BlobServiceClient.fromConnectionString(harness.azurite().connectionString), encodeJsonMessage(stub)))?.letter;
    const original = decodeJsonMessage<{ schema: string; claimCheck: { blob: string } }>(letter?.originalMessage ?? '');
    expect(original.schema).toBe('teams-change-relay.queued-notification.v1');
    expect(await names()).toEqual([original.claimCheck.blob]);
    expect(letter?.referencedBlob?.blob).toBe(original.claimCheck.blob);
    const kept = JSON.parse(letter?.referencedBlob?.content ?? '') as typeof bad;
    expect(kept).toMatchObject({ schema: bad.schema, kind: 'change', notification: bad.notification });
  });

  it('still routes a v1 claim-check message queued before an upgrade, and deletes its blob', async () => {
    const queue = uniqueName('v1');
    const t = setup(onlyTo(queue));
    const blobs = BlobServiceClient.fromConnectionString(harness.azurite().connectionString).getContainerClient(t.settings.notificationsContainer);
    const old = await queuedMessage(chatMessage('955', { body: { contentType: 'text', content: 'z'.repeat(100 * 1024) } }));
    await blobs.createIfNotExists();
    const json = JSON.stringify(old);
    await blobs.getBlockBlobClient('2026-11-22/old.json').upload(json, Buffer.byteLength(json));
    const claim = { schema: old.schema, kind: 'change', receivedAt: old.receivedAt, claimCheck: { container: blobs.containerName, blob: '2026-11-22/old.json', bytes: Buffer.byteLength(json) } };
    expect(await t.process(claim)).toMatchObject({ status: 'routed', queues: [queue] });
    expect((await t.events(queue)).map((e) => e.messageid)).toEqual(['955']);
    expect(await blobs.getBlobClient('2026-11-22/old.json').exists()).toBe(false);
  });

  it('prunes event payload blobs past EVENT_PAYLOAD_RETENTION_DAYS, not before', async () => {
    const queue = uniqueName('payloads');
    const t = setup(onlyTo(queue));
    await t.process(await queuedMessage(chatMessage('960', { body: { contentType: 'text', content: 'y'.repeat(100 * 1024) } })));
    const [event] = await t.events(queue);
    // Under its tenant (what `tenants remove --purge` deletes by prefix), and its de-duplication row names the tenant too.
    expect(new URL(event?.dataref ?? 'http://x/').pathname).toBe(`/${harness.azurite().account}/${t.settings.eventsContainer}/${event?.tenantid}/${event?.time.slice(0, 10)}/${event?.id}.json`);
    const dedup = [];
    for await (const row of createTableClient(t.settings.storage, t.settings.dedupTable).listEntities<{ tenantId?: string }>()) if (row.rowKey === event?.id) dedup.push(row.tenantId);
    expect(dedup).toEqual([event?.tenantid]);
    const container = BlobServiceClient.fromConnectionString(harness.azurite().connectionString).getContainerClient(t.settings.eventsContainer);
    const day = 24 * 3600_000;
    expect(await pruneEventPayloads(container, 30, Date.now() + 29 * day)).toBe(0);
    expect(await pruneEventPayloads(container, 0, Date.now() + 3650 * day)).toBe(0);
    expect(await pruneEventPayloads(container, 30, Date.now() + 31 * day)).toBe(1);
    const left = [];
    for await (const b of container.listBlobsFlat()) left.push(b.name);
    expect(left).toEqual([]);
  });
});

describe('retry budget', () => {
  it('costs one retry when publishing fails and releasing the claim fails too', async () => {
    const [queueProxy, tableProxy] = [await startTcpProxy(harness.azurite().ports.queue), await startTcpProxy(harness.azurite().ports.table)];
    try {
      const queue = uniqueName('budget');
      const t = setup(onlyTo(queue), azuriteVia(harness.azurite(), { queue: queueProxy.port, table: tableProxy.port }));
      const queued = await queuedMessage(chatMessage('970'));
      // Storage goes away the moment the event is sent: the send fails, and so does the claim's release.
      queueProxy.onRequest(1, () => {
        queueProxy.mode = 'refuse';
        tableProxy.mode = 'refuse';
      });
      await expect(t.process(queued, 'incoming-1')).rejects.toThrow();
      queueProxy.mode = 'pass';
      tableProxy.mode = 'pass';
      // The host's next attempt of the same message takes its own claim over instead of waiting for its lease.
      expect(await t.process(queued, 'incoming-1')).toMatchObject({ status: 'routed' });
      expect((await t.events(queue)).map((e) => e.messageid)).toEqual(['970']);
    } finally {
      await queueProxy.close();
      await tableProxy.close();
    }
  });
});

describe('permanent failures are dead-lettered, never retried into poison', () => {
  it('dead-letters a resource with an invalid percent-escape and deeply nested content', async () => {
    const t = setup();
    const badEscape = await queuedMessage(undefined, { resource: 'chats/19%E0%A4%A/messages/1' });
    expect(await t.process(badEscape)).toMatchObject({ status: 'dead-lettered', reason: 'unsupported_resource' });
    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 3500; i++) deep = { a: deep };
    const nested = await queuedMessage({ id: '990', nested: deep });
    expect(await t.process(nested)).toMatchObject({ status: 'dead-lettered', reason: 'malformed_message' });
    expect((await t.deadLetters()).map((d) => d.reason)).toEqual(['unsupported_resource', 'malformed_message']);
  });
});
