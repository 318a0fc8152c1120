import { randomUUID } from 'node:crypto';
import type { SimulatorClock } from './clock.js';

/** One notification waiting to be POSTed, with what its batch's validation tokens need. */
export interface OutgoingNotification {
  readonly item: Record<string, unknown>;
  /** App and tenant a validation token must be made for, when the item carries resource data. */
  readonly tokenFor?: { readonly appId: string; readonly tenantId: string };
}

export interface DeliveryAttempt {
  readonly batchId: string;
  readonly url: string;
  readonly attempt: number;
  readonly notifications: number;
  readonly subscriptionIds: readonly string[];
  /** The notification items of the batch, as POSTed. */
  readonly items: readonly Record<string, unknown>[];
  /** The HTTP status, 'timeout' / 'error' when there was none, or 'dropped' when never sent (`dropAll`). */
  readonly status: number | 'timeout' | 'error' | 'dropped';
  readonly latencyMs: number;
  readonly duplicate: boolean;
  readonly at: string;
  /** Set on the last attempt of a batch that was given up. */
  readonly droppedAfterRetries?: boolean;
  /** Set when Graph dropped the notifications without any attempt (`dropAll` was on when they arose). */
  readonly dropped?: boolean;
}

export interface DeliveryOptions {
  /** Most notifications per POST. */
  readonly maxBatchSize: number;
  /** How long notifications wait to be batched with others for the same URL. */
  readonly batchWindowMs: number;
  /** Multiplies Graph's retry delays (1 = real time: first retry after 1 minute, give up after 4 hours). */
  readonly timeScale: number;
  /** Share of successful batches delivered a second time, as Graph sometimes does. */
  readonly duplicateRate: number;
  /** How long a POST may take before it counts as failed. */
  readonly requestTimeoutMs: number;
  /**
   * Graph drops every notification that arises while this is on (as it does for an endpoint it deems too
   * slow): nothing is POSTed or retried, each is logged with `dropped: true`. Notifications already waiting
   * or being retried are not affected.
   */
  readonly dropAll: boolean;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  maxBatchSize: 10,
  batchWindowMs: 10,
  timeScale: 1,
  duplicateRate: 0,
  requestTimeoutMs: 10_000,
  dropAll: false,
};

const FIRST_RETRY_MS = 60_000;

const subscriptionIdsOf = (items: readonly OutgoingNotification[]) => [...new Set(items.map((n) => String(n.item.subscriptionId)))];
const RETRY_HORIZON_MS = 4 * 3600_000;

/**
 * Delivers notifications like Graph: batched per URL, POSTed as `{ value, validationTokens? }`, retried
 * with exponential back-off on a non-2xx answer, a timeout or a connection failure until the retry horizon
 * passes, sometimes delivered twice, and every attempt written to a log tests can read.
 */
