import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryLog } from '../../shared/backfill/delivery-log.js';
import { readSettings, type Settings } from '../../shared/config/settings.js';
import { createTableClient } from '../../shared/config/storage-clients.js';
import { createStatusReader } from '../../shared/status/create-status.js';
import { SubscriptionRecords } from '../../shared/subscriptions/subscription-records.js';
import { TenantRegistry } from '../../shared/tenants/tenant-registry.js';
import { tempDir, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { TENANT_A, TENANT_B, testEnv } from '../helpers/notifications.js';

/** A tenant onboarded from the registry alone (not in GRAPH_TENANT_IDS). */
const TENANT_C = 'cccccccc-0000-4000-8000-00000000000c';
const HOUR = 3_600_000;

let azurite: AzuriteProcess;
let dir: ReturnType<typeof tempDir>;
let settings: Settings;

beforeAll(async () => {
  azurite = await testAzurite();
  dir = tempDir('tcr-status-tenants-');
  const file = join(dir.path, 'subscriptions.json');
  writeFileSync(
    file,
    JSON.stringify({
      subscriptions: [
        { name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'] },
        { name: 'chat-messages', resource: '/chats/getAllMessages', changeTypes: ['created'] },
      ],
    }),
  );
  const table = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;
  settings = readSettings(
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      // GRAPH_TENANT_IDS: TENANT_A (home), TENANT_B. Status reads storage only: the simulator's Graph is never called.
      GRAPH_AUTH_MODE: 'simulator',
      GRAPH_BASE_URL: 'http://127.0.0.1:9/',
      GRAPH_NOTIFICATION_URL: 'https://relay.example/api/notifications',
      GRAPH_LIFECYCLE_URL: 'https://relay.example/api/lifecycle',
      SUBSCRIPTIONS_FILE: file,
      SUBSCRIPTIONS_TABLE: table('subs'),
      TENANTS_TABLE: table('tenants'),
      BACKFILL_TABLE: table('backfill'),
      HEALTH_TABLE: table('health'),
      METRICS_TABLE: table('metrics'),
      DEAD_LETTER_QUEUE: uniqueName('dead'),
      LOCAL_CERTIFICATE_DIR: join(dir.path, 'certs'),
    }),
  );
});
afterAll(async () => {
  await azurite?.stop();
  dir?.remove();
});

describe('status with several tenants (Azurite)', () => {
  it("shows each tenant from the registry and GRAPH_TENANT_IDS with its subscriptions held, last delivery, quota and problem, and every served tenant's subscriptions", async () => {
    const now = Date.now();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const registry = new TenantRegistry(createTableClient(settings.storage, settings.tenants.table));
    await registry.save({ tenantId: TENANT_B, displayName: 'Fabrikam', state: 'active', addedAt: at(-48 * HOUR), quotaUsed: 2, quotaCheckedAt: at(-HOUR), updatedAt: at(-HOUR) });
    await registry.save({
      tenantId: TENANT_C,
      displayName: 'Contoso',
      state: 'degraded',
      addedAt: at(-24 * HOUR),
      missingPermissions: 'ChannelMessage.Read.All',
      lastErrorCode: 'missing_permission',
      lastError: "the tenant's consent lacks ChannelMessage.Read.All",
      lastErrorAt: at(-HOUR),
      quotaUsed: 1,
      updatedAt: at(-HOUR),
    });
    const records = new SubscriptionRecords(createTableClient(settings.storage, settings.subscriptionsTable));
    const held = (name: string, subscriptionId: string) =>
      records.save({ name, subscriptionId, resource: '/chats', changeTypes: 'created', expiresAt: at(24 * HOUR), subscribedAt: at(-HOUR), updatedAt: at(-HOUR) });
    await held('all-chats', 'sub-a-1');
    await held('chat-messages', 'sub-a-2');
    await held(`all-chats@${TENANT_B}`, 'sub-b-1');
    await held(`chat-messages@${TENANT_B}`, 'sub-b-2');
    await held(`all-chats@${TENANT_C}`, 'sub-c-1');
    const deliveries = new DeliveryLog(createTableClient(settings.storage, settings.backfill.table));
    await deliveries.delivered('sub-b-1', new Date(now - 2 * HOUR));
    await deliveries.delivered('sub-b-2', new Date(now - 10 * 60_000));

    const read = createStatusReader(settings);
    const status = await read();
    expect(status.tenants.map((t) => [t.id, t.name, t.state, t.registered, t.subscriptions, t.quotaUsed])).toEqual([
      [TENANT_A, '(GRAPH_TENANT_IDS)', 'active', false, 2, null],
      [TENANT_B, 'Fabrikam', 'active', true, 2, 2],
      [TENANT_C, 'Contoso', 'degraded', true, 1, 1],
    ]);
    expect(status.tenants[1]?.lastDelivery).toBe(new Date(now - 10 * 60_000).toISOString());
    expect(status.tenants[2]).toMatchObject({
      quotaLimit: 10_000,
      missingPermissions: ['ChannelMessage.Read.All'],
      problem: { code: 'missing_permission', message: "the tenant's consent lacks ChannelMessage.Read.All", at: at(-HOUR) },
    });
    expect(status.subscriptions.map((s) => [s.name, s.tenantId, s.subscriptionId])).toEqual([
      ['all-chats', TENANT_A, 'sub-a-1'],
      ['chat-messages', TENANT_A, 'sub-a-2'],
      [`all-chats@${TENANT_B}`, TENANT_B, 'sub-b-1'],
      [`chat-messages@${TENANT_B}`, TENANT_B, 'sub-b-2'],
      [`all-chats@${TENANT_C}`, TENANT_C, 'sub-c-1'],
      [`chat-messages@${TENANT_C}`, TENANT_C, null],
    ]);
    // The checks run on each read: the degraded tenant with its fix; the subscription it lacks is the tenants
    // check's to name, so that one customer's consent does not fail the relay's subscriptions check.
    const check = (name: string) => status.selfChecks.find((c) => c.check === name);
    expect(check('tenants')).toMatchObject({ status: 'warn', message: expect.stringContaining(`degraded: ${TENANT_C} (Contoso): missing_permission`) });
    expect(check('tenants')?.fix).toContain(`npm run tenants -- consent-url ${TENANT_C}`);
    expect(check('subscriptions')).toMatchObject({ status: 'ok', message: '4 subscriptions active and renewed on schedule' });
    expect(status.health.reasons.map((r) => r.source)).toContain('tenants');
    expect(status.health.reasons.map((r) => r.source)).not.toContain('subscriptions');

    // Removed, the tenant stays listed (the registry keeps its row) but its subscriptions leave the status at the next read.
    await registry.update(TENANT_C, { state: 'removed', removedAt: at(0), lastError: undefined, lastErrorCode: undefined, lastErrorAt: undefined }, new Date(now));
    const after = await read();
    expect(after.tenants.map((t) => [t.id, t.state])).toEqual([
      [TENANT_A, 'active'],
      [TENANT_B, 'active'],
      [TENANT_C, 'removed'],
    ]);
    expect(after.subscriptions.map((s) => s.tenantId)).not.toContain(TENANT_C);
    expect(after.selfChecks.find((c) => c.check === 'tenants')).toMatchObject({ status: 'ok', message: '2 tenants served' });
    expect(after.selfChecks.find((c) => c.check === 'subscriptions')?.status).toBe('ok');
  });
});
