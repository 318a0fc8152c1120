import { describe, expect, it } from 'vitest';
import { adminConsentUrl } from '../../shared/tenants/admin-consent-url.js';
import { problemText, quotaText, tenantOverview } from '../../shared/tenants/tenant-overview.js';
import { tenantRecordNames } from '../../shared/tenants/tenant-purge.js';
import type { TenantRecord } from '../../shared/tenants/tenant-registry.js';

const B = 'bbbb0000-0000-4000-8000-00000000000b';
const record = (over: Partial<TenantRecord> = {}): TenantRecord => ({ tenantId: B, state: 'active', addedAt: '2026-12-01T00:00:00Z', updatedAt: '2026-12-01T00:00:00Z', ...over });

describe('a tenant as tenants list shows it', () => {
  const names = [`chats@${B}`, `members@${B}`, `messages@${B}`];
  const records = new Map([
    [`chats@${B}`, { subscriptionId: 's1' }],
    [`members@${B}`, { subscriptionId: 's2' }],
    [`messages@${B}`, {}],
    ['chats', { subscriptionId: 'home' }],
  ]);
  const deliveries = new Map([
    ['s1', '2026-12-01T10:00:00.000Z'],
    ['s2', '2026-12-02T09:00:00.000Z'],
    ['home', '2026-12-03T00:00:00.000Z'],
  ]);

  it("counts its entries holding a subscription and takes the latest delivery among them, never another tenant's", () => {
    expect(tenantOverview(record(), names, records, deliveries)).toMatchObject({ subscriptions: 2, lastDelivery: '2026-12-02T09:00:00.000Z' });
  });

  it('counts none once removed (its subscriptions were deleted), its last delivery kept; no delivery: none shown', () => {
    expect(tenantOverview(record({ state: 'removed' }), names, records, deliveries)).toMatchObject({ subscriptions: 0, lastDelivery: '2026-12-02T09:00:00.000Z' });
    expect(tenantOverview(record(), names, records, new Map())).not.toHaveProperty('lastDelivery');
  });

  it('shows the quota used against 10,000, and the problem: the error code and message, else the permissions missing', () => {
    expect(quotaText(record({ quotaUsed: 42 }))).toBe('42 / 10000');
    expect(quotaText(record())).toBe('? / 10000');
    expect(problemText(record({ lastErrorCode: 'no_consent', lastError: 'no service principal' }))).toBe('no_consent: no service principal');
    expect(problemText(record({ missingPermissions: 'Chat.Read.All' }))).toBe('missing Chat.Read.All');
    expect(problemText(record())).toBeUndefined();
  });
});

describe('adminConsentUrl', () => {
  it("is the public cloud's admin consent endpoint for the tenant and the app, or the AZURE_AUTHORITY_HOST's", () => {
    expect(adminConsentUrl(B.toUpperCase(), 'c0ffee00-0000-4000-8000-000000000001')).toBe(`https://login.microsoftonline.com/${B}/adminconsent?client_id=c0ffee00-0000-4000-8000-000000000001`);
    expect(adminConsentUrl(B, 'app', new URL('https://login.microsoftonline.us/'))).toBe(`https://login.microsoftonline.us/${B}/adminconsent?client_id=app`);
  });
});

describe("a tenant's entry names for the purge", () => {
  it("are its desired entries' and its records' named @tenant (an entry since dropped from the file), never the home tenant's or another's", () => {
    const C = 'cccc0000-0000-4000-8000-00000000000c';
    expect(tenantRecordNames(B, [`chats@${B}`], ['chats', `chats@${B}`, `old@${B.toUpperCase()}`, `chats@${C}`])).toEqual([`chats@${B}`, `old@${B.toUpperCase()}`]);
  });
});
