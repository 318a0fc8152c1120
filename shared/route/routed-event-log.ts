import { odata, type TableClient } from '@azure/data-tables';
import { RelayError, restStatus } from '../errors.js';
import { deleteEntities } from '../util/delete-entities.js';
import { TableWriteBatcher } from './table-write-batcher.js';

/** What one copy of an event asks of the de-duplication log before it is published. */
export interface ClaimRequest {
  /**
   * The event's id, which names its tenant (see buildTeamsEvent), so that de-duplication is per tenant; or,
   * for a dead letter, a key naming the item of the incoming message that was dead-lettered.
   */
  readonly eventId: string;
  /**
   * The event's tenant, kept on its row so that `remove --purge` finds the tenant's rows (a dead letter's
   * key may have none).
   */
  readonly tenantId?: string;
  /** Where the routing table sends the event: de-duplication is per destination queue. */
  readonly queues: readonly string[];
  /** The incoming queue message: its own retries take over its claim instead of waiting for it. */
  readonly owner: string;
}

export interface Claim {
  /** The queues that still need the event (none: a duplicate everywhere). */
  readonly queues: readonly string[];
  /** Records these queues as done (all of the claim's queues by default). */
  complete(queues?: readonly string[]): Promise<void>;
  /** Gives the claim up after a failure, so another copy need not wait for the lease. */
  release(): Promise<void>;
}

/**
 * Remembers which event went to which queue, to skip duplicates within a window. An event is claimed
 * before it is published (two copies processed at once do not both go out) and recorded per queue only
 * after that queue took it; a failure releases the claim, and the same message's retry takes its claim
 * over, so nothing is lost, one storage blip costs one retry, and a partial fan-out is completed without
 * repeating the queues that had the event.
 */
export interface RoutedEventLog {
  claim(request: ClaimRequest): Promise<Claim>;
}

export class EventInFlightError extends RelayError {
  constructor(message: string) {
    super('ERR_EVENT_IN_FLIGHT', message);
  }
}

interface Entry {
  partitionKey: string;
  rowKey: string;
  /** Queues that took the event, comma-separated. */
  routedQueues: string;
  claimOwner: string;
  claimedAt: string;
  updatedAt: string;
  /** The event's tenant, lower case (rows written before #28 have none). */
  tenantId?: string;
}

export interface TableRoutedEventLogOptions {
  readonly windowMs: number;
  /** After this long a claim is taken as abandoned (its invocation died). */
  readonly claimLeaseMs?: number;
  /**
   * How long to wait for another invocation routing the same key before giving up (retry later). The
   * default outlasts the lease: a claim whose invocation died is taken over by the wait, instead of
   * failing attempt after attempt of a message carrying the same event into the poison queue.
   */
  readonly maxWaitMs?: number;
  readonly now?: () => number;
}

/** The longest pause between two looks at a claim held by another invocation. */
const MAX_WAIT_POLL_MS = 3_000;
const split = (list: string | undefined) => (list ? list.split(',').filter(Boolean) : []);
const NOTHING_TO_DO: Omit<Claim, 'queues'> = { complete: async () => undefined, release: async () => undefined };

/**
 * Table storage as the log: one entity per event id (partition = its first hex digit, so that writes of
 * concurrent events share 16 partitions and go out as one transaction per partition, see
 * TableWriteBatcher), updated with optimistic concurrency (ETags). A new event costs two writes (the claim,
 * the completion), each shared with the other events written at the same time. Records written before ids
 * named their tenant have ids no event has now: they suppress nothing (a copy routed before the upgrade and
 * delivered again after it goes out twice), and never another tenant's event.
 */
export class TableRoutedEventLog implements RoutedEventLog {
  readonly #table: TableClient;
  readonly #windowMs: number;
  readonly #claimLeaseMs: number;
  readonly #maxWaitMs: number;
  readonly #now: () => number;
  readonly #writes: TableWriteBatcher;

  constructor(table: TableClient, options: TableRoutedEventLogOptions) {
    this.#table = table;
    this.#windowMs = options.windowMs;
    this.#claimLeaseMs = options.claimLeaseMs ?? 60_000;
    this.#maxWaitMs = options.maxWaitMs ?? this.#claimLeaseMs + 5_000;
    this.#now = options.now ?? Date.now;
    this.#writes = new TableWriteBatcher(table);
  }

