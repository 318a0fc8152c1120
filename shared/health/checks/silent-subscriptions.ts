import type { SubscriptionRecord } from '../../subscriptions/subscription-records.js';
import { ok, warn, type SelfCheck } from '../self-check.js';

export interface SilentSubscriptionsSources {
  /** Each desired subscription of every served tenant (`all`, after `refresh`) with the Teams kind its resource delivers (`chat`, `chatMessage`, …). */
  readonly desired: { readonly all: readonly { readonly name: string; readonly catalog: { readonly kind: string } }[]; refresh(): Promise<void> };
  readonly records: { list(): Promise<readonly SubscriptionRecord[]> };
  readonly deliveries: { lastDeliveries(): Promise<ReadonlyMap<string, string>> };
  /** HEALTH_SILENT_SUBSCRIPTION_HOURS */
  readonly silentHours: number;
}

/**
 * A desired subscription silent (no delivery since its last one, or since it was subscribed) for longer than
 * `silentHours` while a sibling of the same kind (another chat-message subscription for a chat-message one)
 * delivered within that time: Graph holds it, yet nothing arrives — a notification URL Graph gave up on, a
 * tenant setting, a resource no one uses any more. Kinds are compared with their own: a chat's rare renames
 * say nothing against busy messages.
 */
export function silentSubscriptionsCheck(s: SilentSubscriptionsSources): SelfCheck {
  return {
    name: 'silent_subscriptions',
    run: async (now) => {
      const windowMs = s.silentHours * 3_600_000;
      const [records, deliveries] = await Promise.all([s.records.list(), s.deliveries.lastDeliveries(), s.desired.refresh()]);
      const kindOf = new Map(s.desired.all.map((d) => [d.name, d.catalog.kind]));
      const live = records.filter((r) => kindOf.has(r.name) && r.subscriptionId);
      const quietSince = (r: SubscriptionRecord) => Date.parse((r.subscriptionId && deliveries.get(r.subscriptionId)) || r.subscribedAt || '');
      const recent = (r: SubscriptionRecord) => now.getTime() - quietSince(r) <= windowMs;
      const delivering = live.filter((r) => r.subscriptionId && deliveries.has(r.subscriptionId) && recent(r));
      if (delivering.length === 0) return ok(`no subscription delivered in the last ${s.silentHours} h: nothing to compare with`);
      const kinds = new Set(delivering.map((r) => kindOf.get(r.name)));
      const silent = live.filter((r) => kinds.has(kindOf.get(r.name)) && Number.isFinite(quietSince(r)) && !recent(r));
      if (silent.length === 0) return ok(`no subscription silent for over ${s.silentHours} h while others of its kind deliver`);
      const named = silent.slice(0, 5).map((r) => `${r.name} (${kindOf.get(r.name) ?? '?'}, since ${new Date(quietSince(r)).toISOString()})`);
      return warn(
        `silent for over ${s.silentHours} h while others of the same kind deliver: ${named.join(', ')}${silent.length > 5 ? ` and ${silent.length - 5} more` : ''}`,
        'Check its resource still has activity; `npm run subscriptions -- check-endpoints` and the validation_tokens check; recreate it with `npm run subscriptions -- delete <id>` then `sync` if Graph holds it but sends nothing.',
      );
    },
  };
}
