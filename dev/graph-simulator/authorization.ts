import type { OutgoingNotification } from './delivery.js';

/**
 * Graph's reauthorization rule: a subscription stays authorized for as long as the access token of the app's
 * last create, renewal (PATCH) or reauthorize call lasts. As that token nears expiry Graph sends
 * `reauthorizationRequired`, again and again until the app answers; once it has lapsed, delivery pauses (the
 * simulator holds the notifications) until a reauthorize or a renewal, which releases them; left unanswered,
 * the subscription is eventually removed (`subscriptionRemoved`). Graph documents the behaviour, not the
 * timings: the defaults below are the simulator's.
 */
export interface AuthorizationRules {
  /** How long before the token lapses the first `reauthorizationRequired` is sent (simulated minutes). */
  readonly noticeMinutes: number;
  /** How often it is sent again while unanswered (simulated minutes). */
  readonly repeatMinutes: number;
  /** How long after the token lapsed an unanswered subscription is removed; null: never (only its expiry). */
  readonly removeAfterMinutes: number | null;
  /** Lifetime of a caller's authorization when its bearer token has no `exp` (an opaque token). */
  readonly defaultTokenMinutes: number;
}

export const DEFAULT_AUTHORIZATION_RULES: AuthorizationRules = { noticeMinutes: 10, repeatMinutes: 10, removeAfterMinutes: 60, defaultTokenMinutes: 60 };

/** The authorization state the simulator keeps on each subscription. */
export interface SubscriptionAuthorization {
  /** When the caller's token lapses (simulated ms). */
  authorizedUntilMs: number;
  /** When a token-driven `reauthorizationRequired` was last sent, while unanswered. */
  reauthorizationRequestedAtMs?: number;
  /** Notifications held while delivery is paused, released on reauthorization. */
  readonly held: OutgoingNotification[];
}

const MINUTE = 60_000;

/** Delivery is paused: the token lapsed and nobody reauthorized. */
export const isPaused = (s: SubscriptionAuthorization, nowMs: number) => nowMs >= s.authorizedUntilMs;

/** What the rules ask for now: remove the subscription, send (again) a `reauthorizationRequired`, or nothing. */
export function authorizationDue(s: SubscriptionAuthorization, nowMs: number, rules: AuthorizationRules): 'remove' | 'notice' | undefined {
  if (rules.removeAfterMinutes !== null && nowMs >= s.authorizedUntilMs + rules.removeAfterMinutes * MINUTE) return 'remove';
  if (nowMs < s.authorizedUntilMs - rules.noticeMinutes * MINUTE) return undefined;
  const last = s.reauthorizationRequestedAtMs;
  return last === undefined || nowMs - last >= rules.repeatMinutes * MINUTE ? 'notice' : undefined;
}
