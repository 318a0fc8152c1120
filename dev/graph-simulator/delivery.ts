import { randomUUID } from 'node:crypto';
import type { SimulatorClock } from './clock.js';
import { DEFAULT_SLOW_ENDPOINT_RULES, EndpointHealth, type SlowEndpointRules } from './slow-endpoint.js';

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
  /** Set when Graph dropped the notifications without any attempt (`dropAll` was on, or the endpoint was too slow). */
  readonly dropped?: boolean;
  /** Why they were dropped: `dropAll`, or `slowEndpoint` (15 % slow answers or more). */
  readonly droppedBecause?: 'dropAll' | 'slowEndpoint';
  /** Set on attempts whose notifications were held back first because the endpoint was slow (10 % or more). */
  readonly delayedMs?: number;
  /** Set on a failed attempt that will be retried: how long until the retry (ms, time scale applied). */
  readonly retryInMs?: number;
}

export interface DeliveryOptions {
  /** Most notifications per POST. */
  readonly maxBatchSize: number;
  /** How long notifications wait to be batched with others for the same URL. */
  readonly batchWindowMs: number;
  /** Multiplies Graph's retry delays (1 = real time: first retry after 1 minute, give up after 4 hours). */
  readonly timeScale: number;
  /**
   * How long Graph retries a notification before it gives up (simulated ms); default Graph's 4 hours times
   * `timeScale`. A run that compresses the delays but keeps Graph's real 4 hours (the chaos run) sets it.
   */
  readonly retryHorizonMs?: number;
  /** Share of successful batches delivered a second time, as Graph sometimes does. */
  readonly duplicateRate: number;
  /** How long a POST may take before it counts as failed: Graph's HTTP client times out after 3 s. */
  readonly requestTimeoutMs: number;
  /**
   * Graph drops every notification that arises while this is on (as it does for an endpoint it deems too
   * slow): nothing is POSTed or retried, each is logged with `dropped: true`. Notifications already waiting
   * or being retried are not affected.
   */
  readonly dropAll: boolean;
  /** Graph's slow-endpoint rule (slow-endpoint.ts): from 10 % slow answers delays, from 15 % drops. */
  readonly slowEndpoint: SlowEndpointRules;
}

/** Delivery options as given: any subset, the slow-endpoint rule's too. */
export type DeliveryOptionsInput = Partial<Omit<DeliveryOptions, 'slowEndpoint'>> & { readonly slowEndpoint?: Partial<SlowEndpointRules> };

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  maxBatchSize: 10,
  batchWindowMs: 10,
  timeScale: 1,
  duplicateRate: 0,
  requestTimeoutMs: 3000,
  dropAll: false,
  slowEndpoint: DEFAULT_SLOW_ENDPOINT_RULES,
};

/**
 * The validation token for an app in a tenant, made when a batch is sent; undefined when Graph can get none
 * for that tenant (its enterprise application requires assignment: tenant-settings.ts). A batch whose every
 * token is missing has no `validationTokens` at all.
 */
export type ValidationTokenSource = (appId: string, tenantId: string) => Promise<string | undefined>;

const FIRST_RETRY_MS = 60_000;

const subscriptionIdsOf = (items: readonly OutgoingNotification[]) => [...new Set(items.map((n) => String(n.item.subscriptionId)))];
const RETRY_HORIZON_MS = 4 * 3600_000;

/**
 * Delivers notifications like Graph: batched per URL, POSTed as `{ value, validationTokens? }`, retried
 * with exponential back-off on a non-2xx answer, a timeout or a connection failure until the retry horizon
 * passes, sometimes delivered twice, delayed or dropped for an endpoint too often slow, and every attempt
 * written to a log tests can read.
 */
export class Deliverer {
  options: DeliveryOptions;
  readonly log: DeliveryAttempt[] = [];
  readonly #clock: SimulatorClock;
  readonly #tokens: ValidationTokenSource;
  readonly #buffers = new Map<string, { items: OutgoingNotification[]; timer: NodeJS.Timeout }>();
  readonly #work = new Set<Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #health = new Map<string, EndpointHealth>();
  /** Notifications held back by the slow-endpoint rule, with how long. */
  readonly #delayed = new WeakMap<OutgoingNotification, number>();
  #forcedDuplicates = 0;
  #closed = false;
  readonly #idleWaiters = new Set<() => void>();

  constructor(clock: SimulatorClock, tokens: ValidationTokenSource, options: DeliveryOptionsInput = {}) {
    this.#clock = clock;
    this.#tokens = tokens;
    this.options = { ...DEFAULT_DELIVERY_OPTIONS, ...options, slowEndpoint: { ...DEFAULT_SLOW_ENDPOINT_RULES, ...options.slowEndpoint } };
  }

  /** The share of slow answers from a URL in the rule's window (undefined while too few answers). */
  slowShare(url: string): number | undefined {
    return this.#health.get(url)?.slowShare(this.#clock.now(), this.options.slowEndpoint);
  }

  #healthOf(url: string): EndpointHealth {
    let health = this.#health.get(url);
    if (!health) this.#health.set(url, (health = new EndpointHealth()));
    return health;
  }

  #logDropped(url: string, items: readonly OutgoingNotification[], because: 'dropAll' | 'slowEndpoint'): void {
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
      droppedBecause: because,
    });
  }

  /** The next `n` successful batches are delivered twice. */
  duplicateNext(n: number): void {
    this.#forcedDuplicates += n;
  }

  enqueue(url: string, items: readonly OutgoingNotification[]): void {
    if (this.#closed || items.length === 0) return;
    if (this.options.dropAll) return this.#logDropped(url, items, 'dropAll');
    const verdict = this.#healthOf(url).verdict(this.#clock.now(), this.options.slowEndpoint);
    if (verdict === 'drop') return this.#logDropped(url, items, 'slowEndpoint');
    if (verdict === 'delay') {
      const delayMs = this.options.slowEndpoint.delayMs * this.options.timeScale;
      for (const n of items) this.#delayed.set(n, delayMs);
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#buffer(url, items);
        this.#notifyIdle();
      }, delayMs);
      this.#timers.add(timer);
      return;
    }
    this.#buffer(url, items);
  }

  #buffer(url: string, items: readonly OutgoingNotification[]): void {
    if (this.#closed) return;
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
    const tokens = (await Promise.all([...pairs.values()].map((p) => this.#tokens(p.appId, p.tenantId)))).filter((t) => t !== undefined);
    if (tokens.length > 0) body.validationTokens = tokens;
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
    this.#healthOf(url).record(this.#clock.now(), latencyMs, status === 'timeout', this.options.slowEndpoint, batch.length);
    const ok = typeof status === 'number' && status >= 200 && status < 300;
    const delayedMs = Math.max(0, ...batch.map((n) => this.#delayed.get(n) ?? 0));
    const scale = this.options.timeScale;
    const delay = FIRST_RETRY_MS * 2 ** (attempt - 1) * scale;
    const giveUp = !ok && this.#clock.now() + delay - firstAt > (this.options.retryHorizonMs ?? RETRY_HORIZON_MS * scale);
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
      ...(delayedMs > 0 ? { delayedMs } : {}),
      ...(!ok && !giveUp && !duplicate ? { retryInMs: delay } : {}),
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
