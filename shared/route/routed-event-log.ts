import { odata, RestError, type TableClient, type TransactionAction } from '@azure/data-tables';

/**
 * Remembers which event ids were routed, to skip duplicates within a window. An id is claimed before it is
 * published (so two copies processed at once do not both go out), and marked routed only after every queue
 * took it; a failed publish releases the claim, so nothing is lost.
 */
export interface RoutedEventLog {
  /** `duplicate` when the event was routed within the window (or is being routed and then was). */
  claim(eventId: string): Promise<'claimed' | 'duplicate'>;
  complete(eventId: string): Promise<void>;
  release(eventId: string): Promise<void>;
}

export class EventInFlightError extends Error {
  readonly code = 'ERR_EVENT_IN_FLIGHT';
}

interface Entry {
  partitionKey: string;
  rowKey: string;
  state: 'routing' | 'routed';
  updatedAt: string;
}

export interface TableRoutedEventLogOptions {
  readonly windowMs: number;
  /** After this long a `routing` claim is taken as abandoned (its invocation died). */
  readonly claimLeaseMs?: number;
  /** How long to wait for another invocation routing the same event before giving up (retry later). */
  readonly maxWaitMs?: number;
  readonly now?: () => number;
}

const status = (e: unknown) => (e instanceof RestError ? e.statusCode : undefined);

/** Table storage as the log: one entity per event id (partition = the id's first two characters). */
export class TableRoutedEventLog implements RoutedEventLog {
  readonly #table: TableClient;
  readonly #o: Required<TableRoutedEventLogOptions>;
  #tableReady = false;

  constructor(table: TableClient, options: TableRoutedEventLogOptions) {
    this.#table = table;
    this.#o = { claimLeaseMs: 60_000, maxWaitMs: 5_000, now: Date.now, ...options };
  }

  #key(eventId: string) {
    return { partitionKey: eventId.slice(0, 2), rowKey: eventId };
  }

  async claim(eventId: string): Promise<'claimed' | 'duplicate'> {
    if (this.#o.windowMs <= 0) return 'claimed';
    const started = this.#o.now();
    for (;;) {
      const entry: Entry = { ...this.#key(eventId), state: 'routing', updatedAt: new Date(this.#o.now()).toISOString() };
      try {
        await this.#table.createEntity(entry);
        return 'claimed';
      } catch (e) {
        if (status(e) === 404 && !this.#tableReady) {
          await this.#table.createTable();
          this.#tableReady = true;
          continue;
        }
        if (status(e) !== 409) throw e;
      }
      let existing;
      try {
        existing = await this.#table.getEntity<Entry>(entry.partitionKey, entry.rowKey);
      } catch (e) {
        if (status(e) === 404) continue; // released meanwhile: claim again
        throw e;
      }
      const age = this.#o.now() - Date.parse(existing.updatedAt);
      const stale = existing.state === 'routed' ? age >= this.#o.windowMs : age >= this.#o.claimLeaseMs;
      if (stale) {
        try {
          await this.#table.updateEntity(entry, 'Replace', { etag: existing.etag });
          return 'claimed';
        } catch (e) {
          if (status(e) === 412 || status(e) === 404) continue;
          throw e;
        }
      }
      if (existing.state === 'routed') return 'duplicate';
      if (this.#o.now() - started > this.#o.maxWaitMs) throw new EventInFlightError(`Event ${eventId} is being routed by another invocation.`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async complete(eventId: string): Promise<void> {
    if (this.#o.windowMs <= 0) return;
    await this.#table.upsertEntity<Entry>({ ...this.#key(eventId), state: 'routed', updatedAt: new Date(this.#o.now()).toISOString() }, 'Replace');
  }

  /**
   * Deletes records that no longer suppress anything: routed longer ago than the window, or claims older than
   * the lease (their invocation died). Table storage has no TTL, so without this the table only grows.
   * Returns how many were deleted.
   */
  async prune(): Promise<number> {
    if (this.#o.windowMs <= 0) return 0;
    const cutoff = new Date(this.#o.now() - Math.max(this.#o.windowMs, this.#o.claimLeaseMs)).toISOString();
    const byPartition = new Map<string, TransactionAction[]>();
    try {
      for await (const e of this.#table.listEntities<Entry>({ queryOptions: { filter: odata`updatedAt lt ${cutoff}`, select: ['PartitionKey', 'RowKey'] } })) {
        const list = byPartition.get(e.partitionKey) ?? [];
        list.push(['delete', { partitionKey: e.partitionKey, rowKey: e.rowKey }]);
        byPartition.set(e.partitionKey, list);
      }
    } catch (e) {
      if (status(e) === 404) return 0;
      throw e;
    }
    let deleted = 0;
    for (const actions of byPartition.values()) {
      for (let i = 0; i < actions.length; i += 100) {
        const chunk = actions.slice(i, i + 100);
        await this.#table.submitTransaction(chunk);
        deleted += chunk.length;
      }
    }
    return deleted;
  }

  async release(eventId: string): Promise<void> {
    if (this.#o.windowMs <= 0) return;
    const { partitionKey, rowKey } = this.#key(eventId);
    try {
      await this.#table.deleteEntity(partitionKey, rowKey);
    } catch (e) {
      if (status(e) !== 404) throw e;
    }
  }
}
