import type { GaugeName } from '../metrics/otel-metrics.js';
import type { SelfCheckStatus } from '../status/status-snapshot.js';

export interface GaugeReading {
  readonly name: GaugeName;
  readonly value: number;
  readonly attributes?: Readonly<Record<string, string>>;
}

/** What one self-check found: `skipped` when it does not apply here (no secret to expire, the simulator's token). */
export interface SelfCheckResult {
  readonly status: SelfCheckStatus['status'];
  readonly message: string;
  /** What to do, when one thing does. */
  readonly fix?: string;
  /** What the check measured, set as gauges by the checker (days left of a credential, subscriptions missing, …). */
  readonly gauges?: readonly GaugeReading[];
}

/** One self-check, run by the checkHealth timer. Its name is the `check` attribute of `relay.health.check`. */
export interface SelfCheck {
  readonly name: SelfCheckName;
  run(now: Date): Promise<SelfCheckResult>;
}

export const SELF_CHECK_NAMES = ['encryption_certificate', 'graph_credential', 'subscriptions', 'validation_tokens', 'graph_permissions', 'silent_subscriptions', 'backfill_gaps', 'tenants'] as const;
export type SelfCheckName = (typeof SELF_CHECK_NAMES)[number];

export const ok = (message: string): SelfCheckResult => ({ status: 'ok', message });
export const skipped = (message: string): SelfCheckResult => ({ status: 'skipped', message });
export const warn = (message: string, fix?: string): SelfCheckResult => ({ status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (message: string, fix?: string): SelfCheckResult => ({ status: 'fail', message, ...(fix ? { fix } : {}) });

const DAY_MS = 86_400_000;
/** A credential expiring within this many days warns… */
export const EXPIRY_WARN_DAYS = 30;
/** …and within this many fails. */
export const EXPIRY_FAIL_DAYS = 7;

/** A credential's expiry judged: ok beyond 30 days, warn within 30, fail within 7 or past. */
export function expiryResult(what: string, credential: string, notAfter: Date, now: Date, fix: string): SelfCheckResult {
  const days = Math.floor((notAfter.getTime() - now.getTime()) / DAY_MS);
  const gauges = [{ name: 'relay.credential.days_left' as const, value: days, attributes: { credential } }];
  const when = notAfter.toISOString();
  if (notAfter.getTime() <= now.getTime()) return { ...fail(`${what} expired at ${when}`, fix), gauges };
  if (days < EXPIRY_FAIL_DAYS) return { ...fail(`${what} expires in ${days} day${days === 1 ? '' : 's'} (${when})`, fix), gauges };
  if (days < EXPIRY_WARN_DAYS) return { ...warn(`${what} expires in ${days} days (${when})`, fix), gauges };
  return { ...ok(`${what} valid until ${when} (${days} days)`), gauges };
}
