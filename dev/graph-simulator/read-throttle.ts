import { GraphError } from './graph-error.js';

/**
 * Teams' throttling of resource GETs (Graph's `throttling-teams` limits): per app, at most
 * `perChatOrChannel` message GETs per chat or channel, `perTenantMessageGets` message GETs and
 * `perTenantGetAllMessages` export calls per tenant, each per window of `windowMs` (Graph's second).
 * Past a limit: 429 `TooManyRequests` with `Retry-After`. Rejected requests do not count.
 */
export interface ReadLimits {
  readonly enabled: boolean;
  /** Real milliseconds that make up one of Graph's "per second" windows (1000 = real Graph). */
  readonly windowMs: number;
  readonly perChatOrChannel: number;
  readonly perTenantMessageGets: number;
  readonly perTenantGetAllMessages: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  enabled: true,
  windowMs: 1000,
  perChatOrChannel: 1,
  perTenantMessageGets: 20,
  perTenantGetAllMessages: 200,
};

export type ReadKind = 'messages' | 'getAllMessages';

export interface ReadRequest {
  readonly appId: string;
  readonly tenantId: string;
  readonly kind: ReadKind;
  /** The chat id, or `teamId/channelId`, for message GETs. */
  readonly container: string | null;
  readonly path: string;
}

export interface ReadLogEntry extends ReadRequest {
  /** Real time, ms since the epoch. */
  readonly at: number;
  readonly status: 200 | 429;
}

export class ReadThrottle {
  options: ReadLimits;
  readonly log: ReadLogEntry[] = [];
  readonly #recent = new Map<string, number[]>();

  constructor(options: Partial<ReadLimits> = {}) {
    this.options = { ...DEFAULT_READ_LIMITS, ...options };
  }

  /** Counts the request, or throws a 429 GraphError when a limit is reached. */
  admit(request: ReadRequest): void {
    const now = Date.now();
    const o = this.options;
    const app = `${request.appId}|${request.tenantId}`;
    const buckets: [string, number][] =
      request.kind === 'getAllMessages'
        ? [[`${app}|getAllMessages`, o.perTenantGetAllMessages]]
        : [[`${app}|messages`, o.perTenantMessageGets], ...(request.container ? ([[`${app}|${request.container}`, o.perChatOrChannel]] as [string, number][]) : [])];
    let waitMs = 0;
    for (const [key, limit] of buckets) {
      const times = this.#window(key, now);
      if (times.length >= limit) waitMs = Math.max(waitMs, (times[times.length - limit] as number) + o.windowMs - now);
    }
    if (o.enabled && waitMs > 0) {
      this.log.push({ ...request, at: now, status: 429 });
      const retryAfter = Math.max(1, Math.ceil(waitMs / o.windowMs));
      throw new GraphError(429, 'TooManyRequests', 'Too many requests: the rate limit for this application was exceeded. Retry after the time in the Retry-After header.', {
        'retry-after': String(retryAfter),
      });
    }
    for (const [key] of buckets) this.#window(key, now).push(now);
    this.log.push({ ...request, at: now, status: 200 });
  }

  /** The most requests admitted within any one window, among those matching (e.g. one chat). */
  maxObservedRate(match: (entry: ReadLogEntry) => boolean = () => true): number {
    const times = this.log.filter((e) => e.status === 200 && match(e)).map((e) => e.at);
    let max = 0;
    for (let start = 0, end = 0; end < times.length; end++) {
      while ((times[end] as number) - (times[start] as number) >= this.options.windowMs) start++;
      max = Math.max(max, end - start + 1);
    }
    return max;
  }

  /** Forgets counted requests and the log. */
  reset(): void {
    this.#recent.clear();
    this.log.length = 0;
  }

  #window(key: string, now: number): number[] {
    let times = this.#recent.get(key);
    if (!times) this.#recent.set(key, (times = []));
    while (times.length > 0 && (times[0] as number) <= now - this.options.windowMs) times.shift();
    return times;
  }
}
