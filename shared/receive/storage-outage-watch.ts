/** Graph retries a failed delivery for up to four hours, then discards it. */
export const GRAPH_RETRY_HORIZON_MS = 4 * 60 * 60 * 1000;

export interface StorageOutageWatchOptions {
  /** Called once an outage ends that lasted longer than Graph retries: the window Graph gave up on. */
  readonly onLoss: (from: Date, to: Date) => Promise<unknown>;
  readonly retryHorizonMs?: number;
  readonly now?: () => number;
}

/**
 * Notices storage outages long enough to lose notifications. While the receiver answers 503, Graph keeps
 * retrying each notification for four hours; what it first sent more than four hours before the outage
 * ended was discarded. When the first store after an outage succeeds, that window (outage start to its end
 * less the horizon) is handed to `onLoss`, which opens a gap to read back. Per instance and in memory: an
 * instance that did not see the outage reports nothing (the heartbeat still covers an app that was down).
 */
export class StorageOutageWatch {
  readonly #options: StorageOutageWatchOptions;
  readonly #now: () => number;
  #since: number | undefined;

  constructor(options: StorageOutageWatchOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get inOutage(): boolean {
    return this.#since !== undefined;
  }

  failed(): void {
    this.#since ??= this.#now();
  }

  /** After a successful store: ends an outage, reporting the lost window if there is one. */
  async succeeded(): Promise<void> {
    if (this.#since === undefined) return;
    const from = this.#since;
    this.#since = undefined;
    const lostUntil = this.#now() - (this.#options.retryHorizonMs ?? GRAPH_RETRY_HORIZON_MS);
    if (lostUntil > from) await this.#options.onLoss(new Date(from), new Date(lostUntil));
  }
}
