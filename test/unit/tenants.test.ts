import { describe, expect, it } from 'vitest';
import { TenantReadShares } from '../../shared/backfill/tenant-read-shares.js';
import { GraphRequestError } from '../../shared/graph/graph-request-error.js';
import { parseDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { splitTenantEntryName, TenantDesiredSubscriptions, tenantEntryName } from '../../shared/subscriptions/tenant-desired-subscriptions.js';
import { TenantDirectory } from '../../shared/tenants/tenant-directory.js';
import { tenantFailureOf } from '../../shared/tenants/tenant-problem.js';
import type { TenantRecord, TenantState } from '../../shared/tenants/tenant-registry.js';

const HOME = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';

const record = (tenantId: string, state: TenantState): TenantRecord => ({ tenantId, state, addedAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z' });

/** A registry whose rows the test changes, counting its reads. */
function registryOf(rows: TenantRecord[]) {
  const registry = {
    rows,
    reads: 0,
    failing: false,
    list: async () => {
      registry.reads++;
      if (registry.failing) throw new Error('storage is down');
      return registry.rows;
    },
  };
  return registry;
}

describe('TenantDirectory', () => {
  it('serves GRAPH_TENANT_IDS alone without a registry (a single-tenant deployment), the first being home', async () => {
    const tenants = new TenantDirectory({ configured: [HOME.toUpperCase(), B] });
    expect(tenants.home).toBe(HOME);
    expect(tenants.served).toEqual([HOME, B]);
    expect(await tenants.serves(C)).toBe(false);
  });

  it("serves the registry's onboarding, active and degraded tenants, not its offboarding or removed ones, even when configured", async () => {
    const registry = registryOf([record(B, 'onboarding'), record(C, 'degraded'), record(HOME, 'removed'), record('dddddddd-0000-4000-8000-000000000004', 'offboarding')]);
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => 0 });
    await tenants.refresh();
    expect([...tenants.served].sort()).toEqual([B, C].sort());
    expect(tenants.has(HOME)).toBe(false);
  });

  it('reads the registry again for a tenant it does not know, after the miss: misses meanwhile share one read', async () => {
    const registry = registryOf([]);
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => 0 });
    expect(await tenants.serves(B)).toBe(false);
    expect(registry.reads).toBe(1);
    // Onboarded a moment later: the next notification of B is served, whatever the age of the last read.
    registry.rows = [record(B, 'active')];
    expect(await tenants.serves(B)).toBe(true);
    expect(registry.reads).toBe(2);
    // Three forged tenants at once: the first starts a read, the two that came while it ran share the next.
    expect(await Promise.all([C, C, 'dddddddd-0000-4000-8000-000000000004'].map((t) => tenants.serves(t)))).toEqual([false, false, false]);
    expect(registry.reads).toBe(4);
  });

  it('does not answer a miss with a read that started before it: the registry may have been written in between', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let rows: TenantRecord[] = [];
    let reads = 0;
    const registry = {
      list: async () => {
        reads++;
        const seen = rows;
        if (reads === 1) await gate;
        return seen;
      },
    };
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => 0 });
    const early = tenants.refresh({ force: true }); // under way, sees no row
    rows = [record(B, 'onboarding')];
    const served = tenants.serves(B);
    release();
    await early;
    expect(await served).toBe(true);
    expect(reads).toBe(2);
  });

  it('reads again on refresh once the last read is 30 s old, and a removed tenant stops being served', async () => {
    let now = 0;
    const registry = registryOf([record(B, 'active')]);
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => now });
    await tenants.refresh();
    expect(tenants.has(B)).toBe(true);
    registry.rows = [record(B, 'removed')];
    now = 29_000;
    await tenants.refresh();
    expect(tenants.has(B)).toBe(true);
    now = 30_000;
    await tenants.refresh();
    expect(tenants.has(B)).toBe(false);
  });

  it('throws when the registry cannot be read for an unknown tenant (the receiver answers 503), keeping what it knew', async () => {
    const registry = registryOf([record(B, 'active')]);
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => 10_000 });
    await tenants.refresh({ force: true });
    registry.failing = true;
    await expect(tenants.serves(C)).rejects.toThrow('storage is down');
    expect(tenants.has(B)).toBe(true);
  });
});

