/**
 * Spaces calls per key: each key may be used once every `intervalMs` in this process (Teams allows one
 * request per second per app on a given chat or channel). `reserve` books the next free slot of a key and
 * says how long to wait for it; a caller that would wait longer than it accepts books nothing and can put
 * its work back for then.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #next = new Map<string, number>();
  readonly #now: () => number;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /**
   * The milliseconds until the next free slot of `key` (0: now), booked only when they are at most
   * `maxWaitMs`. A wait over `maxWaitMs` books nothing: a slot booked for work that does not run would
   * push every later slot of the key back, and callers that keep putting their work back would push it
   * further each time, so that none of them ever ran.
   */
  reserve(key: string, maxWaitMs = Number.POSITIVE_INFINITY): number {
    const now = this.#now();
    const at = Math.max(now, this.#next.get(key) ?? 0);
    if (at - now > maxWaitMs) return at - now;
    this.#next.set(key, at + this.#intervalMs);
    if (this.#next.size > 10_000) for (const [k, t] of this.#next) if (t < now) this.#next.delete(k);
    return at - now;
  }
}
