/**
 * Graph's rule for slow endpoints, as learn.microsoft.com/graph/change-notifications-delivery-webhooks
 * ("Throttling", ms.date 03/23/2023) states it: Graph publishes with an HTTP client that times out after 3 s
 * (delivery.ts); an answer that took more than 2,900 ms is slow (a timeout too); once the endpoint received
 * 100 notifications, the share of slow answers is judged: from 10 % every new notification is delayed 10
 * minutes, from 15 % dropped (unrecoverable); the answers are flushed every 10 minutes. Earlier versions of
 * the page said 10 s.
 */
export interface SlowEndpointRules {
  /** An answer that took longer than this is slow (ms of real time). */
  readonly thresholdMs: number;
  /** The answers are flushed after this long (ms of simulated time): each window is judged on its own. */
  readonly windowMs: number;
  /** From this share of slow answers, new notifications are delayed. */
  readonly delayShare: number;
  /** From this share, new notifications are dropped. */
  readonly dropShare: number;
  /** The share is judged only once the window's answers carried this many notifications. */
  readonly minNotifications: number;
  /** How long a delayed notification waits before its POST (ms, multiplied by the delivery time scale). */
  readonly delayMs: number;
  /** How long dropping lasts once it started (ms of simulated time). */
  readonly dropForMs: number;
  /** false: the rule is off. */
  readonly enabled: boolean;
}

export const DEFAULT_SLOW_ENDPOINT_RULES: SlowEndpointRules = {
  thresholdMs: 2900,
  windowMs: 10 * 60_000,
  delayShare: 0.1,
  dropShare: 0.15,
  minNotifications: 100,
  delayMs: 10 * 60_000,
  dropForMs: 10 * 60_000,
  // Off in-process by default, so that a loaded test machine's slow answers never drop a test's notifications;
  // `npm start` and `npm run simulator` turn it on (local-defaults.ts), and tests of the rule do.
  enabled: false,
};

export type EndpointVerdict = 'deliver' | 'delay' | 'drop';

/** One endpoint's answers in the current window and its drop state. */
export class EndpointHealth {
  #windowStart: number | undefined;
  #answers = 0;
  #slow = 0;
  #notifications = 0;
  #droppingUntil = 0;

  /** An answer to a POST that carried `notifications` notifications. */
  record(at: number, latencyMs: number, timedOut: boolean, rules: SlowEndpointRules, notifications = 1): void {
    this.#flush(at, rules);
    this.#windowStart ??= at;
    this.#answers++;
    if (timedOut || latencyMs > rules.thresholdMs) this.#slow++;
    this.#notifications += notifications;
  }

  /** The share of slow answers in the window, or undefined while its answers carried too few notifications. */
  slowShare(now: number, rules: SlowEndpointRules): number | undefined {
    this.#flush(now, rules);
    if (this.#notifications < rules.minNotifications || this.#answers === 0) return undefined;
    return this.#slow / this.#answers;
  }

  /** What happens to a notification arising now. */
  verdict(now: number, rules: SlowEndpointRules): EndpointVerdict {
    if (!rules.enabled) return 'deliver';
    if (now < this.#droppingUntil) return 'drop';
    const share = this.slowShare(now, rules);
    if (share === undefined) return 'deliver';
    if (share >= rules.dropShare) {
      this.#droppingUntil = now + rules.dropForMs;
      return 'drop';
    }
    return share >= rules.delayShare ? 'delay' : 'deliver';
  }

  /** Graph flushes the accumulated answers every windowMs: a new window starts empty. */
  #flush(now: number, rules: SlowEndpointRules): void {
    if (this.#windowStart === undefined || now < this.#windowStart + rules.windowMs) return;
    this.#windowStart = undefined;
    this.#answers = this.#slow = this.#notifications = 0;
  }
}
