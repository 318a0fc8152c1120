import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { readSettings } from '../../shared/config/settings.js';
import { createRecordingLogger } from '../../shared/log.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../../shared/queue/queued-notification.js';
import { createSubscriptionManager } from '../../shared/subscriptions/create-subscription-manager.js';
import { parseDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { startGraphSimulator, type GraphSimulator } from '../../tools/graph-simulator/graph-simulator.js';
import { queueService, startTestAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { CLIENT_STATE, testEnv } from '../helpers/notifications.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

const EXAMPLE = fileURLToPath(new URL('../../subscriptions.example.json', import.meta.url));

let azurite: AzuriteProcess;
let sink: WebhookSink;
let dir: string;
beforeAll(async () => {
  azurite = await startTestAzurite();
  sink = await startWebhookSink();
  dir = mkdtempSync(join(tmpdir(), 'tcr-subs-'));
});
afterAll(async () => {
  await sink.close();
  await azurite.stop();
  rmSync(dir, { recursive: true, force: true });
});

let sim: GraphSimulator;
beforeEach(async () => {
  sim = await startGraphSimulator({ quotaPerTenant: 100, delivery: { timeScale: 0.0001 } });
});
afterEach(() => sim.close());

/** The production wiring against the simulator, Azurite and a local certificate store, names unique per call. */
function manager(env: Record<string, string> = {}, certDir = join(dir, uniqueName('certs'))) {
  const settings = readSettings(
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_APP_ID: sim.appId,
      GRAPH_TENANT_IDS: sim.tenantId,
      GRAPH_BASE_URL: sim.baseUrl,
      GRAPH_AUTH_MODE: 'simulator',
      GRAPH_NOTIFICATION_URL: sink.url,
      GRAPH_LIFECYCLE_URL: sink.url.replace('notifications', 'lifecycle'),
      SUBSCRIPTIONS_FILE: EXAMPLE,
      SUBSCRIPTIONS_TABLE: `subs${Math.random().toString(36).slice(2, 10)}`,
      SUBSCRIPTION_EVENTS_QUEUE: uniqueName('sub-events'),
      LOCAL_CERTIFICATE_DIR: certDir,
      ...env,
    }),
  );
  const certificates = new LocalCertificateStore(certDir);
  const logger = createRecordingLogger();
  return { settings, certificates, logger, ...createSubscriptionManager(settings, certificates, logger, { now: () => sim.clock.now() }) };
}
const ours = () => sim.subscriptions.active().filter((s) => s.notificationUrl === sink.url);

describe('desired subscriptions file', () => {
  it('the example covers every resource of the catalog and is valid', () => {
    const desired = manager().reconciler.desired;
    expect(desired).toHaveLength(13);
    expect(new Set(desired.map((d) => d.catalog.pattern.source)).size).toBe(13);
  });

  it('names each mistake', () => {
    const bad = () =>
      parseDesiredSubscriptions({
        subscriptions: [
          { name: 'a', resource: '/chats/getAllMessages', changeTypes: ['created'] },
          { name: 'b', resource: '/users/u/chats', changeTypes: ['created'] },
          { name: 'c', resource: '/chats', changeTypes: ['deleted'] },
          { name: 'd', resource: '/chats/1/messages', changeTypes: ['created'], lifetimeMinutes: 5000 },
          { name: 'e', resource: '/me/chats', changeTypes: ['created'], version: 'beta' },
          { name: 'f', resource: '/users/u/events', changeTypes: ['created'] },
          { name: 'a', resource: '/chats', changeTypes: ['created'] },
        ],
      });
    expect(bad).toThrow(/subscriptions\[0\] \(a\): this resource is metered/);
    expect(bad).toThrow(/subscriptions\[1\] \(b\): .*beta/);
    expect(bad).toThrow(/subscriptions\[2\] \(c\): changeType deleted/);
    expect(bad).toThrow(/subscriptions\[3\] \(d\): lifetimeMinutes 5000/);
    expect(bad).toThrow(/subscriptions\[4\] \(e\): .*signed-in user/);
    expect(bad).toThrow(/subscriptions\[5\] \(f\): .*not a Teams/);
    expect(bad).toThrow(/subscriptions\[6\] \(a\): the name is used twice/);
    expect(() => parseDesiredSubscriptions({ subscriptions: [{ name: 'g', resource: '/chats', changeTypes: ['created'], colour: 1 }] })).toThrow(/colour/);
  });
});

