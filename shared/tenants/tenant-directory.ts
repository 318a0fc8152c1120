import { SERVED_STATES, type TenantRecord } from './tenant-registry.js';

/** How long a read of the registry is trusted before the next use reads it again. */
const FRESH_MS = 30_000;

/**
 * The tenants the relay serves now: those of GRAPH_TENANT_IDS (a registry of one for a single-tenant
 * deployment; the first is the app's own, "home" tenant) and the registry's onboarding, active and degraded
 * ones. A configured tenant the registry holds as offboarding or removed is not served. Reads of the registry
 * are cached; `refresh` reads again when the last read is stale, and `serves`, for a tenant the last read did
 * not serve, waits for a read that started after it was asked: a tenant onboarded a moment ago (its row is
 * written before its subscriptions are created) is never refused for a stale read. Misses meanwhile share that
 * read, so a flood of forged tenants costs one read at a time.
 */
export class TenantDirectory {
  readonly #configured: readonly string[];
  readonly #registry: { list(): Promise<TenantRecord[]> } | undefined;
  readonly #now: () => number;
  #served: ReadonlySet<string>;
  #records: readonly TenantRecord[] = [];
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;
  /** The read that starts once the one under way ends (every miss meanwhile shares it). */
  #queued: Promise<void> | undefined;

  constructor(options: { configured: readonly string[]; registry?: { list(): Promise<TenantRecord[]> }; now?: () => number }) {
    this.#configured = options.configured.map((t) => t.toLowerCase());
    this.#registry = options.registry;
    this.#now = options.now ?? Date.now;
    this.#served = new Set(this.#configured);
  }

  /** The app's own tenant: the first of GRAPH_TENANT_IDS (where a managed identity's token is valid). */
  get home(): string {
    return this.#configured[0] ?? '';
  }

  /** GRAPH_TENANT_IDS (lower case), the home tenant first. */
  get configured(): readonly string[] {
    return this.#configured;
  }

  /** The tenants served at the last read, the home tenant first. */
  get served(): readonly string[] {
    return [...this.#served];
  }

  /** The registry's records at the last read. */
  get records(): readonly TenantRecord[] {
    return this.#records;
  }

  /**
   * Whether `tenantId` was served at the last read (no I/O: for the receive path's hot loop, after `serves`).
   * A read older than 30 s starts another in the background, so that a tenant removed stops being served
   * within about that long even where nothing else refreshes.
   */
  has(tenantId: string): boolean {
    if (this.#registry && !this.#reading && this.#now() - this.#readAt >= FRESH_MS) void this.#read().catch(() => undefined);
    return this.#served.has(tenantId.toLowerCase());
  }

  /** Whether `tenantId` is served, by a read of the registry started after this call when the last one did not serve it. */
  async serves(tenantId: string): Promise<boolean> {
    const id = tenantId.toLowerCase();
    if (this.#served.has(id)) return true;
    if (this.#registry) await this.#readAfterNow();
    return this.#served.has(id);
  }

  /**
   * Reads the registry when the last read is older than 30 s (or always, with `force`). A failed read keeps
   * the tenants served as they were (the app's own work goes on while the registry cannot be read); with
   * `force` it throws, for callers that must know.
   */
  async refresh(options: { force?: boolean } = {}): Promise<void> {
    if (!this.#registry) return;
    if (options.force) await this.#readAfterNow();
    else if (this.#now() - this.#readAt >= FRESH_MS) await this.#read().catch(() => undefined);
  }

  /** Resolves once a read that started after this call has ended (one under way may predate a registry write). */
  #readAfterNow(): Promise<void> {
    if (this.#queued) return this.#queued;
    if (!this.#reading) return this.#read();
    const under = this.#reading;
    this.#queued = under.then(
      () => this.#next(),
      () => this.#next(),
    );
    return this.#queued;
  }

  #next(): Promise<void> {
    this.#queued = undefined;
    return this.#read();
  }

  /** One read at a time: callers meanwhile share it. A failed read keeps the last answer (and is retried on next use). */
  #read(): Promise<void> {
    this.#reading ??= (async () => {
      try {
        const records = await this.#registry!.list();
        const closed = new Set(records.filter((r) => !SERVED_STATES.includes(r.state)).map((r) => r.tenantId));
        const served = [...this.#configured.filter((t) => !closed.has(t)), ...records.filter((r) => SERVED_STATES.includes(r.state)).map((r) => r.tenantId)];
        this.#served = new Set(served);
        this.#records = records;
        this.#readAt = this.#now();
      } finally {
        this.#reading = undefined;
      }
    })();
    return this.#reading;
  }
}
