import type { DesiredSubscription } from '../../subscriptions/desired-subscriptions.js';
import type { SubscriptionRecord } from '../../subscriptions/subscription-records.js';
import { maskSecrets } from '../../util/mask-secrets.js';
import { fail, ok, warn, type SelfCheck } from '../self-check.js';

export interface SubscriptionsCheckSources {
  readonly desired: readonly DesiredSubscription[];
  readonly records: { list(): Promise<readonly SubscriptionRecord[]> };
  /** RENEW_WITHIN_MINUTES: the reconciler renews a subscription within min(this, its lifetime / 2) of its expiry. */
  readonly renewWithinMinutes: number;
}

const MINUTE = 60_000;
const SYNC_FIX = 'Run `npm run subscriptions -- status` for the error, fix its cause, then `npm run subscriptions -- sync`.';

/**
 * Every desired subscription exists in Graph and is renewed on schedule: one missing or expired fails; one
 * left with under half its renewal window (two renewals missed at least) warns, as does the reconciler's
 * last run failing for it.
 */
export function subscriptionsCheck(s: SubscriptionsCheckSources): SelfCheck {
  return {
    name: 'subscriptions',
    run: async (now) => {
      if (s.desired.length === 0) return ok('no desired subscription');
      const byName = new Map((await s.records.list()).map((r) => [r.name, r]));
      const missing: string[] = [];
      const expired: string[] = [];
      const overdue: string[] = [];
      const failing: string[] = [];
      for (const d of s.desired) {
        const r = byName.get(d.name);
        const expiresAt = Date.parse(r?.expiresAt ?? '');
        if (!r?.subscriptionId) missing.push(d.name);
        else if (!Number.isFinite(expiresAt) || expiresAt <= now.getTime()) expired.push(d.name);
        else if (expiresAt - now.getTime() < (Math.min(s.renewWithinMinutes, d.lifetimeMinutes / 2) * MINUTE) / 2) overdue.push(d.name);
        if (r?.lastAction === 'failed') failing.push(`${d.name}: ${maskSecrets(r.lastError ?? 'failed')}`);
      }
      const gauges = [{ name: 'relay.subscriptions.missing' as const, value: missing.length + expired.length }];
      if (missing.length || expired.length) {
        const parts = [missing.length ? `no subscription in Graph for ${missing.join(', ')}` : '', expired.length ? `expired: ${expired.join(', ')}` : ''].filter(Boolean);
        return { ...fail(`${parts.join('; ')}${failing.length ? ` (last error: ${failing[0]})` : ''}`, SYNC_FIX), gauges };
      }
      if (overdue.length) return { ...warn(`renewal overdue (under half the renewal window left): ${overdue.join(', ')}`, SYNC_FIX), gauges };
      if (failing.length) return { ...warn(`the reconciler's last run failed for ${failing.join('; ')}`, SYNC_FIX), gauges };
      return { ...ok(`${s.desired.length} subscriptions active and renewed on schedule`), gauges };
    },
  };
}
