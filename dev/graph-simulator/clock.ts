/** The simulator's clock: real time plus an offset that tests (or the driver API) can move forward. */
export class SimulatorClock {
  #offsetMs = 0;
  readonly #listeners = new Set<() => void>();

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  date(): Date {
    return new Date(this.now());
  }

  /** Moves time forward; listeners (expiry checks) run at once. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('time only moves forward');
    this.#offsetMs += ms;
    for (const l of this.#listeners) l();
  }

  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