describe('SubscriptionReconciler against the Graph simulator', () => {
  it('creates every desired subscription, records each, and changes nothing on the next run', async () => {
    const m = manager();
    const first = await m.reconciler.reconcile();
    expect(first.entries.map((e) => e.action)).toEqual(Array(13).fill('created'));
    expect(ours()).toHaveLength(13);
    const cert = await m.certificates.current();
    expect(ours().filter((s) => s.includeResourceData).every((s) => s.encryptionCertificateId === cert.id)).toBe(true);
    expect(ours().every((s) => s.clientState === CLIENT_STATE && s.lifecycleNotificationUrl === m.settings.lifecycleUrl)).toBe(true);
    const records = await m.records.list();
    expect(records).toHaveLength(13);
    expect(records.every((r) => r.subscriptionId && r.expiresAt && !r.lastError)).toBe(true);
    const second = await m.reconciler.reconcile();
    expect(second.entries.map((e) => e.action)).toEqual(Array(13).fill('unchanged'));
    expect(ours()).toHaveLength(13);
  });

  it('renews before expiry as time moves on', async () => {
    const m = manager();
    await m.reconciler.reconcile();
    const before = new Map(ours().map((s) => [s.id, s.expirationMs]));
    sim.clock.advance((4320 - 1000) * 60_000);
    const report = await m.reconciler.reconcile();
    expect(report.entries.filter((e) => e.action === 'renewed').length).toBeGreaterThanOrEqual(12);
    for (const s of ours()) if (before.has(s.id)) expect(s.expirationMs).toBeGreaterThan(before.get(s.id)!);
    // channel-mentions lives only 1,440 minutes: it had expired, so it was created again.
    expect(report.entries.find((e) => e.name === 'channel-mentions')?.action).toBe('created');
    expect((await m.records.list()).every((r) => r.lastRenewedAt)).toBe(true);
  });

  it('recreates a subscription deleted in Graph', async () => {
    const m = manager();
    await m.reconciler.reconcile();
    const victim = (await m.records.get('all-chats'))!;
    sim.subscriptions.remove(victim.subscriptionId!);
    const report = await m.reconciler.reconcile();
    const entry = report.entries.find((e) => e.name === 'all-chats');
    expect(entry?.action).toBe('created');
    expect(entry?.subscriptionId).not.toBe(victim.subscriptionId);
    expect((await m.records.get('all-chats'))?.subscriptionId).toBe(entry?.subscriptionId);
    expect(ours()).toHaveLength(13);
  });

  it('adopts a subscription Graph says already exists (409)', async () => {
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'] }] }) });
    const existing = await graphClient(sim.baseUrl).post('/v1.0/subscriptions', {
      resource: '/chats',
      changeType: 'created,updated',
      notificationUrl: `${sink.url}?code=other-deployment`,
      lifecycleNotificationUrl: sink.url,
      expirationDateTime: inMinutes(120),
      clientState: CLIENT_STATE,
    });
    expect(existing.status).toBe(201);
    const report = await m.reconciler.reconcile();
    expect(report.entries[0]).toMatchObject({ action: 'adopted', subscriptionId: existing.body.id });
    expect(sim.subscriptions.active()).toHaveLength(1);
  });

  it('honours 429 with Retry-After', async () => {
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created'] }] }) });
    sim.faults.failNext(2, 429, 1);
    const started = Date.now();
    const report = await m.reconciler.reconcile();
    expect(report.entries[0]?.action).toBe('created');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('reports 403 clearly, then holds back instead of retrying on every run', async () => {
    await sim.close();
    sim = await startGraphSimulator({ quotaPerTenant: 3 });
    const m = manager();
    const report = await m.reconciler.reconcile();
    const failed = report.entries.filter((e) => e.action === 'failed');
    expect(failed).toHaveLength(10);
    expect(failed[0]?.error).toMatch(/403 Forbidden: .*quota/);
    expect((await m.records.get(failed[0]!.name))).toMatchObject({ lastAction: 'failed', lastErrorStatus: 403 });
    const calls = sim.deliveries.log.length;
    const again = await m.reconciler.reconcile();
    expect(again.entries.filter((e) => e.action === 'skipped')).toHaveLength(10);
    expect(sim.deliveries.log.length).toBe(calls);
    expect(m.logger.lines.some((l) => l.event === 'subscriptions.entry_failed')).toBe(true);
  });

  it('PATCHes subscriptions to a rotated certificate', async () => {
    const m = manager();
    await m.reconciler.reconcile();
    const rotated = await m.certificates.rotate();
    const report = await m.reconciler.reconcile();
    const withData = ours().filter((s) => s.includeResourceData);
    expect(report.entries.filter((e) => e.action === 'rotated')).toHaveLength(withData.length);
    expect(withData.every((s) => s.encryptionCertificateId === rotated.id)).toBe(true);
  });

  it('recreates what PATCH cannot change, and deletes undesired subscriptions only when allowed', async () => {
    const m = manager();
    await m.reconciler.reconcile();
    const changed = writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: false }] });
    const keep = manager({ SUBSCRIPTIONS_FILE: changed, SUBSCRIPTIONS_TABLE: m.settings.subscriptionsTable });
    const kept = await keep.reconciler.reconcile();
    expect(kept.entries[0]?.action).toBe('recreated');
    expect(kept.undesired.filter((u) => u.action === 'kept')).toHaveLength(12);
    const prune = manager({ SUBSCRIPTIONS_FILE: changed, SUBSCRIPTIONS_TABLE: m.settings.subscriptionsTable, DELETE_UNDESIRED_SUBSCRIPTIONS: 'true' });
    const pruned = await prune.reconciler.reconcile();
    expect(pruned.undesired.filter((u) => u.action === 'deleted')).toHaveLength(12);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]?.includeResourceData).toBe(false);
  });

  it('recreates a subscription whose licensing model changed', async () => {
    const a = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'msgs', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'] }] }) });
    await a.reconciler.reconcile();
    const b = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'msgs', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'] }] }), SUBSCRIPTIONS_TABLE: a.settings.subscriptionsTable });
    const report = await b.reconciler.reconcile();
    expect(report.entries[0]?.action).toBe('recreated');
    expect(report.undesired).toEqual([]);
    expect(ours().map((s) => s.resource)).toEqual(['/chats/getAllMessages?model=B']);
  });

  it('runs safely twice at once: no duplicate subscriptions', async () => {
    const certDir = join(dir, uniqueName('shared-certs'));
    const a = manager({}, certDir);
    const b = manager({ SUBSCRIPTIONS_TABLE: a.settings.subscriptionsTable }, certDir);
    await a.certificates.current();
    const [ra, rb] = await Promise.all([a.reconciler.reconcile(), b.reconciler.reconcile()]);
    expect(ours()).toHaveLength(13);
    expect([...ra.entries, ...rb.entries].filter((e) => e.action === 'created')).toHaveLength(13);
  });
});

