/**
 * Graph's rule for slow endpoints: when more than 10 % of an endpoint's answers in the last 10 minutes were
 * slow, new notifications to it are delayed; past 15 %, they are dropped (for up to 10 minutes, unrecoverable).
 * Graph's pages say "slow" is over 3 seconds (older) or 10 seconds (newer); the simulator takes the stricter 3.
 * A timeout counts as slow.
 */
export interface SlowEndpointRules {
  /** An answer slower than this is slow (ms of real time). */
  readonly thresholdMs: number;
  /** The window the share is taken over (ms of simulated time). */
  readonly windowMs: number;
  /** Past this share of slow answers, new notifications are delayed. */
  readonly delayShare: number;
  /** Past this share, new notifications are dropped. */
  readonly dropShare: number;
  /** The share counts only once the window holds this many answers. */
  readonly minAnswers: number;
  /** How long a delayed notification waits before its POST (ms, multiplied by the delivery time scale). */
  readonly delayMs: number;
  /** How long dropping lasts once it started (ms of simulated time). */
  readonly dropForMs: number;
  /** false: the rule is off. */
  readonly enabled: boolean;
}

export const DEFAULT_SLOW_ENDPOINT_RULES: SlowEndpointRules = {
  thresholdMs: 3000,
  windowMs: 10 * 60_000,
  delayShare: 0.1,
  dropShare: 0.15,
  minAnswers: 10,
  delayMs: 60_000,
  dropForMs: 10 * 60_000,
  // Off in-process by default, so that a loaded test machine's slow answers never drop a test's notifications;
  // `npm start` and `npm run simulator` turn it on (local-defaults.ts), and tests of the rule do.
  enabled: false,
};

export type EndpointVerdict = 'deliver' | 'delay' | 'drop';

/** One endpoint's recent answers and its drop state. */
export class EndpointHealth {
  readonly #answers: { at: number; slow: boolean }[] = [];
  #droppingUntil = 0;

  record(at: number, latencyMs: number, timedOut: boolean, rules: SlowEndpointRules): void {
    this.#answers.push({ at, slow: timedOut || latencyMs > rules.thresholdMs });
  }

  /** The share of slow answers in the window, or undefined while the window holds too few. */
  slowShare(now: number, rules: SlowEndpointRules): number | undefined {
    while (this.#answers.length > 0 && this.#answers[0]!.at < now - rules.windowMs) this.#answers.shift();
    if (this.#answers.length < rules.minAnswers) return undefined;
    return this.#answers.filter((a) => a.slow).length / this.#answers.length;
  }

  /** What happens to a notification arising now. */
  verdict(now: number, rules: SlowEndpointRules): EndpointVerdict {
    if (!rules.enabled) return 'deliver';
    if (now < this.#droppingUntil) return 'drop';
    const share = this.slowShare(now, rules);
    if (share === undefined) return 'deliver';
    if (share > rules.dropShare) {
      this.#droppingUntil = now + rules.dropForMs;
      return 'drop';
    }
    return share > rules.delayShare ? 'delay' : 'deliver';
  }
}