  #keys(eventId: string) {
    return { partitionKey: eventId.slice(0, 1), rowKey: eventId };
  }

  #iso(ms = this.#now()) {
    return new Date(ms).toISOString();
  }

  async claim(request: ClaimRequest): Promise<Claim> {
    if (this.#windowMs <= 0) return { queues: [...request.queues], ...NOTHING_TO_DO };
    const row = { ...this.#keys(request.eventId), ...(request.tenantId ? { tenantId: request.tenantId.toLowerCase() } : {}) };
    const started = this.#now();
    let waits = 0;
    // Most events are new: try to insert the claim first, and read only when one exists (one round trip less).
    const fresh: Entry = { ...row, routedQueues: '', claimOwner: request.owner, claimedAt: this.#iso(started), updatedAt: this.#iso(started) };
    const insertedEtag = await this.#write(fresh, undefined);
    if (insertedEtag !== undefined) return this.#claim(fresh, insertedEtag, [...request.queues]);
    for (;;) {
      const existing = await this.#get(row);
      const now = this.#now();
      const live = existing !== undefined && now - Date.parse(existing.updatedAt) < this.#windowMs;
      const routed = live ? split(existing.routedQueues) : [];
      const queues = request.queues.filter((q) => !routed.includes(q));
      if (queues.length === 0) return { queues, ...NOTHING_TO_DO };

      const heldByOther = existing !== undefined && existing.claimOwner !== '' && existing.claimOwner !== request.owner && now - Date.parse(existing.claimedAt) < this.#claimLeaseMs;
      if (heldByOther) {
        if (now - started > this.#maxWaitMs) throw new EventInFlightError(`Event ${request.eventId} is being routed by another invocation.`);
        // A live holder is done within milliseconds; a dead one's claim lapses at the end of its lease:
        // look again soon, then less and less often (a read each time), never past the lease's end.
        const leaseLeftMs = Date.parse(existing.claimedAt) + this.#claimLeaseMs - now;
        await new Promise((r) => setTimeout(r, Math.max(10, Math.min(100 * 2 ** waits++, MAX_WAIT_POLL_MS, leaseLeftMs + 10))));
        continue;
      }
      const entry: Entry = { ...row, routedQueues: routed.join(','), claimOwner: request.owner, claimedAt: this.#iso(now), updatedAt: this.#iso(now) };
      const etag = await this.#write(entry, existing?.etag);
      if (etag === undefined) continue; // another copy wrote first: look again
      return this.#claim(entry, etag, queues);
    }
  }

  #claim(claimed: Entry, claimEtag: string, queues: readonly string[]): Claim {
    let etag = claimEtag;
    let entry = claimed;
    // Writes the entry as `change` says; after a concurrent write, reads it again and retries.
    const settle = async (change: (e: Entry) => Entry) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const next = change(entry);
        const written = await this.#write(next, etag);
        if (written !== undefined) {
          etag = written;
          entry = next;
          return;
        }
        const current = await this.#get(entry);
        if (!current) return;
        ({ etag, ...entry } = current);
      }
    };
    const mine = (e: Entry) => (e.claimOwner === claimed.claimOwner ? '' : e.claimOwner);
    return {
      queues,
      complete: (done = queues) => settle((e) => ({ ...e, routedQueues: [...new Set([...split(e.routedQueues), ...done])].join(','), claimOwner: mine(e), updatedAt: this.#iso() })),
      release: () => settle((e) => ({ ...e, claimOwner: mine(e) })),
    };
  }

  async #get({ partitionKey, rowKey }: { partitionKey: string; rowKey: string }): Promise<(Entry & { etag: string }) | undefined> {
    try {
      const e = await this.#table.getEntity<Entry>(partitionKey, rowKey);
      return { ...e, etag: e.etag };
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
  }

  /** Inserts (no etag) or replaces (if-match etag). The new etag, or undefined when another write won. */
  #write(entry: Entry, etag: string | undefined): Promise<string | undefined> {
    return this.#writes.write({ ...entry }, etag);
  }

  /**
   * Deletes records that no longer suppress anything: last changed longer ago than the window (and the
   * claim lease). Table storage has no TTL, so without this the table only grows. Returns how many.
   */
  async prune(): Promise<number> {
    if (this.#windowMs <= 0) return 0;
    const cutoff = this.#iso(this.#now() - Math.max(this.#windowMs, this.#claimLeaseMs));
    return deleteEntities(this.#table, odata`updatedAt lt ${cutoff}`);
  }

  /**
   * Deletes every record of a tenant's events (`remove --purge`). The rows are partitioned by the event id's
   * first digit, not by tenant, so this reads the whole table: acceptable for a purge, which runs once per
   * tenant offboarded. Records written before they carried the tenant are not found (they go with `prune`
   * after the window). Returns how many.
   */
  deleteTenant(tenantId: string): Promise<number> {
    return deleteEntities(this.#table, odata`tenantId eq ${tenantId.toLowerCase()}`);
  }
}
