import type { DesiredSubscription } from '../../subscriptions/desired-subscriptions.js';
import type { SubscriptionRecord } from '../../subscriptions/subscription-records.js';
import { maskSecrets } from '../../util/mask-secrets.js';
import { fail, ok, warn, type SelfCheck } from '../self-check.js';

export interface SubscriptionsCheckSources {
  /** The desired subscriptions of every served tenant (`all`, after `refresh`). */
  readonly desired: { readonly all: readonly DesiredSubscription[]; refresh(): Promise<void> };
  readonly records: { list(): Promise<readonly SubscriptionRecord[]> };
  /** RENEW_WITHIN_MINUTES: the reconciler renews a subscription within min(this, its lifetime / 2) of its expiry. */
  readonly renewWithinMinutes: number;
  /**
   * Whether a tenant's entries are judged here: a customer tenant onboarding or degraded has its cause named by
   * the `tenants` check instead, so that one customer's missing consent does not fail the relay's health.
   */
  readonly judged?: (tenantId: string) => boolean;
}

const MINUTE = 60_000;
const SYNC_FIX = 'Run `npm run subscriptions -- status` for the error, fix its cause, then `npm run subscriptions -- sync`.';

/** At most this many names are listed in a message (a result is stored in one table property). */
const LISTED = 5;
const list = (names: readonly string[]) => `${names.slice(0, LISTED).join(', ')}${names.length > LISTED ? ` and ${names.length - LISTED} more` : ''}`;

/**
 * Every desired subscription exists in Graph and is renewed on schedule. Fails: one expired, or missing after
 * the reconciler tried and failed to create it. Warns: one the reconciler has not created yet (a new entry, a
 * first start: the reconciler runs at start too), one left with under a quarter of its renewal window
 * (renewals missed), one whose last reconciler run failed while it is still alive.
 */
export function subscriptionsCheck(s: SubscriptionsCheckSources): SelfCheck {
  return {
    name: 'subscriptions',
    run: async (now) => {
      await s.desired.refresh();
      const desired = s.desired.all.filter((d) => !d.tenantId || !s.judged || s.judged(d.tenantId));
      if (desired.length === 0) return ok('no desired subscription');
      const byName = new Map((await s.records.list()).map((r) => [r.name, r]));
      const missing: string[] = [];
      const pending: string[] = [];
      const expired: string[] = [];
      const overdue: string[] = [];
      const failing: string[] = [];
      for (const d of desired) {
        const r = byName.get(d.name);
        const expiresAt = Date.parse(r?.expiresAt ?? '');
        if (!r?.subscriptionId) (r?.lastAction === 'failed' || r?.lastAction === 'deleted' ? missing : pending).push(d.name);
        else if (!Number.isFinite(expiresAt) || expiresAt <= now.getTime()) expired.push(d.name);
        else if (expiresAt - now.getTime() < (Math.min(s.renewWithinMinutes, d.lifetimeMinutes / 2) * MINUTE) / 4) overdue.push(d.name);
        if (r?.lastAction === 'failed') failing.push(`${d.name}: ${maskSecrets(r.lastError ?? 'failed')}`);
      }
      const gauges = [{ name: 'relay.subscriptions.missing' as const, value: missing.length + pending.length + expired.length }];
      if (missing.length || expired.length) {
        const parts = [missing.length ? `no subscription in Graph for ${list(missing)}` : '', expired.length ? `expired: ${list(expired)}` : ''].filter(Boolean);
        return { ...fail(`${parts.join('; ')}${failing.length ? ` (last error: ${failing[0]})` : ''}`, SYNC_FIX), gauges };
      }
      if (pending.length) return { ...warn(`not created yet by the reconciler: ${list(pending)}`, SYNC_FIX), gauges };
      if (overdue.length) return { ...warn(`renewal overdue (under a quarter of the renewal window left): ${list(overdue)}`, SYNC_FIX), gauges };
      if (failing.length)
        return { ...warn(`the reconciler's last run failed for ${failing.slice(0, LISTED).join('; ')}${failing.length > LISTED ? ` and ${failing.length - LISTED} more` : ''}`, SYNC_FIX), gauges };
      return { ...ok(`${desired.length} subscriptions active and renewed on schedule`), gauges };
    },
  };
}
