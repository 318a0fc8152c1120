import type { SubscriptionRecord } from '../../subscriptions/subscription-records.js';
import { ok, warn, type SelfCheck } from '../self-check.js';

export interface SilentSubscriptionsSources {
  readonly desired: readonly { readonly name: string }[];
  readonly records: { list(): Promise<readonly SubscriptionRecord[]> };
  readonly deliveries: { lastDeliveries(): Promise<ReadonlyMap<string, string>> };
  /** HEALTH_SILENT_SUBSCRIPTION_HOURS */
  readonly silentHours: number;
}

/**
 * A desired subscription silent (no delivery since its last one, or since it was subscribed) for longer than
 * `silentHours` while a sibling delivered within that time: Graph holds it, yet nothing arrives — a
 * notification URL Graph gave up on, a tenant setting, a resource no one uses any more.
 */
export function silentSubscriptionsCheck(s: SilentSubscriptionsSources): SelfCheck {
  return {
    name: 'silent_subscriptions',
    run: async (now) => {
      const windowMs = s.silentHours * 3_600_000;
      const [records, deliveries] = await Promise.all([s.records.list(), s.deliveries.lastDeliveries()]);
      const desired = new Set(s.desired.map((d) => d.name));
      const live = records.filter((r) => desired.has(r.name) && r.subscriptionId);
      const quietSince = (r: SubscriptionRecord) => Date.parse((r.subscriptionId && deliveries.get(r.subscriptionId)) || r.subscribedAt || '');
      const recent = (r: SubscriptionRecord) => now.getTime() - quietSince(r) <= windowMs;
      const delivering = live.filter((r) => r.subscriptionId && deliveries.has(r.subscriptionId) && recent(r));
      if (delivering.length === 0) return ok(`no subscription delivered in the last ${s.silentHours} h: nothing to compare with`);
      const silent = live.filter((r) => Number.isFinite(quietSince(r)) && !recent(r));
      if (silent.length === 0) return ok(`no subscription silent for over ${s.silentHours} h while others deliver`);
      return warn(
        `silent for over ${s.silentHours} h while ${delivering.length} other${delivering.length === 1 ? '' : 's'} deliver: ${silent.map((r) => `${r.name} (since ${new Date(quietSince(r)).toISOString()})`).join(', ')}`,
        'Check its resource still has activity; `npm run subscriptions -- check-endpoints` and the validation_tokens check; recreate it with `npm run subscriptions -- delete <id>` then `sync` if Graph holds it but sends nothing.',
      );
    },
  };
}
