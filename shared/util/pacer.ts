/**
 * Spaces calls per key: each key may be used once every `intervalMs` in this process (Teams allows one
 * request per second per app on a given chat or channel). `reserve` books the next free slot of a key and
 * says how long to wait for it; callers that would wait too long can put their work back instead.
 */
export class Pacer {
  readonly #intervalMs: number;
  readonly #next = new Map<string, number>();
  readonly #now: () => number;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#now = now;
  }

  /** Books a slot for `key` and returns the milliseconds until it (0: now). */
  reserve(key: string): number {
    const now = this.#now();
    const at = Math.max(now, this.#next.get(key) ?? 0);
    this.#next.set(key, at + this.#intervalMs);
    if (this.#next.size > 10_000) for (const [k, t] of this.#next) if (t < now) this.#next.delete(k);
    return at - now;
  }
}
