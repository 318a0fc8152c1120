import { randomUUID } from 'node:crypto';
import { decodeJwt, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClaimCheck, type QueuedBatch, type QueuedClaimCheck, type QueuedNotification } from '../../shared/queue/queued-notification.js';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { UnserializableNotificationError } from '../../shared/errors.js';
import { StorageNotificationStore } from '../../shared/queue/notification-store.js';
import { EXPIRED_TOKEN_GAP_MARGIN_MS } from '../../shared/receive/expired-token-gaps.js';
import { MAX_TOKEN_LIFETIME_MS, RESENT_TOKEN_MAX_EXPIRED_MS } from '../../shared/receive/validation-tokens.js';
import { drainNotifications, drainQueue, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { APP_ID, CLIENT_STATE, OLD_CLIENT_STATE, TENANT_A, TENANT_B, TENANT_OTHER, changeNotification, encryptedNotification, lifecycleNotification } from '../helpers/notifications.js';
import { testClock, testReceiver } from '../helpers/receiver.js';
import { eventually } from '../helpers/eventually.js';
import { AzureNamedKeyCredential, TableClient } from '@azure/data-tables';
import { TenantDirectory } from '../../shared/tenants/tenant-directory.js';
import { TenantRegistry } from '../../shared/tenants/tenant-registry.js';
import { startTokenIssuer, type TokenIssuer } from '../helpers/token-issuer.js';

let azurite: AzuriteProcess;
let issuer: TokenIssuer;

beforeAll(async () => {
  [azurite, issuer] = await Promise.all([testAzurite(), startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID })]);
});
afterAll(async () => {
  await Promise.all([azurite?.stop(), issuer?.close()]);
});

const receiver = (env: Record<string, string> = {}) => testReceiver(azurite.connectionString, issuer.jwksUrl, env);
const withoutClientState = ({ clientState: _, ...rest }: Record<string, unknown>) => rest;
const notificationsOf = async (queue: Parameters<typeof drainQueue>[0], claimChecks?: Parameters<typeof drainNotifications>[1]) =>
  (await drainNotifications(queue, claimChecks)).map((q) => q.notification as Record<string, unknown>);

