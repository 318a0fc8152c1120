import type { SubscriptionRecord } from '../subscriptions/subscription-records.js';
import type { TenantRecord } from './tenant-registry.js';

/** Teams change notification subscriptions Graph allows in one tenant, every app's together. */
export const TEAMS_SUBSCRIPTIONS_PER_TENANT = 10_000;

/** A tenant as `tenants list` shows it: its registry record, how many of its entries hold a subscription, and its last delivery. */
export type TenantOverview = TenantRecord & {
  /** Its desired entries whose record holds a subscription id (0 once removed: its subscriptions were deleted). */
  readonly subscriptions: number;
  /** The latest delivery noted for any of those subscriptions (ISO), if any. */
  readonly lastDelivery?: string;
};

/**
 * A tenant's overview from its record, the names of its desired entries (`<name>` in the home tenant,
 * `<name>@<tenant id>` elsewhere), the subscription records by name and the last delivery by subscription id.
 */
export function tenantOverview(
  record: TenantRecord,
  entryNames: readonly string[],
  records: ReadonlyMap<string, Pick<SubscriptionRecord, 'subscriptionId'>>,
  deliveries: ReadonlyMap<string, string>,
): TenantOverview {
  const ids = entryNames.flatMap((n) => records.get(n)?.subscriptionId ?? []);
  const lastDelivery = ids
    .flatMap((id) => deliveries.get(id) ?? [])
    .sort()
    .at(-1);
  return { ...record, subscriptions: record.state === 'removed' ? 0 : ids.length, ...(lastDelivery ? { lastDelivery } : {}) };
}

/** The quota column: the app's Teams subscriptions in the tenant at the last reconcile, against the tenant's limit. */
export const quotaText = (record: Pick<TenantRecord, 'quotaUsed'>) => `${record.quotaUsed ?? '?'} / ${TEAMS_SUBSCRIPTIONS_PER_TENANT}`;

/** The problem column: the last error's code and message, or the permissions missing. */
export const problemText = (record: Pick<TenantRecord, 'lastErrorCode' | 'lastError' | 'missingPermissions'>) =>
  record.lastErrorCode ? `${record.lastErrorCode}: ${record.lastError ?? ''}`.trim() : record.missingPermissions ? `missing ${record.missingPermissions}` : undefined;
