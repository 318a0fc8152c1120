import type { RecordedChange } from '../graph-simulator/change-log.js';
import { compareLedger, type FoundEvent, type GapWindow, type LedgerResult } from './ledger.js';

/** One tenant's share of the ledger: its changes against the events that carry its `tenantid`. */
export interface TenantLedger extends Omit<LedgerResult, 'lostSamples' | 'supersededByKind'> {
  readonly tenantId: string;
  /** Downstream events carrying this tenant's `tenantid`. */
  readonly events: number;
}

export interface TenantsLedgerResult extends LedgerResult {
  /** Each of the run's tenants, in the run's order. */
  readonly tenants: readonly TenantLedger[];
}

/**
 * The ledger of a run in several tenants: each tenant's changes (the simulator records where each happened)
 * compared with the events and dead letters of that tenant and the gaps of its subscriptions only, so that a
 * change counts as delivered only when it reached downstream with its own tenant's `tenantid`. What carries no
 * tenant counts as the first (home) tenant's; an event of a tenant not in `tenants` matches no change. The
 * totals are the sums.
 */
export function compareTenantLedgers(input: {
  /** The run's tenants, the home tenant first. */
  readonly tenants: readonly string[];
  readonly changes: readonly RecordedChange[];
  readonly events: readonly FoundEvent[];
  readonly deadLettered: readonly Omit<FoundEvent, 'timeMs' | 'backfilled'>[];
  readonly gaps: readonly GapWindow[];
}): TenantsLedgerResult {
  const ids = input.tenants.map((t) => t.toLowerCase());
  const tenantOf = (x: { readonly tenantId?: string }) => (x.tenantId ?? ids[0] ?? '').toLowerCase();
  const perTenant = ids.map((tenantId) => {
    const mine = <T extends { readonly tenantId?: string }>(xs: readonly T[]) => xs.filter((x) => tenantOf(x) === tenantId);
    const events = mine(input.events);
    const result = compareLedger({ changes: mine(input.changes), events, deadLettered: mine(input.deadLettered), gaps: mine(input.gaps) });
    return { tenantId, events: events.length, result };
  });
  const foreignEvents = input.events.filter((e) => !ids.includes(tenantOf(e))).length;
  const sum = (field: 'changes' | 'delivered' | 'superseded' | 'deadLettered' | 'lost' | 'duplicates' | 'excluded' | 'unmatchedEvents') => perTenant.reduce((n, t) => n + t.result[field], 0);
  const supersededByKind: Record<string, number> = {};
  for (const { result } of perTenant) for (const [kind, n] of Object.entries(result.supersededByKind)) supersededByKind[kind] = (supersededByKind[kind] ?? 0) + n;
  return {
    changes: sum('changes'),
    delivered: sum('delivered'),
    superseded: sum('superseded'),
    supersededByKind,
    deadLettered: sum('deadLettered'),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    excluded: sum('excluded'),
    unmatchedEvents: sum('unmatchedEvents') + foreignEvents,
    lostSamples: perTenant.flatMap((t) => t.result.lostSamples).slice(0, 20),
    tenants: perTenant.map(({ tenantId, events, result }) => ({
      tenantId,
      events,
      changes: result.changes,
      delivered: result.delivered,
      superseded: result.superseded,
      deadLettered: result.deadLettered,
      lost: result.lost,
      duplicates: result.duplicates,
      excluded: result.excluded,
      unmatchedEvents: result.unmatchedEvents,
    })),
  };
}