describe('validation handshake', () => {
  it('echoes the decoded token as text/plain and queues nothing', async () => {
    const r = receiver();
    const res = await r.post('', { validationToken: 'Validation: Testing client application reachability <&>', contentType: 'text/plain' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('Validation: Testing client application reachability <&>');
    expect(await r.queues.change.exists()).toBe(false);
  });
});

describe('bad input', () => {
  it('answers problem+json with 400, 413 and 415, never 500', async () => {
    const r = receiver({ NOTIFICATIONS_MAX_BODY_BYTES: '2048' });
    const cases: [unknown, Parameters<typeof r.post>[1], number][] = [
      ['{not json', {}, 400],
      [{ value: 'x' }, {}, 400],
      [{ value: [changeNotification()] }, { contentType: 'text/plain' }, 415],
      [{ value: [changeNotification({ resource: 'x'.repeat(4096) })] }, {}, 413],
      [{ value: [changeNotification()] }, { contentLength: 10_000 }, 413],
    ];
    for (const [body, options, status] of cases) {
      const res = await r.post(body, options);
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      const problem = JSON.parse(res.body ?? '{}') as Record<string, unknown>;
      expect(problem).toMatchObject({ status, type: expect.stringMatching(/^urn:/), title: expect.any(String), detail: expect.any(String) });
    }
    expect(r.logger.lines.filter((l) => l.event === 'receive.bad_request')).toHaveLength(cases.length);
  });
});

describe('input that cannot be stored', () => {
  it('answers 400 with a stable code, not 503, to JSON nested too deep to serialise, and queues nothing', async () => {
    const r = receiver();
    const item = JSON.stringify(changeNotification({ resourceData: { deep: 0 } })).replace('{"deep":0}', '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000));
    const res = await r.post(`{"value":[${item},${JSON.stringify(changeNotification())}]}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({ status: 400, code: 'ERR_JSON_TOO_DEEP' });
    expect(r.logger.lines.find((l) => l.event === 'receive.bad_request')?.fields).toMatchObject({ code: 'ERR_JSON_TOO_DEEP', status: 400 });
    expect(r.logger.lines.some((l) => l.event === 'receive.storage_unavailable')).toBe(false);
    expect(await r.queues.change.exists()).toBe(false);
  });

  it('the store refuses an item it cannot serialise as such, not as a storage failure, before writing any of the batch', async () => {
    const names = { change: uniqueName('notif'), lifecycle: uniqueName('life'), container: uniqueName('blobs') };
    const store = new StorageNotificationStore({
      queueService: QueueServiceClient.fromConnectionString(azurite.connectionString),
      blobService: BlobServiceClient.fromConnectionString(azurite.connectionString),
      queues: { change: names.change, lifecycle: names.lifecycle },
      container: names.container,
      timeoutMs: 30_000,
    });
    const queued = (notification: Record<string, unknown>): QueuedNotification => ({
      schema: 'teams-change-relay.queued-notification.v1',
      kind: 'change',
      receivedAt: new Date().toISOString(),
      notification: notification as QueuedNotification['notification'],
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad = [changeNotification({ resourceData: cyclic }), changeNotification({ resourceData: { n: 1n } })];
    for (const item of bad) {
      const attempt = store.storeAll([queued(changeNotification()), queued(item)]);
      await expect(attempt).rejects.toBeInstanceOf(UnserializableNotificationError);
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_NOTIFICATION_UNSERIALIZABLE' });
    }
    expect(await QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(names.change).exists()).toBe(false);
    await store.storeAll([queued(changeNotification())]);
    expect(await drainQueue(QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(names.change))).toHaveLength(1);
  });
});

describe('measures of the answers', () => {
  it("counts every answer by status and times it, and counts one slower than Graph's 2,900 ms mark as slow", async () => {
    const r = testReceiver(azurite.connectionString, issuer.jwksUrl, {}, { clock: testClock() });
    expect((await r.post({ value: [changeNotification()] })).status).toBe(202);
    expect((await r.post({ value: [changeNotification()] }, { contentType: 'text/plain' })).status).toBe(415);
    expect((await r.post('', { validationToken: 'hello' })).status).toBe(200);
    expect(r.measures.counters).toEqual({ 'answers.notifications.202': 1, 'answers.notifications.415': 1, 'answers.notifications.200': 1 });
    expect(r.measures.answerTimes).toHaveLength(3);
    // A body that reaches the handler three seconds late (the clock jumps): the answer comes after Graph's slow mark.
    expect((await r.post({ value: [changeNotification()] }, { bodyArrivesAfterMs: 3_000 })).status).toBe(202);
    expect(r.measures.counters['slow_answers.notifications']).toBe(1);
    expect(r.measures.answerTimes.at(-1)).toBeGreaterThan(2_900);
  });
});

describe('clientState', () => {
  it('queues matching items and drops the others with 202 and a security event', async () => {
    const r = receiver({ GRAPH_CLIENT_STATE: `${CLIENT_STATE},${OLD_CLIENT_STATE}` });
    const good = changeNotification();
    const rotated = changeNotification({ clientState: OLD_CLIENT_STATE });
    const forged = changeNotification({ clientState: 'guess' });
    const missing = changeNotification({ clientState: undefined });
    const res = await r.post({ value: [good, forged, rotated, missing] });
    expect(res.status).toBe(202);
    const queued = await notificationsOf(r.queues.change);
    expect(queued.map((n) => n.id).sort()).toEqual([good.id, rotated.id].sort());

    const events = r.logger.lines.filter((l) => l.event === 'security.notification_rejected');
    expect(events.map((e) => e.fields.reason)).toEqual(['client_state_mismatch', 'client_state_mismatch']);
    expect(events.map((e) => e.fields.subscriptionId).sort()).toEqual([forged.subscriptionId, missing.subscriptionId].sort());
    const logged = JSON.stringify(r.logger.lines);
    expect(logged).not.toContain(CLIENT_STATE);
    expect(logged).not.toContain('guess');
  });

  it('drops items of tenants outside the allow-list', async () => {
    const r = receiver();
    const res = await r.post({ value: [changeNotification({ tenantId: TENANT_OTHER }), changeNotification()] });
    expect(res.status).toBe(202);
    expect(await notificationsOf(r.queues.change)).toHaveLength(1);
    expect(r.logger.lines.find((l) => l.event === 'security.notification_rejected')?.fields).toMatchObject({
      reason: 'tenant_not_allowed',
      tenantId: TENANT_OTHER,
      count: 1,
    });
  });
});

describe('the tenants served, from the tenant registry', () => {
  it('accepts a tenant onboarded after start on its first notification, refuses it within 30 s of its removal, and answers 503 when the registry cannot be read for a tenant it does not know', async () => {
    const registry = new TenantRegistry(TableClient.fromConnectionString(azurite.connectionString, uniqueName('tenants').replace(/-/g, ''), { allowInsecureConnection: true }));
    const clock = testClock();
    const tenants = new TenantDirectory({ configured: [TENANT_A], registry, now: clock.now });
    const r = testReceiver(azurite.connectionString, issuer.jwksUrl, {}, { tenants });
    const onboarded = changeNotification({ tenantId: TENANT_OTHER });

    const first = await r.post({ value: [onboarded] });
    expect(first.status, JSON.stringify(r.logger.lines)).toBe(202);
    expect(await notificationsOf(r.queues.change)).toHaveLength(0);
    const at = new Date(clock.now()).toISOString();
    await registry.save({ tenantId: TENANT_OTHER, state: 'onboarding', addedAt: at, updatedAt: at });
    clock.advance(5_000);
    expect((await r.post({ value: [onboarded] })).status).toBe(202);
    expect(await notificationsOf(r.queues.change)).toHaveLength(1);

    await registry.save({ tenantId: TENANT_OTHER, state: 'removed', addedAt: at, updatedAt: at });
    clock.advance(30_000);
    // The first use after 30 s reads the registry again in the background: refused once that read is in.
    const refusals = () => r.logger.lines.filter((l) => l.event === 'security.notification_rejected' && l.fields.tenantId === TENANT_OTHER).length;
    await eventually(
      async () => (await r.post({ value: [onboarded] })).status === 202 && refusals() === 2,
      () => `a second refusal of the removed tenant (${refusals()})`,
    );
    await drainQueue(r.queues.change);

    const unreachable = new TenantDirectory({
      configured: [TENANT_A],
      registry: new TenantRegistry(new TableClient('http://127.0.0.1:9/devstoreaccount1', 'tenants', new AzureNamedKeyCredential('devstoreaccount1', 'a2V5'), { allowInsecureConnection: true })),
    });
    const down = testReceiver(azurite.connectionString, issuer.jwksUrl, {}, { tenants: unreachable });
    const refused = await down.post({ value: [changeNotification({ tenantId: TENANT_OTHER }), changeNotification()] });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body ?? '{}')).toMatchObject({ code: 'ERR_TENANTS_UNAVAILABLE' });
    expect(await notificationsOf(down.queues.change)).toHaveLength(0);
    // A batch of served tenants alone needs no read.
    expect((await down.post({ value: [changeNotification()] })).status).toBe(202);
  });
});

describe('security log volume', () => {
  it('writes a bounded number of lines for thousands of distinct forged items and tokens, then one summary, and answers 202', async () => {
    const r = receiver();
    const genuine = encryptedNotification();
    const forged = [...Array.from({ length: 3000 }, () => changeNotification({ clientState: 'guess' })), ...Array.from({ length: 1000 }, () => changeNotification({ tenantId: TENANT_OTHER }))];
    const badTokens = Array.from({ length: 2000 }, (_, i) => `not-a-token-${i}`);
    const res = await r.post({ value: [...forged, genuine], validationTokens: [...badTokens, await issuer.sign()] });
    expect(res.status).toBe(202);
    expect((await notificationsOf(r.queues.change)).map((n) => n.id)).toEqual([genuine.id]);

    const of = (event: string) => r.logger.lines.filter((l) => l.event === event);
    expect(of('security.notification_rejected').length).toBeGreaterThan(0);
    expect(of('security.notification_rejected').length).toBeLessThanOrEqual(10);
    expect(of('security.validation_token_rejected').length).toBeGreaterThan(0);
    expect(of('security.validation_token_rejected').length).toBeLessThanOrEqual(10);
    expect(r.logger.lines.length).toBeLessThanOrEqual(25);
    expect(of('security.rejections_summary')).toHaveLength(1);
    expect(of('security.rejections_summary')[0]?.fields).toMatchObject({
      endpoint: 'notifications',
      items: { client_state_mismatch: 3000, tenant_not_allowed: 1000 },
      tokens: { token_malformed: 2000 },
      omittedLines: 4000 + 2000 - of('security.notification_rejected').length - of('security.validation_token_rejected').length,
    });
  });
});

describe('validationTokens', () => {
  it('queues encrypted items whose tenant has a valid token (v1 or v2 issuer)', async () => {
    const r = receiver();
    const a = encryptedNotification();
    const b = encryptedNotification({ tenantId: TENANT_B });
    const res = await r.post({ value: [a, b], validationTokens: [await issuer.sign(), await issuer.sign({ tenantId: TENANT_B, issuer: 'v2' })] });
    expect(res.status).toBe(202);
    expect((await notificationsOf(r.queues.change)).map((n) => n.id).sort()).toEqual([a.id, b.id].sort());
  });

  it('drops encrypted items when the batch carries no token', async () => {
    const r = receiver();
    const res = await r.post({ value: [encryptedNotification(), changeNotification()] });
    expect(res.status).toBe(202);
    const queued = await notificationsOf(r.queues.change);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.encryptedContent).toBeUndefined();
    expect(r.logger.lines.find((l) => l.event === 'security.notification_rejected')?.fields.reason).toBe('validation_token_missing');
  });

  it('drops the items of a tenant whose token is missing from a mixed batch', async () => {
    const r = receiver();
    const a = encryptedNotification();
    const b = encryptedNotification({ tenantId: TENANT_B });
    const res = await r.post({ value: [a, b], validationTokens: [await issuer.sign()] });
    expect(res.status).toBe(202);
    expect((await notificationsOf(r.queues.change)).map((n) => n.id)).toEqual([a.id]);
    expect(r.logger.lines.find((l) => l.event === 'security.notification_rejected')?.fields).toMatchObject({
      reason: 'validation_token_invalid',
      tenantId: TENANT_B,
    });
  });

  it('drops encrypted items whose only token is bad, logging why without the token', async () => {
    const r = receiver();
    const token = await issuer.sign({ audience: '99999999-9999-4999-8999-999999999999' });
    const res = await r.post({ value: [encryptedNotification()], validationTokens: [token] });
    expect(res.status).toBe(202);
    expect(await drainQueue(r.queues.change)).toHaveLength(0);
    expect(r.logger.lines.find((l) => l.event === 'security.validation_token_rejected')?.fields.reason).toBe('token_wrong_audience');
    expect(JSON.stringify(r.logger.lines)).not.toContain(token.split('.')[2]);
  });

  it("refuses the items of a token that is Graph's but expired, and queues instead one gap request per subscription over their window", async () => {
    const r = receiver();
    // Graph resending after a long outage with the token it first sent: issued two hours ago, expired one hour ago.
    const token = await issuer.sign({ issuedAt: -7200, notBefore: -7200, expiresIn: -3600 });
    const [s1, s2] = [randomUUID(), randomUUID()];
    const items = [encryptedNotification({ subscriptionId: s1 }), encryptedNotification({ subscriptionId: s1 }), encryptedNotification({ subscriptionId: s2 })];
    const before = Date.now();
    const res = await r.post({ value: items, validationTokens: [token] });
    expect(res.status).toBe(202);
    const messages = await drainQueue(r.queues.change);
    expect(messages).toHaveLength(1);
    const batch = messages[0]!.body as QueuedBatch;
    expect(batch.items).toEqual([]); // none of the items goes further
    const from = new Date(decodeJwt(token).iat! * 1000 - EXPIRED_TOKEN_GAP_MARGIN_MS).toISOString();
    expect(batch.gaps).toEqual([s1, s2].map((subscriptionId) => ({ reason: 'validation_token_expired', subscriptionId, tenantId: TENANT_A, from, to: batch.receivedAt })));
    expect(Date.parse(batch.receivedAt)).toBeGreaterThanOrEqual(before);
    expect(r.logger.lines.filter((l) => l.event === 'receive.expired_token_gap').map((l) => l.fields.subscriptionId)).toEqual([s1, s2]);
    expect(r.logger.lines.filter((l) => l.event === 'security.notification_rejected').map((l) => [l.fields.reason, l.fields.count])).toEqual([
      ['validation_token_expired', 2],
      ['validation_token_expired', 1],
    ]);
    expect(JSON.stringify(r.logger.lines)).not.toContain(token.split('.')[2]);
  });

  it('queues no gap request for an expired token wrong in any other way, nor for an item whose clientState does not match', async () => {
    const r = receiver();
    const expired = { issuedAt: -7200, notBefore: -7200, expiresIn: -3600 };
    const other = await generateKeyPair('RS256');
    const bad = await Promise.all([
      issuer.sign({ ...expired, privateKey: other.privateKey }),
      issuer.sign({ ...expired, audience: '99999999-9999-4999-8999-999999999999' }),
      issuer.sign({ ...expired, tenantId: TENANT_OTHER }),
      issuer.sign({ ...expired, appid: '99999999-9999-4999-8999-999999999999' }),
    ]);
    const genuine = await issuer.sign(expired);
    const requests = [
      ...bad.map((token) => ({ value: [encryptedNotification()], validationTokens: [token] })),
      { value: [encryptedNotification({ tenantId: TENANT_OTHER })], validationTokens: [bad[2]] },
      { value: [encryptedNotification({ clientState: 'not-the-secret' })], validationTokens: [genuine] },
    ];
    for (const body of requests) expect((await r.post(body)).status).toBe(202);
    expect(await drainQueue(r.queues.change)).toEqual([]);
    // The control: the same item with the genuine token asks for its gap.
    const item = encryptedNotification();
    expect((await r.post({ value: [item], validationTokens: [genuine] })).status).toBe(202);
    expect((await drainQueue(r.queues.change)).map((m) => (m.body as QueuedBatch).gaps?.map((g) => g.subscriptionId))).toEqual([[item.subscriptionId]]);
  });

  it('asks for no gap for a genuine token expired longer ago than Graph retries (a replayed request), and for one a Graph retry could carry, no wider a window than a retry could need', async () => {
    const r = receiver();
    // A request body kept and sent again: its token, Graph's in every respect, expired 5 hours ago.
    const replayed = await issuer.sign({ issuedAt: -6 * 3600, notBefore: -6 * 3600, expiresIn: -5 * 3600 });
    expect((await r.post({ value: [encryptedNotification()], validationTokens: [replayed] })).status).toBe(202);
    expect(await drainQueue(r.queues.change)).toEqual([]);
    expect(r.logger.lines.filter((l) => l.event.startsWith('security.') && l.event !== 'security.rejections_summary').map((l) => l.fields.reason)).toEqual([
      'validation_token_invalid',
      'token_expired_too_long',
    ]);
    // Expired an hour ago, a Graph retry: its gap is asked for, but from no earlier than the retry period, the
    // longest token lifetime and the margin before receipt, whatever its iat and nbf say (here a month back).
    const resent = await issuer.sign({ issuedAt: -30 * 86400, notBefore: -30 * 86400, expiresIn: -3600 });
    expect((await r.post({ value: [encryptedNotification()], validationTokens: [resent] })).status).toBe(202);
    const batch = (await drainQueue(r.queues.change))[0]!.body as QueuedBatch;
    const earliest = Date.parse(batch.receivedAt) - RESENT_TOKEN_MAX_EXPIRED_MS - MAX_TOKEN_LIFETIME_MS - EXPIRED_TOKEN_GAP_MARGIN_MS;
    expect(batch.gaps).toHaveLength(1);
    expect(Date.parse(batch.gaps![0]!.from)).toBeGreaterThanOrEqual(earliest);
    expect(batch.gaps![0]!.from).toBe(new Date(decodeJwt(resent).exp! * 1000 - MAX_TOKEN_LIFETIME_MS - EXPIRED_TOKEN_GAP_MARGIN_MS).toISOString());
  });

  it('routes the items of a valid token beside an expired one of the same tenant, asking for no gap', async () => {
    const r = receiver();
    const item = encryptedNotification();
    const res = await r.post({ value: [item], validationTokens: [await issuer.sign({ issuedAt: -7200, notBefore: -7200, expiresIn: -3600 }), await issuer.sign()] });
    expect(res.status).toBe(202);
    const messages = await drainQueue(r.queues.change);
    expect(messages.map((m) => [(m.body as QueuedBatch).items.map((i) => i.id), (m.body as QueuedBatch).gaps])).toEqual([[[item.id], undefined]]);
  });

  it('answers 503 rather than dropping genuine items when the signing keys cannot be fetched', async () => {
    const r = receiver({ GRAPH_JWKS_URL: 'http://127.0.0.1:9/keys' });
    const res = await r.post({ value: [encryptedNotification()], validationTokens: [await issuer.sign()] });
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(await r.queues.change.exists()).toBe(false);
  });
});

describe('signing key rotation', () => {
  it('answers 503 with Retry-After for a token signed by a key not in the key set, queuing nothing and fetching the set at most once per cooldown', async () => {
    const jwks = await startTokenIssuer({ tenantId: TENANT_A, audience: APP_ID });
    try {
      const r = testReceiver(azurite.connectionString, jwks.jwksUrl);
      const started = Date.now();
      const first = encryptedNotification();
      expect((await r.post({ value: [first], validationTokens: [await jwks.sign()] })).status).toBe(202);
      expect(jwks.jwksRequests).toBe(1);

      const other = await generateKeyPair('RS256');
      for (let i = 0; i < 20; i++) {
        const genuineLooking = encryptedNotification();
        const token = await jwks.sign({ kid: `never-published-${i}`, privateKey: other.privateKey });
        const res = await r.post({ value: [genuineLooking, changeNotification()], validationTokens: [token] });
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('30');
        expect(JSON.parse(res.body ?? '{}')).toMatchObject({ status: 503, code: 'ERR_TOKEN_KEY_UNKNOWN' });
      }
      expect((await notificationsOf(r.queues.change)).map((n) => n.id)).toEqual([first.id]);
      // jose refetches on an unknown kid only once per 30 s cooldown (typically: not at all during this test).
      expect(jwks.jwksRequests).toBeLessThanOrEqual(1 + Math.ceil((Date.now() - started) / 30_000));
      expect(r.logger.lines.filter((l) => l.event === 'receive.token_key_unknown')).toHaveLength(20);
    } finally {
      await jwks.close();
    }
  });
});

describe('queued messages', () => {
  it('puts the change items of a request in one base64 JSON message, lifecycle items on the lifecycle queue', async () => {
    const r = receiver();
    const change = changeNotification({ futureProperty: 'kept' });
    const second = changeNotification();
    const lifecycle = lifecycleNotification();
    const res = await r.post({ value: [change, lifecycle, second] });
    expect(res.status).toBe(202);

    const messages = await drainQueue(r.queues.change);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.text).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const body = JSON.parse(Buffer.from(messages[0]?.text ?? '', 'base64').toString('utf8')) as QueuedBatch;
    expect(body).toEqual({
      schema: 'teams-change-relay.queued-notifications.v2',
      kind: 'change',
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      items: [withoutClientState(change), withoutClientState(second)],
    });
    const life = await drainQueue(r.queues.lifecycle);
    expect(life.map((m) => m.body)).toEqual([{ schema: 'teams-change-relay.queued-notification.v1', kind: 'lifecycle', receivedAt: body.receivedAt, notification: withoutClientState(lifecycle) }]);
  });

  it('spreads requests over NOTIFICATIONS_QUEUE_PARTITIONS queues in turn, one message each', async () => {
    const r = receiver({ NOTIFICATIONS_QUEUE_PARTITIONS: '3' });
    const sent = Array.from({ length: 6 }, () => changeNotification());
    for (const item of sent) expect((await r.post({ value: [item] })).status).toBe(202);
    const service = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const partitions = [r.queues.change.name, `${r.queues.change.name}-1`, `${r.queues.change.name}-2`].map((name) => service.getQueueClient(name));
    const perQueue = await Promise.all(partitions.map((q) => notificationsOf(q)));
    expect(perQueue.map((items) => items.length)).toEqual([2, 2, 2]);
    expect(new Set(perQueue.flat().map((n) => n.id))).toEqual(new Set(sent.map((i) => i.id)));
  });

  it('keeps no clientState in what it queues, once it has been checked', async () => {
    const r = receiver({ GRAPH_CLIENT_STATE: `${CLIENT_STATE},${OLD_CLIENT_STATE}` });
    const big = encryptedNotification({ clientState: OLD_CLIENT_STATE });
    (big.encryptedContent as Record<string, string>).data = Buffer.alloc(100 * 1024, 7).toString('base64');
    const items = [changeNotification(), lifecycleNotification(), big];
    const res = await r.post({ value: items, validationTokens: [await issuer.sign()] });
    expect(res.status).toBe(202);

    const texts = [...(await drainQueue(r.queues.change)), ...(await drainQueue(r.queues.lifecycle))].map((m) => Buffer.from(m.text, 'base64').toString('utf8'));
    const ref = texts.map((t) => JSON.parse(t) as QueuedClaimCheck).find(isClaimCheck) as QueuedClaimCheck;
    texts.push((await r.container.getBlobClient(ref.claimCheck.blob).downloadToBuffer()).toString('utf8'));
    expect(texts).toHaveLength(3); // the change items' claim check, the lifecycle item, the blob
    for (const text of texts) {
      expect(text).not.toContain('clientState');
      expect(text).not.toContain(CLIENT_STATE);
      expect(text).not.toContain(OLD_CLIENT_STATE);
    }
  });

  it('sends a batch too large for a queue message through a claim-check blob', async () => {
    const r = receiver();
    const big = encryptedNotification();
    (big.encryptedContent as Record<string, string>).data = Buffer.alloc(200 * 1024, 7).toString('base64');
    const second = changeNotification();
    const res = await r.post({ value: [big, second], validationTokens: [await issuer.sign()] });
    expect(res.status).toBe(202);

    const messages = await drainQueue(r.queues.change);
    expect(messages).toHaveLength(1);
    const ref = messages[0]?.body as QueuedClaimCheck;
    expect(isClaimCheck(ref)).toBe(true);
    expect(ref).toMatchObject({ schema: 'teams-change-relay.queued-notifications.v2', kind: 'change', count: 2 });
    expect(ref.claimCheck.container).toBe(r.container.containerName);
    const blob = await r.container.getBlobClient(ref.claimCheck.blob).downloadToBuffer();
    expect(blob.length).toBe(ref.claimCheck.bytes);
    const stored = JSON.parse(blob.toString('utf8')) as QueuedBatch;
    expect(stored.items).toEqual([withoutClientState(big), withoutClientState(second)]);
    expect(stored.kind).toBe('change');
  });

  it('queues every item of a batch of 500', async () => {
    // The default storage bound (the longest the app allows), and Graph's retries after a 503: a loaded machine
    // may be slow, and what is tested is that every item is stored once 202 is answered.
    const r = receiver();
    const items = Array.from({ length: 500 }, () => changeNotification());
    let res = await r.post({ value: items });
    for (let attempt = 1; res.status === 503 && attempt < 5; attempt++) res = await r.post({ value: items });
    expect(res.status).toBe(202);
    const queued = await notificationsOf(r.queues.change, r.container);
    expect(queued.length).toBeGreaterThanOrEqual(500);
    expect(new Set(queued.map((n) => n.id))).toEqual(new Set(items.map((i) => i.id)));
  });
});