describe('the desired subscriptions of each tenant', () => {
  const entries = parseDesiredSubscriptions({
    subscriptions: [
      { name: 'all-messages', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'] },
      { name: 'b-members', resource: '/chats/getAllMembers?model=B', changeTypes: ['created', 'deleted'], tenants: [B.toUpperCase()] },
    ],
  });

  it('names a tenant entry as the file does in the home tenant and <name>@<tenant> in any other, and back', () => {
    expect(tenantEntryName('all-messages', HOME, HOME)).toBe('all-messages');
    expect(tenantEntryName('all-messages', B.toUpperCase(), HOME)).toBe(`all-messages@${B}`);
    expect(splitTenantEntryName(`all-messages@${B}`)).toEqual({ entryName: 'all-messages', tenantId: B });
    expect(splitTenantEntryName('all-messages')).toEqual({ entryName: 'all-messages' });
  });

  it('applies an entry to every served tenant unless it names its tenants', async () => {
    const registry = registryOf([record(B, 'active'), record(C, 'active')]);
    const tenants = new TenantDirectory({ configured: [HOME], registry, now: () => 0 });
    const desired = new TenantDesiredSubscriptions(entries, tenants);
    await desired.refresh();
    expect(desired.all.map((d) => [d.name, d.tenantId])).toEqual([
      ['all-messages', HOME],
      [`all-messages@${B}`, B],
      [`b-members@${B}`, B],
      [`all-messages@${C}`, C],
    ]);
    expect(desired.byName(`b-members@${B}`)?.entryName).toBe('b-members');
    expect(desired.byName(`b-members@${C}`)).toBeUndefined();
    expect(desired.byName('all-messages')?.tenantId).toBe(HOME);
  });

  it('refuses a tenants entry that is not a tenant id', () => {
    expect(() => parseDesiredSubscriptions({ subscriptions: [{ name: 'x', resource: '/chats/getAllMessages?model=B', changeTypes: ['created'], tenants: ['contoso'] }] })).toThrow(
      /must be a tenant id/,
    );
  });
});

describe('TenantReadShares', () => {
  it('gives a tenant alone the whole budget, and two tenants half each: one far ahead never delays the other', () => {
    let now = 0;
    const shares = new TenantReadShares(10, () => now);
    // Tenant B alone: one read every 100 ms.
    expect([shares.reserve(B), shares.reserve(B), shares.reserve(B)]).toEqual([0, 100, 200]);
    // B books up to 5 s ahead (its large gap) and then puts its pieces back.
    while (shares.reserve(B, 5000) <= 5000);
    // C arrives: its first read is now, and its next one 200 ms later (two tenants share 10 reads/s).
    expect(shares.reserve(C, 5000)).toBe(0);
    expect(shares.reserve(C, 5000)).toBe(200);
    expect(shares.activeTenants()).toBe(2);
    // Ten seconds on, B stopped reading: C has the whole budget again.
    now = 20_000;
    expect(shares.reserve(C)).toBe(0);
    expect(shares.reserve(C)).toBe(100);
  });
});

describe('tenantFailureOf', () => {
  it('names no consent (Entra, or a Graph 401), protected-API access, a quota and a missing permission', () => {
    expect(tenantFailureOf(new Error('AADSTS7000229: The client application is missing service principal in the tenant'), 'token')).toMatchObject({ code: 'no_consent', consentMissing: true });
    expect(tenantFailureOf(new GraphRequestError(401, 'InvalidAuthenticationToken', 'Either scp or roles claim need to be present in the token.'), 'subscriptions')).toMatchObject({
      code: 'no_consent',
      consentMissing: true,
    });
    // Any other 401 (an expired token, a skewed clock) says nothing of consent: never a reason to offboard.
    expect(tenantFailureOf(new GraphRequestError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.'), 'subscriptions')).toMatchObject({
      code: 'subscriptions_failed',
      consentMissing: false,
    });
    expect(tenantFailureOf(new GraphRequestError(403, 'Forbidden', 'This API requires protected API access'), 'subscriptions').code).toBe('protected_api');
    expect(tenantFailureOf(new GraphRequestError(403, 'Forbidden', 'The maximum number of subscriptions has been reached'), 'subscriptions').code).toBe('quota');
    expect(tenantFailureOf(new GraphRequestError(403, 'Forbidden', "one of ('ChannelMessage.Read.All') is missing"), 'subscriptions')).toMatchObject({
      code: 'missing_permission',
      consentMissing: false,
    });
    expect(tenantFailureOf(new Error('socket hang up'), 'token').code).toBe('token_failed');
  });
});
