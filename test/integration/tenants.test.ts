import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEAMS_APPLICATION_PERMISSIONS } from '../../dev/graph-simulator/app-grants.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { createApp, type App } from '../../shared/app/create-app.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { readSettings } from '../../shared/config/settings.js';
import { createRecordingLogger } from '../../shared/log.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { bearerFor, graphClient } from '../helpers/graph-client.js';
import { CLIENT_STATE, changeNotification } from '../helpers/notifications.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../../shared/queue/queued-notification.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

/** Customer tenants: B consented, X not (yet). */
const [B, X] = ['bbbb0000-0000-4000-8000-00000000000b', 'eeee0000-0000-4000-8000-00000000000e'];

let azurite: AzuriteProcess;
let sink: WebhookSink;
let sim: GraphSimulator;
let dir: string;
let app: App;
const logger = createRecordingLogger();

const appIn = (tenantId: string) => graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: tenantId, exp: Math.floor(Date.now() / 1000) + 3600 }));
const oursIn = async (tenantId: string) =>
  ((await appIn(tenantId).get('/v1.0/subscriptions')).body.value as { resource: string; notificationUrl: string }[]).filter((s) => s.notificationUrl === sink.url);
const driver = () => graphClient(sim.baseUrl);

beforeAll(async () => {
  [azurite, sink] = await Promise.all([testAzurite(), startWebhookSink()]);
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0001 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-tenants-'));
  const file = join(dir, 'subscriptions.json');
  writeFileSync(
    file,
    JSON.stringify({
      subscriptions: [
        { name: 'messages', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'] },
        { name: 'members', resource: '/chats/getAllMembers?model=B', changeTypes: ['created', 'deleted'], tenants: [B, X] },
      ],
    }),
  );
  for (const id of [B, X]) expect((await driver().post('/_simulator/tenants', { id, displayName: id.slice(0, 4) })).status).toBe(201);
  expect((await driver().post(`/_simulator/tenants/${B}/consent`, { appId: sim.appId, permissions: [...TEAMS_APPLICATION_PERMISSIONS] })).status).toBe(200);
  const settings = readSettings({
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_CLIENT_STATE: CLIENT_STATE,
    GRAPH_APP_ID: sim.appId,
    GRAPH_TENANT_IDS: sim.tenantId,
    GRAPH_BASE_URL: sim.baseUrl,
    GRAPH_AUTH_MODE: 'simulator',
    CERTIFICATE_STORE: 'local',
    GRAPH_NOTIFICATION_URL: sink.url,
    GRAPH_LIFECYCLE_URL: sink.url.replace('notifications', 'lifecycle'),
    SUBSCRIPTIONS_FILE: file,
    SUBSCRIPTIONS_CHECK_ENDPOINTS: 'false',
    SUBSCRIPTIONS_TABLE: `subs${uniqueName('t').replace(/-/g, '')}`,
    TENANTS_TABLE: `tenants${uniqueName('t').replace(/-/g, '')}`,
    BACKFILL_TABLE: `backfill${uniqueName('t').replace(/-/g, '')}`,
    BACKFILL_QUEUE: uniqueName('backfill'),
    TENANT_BASELINE_HOURS: '2',
  });
  app = createApp(settings, { logger, certificates: new LocalCertificateStore(join(dir, 'certs')), now: () => sim.clock.now() });
});

afterAll(async () => {
  await sim?.close();
  await Promise.all([sink?.close(), azurite?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tenants onboarded, settled by each reconcile run, and removed (simulator, Azurite)', () => {
  it("onboards a consented tenant: active, its entries' subscriptions in its own tenant under <name>@<tenant>, a baseline gap each", async () => {
    const b = await app.tenants.onboarding.add(B, { displayName: 'Fabrikam', by: 'test' });
    expect(b).toMatchObject({ tenantId: B, displayName: 'Fabrikam', state: 'active', addedBy: 'test', consentSeenBy: 'reconciler', quotaUsed: 2 });
    expect((await oursIn(B)).map((s) => s.resource).sort()).toEqual(['/chats/getAllMembers?model=B', '/chats/getAllMessages?model=B']);
    expect((await app.subscriptions.records.get(`messages@${B}`))?.subscriptionId).toBeDefined();
    const baseline = (await app.gaps.list({ reason: 'tenant_baseline' })).filter((g) => g.name.endsWith(`@${B}`));
    expect(baseline.map((g) => g.name).sort()).toEqual([`members@${B}`, `messages@${B}`]);
    expect(Date.parse(baseline[0]!.to) - Date.parse(baseline[0]!.from)).toBe(2 * 3600_000);
    // The app's own tenant has only the entries that name no tenants.
    expect((await oursIn(sim.tenantId)).map((s) => s.resource)).toEqual([]);
    const home = (await app.subscriptions.reconciler.reconcile({ tenantId: sim.tenantId })).entries;
    expect(home.map((e) => [e.name, e.action])).toEqual([['messages', 'created']]);
  });

  it("leaves a tenant without consent onboarding, naming the cause, while the others' runs go on; consented later with too little, the next run settles it degraded, naming the permission", async () => {
    const x = await app.tenants.onboarding.add(X, { by: 'test' });
    expect(x).toMatchObject({ state: 'onboarding', lastErrorCode: 'no_consent' });
    expect(x.consentSeenAt).toBeUndefined();
    const report = await app.subscriptions.reconciler.reconcile();
    expect(report.tenants.map((t) => [t.tenantId, 'error' in t ? 'failed' : 'ran']).sort()).toEqual(
      [
        [sim.tenantId, 'ran'],
        [B, 'ran'],
        [X, 'failed'],
      ].sort(),
    );
    expect(
      report.entries
        .filter((e) => e.action === 'failed')
        .map((e) => e.name)
        .sort(),
    ).toEqual([`members@${X}`, `messages@${X}`]);

    expect((await driver().post(`/_simulator/tenants/${X}/consent`, { appId: sim.appId, permissions: ['ChatMember.Read.All'] })).status).toBe(200);
    await app.subscriptions.reconciler.reconcile();
    // ChatMember.Read.All reads members; the messages' subscription needs Chat.Read.All (or more): named.
    const settled = await app.tenants.registry.get(X);
    expect(settled).toMatchObject({ state: 'degraded', lastErrorCode: 'missing_permission', quotaUsed: 1 });
    expect(`${settled?.missingPermissions} ${settled?.lastError}`).toContain('Chat.Read.All');
    expect((await oursIn(X)).map((s) => s.resource)).toEqual(['/chats/getAllMembers?model=B']);
  });

  it("offboards a tenant whose consent stayed revoked for an hour (never the app's own), and one left offboarding: subscriptions deleted, gaps closed, records cleared, no longer served", async () => {
    expect((await driver().delete(`/_simulator/tenants/${B}/consent/${sim.appId}`)).status).toBeLessThan(300);
    // Consent gone: degraded first (a passing refusal must not offboard a customer), still served.
    await app.subscriptions.reconciler.reconcile();
    const lost = await app.tenants.registry.get(B);
    expect(lost).toMatchObject({ state: 'degraded', lastErrorCode: 'consent_revoked' });
    expect(lost?.consentLostAt).toBeDefined();
    expect(app.subscriptions.tenants.has(B)).toBe(true);
    // Still gone an hour later: offboarded.
    sim.clock.advance(61 * 60_000);
    await app.subscriptions.reconciler.reconcile();
    expect(await app.tenants.registry.get(B)).toMatchObject({ state: 'removed', lastErrorCode: 'consent_revoked', removedBy: 'consent revoked' });
    // Its records point at nothing now: added again, it gets new subscriptions, not a read-back of its absence.
    expect((await app.subscriptions.records.get(`messages@${B}`))?.subscriptionId).toBeUndefined();
    expect(app.subscriptions.tenants.has(B)).toBe(false);
    expect((await app.gaps.list({ unfinished: true })).filter((g) => g.name.endsWith(`@${B}`))).toEqual([]);

    // The app's own tenant (GRAPH_TENANT_IDS) is never offboarded for a refused token: degraded, naming it.
    expect((await driver().delete(`/_simulator/tenants/${sim.tenantId}/consent/${sim.appId}`)).status).toBeLessThan(300);
    await app.subscriptions.reconciler.reconcile();
    sim.clock.advance(61 * 60_000);
    await app.subscriptions.reconciler.reconcile();
    expect(await app.tenants.registry.get(sim.tenantId)).toMatchObject({ state: 'degraded', lastErrorCode: 'consent_revoked' });
    expect(app.subscriptions.tenants.has(sim.tenantId)).toBe(true);
    expect((await driver().post(`/_simulator/tenants/${sim.tenantId}/consent`, { appId: sim.appId, permissions: [...TEAMS_APPLICATION_PERMISSIONS] })).status).toBe(200);
    await app.subscriptions.reconciler.reconcile();
    expect(await app.tenants.registry.get(sim.tenantId)).toMatchObject({ state: 'active' });

    // A removal the operator's shell left half-done (offboarding) is finished by the app's own run.
    await app.tenants.registry.update(X, { state: 'offboarding', removedBy: 'test' }, new Date());
    await app.tenants.onboarding.finishOffboarding();
    const removed = await app.tenants.registry.get(X);
    expect(removed).toMatchObject({ state: 'removed', removedBy: 'test' });
    expect(await oursIn(X)).toEqual([]);
    expect(app.subscriptions.tenants.served).toEqual([sim.tenantId]);
    // The registry keeps both for audit.
    // A notification of X queued before its removal goes no further.
    const { clientState: _verified, ...queuedItem } = changeNotification({ tenantId: X });
    const outcome = await app.notificationProcessor.process(
      { schema: QUEUED_NOTIFICATION_SCHEMA, kind: 'change', receivedAt: new Date().toISOString(), notification: queuedItem },
      { sourceQueue: 'in', logger },
    );
    expect(outcome).toEqual({ status: 'not-served', tenantId: X });
    expect(logger.lines.some((l) => l.event === 'route.tenant_not_served' && l.fields.tenantId === X)).toBe(true);
    // A run that read X as served before its removal leaves it removed.
    await app.tenants.onboarding.observe({ tenantId: X, report: { entries: [], undesired: [], held: 1 } });
    expect((await app.tenants.registry.list()).map((t) => [t.tenantId, t.state]).sort()).toEqual(
      [
        [sim.tenantId, 'active'],
        [B, 'removed'],
        [X, 'removed'],
      ].sort(),
    );
  });
});