export class Deliverer {
  options: DeliveryOptions;
  readonly log: DeliveryAttempt[] = [];
  readonly #clock: SimulatorClock;
  readonly #tokens: (appId: string, tenantId: string) => Promise<string>;
  readonly #buffers = new Map<string, { items: OutgoingNotification[]; timer: NodeJS.Timeout }>();
  readonly #work = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #forcedDuplicates = 0;
  #closed = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(clock: SimulatorClock, tokens: (appId: string, tenantId: string) => Promise<string>, options: Partial<DeliveryOptions> = {}) {
    this.#clock = clock;
    this.#tokens = tokens;
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
  }

  /** The next `n` successful batches are delivered twice. */
  duplicateNext(n: number): void {
    this.#forcedDuplicates += n;
  }

  enqueue(url: string, items: readonly OutgoingNotification[]): void {
    if (this.#closed || items.length === 0) return;
    if (this.options.dropAll) {
      this.log.push({
        batchId: randomUUID(),
        url,
        attempt: 0,
        notifications: items.length,
        subscriptionIds: subscriptionIdsOf(items),
        items: items.map((n) => n.item),
        status: 'dropped',
        latencyMs: 0,
        duplicate: false,
        at: this.#clock.date().toISOString(),
        dropped: true,
      });
      return;
    }
    let buffer = this.#buffers.get(url);
    if (!buffer) {
      buffer = { items: [], timer: setTimeout(() => this.#flush(url), this.options.batchWindowMs) };
      this.#buffers.set(url, buffer);
    }
    buffer.items.push(...items);
    if (buffer.items.length >= this.options.maxBatchSize) this.#flush(url);
  }

  /** Sends a body as it is, once, outside batching (for forged notifications in tests). */
  async sendRaw(url: string, body: unknown): Promise<number | 'timeout' | 'error'> {
    return (await this.#post(url, JSON.stringify(body))).status;
  }

  /** Resolves when nothing is buffered, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.add(resolve));
  }

  close(): void {
    this.#closed = true;
    for (const b of this.#buffers.values()) clearTimeout(b.timer);
    this.#buffers.clear();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#notifyIdle();
  }

  #isIdle(): boolean {
    return this.#buffers.size === 0 && this.#work.size === 0 && this.#timers.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#isIdle()) return;
    for (const w of this.#idleWaiters) w();
    this.#idleWaiters.clear();
  }

  #track(p: Promise<void>): void {
    this.#work.add(p);
    void p.finally(() => {
      this.#work.delete(p);
      this.#notifyIdle();
    });
  }

  #flush(url: string): void {
    const buffer = this.#buffers.get(url);
    if (!buffer) return;
    clearTimeout(buffer.timer);
    this.#buffers.delete(url);
    for (let i = 0; i < buffer.items.length; i += this.options.maxBatchSize) {
      const batch = buffer.items.slice(i, i + this.options.maxBatchSize);
      this.#track(this.#attempt(url, batch, randomUUID(), 1, this.#clock.now()));
    }
  }

  async #body(batch: readonly OutgoingNotification[]): Promise<string> {
    const pairs = new Map<string, { appId: string; tenantId: string }>();
    for (const n of batch) if (n.tokenFor) pairs.set(`${n.tokenFor.appId}|${n.tokenFor.tenantId}`, n.tokenFor);
    const body: Record<string, unknown> = { value: batch.map((n) => n.item) };
    if (pairs.size > 0) body.validationTokens = await Promise.all([...pairs.values()].map((p) => this.#tokens(p.appId, p.tenantId)));
    return JSON.stringify(body);
  }

  async #post(url: string, body: string): Promise<{ status: number | 'timeout' | 'error'; latencyMs: number }> {
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      await res.arrayBuffer();
      return { status: res.status, latencyMs: performance.now() - started };
    } catch (e) {
      const name = (e as Error).name;
      return { status: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'error', latencyMs: performance.now() - started };
    }
  }

  async #attempt(url: string, batch: readonly OutgoingNotification[], batchId: string, attempt: number, firstAt: number, duplicate = false): Promise<void> {
    if (this.#closed) return;
    const { status, latencyMs } = await this.#post(url, await this.#body(batch));
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    const scale = this.options.timeScale;
    const delay = FIRST_RETRY_MS * 2 ** (attempt - 1) * scale;
    const giveUp = !ok && this.#clock.now() + delay - firstAt > RETRY_HORIZON_MS * scale;
    this.log.push({
      batchId,
      url,
      attempt,
      notifications: batch.length,
      subscriptionIds: subscriptionIdsOf(batch),
      items: batch.map((n) => n.item),
      status,
      latencyMs,
      duplicate,
      at: this.#clock.date().toISOString(),
      ...(giveUp ? { droppedAfterRetries: true } : {}),
    });
    if (ok) {
      if (!duplicate && (this.#forcedDuplicates > 0 || Math.random() < this.options.duplicateRate)) {
        if (this.#forcedDuplicates > 0) this.#forcedDuplicates--;
        await this.#attempt(url, batch, batchId, 1, firstAt, true);
      }
      return;
    }
    if (giveUp || duplicate) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#track(this.#attempt(url, batch, batchId, attempt + 1, firstAt));
    }, delay);
    this.#timers.add(timer);
  }
}
