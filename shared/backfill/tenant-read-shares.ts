/** A tenant that booked no read for this long no longer counts among those sharing the budget. */
const ACTIVE_WINDOW_MS = 10_000;

/**
 * Shares the backfill's Graph read budget (BACKFILL_READS_PER_SECOND, in this process) fairly between the
 * tenants reading: each of the N tenants that read in the last ten seconds may book one read every N/budget
 * seconds, on its own clock. A tenant with a large gap books far ahead and puts its pieces back on the queue,
 * while a tenant that starts reading finds its own next slot free at once: one tenant's gap never starves
 * another's. Alone, a tenant has the whole budget.
 */
export class TenantReadShares {
  readonly #perSecond: number;
  readonly #now: () => number;
  readonly #next = new Map<string, number>();
  readonly #lastBooked = new Map<string, number>();

  constructor(readsPerSecond: number, now: () => number = Date.now) {
    this.#perSecond = readsPerSecond;
    this.#now = now;
  }

  /** The tenants that booked a read in the last ten seconds. */
  activeTenants(): number {
    const now = this.#now();
    for (const [t, at] of this.#lastBooked) if (now - at > ACTIVE_WINDOW_MS) this.#lastBooked.delete(t);
    return this.#lastBooked.size;
  }

  /**
   * The milliseconds until `tenantId`'s next free read (0: now), booked only when at most `maxWaitMs`: a wait
   * over it books nothing (the caller puts its piece back on the queue for then).
   */
  reserve(tenantId: string, maxWaitMs = Number.POSITIVE_INFINITY): number {
    const now = this.#now();
    const sharing = this.activeTenants() + (this.#lastBooked.has(tenantId) ? 0 : 1);
    const intervalMs = (1000 * sharing) / this.#perSecond;
    const at = Math.max(now, this.#next.get(tenantId) ?? 0);
    if (at - now > maxWaitMs) return at - now;
    this.#next.set(tenantId, at + intervalMs);
    this.#lastBooked.set(tenantId, now);
    return at - now;
  }
}
