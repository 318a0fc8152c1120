import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { readSettings } from '../../shared/config/settings.js';
import { createJsonLogger, createRecordingLogger } from '../../shared/log.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../../shared/queue/queued-notification.js';
import { createSubscriptionManager } from '../../shared/subscriptions/create-subscription-manager.js';
import { describeClientStateUse } from '../../shared/subscriptions/client-state-fingerprint.js';
import { parseDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { GraphError } from '../../dev/graph-simulator/graph-error.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { CLIENT_STATE, testEnv } from '../helpers/notifications.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { nonEmpty } from '../helpers/non-empty.js';

const EXAMPLE = fileURLToPath(new URL('../../subscriptions.example.json', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));
const run = promisify(execFile);

let azurite: AzuriteProcess;
let sink: WebhookSink;
let dir: string;
beforeAll(async () => {
  azurite = await testAzurite();
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
function manager(overrides: Record<string, string> = {}, certDir = join(dir, uniqueName('certs'))) {
  const env = testEnv({
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
    DEAD_LETTER_QUEUE: uniqueName('dead'),
    LOCAL_CERTIFICATE_DIR: certDir,
    ...overrides,
  });
  const settings = readSettings(env);
  const certificates = new LocalCertificateStore(certDir);
  const logger = createRecordingLogger();
  return { env, settings, certificates, logger, ...createSubscriptionManager(settings, certificates, logger, { now: () => sim.clock.now() }) };
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
    // getAllMessages without model= is no mistake: the Teams APIs are not metered since 25 August 2025.
    expect(bad).not.toThrow(/subscriptions\[0\]/);
    expect(bad).toThrow(/subscriptions\[1\] \(b\): .*beta/);
    expect(bad).toThrow(/subscriptions\[2\] \(c\): changeType deleted/);
    expect(bad).toThrow(/subscriptions\[3\] \(d\): lifetimeMinutes 5000/);
    expect(bad).toThrow(/subscriptions\[4\] \(e\): .*signed-in user/);
    expect(bad).toThrow(/subscriptions\[5\] \(f\): .*not a Teams/);
    expect(bad).toThrow(/subscriptions\[6\] \(a\): the name is used twice/);
    expect(() => parseDesiredSubscriptions({ subscriptions: [{ name: 'g', resource: '/chats', changeTypes: ['created'], colour: 1 }] })).toThrow(/colour/);
    expect(() =>
      parseDesiredSubscriptions(
        {
          subscriptions: [
            { name: 'g', resource: '/chats', changeTypes: ['created'] },
            { name: 'h', changeTypes: [] },
          ],
        },
        'SUBSCRIPTIONS_FILE s.json',
      ),
    ).toThrow(
      'SUBSCRIPTIONS_FILE s.json is invalid: subscriptions[1].resource: Invalid input: expected string, received undefined; subscriptions[1].changeTypes: Too small: expected array to have >=1 items',
    );
    expect(() => parseDesiredSubscriptions([])).toThrow('the subscriptions file is invalid: (file): Invalid input: expected object, received array');
    // One subscription per app and chat or channel: two entries on one chat's messages cannot both exist in Graph.
    const twice = () =>
      parseDesiredSubscriptions({
        subscriptions: [
          { name: 'all', resource: '/chats/19:a@thread.v2/messages', changeTypes: ['created'] },
          { name: 'budget', resource: '/chats/19:a@thread.v2/messages?$search="budget"', changeTypes: ['updated'] },
          { name: 'members', resource: '/chats/19:a@thread.v2/members', changeTypes: ['created'] },
          { name: 'chat', resource: '/chats/19:a@thread.v2', changeTypes: ['updated'] },
          { name: 'other', resource: '/chats/19:b@thread.v2/messages', changeTypes: ['created'] },
        ],
      });
    expect(twice).toThrow(
      /has 1 mistake\(s\):\n {2}- subscriptions\[1\] \(budget\): Graph allows one subscription per app and chat or channel, and all already subscribes to the same chat's or channel's messages/,
    );
  });

  it('creates the once-metered resources without model= (Teams APIs unmetered since 25 August 2025), keeps model=A as given, and ignores an old "evaluationMode"', async () => {
    const m = manager({
      SUBSCRIPTIONS_FILE: writeFile({
        subscriptions: [
          { name: 'chat-messages', resource: '/chats/getAllMessages', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
          { name: 'members', resource: '/chats/getAllMembers', changeTypes: ['created', 'deleted'], evaluationMode: true },
          { name: 'app-chats', resource: '/appCatalogs/teamsApps/app-1/installedToChats', changeTypes: ['created'], evaluationMode: false },
          { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created'] },
        ],
      }),
    });
    expect(m.reconciler.desired.map((d) => [d.name, d.model])).toEqual([
      ['chat-messages', undefined],
      ['members', undefined],
      ['app-chats', undefined],
      ['channel-messages', 'A'],
    ]);
    expect((await m.reconciler.reconcile()).entries.map((e) => e.action)).toEqual(['created', 'created', 'created', 'created']);
    expect(
      ours()
        .map((s) => s.resource)
        .sort(),
    ).toEqual(['/appCatalogs/teamsApps/app-1/installedToChats', '/chats/getAllMembers', '/chats/getAllMessages', '/teams/getAllMessages?model=A']);

    // Dropping model=A from an entry recreates its subscription without it (PATCH cannot change the model).
    const dropped = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'channel-messages', resource: '/teams/getAllMessages', changeTypes: ['created'] }] }),
      SUBSCRIPTIONS_TABLE: m.settings.subscriptionsTable,
      DELETE_UNDESIRED_SUBSCRIPTIONS: 'true',
    });
    expect((await dropped.reconciler.reconcile()).entries.map((e) => e.action)).toEqual(['recreated']);
    expect(ours().map((s) => s.resource)).toEqual(['/teams/getAllMessages']);
  });
});

