import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import type { Gap } from '../../shared/backfill/gap-log.js';
import { backfillGapsCheck } from '../../shared/health/checks/backfill-gaps.js';
import { encryptionCertificateCheck } from '../../shared/health/checks/encryption-certificate.js';
import { graphCredentialCheck } from '../../shared/health/checks/graph-credential.js';
import { graphPermissionsCheck } from '../../shared/health/checks/graph-permissions.js';
import { silentSubscriptionsCheck } from '../../shared/health/checks/silent-subscriptions.js';
import { subscriptionsCheck } from '../../shared/health/checks/subscriptions.js';
import { tenantsCheck } from '../../shared/health/checks/tenants.js';
import { validationTokensCheck } from '../../shared/health/checks/validation-tokens.js';
import { HealthChecker } from '../../shared/health/health-checker.js';
import { createRecordingLogger } from '../../shared/log.js';
import type { MetricTotals } from '../../shared/metrics/metrics.js';
import type { GaugeName } from '../../shared/metrics/otel-metrics.js';
import { GraphRequestError } from '../../shared/graph/graph-request-error.js';
import { parseDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { isResourceSpecific, requiredPermissions } from '../../shared/subscriptions/required-permissions.js';
import type { SubscriptionRecord } from '../../shared/subscriptions/subscription-records.js';
import { fixedDesiredSubscriptions, TenantDesiredSubscriptions } from '../../shared/subscriptions/tenant-desired-subscriptions.js';
import { TenantDirectory } from '../../shared/tenants/tenant-directory.js';
import type { TenantRecord } from '../../shared/tenants/tenant-registry.js';
import type { SelfCheckStatus } from '../../shared/status/status-snapshot.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const DAY = 86_400_000;
const inDays = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
const EXAMPLE = parseDesiredSubscriptions(JSON.parse(readFileSync(new URL('../../subscriptions.example.json', import.meta.url), 'utf8')));
const desired = parseDesiredSubscriptions({
  subscriptions: [
    { name: 'all-chats', resource: '/chats', changeTypes: ['created', 'updated'] },
    { name: 'chat-messages', resource: '/chats/getAllMessages', changeTypes: ['created', 'updated', 'deleted'] },
    { name: 'one-chat-messages', resource: '/chats/19:a@thread.v2/messages', changeTypes: ['created'] },
  ],
});
const record = (name: string, over: Partial<SubscriptionRecord> = {}): SubscriptionRecord => ({
  name,
  subscriptionId: `sub-${name}`,
  resource: '/chats',
  changeTypes: 'created',
  expiresAt: inDays(2),
  subscribedAt: inDays(-5),
  updatedAt: inDays(0),
  ...over,
});

/** A credential giving an unsigned JWT with these claims: the checks decode, never verify, the app's own token. */
const tokenWith = (claims: Record<string, unknown>): TokenCredential => ({
  getToken: async () => ({
    token: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`,
    expiresOnTimestamp: NOW.getTime() + 3_600_000,
  }),
});

describe('the encryption certificate check', () => {
  const check = (days: number) => encryptionCertificateCheck({ current: async () => ({ id: 'relay/v2', certificateBase64: '', thumbprint: 'AB', notAfter: new Date(inDays(days)) }) }).run(NOW);
  it('passes beyond 30 days, warns within 30, fails within 7 and once expired, and reports the days left as a gauge', async () => {
    expect((await check(200)).status).toBe('ok');
    expect(await check(20)).toMatchObject({ status: 'warn', message: expect.stringMatching(/relay\/v2 expires in 20 days/), fix: expect.stringMatching(/new version/) });
    expect((await check(3)).status).toBe('fail');
    expect(await check(-1)).toMatchObject({ status: 'fail', message: expect.stringMatching(/expired at/) });
    expect((await check(20)).gauges).toEqual([{ name: 'relay.credential.days_left', value: 20, attributes: { credential: 'encryption_certificate' } }]);
  });
});

describe('the Graph credential check', () => {
  const app = (...ends: [string, string][]) => ({ passwordCredentials: ends.map(([hint, endDateTime]) => ({ hint, endDateTime, displayName: `secret ${hint}` })) });
  it("judges the secret in use by its hint, else the first to end, and reads the app's own registration", async () => {
    const paths: string[] = [];
    const get = async <T>(path: string) => (paths.push(path), app(['abc', inDays(400)], ['xyz', inDays(5)]) as T);
    const mine = await graphCredentialCheck({ auth: { mode: 'clientsecret', secret: 'abc~rest-of-secret' }, appId: 'app-1', get }).run(NOW);
    expect(mine).toMatchObject({ status: 'ok', gauges: [{ name: 'relay.credential.days_left', value: 400, attributes: { credential: 'graph_client_secret' } }] });
    expect(paths[0]).toBe("/v1.0/applications(appId='app-1')?$select=passwordCredentials,keyCredentials");
    const unknown = await graphCredentialCheck({ auth: { mode: 'simulator' }, appId: 'app-1', get }).run(NOW);
    expect(unknown).toMatchObject({ status: 'fail', message: expect.stringMatching(/first-ending client secret \(secret xyz\) expires in 5 days/) });
  });
  it('fails when Entra ID refuses the secret as expired, and is skipped when the app may not read its registration or has no secret', async () => {
    const expired = await graphCredentialCheck({
      auth: { mode: 'clientsecret', secret: 's' },
      appId: 'a',
      get: async () => {
        throw new Error("ClientSecretCredential authentication failed: AADSTS7000222: The provided client secret keys for app 'a' are expired.");
      },
    }).run(NOW);
    expect(expired).toMatchObject({ status: 'fail', message: expect.stringMatching(/expired/), fix: expect.stringMatching(/new client secret/) });
    const forbidden = await graphCredentialCheck({
      auth: { mode: 'clientsecret', secret: 's' },
      appId: 'a',
      get: async () => {
        throw new GraphRequestError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
      },
    }).run(NOW);
    expect(forbidden).toMatchObject({ status: 'skipped', message: expect.stringMatching(/Application\.Read\.All/) });
    const identity = await graphCredentialCheck({ auth: { mode: 'managedidentity' }, appId: 'a', get: async () => ({}) as never }).run(NOW);
    expect(identity.status).toBe('skipped');
    const federated = await graphCredentialCheck({
      auth: { mode: 'federated' },
      appId: 'a',
      get: async () => {
        throw new Error('a federated credential has no secret to look up');
      },
    }).run(NOW);
    expect(federated).toMatchObject({ status: 'skipped', message: expect.stringMatching(/federated credential trusts the managed identity/) });
  });
});

describe('the subscriptions check', () => {
  const run = (records: SubscriptionRecord[]) => subscriptionsCheck({ desired: fixedDesiredSubscriptions(desired), records: { list: async () => records }, renewWithinMinutes: 1440 }).run(NOW);
  const all = () => [record('all-chats'), record('chat-messages'), record('one-chat-messages')];
  it('passes when every desired subscription exists and is renewed on schedule', async () => {
    expect(await run(all())).toMatchObject({ status: 'ok', gauges: [{ name: 'relay.subscriptions.missing', value: 0 }] });
  });
  it('fails on one the reconciler failed to create or one expired, naming it and the last error without the function key', async () => {
    const r = await run([
      record('all-chats', { expiresAt: inDays(-0.1) }),
      record('chat-messages', { subscriptionId: undefined, lastAction: 'failed', lastError: 'refused https://x/api/notifications?code=KEY' }),
      record('one-chat-messages'),
    ]);
    expect(r).toMatchObject({ status: 'fail', gauges: [{ name: 'relay.subscriptions.missing', value: 2 }] });
    expect(r.message).toMatch(/no subscription in Graph for chat-messages; expired: all-chats/);
    expect(r.message).not.toMatch(/KEY/);
  });
  it('warns when one is not created yet (a first start), a renewal is overdue (under a quarter of its window left), or the last run failed', async () => {
    const notYet = await run([record('all-chats'), record('chat-messages')]);
    expect(notYet).toMatchObject({ status: 'warn', message: 'not created yet by the reconciler: one-chat-messages', gauges: [{ name: 'relay.subscriptions.missing', value: 1 }] });
    const lifetime = desired.find((d) => d.name === 'chat-messages')?.lifetimeMinutes ?? 0;
    const window = Math.min(1440, lifetime / 2);
    const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();
    // Within the window but over a quarter of it left: the reconciler renews it at its next run.
    expect((await run([record('all-chats'), record('chat-messages', { expiresAt: at(window / 4 + 1) }), record('one-chat-messages')])).status).toBe('ok');
    const overdue = await run([record('all-chats'), record('chat-messages', { expiresAt: at(window / 4 - 1) }), record('one-chat-messages')]);
    expect(overdue).toMatchObject({ status: 'warn', message: expect.stringMatching(/renewal overdue.*chat-messages/) });
    const failed = await run([record('all-chats', { lastAction: 'failed', lastError: 'Graph answered 429' }), record('chat-messages'), record('one-chat-messages')]);
    expect(failed).toMatchObject({ status: 'warn', message: expect.stringMatching(/last run failed for all-chats: Graph answered 429/) });
  });
});

describe('the subscriptions checks with several tenants', () => {
  const HOME = 'aaaaaaaa-0000-4000-8000-000000000001';
  const OTHER = 'bbbbbbbb-0000-4000-8000-000000000002';
  /** The file's entries over the home tenant and the registry's tenants, as the status and checkHealth build them. */
  const overTenants = (registry: () => TenantRecord[], now = () => 0) =>
    new TenantDesiredSubscriptions(desired, new TenantDirectory({ configured: [HOME], registry: { list: async () => registry() }, now }));
  const other = (state: TenantRecord['state']): TenantRecord => ({ tenantId: OTHER, state, addedAt: inDays(-1), updatedAt: inDays(0) });
  const home = () => [record('all-chats'), record('chat-messages'), record('one-chat-messages')];

  it("sees every served tenant's entries, named <entry>@<tenant> outside the home tenant, and drops a tenant removed once the registry is read again", async () => {
    let rows = [other('active')];
    let clock = 0;
    const check = subscriptionsCheck({
      desired: overTenants(
        () => rows,
        () => clock,
      ),
      records: { list: async () => [...home(), record(`all-chats@${OTHER}`)] },
      renewWithinMinutes: 1440,
    });
    expect(await check.run(NOW)).toMatchObject({
      status: 'warn',
      message: `not created yet by the reconciler: chat-messages@${OTHER}, one-chat-messages@${OTHER}`,
      gauges: [{ name: 'relay.subscriptions.missing', value: 2 }],
    });
    rows = [other('removed')];
    clock += 31_000;
    expect(await check.run(NOW)).toMatchObject({ status: 'ok', message: '3 subscriptions active and renewed on schedule' });
  });

  it("leaves a tenant onboarding or degraded to the tenants check: one customer's missing consent does not fail the relay", async () => {
    const rows = [other('degraded')];
    const check = subscriptionsCheck({
      desired: overTenants(() => rows),
      records: { list: async () => [...home(), record(`all-chats@${OTHER}`, { subscriptionId: undefined, lastAction: 'failed', lastError: 'no consent' })] },
      renewWithinMinutes: 1440,
      judged: (tenantId) => tenantId === HOME || rows.find((r) => r.tenantId === tenantId)?.state === 'active',
    });
    expect(await check.run(NOW)).toMatchObject({ status: 'ok', message: '3 subscriptions active and renewed on schedule' });
    rows[0] = other('active');
    expect((await check.run(NOW)).status).toBe('fail');
  });

  it("compares another tenant's subscription with its siblings of the same kind for silence", async () => {
    const source = overTenants(() => [other('active')]);
    const records = [...home(), record(`chat-messages@${OTHER}`, { subscribedAt: inDays(-3) })];
    const r = await silentSubscriptionsCheck({
      desired: source,
      records: { list: async () => records },
      deliveries: { lastDeliveries: async () => new Map([['sub-chat-messages', inDays(-0.01)]]) },
      silentHours: 24,
    }).run(NOW);
    expect(r).toMatchObject({ status: 'warn', message: expect.stringContaining(`chat-messages@${OTHER} (chatMessage, since 2026-12-04`) });
  });
});

describe('the tenants check', () => {
  const HOME = 'aaaaaaaa-0000-4000-8000-000000000001';
  const id = (n: number) => `bbbbbbbb-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const tenant = (n: number, over: Partial<TenantRecord> = {}): TenantRecord => ({ tenantId: id(n), state: 'active', addedAt: inDays(-2), updatedAt: inDays(0), ...over });
  const run = (records: TenantRecord[]) => tenantsCheck({ tenants: new TenantDirectory({ configured: [HOME], registry: { list: async () => records } }) }).run(NOW);

  it("counts the tenants served: GRAPH_TENANT_IDS and the registry's, not one removed", async () => {
    expect(await run([tenant(1), tenant(2, { state: 'onboarding', addedAt: inDays(-0.01) }), tenant(3, { state: 'removed', lastErrorCode: 'consent_revoked', lastError: 'revoked' })])).toEqual({
      status: 'ok',
      message: '3 tenants served',
    });
    expect(await run([])).toEqual({ status: 'ok', message: '1 tenant served' });
  });

  it('warns of each tenant degraded, naming its cause and its fix', async () => {
    const r = await run([
      tenant(1, {
        state: 'degraded',
        displayName: 'Contoso',
        lastErrorCode: 'missing_permission',
        lastError: "the tenant's consent lacks ChannelMessage.Read.All",
        missingPermissions: 'ChannelMessage.Read.All,Chat.Read.All',
      }),
      tenant(2, { state: 'degraded', lastErrorCode: 'protected_api', lastError: 'protected-API access for Teams messages is not granted' }),
      tenant(3),
    ]);
    expect(r.status).toBe('warn');
    expect(r.message).toBe(
      `degraded: ${id(1)} (Contoso): missing_permission, the tenant's consent lacks ChannelMessage.Read.All; ${id(2)}: protected_api, protected-API access for Teams messages is not granted`,
    );
    expect(r.fix).toContain(
      `${id(1)}: grant the app registration ChannelMessage.Read.All, Chat.Read.All (application permissions), then the tenant's admin consents again with \`npm run tenants -- consent-url ${id(1)}\``,
    );
    expect(r.fix).toContain(`${id(2)}: request protected-API access for Teams messages`);
    const quota = await run([tenant(1, { state: 'degraded', lastErrorCode: 'quota', lastError: "the tenant's Teams subscription quota is used up" })]);
    expect(quota.fix).toMatch(/used up: limit the entries applied to it \(`tenants` in the subscriptions file\)/);
  });

  it('warns of a tenant onboarding with an error for over an hour: its admin has not consented, and the fix gives the consent URL command', async () => {
    const noConsent = { state: 'onboarding' as const, lastErrorCode: 'no_consent' as const, lastError: 'the app has no consent in the tenant (no service principal)' };
    expect((await run([tenant(1, { ...noConsent, addedAt: new Date(NOW.getTime() - 50 * 60_000).toISOString() })])).status).toBe('ok');
    const r = await run([tenant(1, { ...noConsent, addedAt: new Date(NOW.getTime() - 70 * 60_000).toISOString() })]);
    expect(r).toMatchObject({ status: 'warn', message: `onboarding for over an hour with an error: ${id(1)}: no_consent, the app has no consent in the tenant (no service principal)` });
    expect(r.fix).toBe(`${id(1)}: the tenant's admin has not consented (or revoked it): send them the consent URL, \`npm run tenants -- consent-url ${id(1)}\`.`);
    // Onboarding for long without an error is waiting on nothing the relay can name.
    expect((await run([tenant(1, { state: 'onboarding', addedAt: inDays(-1) })])).status).toBe('ok');
  });

  it("fails when a served tenant holds 9,500 of Teams' 10,000 subscriptions, not one removed", async () => {
    expect((await run([tenant(1, { quotaUsed: 9_499 }), tenant(2, { state: 'removed', quotaUsed: 9_900 })])).status).toBe('ok');
    const r = await run([tenant(1, { quotaUsed: 9_500 }), tenant(2, { state: 'degraded', lastErrorCode: 'quota', quotaUsed: 10_000 })]);
    expect(r).toMatchObject({ status: 'fail', message: `near Teams' 10,000 subscriptions per tenant: ${id(1)} holds 9,500; ${id(2)} holds 10,000` });
    expect(r.fix).toMatch(/Limit the entries applied to the tenant/);
  });

  it('names at most five tenants, then how many more', async () => {
    const r = await run([1, 2, 3, 4, 5, 6, 7].map((n) => tenant(n, { state: 'degraded', lastErrorCode: 'subscriptions_failed', lastError: 'Graph answered 500' })));
    expect(r.message).toMatch(new RegExp(`${id(5)}: subscriptions_failed, Graph answered 500 and 2 more$`));
    expect(r.message).not.toContain(id(6));
    // One fix for a cause named for several tenants is given per tenant, the five named.
    expect(r.fix?.match(/npm run subscriptions -- status/g)).toHaveLength(5);
  });

  it('throws when the registry does not answer (status names storage)', async () => {
    const down = tenantsCheck({
      tenants: new TenantDirectory({
        configured: [HOME],
        registry: {
          list: async () => {
            throw new Error('connect ECONNREFUSED 127.0.0.1:10002');
          },
        },
      }),
    });
    await expect(down.run(NOW)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('the validation tokens check', () => {
  it('fails when notifications with resource data arrived without validationTokens lately, saying since when, the tenant setting to change and the read-back', async () => {
    let since: Date | undefined;
    const counters = (n: number): Record<string, number> => (n ? { 'rejected.validation_token_missing': n } : {});
    const read =
      (n: number) =>
      async (s: Date): Promise<MetricTotals> => {
        since = s;
        const hours = [
          { hour: '2026-12-07T10:00:00.000Z', counters: {}, histograms: {} },
          { hour: '2026-12-07T11:00:00.000Z', counters: counters(n), histograms: {} },
        ];
        return { counters: counters(n), histograms: {}, hours, lastRouted: {} };
      };
    expect((await validationTokensCheck({ read: read(0) }).run(NOW)).status).toBe('ok');
    expect(since?.toISOString()).toBe('2026-12-07T10:00:00.000Z');
    const r = await validationTokensCheck({ read: read(3) }, ['tenant-1']).run(NOW);
    expect(r).toMatchObject({ status: 'fail', message: '3 notifications with resource data arrived without validationTokens since 2026-12-07T11:00:00.000Z and were refused' });
    expect(r.fix).toMatch(/Change Tracking principal \(app id 0bf30f3b-4a52-48df-9a82-234910c4a086\)/);
    expect(r.fix).toMatch(/In tenant tenant-1's Entra admin center .* set "Assignment required\?" to No/);
    // Answered 202, they are not sent again: the fix says how to read the span back.
    expect(r.fix).toMatch(/npm run backfill -- --since 2026-12-07T11:00:00.000Z/);
  });

  it('names the tenants they came from when the receive path counted them per tenant', async () => {
    const counters = { 'rejected.validation_token_missing': 5, 'tokens_missing.bbbb0000-0000-4000-8000-00000000000b': 4, 'tokens_missing.cccc0000-0000-4000-8000-00000000000c': 1 };
    const hours = [{ hour: '2026-12-07T11:00:00.000Z', counters, histograms: {} }];
    const r = await validationTokensCheck({ read: async () => ({ counters, histograms: {}, hours, lastRouted: {} }) }, ['aaaa0000-0000-4000-8000-00000000000a']).run(NOW);
    expect(r.message).toContain('(from bbbb0000-0000-4000-8000-00000000000b, cccc0000-0000-4000-8000-00000000000c)');
    expect(r.fix).toMatch(/In each of tenants bbbb0000-0000-4000-8000-00000000000b, cccc0000-0000-4000-8000-00000000000c's Entra admin center/);
  });
});

describe('the Graph permissions check', () => {
  const base = { desired: EXAMPLE, graphBaseUrl: new URL('https://graph.microsoft.com') };
  it('fails naming what to grant when the token lacks a permission, and passes with every one', async () => {
    const lacking = await graphPermissionsCheck({ ...base, auth: { mode: 'clientsecret', secret: 's' }, credential: tokenWith({ idtyp: 'app', roles: ['Chat.Read.All'] }) }).run(NOW);
    expect(lacking.status).toBe('fail');
    expect(lacking.fix).toMatch(/Grant .*ChannelMessage\.Read\.All/);
    // One application permission for each need, as an admin would grant them.
    const all = requiredPermissions(EXAMPLE, { backfill: true }).flatMap((n) => n.anyOf.filter((p) => !isResourceSpecific(p)).slice(0, 1));
    const full = await graphPermissionsCheck({ ...base, auth: { mode: 'clientsecret', secret: 's' }, credential: tokenWith({ idtyp: 'app', roles: all }) }).run(NOW);
    expect(full.status, full.message).not.toBe('fail');
  });
  it("is skipped with the simulator's unsigned token", async () => {
    expect((await graphPermissionsCheck({ ...base, auth: { mode: 'simulator' }, credential: tokenWith({}) }).run(NOW)).status).toBe('skipped');
  });
});

describe('the silent subscriptions check', () => {
  const run = (records: SubscriptionRecord[], deliveries: Record<string, string>) =>
    silentSubscriptionsCheck({
      desired: fixedDesiredSubscriptions(desired),
      records: { list: async () => records },
      deliveries: { lastDeliveries: async () => new Map(Object.entries(deliveries)) },
      silentHours: 24,
    }).run(NOW);
  it('warns of a subscription silent for longer than the setting while a sibling of its kind delivers, counting from its subscription when it never delivered', async () => {
    const r = await run([record('all-chats'), record('chat-messages'), record('one-chat-messages', { subscribedAt: inDays(-3) })], { 'sub-chat-messages': inDays(-0.01) });
    expect(r).toMatchObject({ status: 'warn', message: expect.stringMatching(/one-chat-messages \(chatMessage, since 2026-12-04/) });
    // all-chats (kind chat) is as silent, but no chat subscription delivers: nothing to compare it with.
    expect(r.message).not.toMatch(/all-chats/);
    const lately = await run([record('chat-messages'), record('one-chat-messages', { subscribedAt: inDays(-0.5) })], { 'sub-chat-messages': inDays(-0.01) });
    expect(lately.status).toBe('ok');
  });
  it('is quiet when no sibling of the kind delivers either (nothing to compare with)', async () => {
    expect((await run([record('chat-messages'), record('one-chat-messages')], { 'sub-chat-messages': inDays(-3) })).status).toBe('ok');
    expect((await run([record('all-chats'), record('chat-messages', { subscribedAt: inDays(-3) })], { 'sub-all-chats': inDays(-0.01) })).status).toBe('ok');
  });
});

describe('the backfill gaps check', () => {
  const gap = (openedMinutesAgo: number): Gap => ({
    id: 'g',
    name: 'all-chats',
    from: inDays(-1),
    to: inDays(-0.9),
    reason: 'downtime',
    status: 'filling',
    openedAt: new Date(NOW.getTime() - openedMinutesAgo * 60_000).toISOString(),
  });
  it('warns of a gap open longer than the setting and reports the oldest age', async () => {
    const late = await backfillGapsCheck({ gaps: { list: async () => [gap(30), gap(200)] }, openMinutes: 120 }).run(NOW);
    expect(late).toMatchObject({ status: 'warn', gauges: [{ name: 'relay.backfill.oldest_open_gap_seconds', value: 12_000 }] });
    const fine = await backfillGapsCheck({ gaps: { list: async () => [gap(30)] }, openMinutes: 120 }).run(NOW);
    expect(fine).toMatchObject({ status: 'ok', message: '1 gap being filled, none open over 120 min' });
  });
});

describe('the health checker', () => {
  it('runs every check on its own (one throwing or hanging is a warning), sets gauges, saves the results and logs what is not ok', async () => {
    const gauges: [GaugeName, number, Readonly<Record<string, string>> | undefined][] = [];
    let saved: readonly SelfCheckStatus[] = [];
    const logger = createRecordingLogger();
    const checker = new HealthChecker({
      checks: [
        {
          name: 'encryption_certificate',
          run: async () => ({ status: 'ok', message: 'fine', gauges: [{ name: 'relay.credential.days_left', value: 90, attributes: { credential: 'encryption_certificate' } }] }),
        },
        {
          name: 'graph_credential',
          run: async () => {
            throw new Error('Key Vault did not answer');
          },
        },
        { name: 'graph_permissions', run: () => new Promise(() => undefined) },
        { name: 'subscriptions', run: async () => ({ status: 'fail', message: 'no subscription in Graph for all-chats' }) },
      ],
      store: { save: async (r) => void (saved = r) },
      gauges: { set: (name, value, attributes) => void gauges.push([name, value, attributes]) },
      queues: [
        { name: 'in', role: 'incoming' },
        { name: 'dead', role: 'dead-letter' },
      ],
      oldestMessageAge: async (name) => (name === 'in' ? 30 : 0),
      messageCount: async () => 4,
      deadLetterQueue: 'dead',
      queueAgeMinutes: 10,
      checkTimeoutMs: 50,
      now: () => NOW,
    });
    const { results, health } = await checker.run(logger);
    expect(results.map((r) => [r.check, r.status])).toEqual([
      ['encryption_certificate', 'ok'],
      ['graph_credential', 'warn'],
      ['graph_permissions', 'warn'],
      ['subscriptions', 'fail'],
    ]);
    expect(results[1]?.message).toMatch(/could not run: Key Vault did not answer/);
    expect(results[2]?.message).toMatch(/no answer within 50 ms/);
    expect(saved).toEqual(results);
    expect(health.verdict).toBe('failing');
    expect(gauges).toEqual(
      expect.arrayContaining([
        ['relay.credential.days_left', 90, { credential: 'encryption_certificate' }],
        ['relay.health.check', 2, { check: 'subscriptions' }],
        ['relay.health.check', 0, { check: 'encryption_certificate' }],
        ['relay.queue.oldest_message_age_seconds', 30, { queue: 'in', role: 'incoming' }],
        ['relay.dead_letters.waiting', 4, undefined],
        ['relay.health.verdict', 2, undefined],
      ]),
    );
    expect(logger.lines.filter((l) => l.event === 'health.check_failed').map((l) => l.fields.check)).toEqual(['subscriptions']);
    expect(logger.lines.filter((l) => l.event === 'health.check_warned')).toHaveLength(2);
  });
});
