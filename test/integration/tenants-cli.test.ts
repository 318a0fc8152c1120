import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEAMS_APPLICATION_PERMISSIONS } from '../../dev/graph-simulator/app-grants.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { DeliveryLog } from '../../shared/backfill/delivery-log.js';
import { GapLog } from '../../shared/backfill/gap-log.js';
import { MembershipLog } from '../../shared/backfill/membership-log.js';
import { PieceStore } from '../../shared/backfill/piece-store.js';
import { readSettings, type Settings } from '../../shared/config/settings.js';
import { createBlobServiceClient, createQueueServiceClient, createTableClient } from '../../shared/config/storage-clients.js';
import { QueueEventPublisher } from '../../shared/route/event-publisher.js';
import { TableRoutedEventLog } from '../../shared/route/routed-event-log.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { SubscriptionRecords } from '../../shared/subscriptions/subscription-records.js';
import { TenantRegistry, type TenantRecord } from '../../shared/tenants/tenant-registry.js';
import { testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { graphClient } from '../helpers/graph-client.js';
import { testEnv } from '../helpers/notifications.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

const CLI = fileURLToPath(new URL('../../dist/cli/tenants.js', import.meta.url));
const exec = promisify(execFile);

/** Tenants of the simulator beside its own (the relay's home tenant): B and D consented the app, C never did. */
const [B, C, D] = ['bbbb0000-0000-4000-8000-00000000000b', 'cccc0000-0000-4000-8000-00000000000c', 'dddd0000-0000-4000-8000-00000000000d'];

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let sink: WebhookSink;
let dir: string;
let env: Record<string, string>;
let settings: Settings;
/** The subscription in B whose delivery `list` shows (B removed without --purge keeps it). */
let deliveredInB = '';

beforeAll(async () => {
  azurite = await testAzurite();
  sink = await startWebhookSink();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0001 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-tenants-cli-'));
  const driver = graphClient(sim.baseUrl);
  for (const [id, displayName] of [
    [B, 'Tenant B'],
    [C, 'Tenant C'],
    [D, 'Tenant D'],
  ] as const) {
    expect((await driver.post('/_simulator/tenants', { id, displayName })).status).toBe(201);
  }
  for (const id of [B, D]) expect((await driver.post(`/_simulator/tenants/${id}/consent`, { appId: sim.appId, permissions: [...TEAMS_APPLICATION_PERMISSIONS] })).status).toBe(200);
  const file = join(dir, 'subscriptions.json');
  writeFileSync(
    file,
    JSON.stringify({
      subscriptions: [
        { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'] },
        { name: 'members', resource: '/chats/getAllMembers', changeTypes: ['created', 'deleted'] },
      ],
    }),
  );
  const table = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;
  env = testEnv({
    AzureWebJobsStorage: azurite.connectionString,
    ...simulatorAppSettings(sim),
    GRAPH_NOTIFICATION_URL: sink.url,
    GRAPH_LIFECYCLE_URL: sink.url.replace('notifications', 'lifecycle'),
    SUBSCRIPTIONS_FILE: file,
    SUBSCRIPTIONS_TABLE: table('subs'),
    TENANTS_TABLE: table('tenants'),
    BACKFILL_TABLE: table('backfill'),
    DEDUP_TABLE: table('dedup'),
    BACKFILL_QUEUE: uniqueName('backfill'),
    SUBSCRIPTION_EVENTS_QUEUE: uniqueName('sub-events'),
    DEAD_LETTER_QUEUE: uniqueName('dead'),
    EVENTS_CONTAINER: uniqueName('payloads'),
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
  });
  settings = readSettings({ ...env, AZURE_FUNCTIONS_ENVIRONMENT: 'Development' });
});

afterAll(async () => {
  await sim?.close();
  await sink?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The built CLI in the operator's shell (PATH and HOME, then the settings), without blocking the simulator this process serves. */
async function tenants(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: number; stdout: string; stderr: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const simulatorSubscriptions = async (tenantId: string) =>
  ((await graphClient(sim.baseUrl).get(`/_simulator/subscriptions?tenantId=${tenantId}`)).body.value as { id: string; resource: string; notificationUrl: string }[]).filter(
    (s) => s.notificationUrl === sink.url,
  );

describe('npm run tenants', () => {
  it('consent-url prints the admin consent URL of the tenant, on the cloud AZURE_AUTHORITY_HOST names', async () => {
    const url = await tenants('consent-url', B.toUpperCase());
    expect(url.code, url.stderr).toBe(0);
    expect(url.stdout).toBe(`https://login.microsoftonline.com/${B}/adminconsent?client_id=${sim.appId}\n`);
    const saved = env;
    env = { ...env, AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' };
    try {
      expect((await tenants('consent-url', B)).stdout).toBe(`https://login.microsoftonline.us/${B}/adminconsent?client_id=${sim.appId}\n`);
    } finally {
      env = saved;
    }
  });

  it('refuses a tenant id that is not a GUID, and a command without one, with exit code 2 before reading a setting', async () => {
    const bad = await tenants('add', 'contoso.onmicrosoft.com');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"contoso.onmicrosoft.com" is not a tenant id');
    expect(bad.stdout).toBe('');
    expect((await tenants('remove')).code).toBe(2);
    expect((await tenants('list', '--purge')).code).toBe(2);
  });

  it('add of a consented tenant makes it active with its subscriptions created in that tenant', async () => {
    const added = await tenants('add', B, '--name', 'Tenant B');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`tenant ${B} (Tenant B): active\n`);
    expect((await simulatorSubscriptions(B)).map((s) => s.resource).sort()).toEqual(['/chats', '/chats/getAllMembers']);
    // Nothing was created in the home tenant: add settles the tenant added, alone.
    expect(await simulatorSubscriptions(sim.tenantId)).toEqual([]);
    const record = await new TenantRegistry(createTableClient(settings.storage, settings.tenants.table)).get(B);
    expect(record).toMatchObject({ state: 'active', displayName: 'Tenant B', addedBy: expect.stringMatching(/.@./), consentSeenAt: expect.any(String), quotaUsed: 2 });
  });

  it('add of a tenant without consent exits 1, naming no_consent and the URL its admin opens; the tenant stays registered, onboarding', async () => {
    const added = await tenants('add', C);
    expect(added.code).toBe(1);
    const [line, cause, consent] = added.stdout.trimEnd().split('\n');
    expect(line).toBe(`tenant ${C}: onboarding`);
    expect(cause).toMatch(/^ {2}no_consent: /);
    expect(consent).toBe(`  admin consent: https://login.microsoftonline.com/${C}/adminconsent?client_id=${sim.appId}`);
    expect(await simulatorSubscriptions(C)).toEqual([]);
  });

  it('list --json shows each tenant with its subscriptions, quota and last delivery', async () => {
    deliveredInB = (await simulatorSubscriptions(B))[0]?.id ?? '';
    await new DeliveryLog(createTableClient(settings.storage, settings.backfill.table)).delivered(deliveredInB, new Date('2026-12-01T10:00:00Z'));
    const listed = await tenants('list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as (TenantRecord & { subscriptions: number; lastDelivery?: string })[];
    expect(rows.map((r) => [r.tenantId, r.state, r.subscriptions, r.lastErrorCode])).toEqual([
      [B, 'active', 2, undefined],
      [C, 'onboarding', 0, 'no_consent'],
    ]);
    expect(rows[0]).toMatchObject({ displayName: 'Tenant B', quotaUsed: 2, lastDelivery: '2026-12-01T10:00:00.000Z' });
    const table = await tenants('list');
    expect(table.stdout.split('\n')[0]).toMatch(/^tenant +name +state +subscriptions +quota +last delivery +problem$/);
    expect(table.stdout).toMatch(new RegExp(`${B} +Tenant B +active +2 +2 / 10000 +2026-12-01T10:00:00.000Z`));
  });

  it('remove deletes the tenant’s subscriptions in the simulator and leaves it removed, its records kept without --purge', async () => {
    const removed = await tenants('remove', B);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`tenant ${B} (Tenant B): removed\n`);
    expect(await simulatorSubscriptions(B)).toEqual([]);
    const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
    expect((await records.list()).map((r) => r.name).sort()).toEqual([`chats@${B}`, `members@${B}`]);
    const listed = JSON.parse((await tenants('list', '--json')).stdout) as (TenantRecord & { subscriptions: number })[];
    expect(listed.find((r) => r.tenantId === B)).toMatchObject({ state: 'removed', subscriptions: 0, removedBy: expect.stringMatching(/.@./) });
    expect(listed.find((r) => r.tenantId === B)?.purgedAt).toBeUndefined();
  });

  it('remove of a tenant neither registered nor configured exits 1 and writes nothing', async () => {
    const unknown = 'eeee0000-0000-4000-8000-00000000000e';
    const removed = await tenants('remove', unknown);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain(`tenant ${unknown} is neither in the registry nor in GRAPH_TENANT_IDS`);
    expect(await new TenantRegistry(createTableClient(settings.storage, settings.tenants.table)).get(unknown)).toBeUndefined();
  });

  it("remove --purge deletes the tenant's records, gaps and pieces, deliveries, memberships, de-duplication rows and payload blobs, and keeps the home tenant's", async () => {
    const added = await tenants('add', D, '--name', 'Tenant D');
    expect(added.code, added.stderr).toBe(0);
    const [subD] = await simulatorSubscriptions(D);

    // Rows of both tenants, as the relay writes them: D's entries are `<name>@D`, the home tenant's `<name>`.
    const home = sim.tenantId;
    const backfillTable = createTableClient(settings.storage, settings.backfill.table);
    const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
    await records.save({ name: 'chats', subscriptionId: 'home-subscription', resource: '/chats', changeTypes: 'created,updated', updatedAt: new Date().toISOString() });
    const gaps = new GapLog(backfillTable);
    const pieces = new PieceStore(backfillTable);
    const now = new Date();
    for (const name of ['chats', `chats@${D}`]) {
      const { gap } = await gaps.open({ name, from: '2026-12-01T00:00:00.000Z', to: '2026-12-01T01:00:00.000Z', reason: 'manual' }, now);
      await pieces.record(gap.id, 'piece-1', '{}');
    }
    const deliveries = new DeliveryLog(backfillTable);
    await deliveries.delivered('home-subscription', now);
    await deliveries.delivered(subD!.id, now);
    const memberships = new MembershipLog(backfillTable);
    const member = { userId: 'u1', membershipId: 'm1', resource: { userId: 'u1' }, present: true };
    for (const tenant of [home, D]) await memberships.remember(tenant, '19:shared@thread.v2', member);
    const dedup = new TableRoutedEventLog(createTableClient(settings.storage, settings.dedupTable), { windowMs: 60 * 60_000 });
    for (const [eventId, tenantId] of [
      ['0home-event', home],
      ['0d-event', D.toUpperCase()],
    ] as const)
      await (await dedup.claim({ eventId, tenantId, queues: ['downstream'], owner: 'test' })).complete();
    const publisher = new QueueEventPublisher(createQueueServiceClient(settings.storage), createBlobServiceClient(settings.storage), settings.eventsContainer);
    for (const tenantid of [home, D]) expect((await publisher.publish(largeEvent(tenantid), [uniqueName('downstream')])).published).toHaveLength(1);

    const removed = await tenants('remove', D, '--purge');
    expect(removed.code, removed.stderr).toBe(0);
    const [line, purged] = removed.stdout.trimEnd().split('\n');
    expect(line).toBe(`tenant ${D} (Tenant D): removed`);
    expect(purged).toMatch(/purged: 2 subscription records, 3 backfill gaps .*1 delivery rows, 1 membership rows, 1 de-duplication rows, 1 payload blobs/);

    expect(await simulatorSubscriptions(D)).toEqual([]);
    expect((await records.list()).map((r) => r.name).sort()).toEqual(['chats', `chats@${B}`, `members@${B}`]);
    expect((await gaps.list()).map((g) => g.name).filter((n) => !n.endsWith(`@${B}`))).toEqual(['chats']);
    expect(await pieces.pending(`chats@${D}|manual|2026-12-01T00:00:00.000Z`)).toEqual([]);
    expect((await pieces.pending('chats|manual|2026-12-01T00:00:00.000Z')).map((p) => p.pieceId)).toEqual(['piece-1']);
    expect([...(await deliveries.lastDeliveries()).keys()].sort()).toEqual(['home-subscription', deliveredInB].sort());
    expect([...(await memberships.known(home, '19:shared@thread.v2')).keys()]).toEqual(['u1']);
    expect([...(await memberships.known(D, '19:shared@thread.v2')).keys()]).toEqual([]);
    const dedupRows = [];
    for await (const e of createTableClient(settings.storage, settings.dedupTable).listEntities<{ tenantId?: string }>()) dedupRows.push([e.rowKey, e.tenantId]);
    expect(dedupRows).toEqual([['0home-event', home]]);
    const blobs = [];
    for await (const b of BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(settings.eventsContainer).listBlobsFlat()) blobs.push(b.name);
    expect(blobs).toEqual([`${home}/2026-12-01/large-${home}.json`]);

    const record = await new TenantRegistry(createTableClient(settings.storage, settings.tenants.table)).get(D);
    expect(record).toMatchObject({ state: 'removed', displayName: 'Tenant D', purgedAt: expect.any(String), removedAt: expect.any(String) });
  });
});

/** An event over 64 KiB of the tenant: its payload goes to a blob. */
function largeEvent(tenantid: string): TeamsCloudEvent {
  return {
    specversion: '1.0',
    id: `large-${tenantid}`,
    source: `/tenants/${tenantid}`,
    type: 'com.microsoft.graph.teams.chatMessage.created',
    subject: "chats('19:shared@thread.v2')/messages('1')",
    time: '2026-12-01T10:00:00Z',
    datacontenttype: 'application/json',
    data: { id: '1', body: 'x'.repeat(70 * 1024) },
    tenantid,
    subscriptionid: 's',
    changetype: 'created',
    kind: 'chatMessage',
    datamode: 'resource',
    chatid: '19:shared@thread.v2',
    messageid: '1',
  };
}