describe('SubscriptionReconciler against the Graph simulator', () => {
  it("checks our endpoints with Graph's handshake before creating, and names the URL and cause when one would fail", async () => {
    const dead = `http://127.0.0.1:${await freePort()}/api/notifications?code=do-not-print-me`;
    const m = manager({ GRAPH_NOTIFICATION_URL: dead });
    const report = await m.reconciler.reconcile();
    expect(nonEmpty(report.entries).every((e) => e.action === 'failed')).toBe(true);
    expect(report.entries[0]?.error).toMatch(/GRAPH_NOTIFICATION_URL http:\/\/127\.0\.0\.1:\d+\/api\/notifications\?code=\*+: connection-refused/);
    expect(JSON.stringify(report)).not.toContain('do-not-print-me');
    expect(ours()).toEqual([]);
    const [record] = await m.records.list();
    expect(record).toMatchObject({ lastAction: 'failed', lastError: expect.stringMatching(/connection-refused/) });
  });

  it("with SUBSCRIPTIONS_CHECK_ENDPOINTS=false (the Bicep's restrictToGraph) creates though the app's own check is refused: Graph's handshake stays the check", async () => {
    // The front end lets only Graph's address in, as restrictToGraph's access restrictions do: the app's own
    // handshake, from its outbound address, gets 403.
    const GRAPH_ADDRESS = '127.0.0.2';
    await sim.close();
    sim = await startGraphSimulator({ quotaPerTenant: 100, handshakeFrom: GRAPH_ADDRESS });
    sink.allowFrom = [GRAPH_ADDRESS];
    try {
      const checked = await manager().reconciler.reconcile();
      expect(nonEmpty(checked.entries).every((e) => e.action === 'failed' && /GRAPH_NOTIFICATION_URL \S+: unauthorized/.test(e.error ?? ''))).toBe(true);
      expect(ours()).toEqual([]);

      const m = manager({ SUBSCRIPTIONS_CHECK_ENDPOINTS: 'false' });
      const report = await m.reconciler.reconcile();
      expect(report.entries.map((e) => e.action)).toEqual(Array(13).fill('created'));
      expect(ours()).toHaveLength(13);
      expect(m.logger.lines.filter((l) => l.event === 'subscriptions.endpoint_check_off')).toEqual([
        expect.objectContaining({ level: 'info', fields: { reason: expect.stringContaining('restrictToGraph') } }),
      ]);

      // Graph's own handshake still refuses an endpoint it cannot reach: nothing is created then.
      sink.allowFrom = ['127.0.0.3'];
      sim.subscriptions.remove((await m.records.get('all-chats'))!.subscriptionId!);
      const again = await m.reconciler.reconcile();
      expect(again.entries.find((e) => e.name === 'all-chats')?.action).toBe('failed');
      expect(ours()).toHaveLength(12);
    } finally {
      sink.allowFrom = undefined;
    }
  });

  it('creates every desired subscription, records each, and changes nothing on the next run', async () => {
    const m = manager();
    const first = await m.reconciler.reconcile();
    expect(first.entries.map((e) => e.action)).toEqual(Array(13).fill('created'));
    expect(ours()).toHaveLength(13);
    const cert = await m.certificates.current();
    expect(
      ours()
        .filter((s) => s.includeResourceData)
        .every((s) => s.encryptionCertificateId === cert.id),
    ).toBe(true);
    expect(nonEmpty(ours()).every((s) => s.clientState === CLIENT_STATE && s.lifecycleNotificationUrl === m.settings.lifecycleUrl)).toBe(true);
    const records = await m.records.list();
    expect(records).toHaveLength(13);
    expect(nonEmpty(records).every((r) => r.subscriptionId && r.expiresAt && !r.lastError)).toBe(true);
    const second = await m.reconciler.reconcile();
    expect(second.entries.map((e) => e.action)).toEqual(Array(13).fill('unchanged'));
    expect(ours()).toHaveLength(13);
  });

  it('renews before expiry as time moves on', async () => {
    // Days pass in one step with nobody answering reauthorizationRequired (no lifecycle handling here): Graph
    // would have removed the subscriptions, so removal is off for this test of renewal.
    await sim.close();
    sim = await startGraphSimulator({ quotaPerTenant: 100, authorization: { removeAfterMinutes: null } });
    const m = manager();
    await m.reconciler.reconcile();
    const before = new Map(ours().map((s) => [s.id, s.expirationMs]));
    sim.clock.advance((4320 - 1000) * 60_000);
    const report = await m.reconciler.reconcile();
    expect(report.entries.filter((e) => e.action === 'renewed').length).toBeGreaterThanOrEqual(12);
    for (const s of ours()) if (before.has(s.id)) expect(s.expirationMs).toBeGreaterThan(before.get(s.id)!);
    // channel-mentions lives only 1,440 minutes: it had expired, so it was created again.
    expect(report.entries.find((e) => e.name === 'channel-mentions')?.action).toBe('created');
    expect(nonEmpty(await m.records.list()).every((r) => r.lastRenewedAt)).toBe(true);
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

  it('opens the window of a subscription Graph removed at the last run that saw it alive, however many runs failed in between', async () => {
    const file = writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true }] });
    const table = `subs${Math.random().toString(36).slice(2, 10)}`;
    const m = manager({ SUBSCRIPTIONS_FILE: file, SUBSCRIPTIONS_TABLE: table });
    const runStarted = sim.clock.now();
    await m.reconciler.reconcile();
    const seenAlive = sim.clock.now();
    sim.clock.advance(60_000);
    const victim = (await m.records.get('all-chats'))!;
    sim.subscriptions.remove(victim.subscriptionId!);
    const removedAt = sim.clock.now();
    // A process whose certificate folder cannot be read fails the entry: a run that saw nothing alive.
    sim.clock.advance(60_000);
    const unreadable = join(dir, uniqueName('not-a-folder'));
    writeFileSync(unreadable, 'not a folder');
    const failing = manager({ SUBSCRIPTIONS_FILE: file, SUBSCRIPTIONS_TABLE: table }, unreadable);
    expect((await failing.reconciler.reconcile()).entries[0]).toMatchObject({ name: 'all-chats', action: 'failed' });
    sim.clock.advance(60_000);
    expect((await m.reconciler.reconcile()).entries[0]).toMatchObject({ name: 'all-chats', action: 'created' });
    const record = (await m.records.get('all-chats'))!;
    // The window starts with the run that last saw it alive: before the removal, not at the failed run.
    expect(record.gapSubscriptionId).toBe(victim.subscriptionId);
    expect(Date.parse(record.gapFrom!)).toBeGreaterThanOrEqual(runStarted);
    expect(Date.parse(record.gapFrom!)).toBeLessThanOrEqual(seenAlive);
    expect(Date.parse(record.gapFrom!)).toBeLessThan(removedAt);
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
    expect(failed[0]?.error).toMatch(/403 ExtensionError: .*quota/);
    expect(await m.records.get(failed[0]!.name)).toMatchObject({ lastAction: 'failed', lastErrorStatus: 403 });
    const calls = sim.deliveries.log.length;
    const again = await m.reconciler.reconcile();
    expect(again.entries.filter((e) => e.action === 'skipped')).toHaveLength(10);
    expect(sim.deliveries.log.length).toBe(calls);
    expect(m.logger.lines.some((l) => l.event === 'subscriptions.entry_failed')).toBe(true);
  });

  it('names the missing application permission in the entry and in `status` when Graph refuses access (403), and keeps the old subscription on a replacement', async () => {
    sim.grants.set(sim.appId, { permissions: ['Chat.ReadBasic.All'] });
    const m = manager({
      SUBSCRIPTIONS_FILE: writeFile({
        subscriptions: [
          { name: 'all-chats', resource: '/chats', changeTypes: ['created'] },
          { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'], includeResourceData: true },
        ],
      }),
    });
    const report = await m.reconciler.reconcile();
    expect(report.entries.map((e) => e.action)).toEqual(['created', 'failed']);
    expect(report.entries[1]?.error).toMatch(/^missing application permission Chat\.Read\.All or Chat\.ReadWrite\.All \(Graph answered 403 ExtensionError/);
    expect(await m.records.get('chat-messages')).toMatchObject({ lastAction: 'failed', lastErrorStatus: 403, lastError: expect.stringContaining('Chat.Read.All') });

    const status = await run(process.execPath, [CLI, 'status', '--json'], { cwd: dir, env: { ...process.env, ...m.env } }).catch((e: { stdout: string; code: number }) => e);
    expect((status as { code?: number }).code).toBe(1);
    const rows = JSON.parse(status.stdout) as { name: string; lastError?: string }[];
    expect(rows.find((r) => r.name === 'chat-messages')?.lastError).toMatch(/missing application permission Chat\.Read\.All or Chat\.ReadWrite\.All/);
    expect(rows.find((r) => r.name === 'all-chats')?.lastError).toBeUndefined();

    // Protected-API access is named too, and an edit refused for access never deletes.
    sim.grants.set(sim.appId, { permissions: ['Chat.Read.All'], protectedApiAccess: false });
    expect((await m.reconciler.reconcile({ force: true })).entries[1]?.error).toMatch(/^missing protected-API access/);
    const edited = manager({
      SUBSCRIPTIONS_FILE: writeFile({
        subscriptions: [
          { name: 'all-chats', resource: '/chats/getAllMembers?model=A', changeTypes: ['created'] },
          { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'] },
        ],
      }),
      SUBSCRIPTIONS_TABLE: m.settings.subscriptionsTable,
    });
    sim.grants.set(sim.appId, { permissions: [] });
    const before = ours().map((s) => s.id);
    expect((await edited.reconciler.reconcile({ force: true })).entries.map((e) => e.action)).toEqual(['failed', 'failed']);
    expect(ours().map((s) => s.id)).toEqual(before);
  });

  it('PATCHes subscriptions to a rotated certificate', async () => {
    const m = manager();
    await m.reconciler.reconcile();
    const rotated = await m.certificates.rotate();
    const report = await m.reconciler.reconcile();
    const withData = ours().filter((s) => s.includeResourceData);
    expect(report.entries.filter((e) => e.action === 'rotated')).toHaveLength(withData.length);
    expect(nonEmpty(withData).every((s) => s.encryptionCertificateId === rotated.id)).toBe(true);
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
    const b = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'msgs', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'] }] }),
      SUBSCRIPTIONS_TABLE: a.settings.subscriptionsTable,
    });
    const report = await b.reconciler.reconcile();
    expect(report.entries[0]?.action).toBe('recreated');
    expect(report.undesired).toEqual([]);
    expect(ours().map((s) => s.resource)).toEqual(['/chats/getAllMessages?model=B']);
  });

  it('replaces a per-chat subscription whose changeTypes were edited: delete, then create, the window in between recorded and announced; exactly one after', async () => {
    const chat = '/chats/19:edited@thread.v2/messages';
    const table = `subs${Math.random().toString(36).slice(2, 10)}`;
    const events = uniqueName('sub-events');
    const before = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'chat', resource: chat, changeTypes: ['created'] }] }),
      SUBSCRIPTIONS_TABLE: table,
      SUBSCRIPTION_EVENTS_QUEUE: events,
    });
    await before.reconciler.reconcile();
    const oldId = ours()[0]!.id;
    sim.clock.advance(60_000);

    const after = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'chat', resource: chat, changeTypes: ['created', 'updated', 'deleted'] }] }),
      SUBSCRIPTIONS_TABLE: table,
      SUBSCRIPTION_EVENTS_QUEUE: events,
    });
    // What the app sees alive whenever Graph deletes one: Graph refuses a second subscription on the chat.
    const remove = sim.subscriptions.remove.bind(sim.subscriptions);
    const aliveAtDelete: number[] = [];
    let deletedAt = 0;
    sim.subscriptions.remove = (id) => (aliveAtDelete.push(ours().length), (deletedAt = sim.clock.now()), remove(id));
    const report = await after.reconciler.reconcile();
    expect(report.entries[0]).toMatchObject({ name: 'chat', action: 'recreated' });
    expect(aliveAtDelete).toEqual([1]);
    expect(ours().map((s) => [s.resource, s.changeTypes.join(',')])).toEqual([[chat, 'created,updated,deleted']]);
    expect(after.logger.lines.find((l) => l.event === 'subscriptions.replacing')?.fields).toMatchObject({ reason: 'change_types_edited', subscriptionId: oldId });

    const record = (await after.records.get('chat'))!;
    expect(record).toMatchObject({ subscriptionId: ours()[0]!.id, changeTypes: 'created,updated,deleted', gapSubscriptionId: oldId, lastAction: 'recreated' });
    expect(Date.parse(record.gapFrom!)).toBeLessThanOrEqual(deletedAt);
    expect(Date.parse(record.gapTo!)).toBeGreaterThanOrEqual(deletedAt);
    const [event, ...more] = (await queueService(azurite).getQueueClient(events).receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((m) =>
      decodeJsonMessage<Record<string, any>>(m.messageText),
    );
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      type: 'com.microsoft.graph.teams.subscription.subscriptionRecreated',
      data: { name: 'chat', subscriptionId: oldId, newSubscriptionId: record.subscriptionId, gap: { from: record.gapFrom, to: record.gapTo } },
    });

    // Runs after that change nothing: no second subscription every 15 minutes, no failure.
    for (let i = 0; i < 2; i++) expect((await after.reconciler.reconcile()).entries[0]?.action).toBe('unchanged');
    expect(ours()).toHaveLength(1);
  });

  it('replaces a tenant-wide subscription whose changeTypes were edited by creating first where Graph allows two: no gap', async () => {
    const table = `subs${Math.random().toString(36).slice(2, 10)}`;
    await manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created'] }] }), SUBSCRIPTIONS_TABLE: table }).reconciler.reconcile();
    const after = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'] }] }), SUBSCRIPTIONS_TABLE: table });
    expect((await after.reconciler.reconcile()).entries[0]?.action).toBe('recreated');
    expect(ours().map((s) => s.changeTypes.join(','))).toEqual(['created,updated']);
    expect((await after.records.get('all-chats'))?.gapFrom).toBeUndefined();
    expect((await after.reconciler.reconcile()).entries[0]?.action).toBe('unchanged');
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

describe('clientState rotation', () => {
  const OLD = 'rotation-old-secret-0123456789';
  const NEW = 'rotation-new-secret-9876543210';
  const TWO = {
    subscriptions: [
      { name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'] },
      { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'], includeResourceData: true },
    ],
  };
  const resyncEvents = async (queue: string) => {
    const q = queueService(azurite).getQueueClient(queue);
    if (!(await q.exists())) return [];
    return (await q.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((msg) => decodeJsonMessage<Record<string, any>>(msg.messageText));
  };
  /** Instances sharing one table, events queue and certificates, each with its own GRAPH_CLIENT_STATE. */
  function instances(file: string) {
    const shared = { SUBSCRIPTIONS_FILE: file, SUBSCRIPTIONS_TABLE: `subs${Math.random().toString(36).slice(2, 10)}`, SUBSCRIPTION_EVENTS_QUEUE: uniqueName('sub-events') };
    const certDir = join(dir, uniqueName('certs'));
    return (clientStates: string) => manager({ ...shared, GRAPH_CLIENT_STATE: clientStates }, certDir);
  }

  it('brings every subscription onto the first secret, recording a fingerprint and never the secret', async () => {
    const instance = instances(writeFile(TWO));
    const first = instance(OLD);
    await first.reconciler.reconcile();
    expect(ours().map((s) => s.clientState)).toEqual([OLD, OLD]);
    const before = (await first.records.list()).map((r) => r.subscriptionId);

    const rotating = instance(`${NEW},${OLD}`);
    expect((await rotating.records.list()).map((r) => describeClientStateUse(rotating.reconciler.clientStateOf(r)!))).toEqual(['2 (previous)', '2 (previous)']);
    const report = await rotating.reconciler.reconcile();
    expect(report.entries.map((e) => e.action)).toEqual(['recreated', 'recreated']);
    expect(ours().map((s) => s.clientState)).toEqual([NEW, NEW]);
    expect(
      ours()
        .map((s) => s.id)
        .filter((id) => before.includes(id)),
    ).toEqual([]);
    const records = await rotating.records.list();
    expect(records.map((r) => r.subscriptionId).sort()).toEqual(
      ours()
        .map((s) => s.id)
        .sort(),
    );
    expect(records.map((r) => describeClientStateUse(rotating.reconciler.clientStateOf(r)!))).toEqual(['1 (current)', '1 (current)']);
    for (const r of records) {
      expect(r.clientStateFingerprint).toMatch(/^v1\.[\w-]{16}$/);
      expect(JSON.stringify(r)).not.toContain(NEW);
      expect(JSON.stringify(r)).not.toContain(OLD);
    }
    expect(rotating.logger.lines.map((l) => JSON.stringify(l)).join('\n')).not.toMatch(new RegExp(`${NEW}|${OLD}`));
    expect((await rotating.reconciler.reconcile()).entries.map((e) => e.action)).toEqual(['unchanged', 'unchanged']);

    const done = instance(NEW);
    expect((await done.reconciler.reconcile()).entries.map((e) => e.action)).toEqual(['unchanged', 'unchanged']);
    expect(ours().map((s) => s.clientState)).toEqual([NEW, NEW]);
    // A subscription on a secret no longer configured is an error for status, and is brought onto the current one.
    const elsewhere = instance('some-other-secret-000000000000');
    expect((await elsewhere.records.list()).map((r) => describeClientStateUse(elsewhere.reconciler.clientStateOf(r)!))).toEqual(['none of the configured', 'none of the configured']);
  });

  it('records the gap and emits a resync event naming it when Graph refused a second subscription (409: delete, then create)', async () => {
    const instance = instances(writeFile(TWO));
    const first = instance(OLD);
    await first.reconciler.reconcile();
    const old = new Map((await first.records.list()).map((r) => [r.name, r.subscriptionId]));
    const rotating = instance(`${NEW},${OLD}`);
    sim.clock.advance(60_000);
    await rotating.reconciler.reconcile();

    for (const r of await rotating.records.list()) {
      expect(r.gapSubscriptionId).toBe(old.get(r.name));
      expect(Date.parse(r.gapFrom!)).toBeLessThanOrEqual(Date.parse(r.gapTo!));
      expect(Date.parse(r.gapFrom!)).toBeGreaterThanOrEqual(sim.clock.now() - 60_000);
    }
    const events = await resyncEvents(rotating.settings.subscriptionEventsQueue);
    expect(events.map((e) => e.type)).toEqual(['com.microsoft.graph.teams.subscription.subscriptionRecreated', 'com.microsoft.graph.teams.subscription.subscriptionRecreated']);
    const records = new Map((await rotating.records.list()).map((r) => [r.name, r]));
    for (const e of events) {
      const r = records.get(e.data.name)!;
      expect(e).toMatchObject({
        specversion: '1.0',
        source: `/tenants/${sim.tenantId}`,
        subject: r.resource,
        data: { reason: 'subscriptionRecreated', subscriptionId: old.get(r.name), newSubscriptionId: r.subscriptionId, resource: r.resource, gap: { from: r.gapFrom, to: r.gapTo } },
      });
    }
    expect(rotating.logger.lines.filter((l) => l.event === 'subscriptions.gap')).toHaveLength(2);
  });

  it('after a failed create that followed the delete, the record points at nothing with the gap open, and the next run fixes it', async () => {
    const instance = instances(writeFile({ subscriptions: [TWO.subscriptions[0]] }));
    await instance(OLD).reconciler.reconcile();
    const oldId = ours()[0]!.id;
    const rotating = instance(`${NEW},${OLD}`);
    sink.failNextHandshakes(2);
    const failed = await rotating.reconciler.reconcile();
    expect(failed.entries[0]).toMatchObject({ action: 'failed', error: expect.stringMatching(/400 ValidationError/) });
    expect(ours()).toEqual([]);
    const open = (await rotating.records.get('all-chats'))!;
    expect(open).toMatchObject({ lastAction: 'failed', gapSubscriptionId: oldId });
    expect(open.subscriptionId).toBeUndefined();
    expect(open.gapFrom).toEqual(expect.any(String));
    expect(open.gapTo).toBeUndefined();
    expect(rotating.reconciler.clientStateOf(open)).toBeUndefined();
    expect(await resyncEvents(rotating.settings.subscriptionEventsQueue)).toEqual([]);

    sim.clock.advance(15 * 60_000);
    const next = await instance(`${NEW},${OLD}`).reconciler.reconcile();
    expect(next.entries[0]?.action).toBe('created');
    expect(ours().map((s) => s.clientState)).toEqual([NEW]);
    const closed = (await rotating.records.get('all-chats'))!;
    expect(closed).toMatchObject({ subscriptionId: ours()[0]!.id, gapFrom: open.gapFrom, gapSubscriptionId: oldId, lastAction: 'created' });
    expect(Date.parse(closed.gapTo!) - Date.parse(closed.gapFrom!)).toBeGreaterThanOrEqual(15 * 60_000);
    const events = await resyncEvents(rotating.settings.subscriptionEventsQueue);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ data: { subscriptionId: oldId, newSubscriptionId: closed.subscriptionId, gap: { from: closed.gapFrom, to: closed.gapTo } } });
  });

  it('widens a gap still open when a create whose answer was lost left an unknown subscription: the window is never forgotten', async () => {
    const instance = instances(writeFile({ subscriptions: [TWO.subscriptions[0]] }));
    await instance(OLD).reconciler.reconcile();
    const oldId = ours()[0]!.id;
    const rotating = instance(NEW);
    sink.failNextHandshakes(2);
    await rotating.reconciler.reconcile();
    const open = (await rotating.records.get('all-chats'))!;
    // Graph did create it, but the app never heard so.
    const lost = await graphClient(sim.baseUrl).post('/v1.0/subscriptions', {
      resource: '/chats',
      changeType: 'created,updated',
      notificationUrl: sink.url,
      lifecycleNotificationUrl: rotating.settings.lifecycleUrl,
      expirationDateTime: inMinutes(120, sim.clock.now()),
      clientState: NEW,
    });
    expect(lost.status).toBe(201);
    sim.clock.advance(60_000);
    expect((await instance(NEW).reconciler.reconcile()).entries[0]?.action).toBe('recreated');
    const closed = (await rotating.records.get('all-chats'))!;
    expect(closed).toMatchObject({ gapFrom: open.gapFrom, gapSubscriptionId: oldId, subscriptionId: ours()[0]!.id });
    const events = await resyncEvents(rotating.settings.subscriptionEventsQueue);
    expect(events.map((e) => e.data.gap)).toEqual([{ from: open.gapFrom, to: closed.gapTo }]);
  });

  it('a failed create after the delete is not held back like a 403 quota answer: the gap is closed on the next run', async () => {
    const instance = instances(writeFile({ subscriptions: [TWO.subscriptions[0]] }));
    await instance(OLD).reconciler.reconcile();
    const rotating = instance(NEW);
    // Another app of the tenant takes the slot our deleted subscription frees: the create answers 403.
    const create = sim.subscriptions.create.bind(sim.subscriptions);
    let calls = 0;
    sim.subscriptions.create = (caller, version, body) =>
      ++calls === 2 ? Promise.reject(new GraphError(403, 'Forbidden', 'The subscription quota has been reached.')) : create(caller, version, body);
    expect((await rotating.reconciler.reconcile()).entries[0]).toMatchObject({ action: 'failed', error: expect.stringMatching(/403/) });
    expect((await rotating.reconciler.reconcile()).entries[0]?.action).toBe('created');
    expect(ours().map((s) => s.clientState)).toEqual([NEW]);
  });

  it('brings a record from before fingerprints (legacy) onto the current secret: a recreation, never a guess', async () => {
    const instance = instances(writeFile({ subscriptions: [TWO.subscriptions[0]] }));
    const m = instance(NEW);
    await m.reconciler.reconcile();
    const { clientStateFingerprint: _dropped, ...legacy } = (await m.records.get('all-chats'))!;
    await m.records.save(legacy);
    expect(describeClientStateUse(m.reconciler.clientStateOf(legacy)!)).toBe('unknown');
    const report = await instance(NEW).reconciler.reconcile();
    expect(report.entries[0]?.action).toBe('recreated');
    expect(ours().map((s) => s.clientState)).toEqual([NEW]);
    expect((await m.records.get('all-chats'))?.clientStateFingerprint).toEqual(expect.any(String));
  });

  it('creates the replacement before deleting where Graph allows both (licensing model changed): no gap, no resync event', async () => {
    const a = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'msgs', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'] }] }) });
    await a.reconciler.reconcile();
    const b = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'msgs', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'] }] }),
      SUBSCRIPTIONS_TABLE: a.settings.subscriptionsTable,
      SUBSCRIPTION_EVENTS_QUEUE: a.settings.subscriptionEventsQueue,
    });
    const remove = sim.subscriptions.remove.bind(sim.subscriptions);
    const aliveAtDelete: string[][] = [];
    sim.subscriptions.remove = (id) => (aliveAtDelete.push(ours().map((s) => s.resource)), remove(id));
    expect((await b.reconciler.reconcile()).entries[0]?.action).toBe('recreated');
    expect(aliveAtDelete).toEqual([['/chats/getAllMessages?model=A', '/chats/getAllMessages?model=B']]);
    expect((await b.records.get('msgs'))?.gapFrom).toBeUndefined();
    expect(await resyncEvents(a.settings.subscriptionEventsQueue)).toEqual([]);
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

  it('recreates on subscriptionRemoved, announcing the window without subscription; emits a resync event on missed', async () => {
    const m = manager({
      SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created'], includeResourceData: true }] }),
    });
    await m.reconciler.reconcile();
    const id = (await m.records.get('chat-messages'))!.subscriptionId!;
    sim.sendLifecycle(id, 'subscriptionRemoved');
    const removed = await m.lifecycle.process(lifecycle(id, 'subscriptionRemoved'), m.logger);
    expect(removed.status).toBe('recreated');
    const newId = (removed as { subscriptionId: string }).subscriptionId;
    expect(newId).not.toBe(id);
    expect(ours().map((s) => s.id)).toEqual([newId]);
    expect(await m.lifecycle.process(lifecycle(newId, 'missed'), m.logger)).toEqual({ status: 'resync', subscriptionId: newId });

    const events = (await queueService(azurite).getQueueClient(m.settings.subscriptionEventsQueue).receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.map((msg) =>
      decodeJsonMessage<Record<string, any>>(msg.messageText),
    );
    expect(events.map((e) => e.type)).toEqual(['com.microsoft.graph.teams.subscription.subscriptionRecreated', 'com.microsoft.graph.teams.subscription.missed']);
    expect(events[0]).toMatchObject({
      specversion: '1.0',
      subject: '/chats/getAllMessages?model=A',
      data: { name: 'chat-messages', subscriptionId: id, newSubscriptionId: newId, resource: '/chats/getAllMessages?model=A' },
    });
    // The window runs from when the app last saw the old subscription alive to the new one's creation.
    const { gap } = events[0]!.data as { gap: { from: string; to: string } };
    expect(Date.parse(gap.from)).toBeLessThanOrEqual(Date.parse(gap.to));
    expect(await m.records.get('chat-messages')).toMatchObject({ subscriptionId: newId, gapFrom: gap.from, gapTo: gap.to, gapSubscriptionId: id });
  });

  it("reauthorizes a subscription paused as the app's token lapsed, and Graph then delivers what it held", async () => {
    sim.teams.addUser({ id: '5f1c0000-0000-4000-8000-00000000000a', displayName: 'Alice' });
    sim.teams.addUser({ id: '5f1c0000-0000-4000-8000-00000000000b', displayName: 'Bob' });
    const chat = sim.teams.createChat({ members: ['5f1c0000-0000-4000-8000-00000000000a', '5f1c0000-0000-4000-8000-00000000000b'] });
    const m = manager({ SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'chat', resource: `/chats/${chat.id}/messages`, changeTypes: ['created'] }] }) });
    await m.reconciler.reconcile();
    const id = (await m.records.get('chat'))!.subscriptionId!;
    const seen = sink.posts.length;
    const posted = () =>
      sink.posts
        .slice(seen)
        .filter((p) => !p.query.has('validationToken'))
        .flatMap((p) => (JSON.parse(p.body) as { value: Record<string, unknown>[] }).value.map((n) => ({ path: p.path, n })));

    sim.clock.advance(61 * 60_000); // the app's token (one hour) lapsed with nobody answering
    const held = sim.teams.postChatMessage(chat.id, { from: '5f1c0000-0000-4000-8000-00000000000a', content: 'while paused' });
    await sim.deliveries.idle();
    const asked = posted();
    expect(asked.map((p) => [p.path, p.n.lifecycleEvent])).toEqual([['/api/lifecycle', 'reauthorizationRequired']]);

    // The app's lifecycle handling, as the lifecycle queue hands it the notification the receiver queued.
    const queued = { schema: QUEUED_NOTIFICATION_SCHEMA, kind: 'lifecycle', receivedAt: new Date().toISOString(), notification: asked[0]!.n };
    expect(await m.lifecycle.process(queued, m.logger)).toEqual({ status: 'reauthorized', subscriptionId: id });
    await sim.deliveries.idle();
    expect(
      posted()
        .filter((p) => p.n.changeType)
        .map((p) => [p.path, p.n.subscriptionId, p.n.resource]),
    ).toEqual([['/api/notifications', id, `chats('${chat.id}')/messages('${held.id}')`]]);
  });

  it("never writes a function key that Graph's refusal or the endpoint check quotes: not in a log line, a stored error or a thrown error", async () => {
    const KEY = 'k3y0f7hef0nct10n000000000000secret';
    const lines: string[] = [];
    const keyed = { GRAPH_NOTIFICATION_URL: `${sink.url}?code=${KEY}`, GRAPH_LIFECYCLE_URL: `${sink.url.replace('notifications', 'lifecycle')}?code=${KEY}` };
    const m = manager({ ...keyed, SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'all-chats', resource: '/chats', changeTypes: ['created'] }] }) });
    const {
      lifecycle: processor,
      reconciler,
      records,
    } = createSubscriptionManager(
      m.settings,
      m.certificates,
      createJsonLogger((line) => lines.push(line)),
      { now: () => sim.clock.now() },
    );
    await reconciler.reconcile();
    const id = (await records.get('all-chats'))!.subscriptionId!;
    expect(sim.subscriptions.find(id)?.notificationUrl).toContain(KEY); // Graph was given the key

    // Graph refuses the re-creation, quoting the URL it called (key and all); the app's own check of a minute
    // ago passed, so Graph is asked.
    sink.failNextHandshakes(20);
    sim.subscriptions.remove(id);
    const thrown = await processor
      .process(
        lifecycle(id, 'reauthorizationRequired'),
        createJsonLogger((line) => lines.push(line)),
      )
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(thrown?.message).toMatch(/validation request failed.*code=\*\*\*/);
    expect(thrown?.message).not.toContain(KEY);
    // A new entry meets the app's own endpoint check, which fails against the same URLs.
    const again = createSubscriptionManager(
      readSettings({ ...m.env, ...keyed, SUBSCRIPTIONS_FILE: writeFile({ subscriptions: [{ name: 'new-chats', resource: '/chats', changeTypes: ['updated'] }] }) }),
      m.certificates,
      createJsonLogger((line) => lines.push(line)),
      { now: () => sim.clock.now() },
    );
    expect((await again.reconciler.reconcile()).entries.some((r) => r.action === 'failed')).toBe(true);

    const stored = [(await records.get('all-chats'))?.lastError, (await again.records.get('new-chats'))?.lastError];
    expect(stored.join(' ')).toMatch(/code=\*\*\*/);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('code=***'))).toBe(true);
    for (const text of [...lines, ...stored]) expect(text).not.toContain(KEY);
  });

  it('logs and drops notifications for unknown subscriptions', async () => {
    const m = manager();
    expect(await m.lifecycle.process(lifecycle('not-ours', 'missed'), m.logger)).toEqual({ status: 'ignored', reason: 'unknown_subscription' });
    // What is not a lifecycle notification at all can never be acted on: dead-lettered, not dropped.
    expect(await m.lifecycle.process({ hello: 'world' }, m.logger)).toEqual({ status: 'dead-lettered', reason: 'malformed_message' });
    const [letter] = (await queueService(azurite).getQueueClient(m.settings.deadLetterQueue).receiveMessages()).receivedMessageItems;
    expect(decodeJsonMessage(letter?.messageText ?? '')).toMatchObject({ reason: 'malformed_message', sourceQueue: m.settings.lifecycleQueue });
    expect(m.logger.lines.find((l) => l.event === 'lifecycle.unknown_subscription')?.fields.subscriptionId).toBe('not-ours');
  });
});

function writeFile(content: unknown): string {
  const path = join(dir, `${uniqueName('desired')}.json`);
  writeFileSync(path, JSON.stringify(content));
  return path;
}