describe('lifecycle notifications', () => {
  const lifecycle = (subscriptionId: string, lifecycleEvent: string) => ({
    schema: QUEUED_NOTIFICATION_SCHEMA,
    kind: 'lifecycle',
    receivedAt: new Date().toISOString(),
    notification: { subscriptionId, tenantId: sim.tenantId, clientState: CLIENT_STATE, lifecycleEvent, subscriptionExpirationDateTime: inMinutes(30) },
  });

  it('reauthorizes on reauthorizationRequired', async () => {
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created'] }] }) });
    await m.reconciler.reconcile();
    const id = (await m.records.get('all-chats'))!.subscriptionId!;
    const handshakes = sink.posts.length;
    expect(await m.lifecycle.process(lifecycle(id, 'reauthorizationRequired'), m.logger)).toEqual({ status: 'reauthorized', subscriptionId: id });
    expect(sink.posts.length).toBe(handshakes + 1);
  });

  it('renews when reauthorize fails, and recreates when Graph no longer has the subscription', async () => {
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created'] }] }) });
    await m.reconciler.reconcile();
    const id = (await m.records.get('all-chats'))!.subscriptionId!;
    const before = sim.subscriptions.find(id)!.expirationMs;
    sim.clock.advance(60_000);
    sink.failNextHandshakes(1);
    expect(await m.lifecycle.process(lifecycle(id, 'reauthorizationRequired'), m.logger)).toEqual({ status: 'renewed', subscriptionId: id });
    expect(sim.subscriptions.find(id)!.expirationMs).toBeGreaterThan(before);
    expect(m.logger.lines.some((l) => l.event === 'lifecycle.reauthorize_failed')).toBe(true);

    sim.subscriptions.remove(id);
    const recreated = await m.lifecycle.process(lifecycle(id, 'reauthorizationRequired'), m.logger);
    expect(recreated.status).toBe('recreated');
    expect(ours().map((s) => s.id)).toEqual([(recreated as { subscriptionId: string }).subscriptionId]);
    expect((await m.records.get('all-chats'))?.subscriptionId).toBe((recreated as { subscriptionId: string }).subscriptionId);
  });

  it('recreates on subscriptionRemoved and emits a resync event; emits one on missed', async () => {
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'], includeResourceData: true }] }) });
    await m.reconciler.reconcile();
    const id = (await m.records.get('chat-messages'))!.subscriptionId!;
    sim.sendLifecycle(id, 'subscriptionRemoved');
    const removed = await m.lifecycle.process(lifecycle(id, 'subscriptionRemoved'), m.logger);
    expect(removed.status).toBe('recreated');
    const newId = (removed as { subscriptionId: string }).subscriptionId;
    expect(newId).not.toBe(id);
    expect(ours().map((s) => s.id)).toEqual([newId]);
    expect(await m.lifecycle.process(lifecycle(newId, 'missed'), m.logger)).toEqual({ status: 'resync', subscriptionId: newId });

    const events = (await queueService(azurite).getQueueClient(m.settings.subscriptionEventsQueue).receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map(
      (msg) => decodeJsonMessage<Record<string, any>>(msg.messageText),
    );
    expect(events.map((e) => e.type)).toEqual(['com.microsoft.graph.teams.subscription.subscriptionRemoved', 'com.microsoft.graph.teams.subscription.missed']);
    expect(events[0]).toMatchObject({ specversion: '1.0', subject: '/chats/getAllMessages?model=A', data: { name: 'chat-messages', subscriptionId: id, newSubscriptionId: newId, resource: '/chats/getAllMessages?model=A' } });
  });

  it('logs and drops notifications for unknown subscriptions', async () => {
    const m = manager();
    expect(await m.lifecycle.process(lifecycle('not-ours', 'missed'), m.logger)).toEqual({ status: 'ignored', reason: 'unknown_subscription' });
    expect(m.logger.lines.find((l) => l.event === 'lifecycle.unknown_subscription')?.fields.subscriptionId).toBe('not-ours');
  });
});

function writeFile(content: unknown): string {
  const path = join(dir, `${uniqueName('desired')}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}
