/** The shortest wait between two polls of a queue, as in the Storage extension. */
export const MIN_POLLING_INTERVAL_MS = 100;
/** maxPollingInterval when host.json leaves it unset, outside Development. */
export const DEFAULT_MAX_POLLING_INTERVAL_MS = 60_000;
/** maxPollingInterval in Development when host.json leaves it at the default. */
export const DEVELOPMENT_MAX_POLLING_INTERVAL_MS = 2_000;

const RANDOMIZATION = 0.2;

/**
 * The queue listener's wait before its next poll, following the Storage extension's randomized exponential
 * back-off: after a poll that found messages the next one follows at once, and the first empty poll waits
 * the minimum (100 ms); each further empty poll waits the minimum plus minimum × 2^(k-1) × a random factor
 * in [0.8, 1.2) (about 200, 300, 500, 900 ms, …), until that reaches maxPollingInterval, from when on it
 * waits exactly maxPollingInterval, without jitter, until a poll finds messages again.
 */
export class PollingBackoff {
  readonly #min: number;
  readonly #max: number;
  readonly #random: () => number;
  #current = 0;
  #exponent = 0;

  constructor(maxPollingIntervalMs: number, random: () => number = Math.random) {
    if (maxPollingIntervalMs < MIN_POLLING_INTERVAL_MS) throw new RangeError(`maxPollingInterval must not be less than ${MIN_POLLING_INTERVAL_MS} ms.`);
    this.#min = MIN_POLLING_INTERVAL_MS;
    this.#max = maxPollingIntervalMs;
    this.#random = random;
  }

  /** The wait after an empty poll; `foundSinceLastWait` says whether a poll found messages since the last wait. */
  next(foundSinceLastWait: boolean): number {
    if (foundSinceLastWait) {
      this.#current = this.#min;
      this.#exponent = 1;
    } else if (this.#current !== this.#max) {
      let wait = this.#min;
      if (this.#exponent > 0) {
        const factor = 1 - RANDOMIZATION + this.#random() * 2 * RANDOMIZATION;
        wait += factor * 2 ** (this.#exponent - 1) * this.#min;
      }
      if (wait < this.#max) {
        this.#current = wait;
        this.#exponent++;
      } else {
        this.#current = this.#max;
      }
    }
    return this.#current;
  }
}
