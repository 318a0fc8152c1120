import { describe, expect, it } from 'vitest';
import { DESIRED } from '../../dev/chaos/chaos-config.js';
import type { FoundEvent } from '../../dev/chaos/ledger.js';
import { desiredAt } from '../../dev/chaos/run-tenants.js';
import { compareTenantLedgers } from '../../dev/chaos/tenant-ledger.js';
import type { RecordedChange } from '../../dev/graph-simulator/change-log.js';

const HOME = 'aaaa0000-0000-4000-8000-00000000000a';
const OTHER = 'bbbb0000-0000-4000-8000-00000000000b';
const MA = "chats('19:a@thread.v2')/messages('1')";
const MB = "chats('19:b@thread.v2')/messages('1')";

let seq = 0;
const change = (tenantId: string, resource: string, version: string, wallMs: number): RecordedChange => ({
  seq: ++seq,
  kind: 'chatMessage',
  tenantId,
  changeType: 'created',
  resource,
  version,
  at: new Date(wallMs).toISOString(),
  wallMs,
});
const event = (tenantId: string | undefined, subject: string, version: string, timeMs: number): FoundEvent => ({
  ...(tenantId ? { tenantId } : {}),
  subject,
  changeType: 'created',
  kind: 'chatMessage',
  version,
  timeMs,
  backfilled: false,
});

describe('the ledger of a run in two tenants', () => {
  const changes = [change(HOME, MA, '100', 100), change(OTHER, MB, '200', 200), change(OTHER, MB.replace("'1'", "'2'"), '300', 300)];

  it("counts a change delivered only when it reached downstream with its own tenant's tenantid, per tenant and in all", () => {
    const r = compareTenantLedgers({
      tenants: [HOME, OTHER],
      changes,
      events: [event(HOME, MA, '100', 100), event(OTHER.toUpperCase(), MB, '200', 200), event(OTHER, MB, '200', 201), event(HOME, MB.replace("'1'", "'2'"), '300', 300)],
      deadLettered: [],
      gaps: [],
    });
    expect(r).toMatchObject({ changes: 3, delivered: 2, lost: 1, duplicates: 1, unmatchedEvents: 1 });
    expect(r.lostSamples.map((c) => [c.tenantId, c.version])).toEqual([[OTHER, '300']]);
    expect(r.tenants).toEqual([
      expect.objectContaining({ tenantId: HOME, events: 2, changes: 1, delivered: 1, lost: 0, unmatchedEvents: 1 }),
      expect.objectContaining({ tenantId: OTHER, events: 2, changes: 2, delivered: 1, lost: 1, duplicates: 1 }),
    ]);
  });

  it("excuses a change only by a gap of its own tenant's subscription; what carries no tenant is the home tenant's", () => {
    const superseded = [change(OTHER, MB, '200', 200), change(OTHER, MB, '250', 250)];
    const events = [event(OTHER, MB, '250', 260)];
    const inGap = (tenantId: string) =>
      compareTenantLedgers({ tenants: [HOME, OTHER], changes: superseded, events, deadLettered: [], gaps: [{ tenantId, kinds: ['chatMessage'], fromMs: 0, toMs: 1000 }] });
    expect(inGap(OTHER)).toMatchObject({ superseded: 1, lost: 0 });
    expect(inGap(HOME)).toMatchObject({ superseded: 0, lost: 1 });
    expect(compareTenantLedgers({ tenants: [HOME], changes: [change(HOME, MA, '100', 100)], events: [event(undefined, MA, '100', 100)], deadLettered: [], gaps: [] })).toMatchObject({
      delivered: 1,
      lost: 0,
    });
    // An event of a tenant the run does not hold matches nothing.
    expect(compareTenantLedgers({ tenants: [HOME], changes: [], events: [event(OTHER, MB, '200', 200)], deadLettered: [], gaps: [] }).unmatchedEvents).toBe(1);
  });
});

describe("a fault's subscription index with two tenants", () => {
  it("counts the home tenant's desired subscriptions, then the other's, named as the app names them there", () => {
    const tenants = { home: HOME, ids: [HOME, OTHER] };
    expect(desiredAt(0, tenants)).toEqual({ tenantId: HOME, resource: DESIRED[0]!.resource, name: DESIRED[0]!.name });
    expect(desiredAt(DESIRED.length + 1, tenants)).toEqual({ tenantId: OTHER, resource: DESIRED[1]!.resource, name: `${DESIRED[1]!.name}@${OTHER}` });
    expect(desiredAt(2 * DESIRED.length - 1, tenants).tenantId).toBe(OTHER);
  });
});
