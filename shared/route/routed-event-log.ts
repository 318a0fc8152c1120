import { RestError, type TableClient } from '@azure/data-tables';

/** Remembers which event ids were routed, to skip duplicates within a window. */
export interface RoutedEventLog {
  wasRouted(eventId: string): Promise<boolean>;
  /** Called only after every queue took the event. */
  recordRouted(eventId: string): Promise<void>;
}

/**
 * Table storage as the log: one entity per event id (partition = the id's first two characters), holding
 * when it was routed. An id routed longer ago than the window counts as new.
 */
export class TableRoutedEventLog implements RoutedEventLog {
  readonly #table: TableClient;
  readonly #windowMs: number;
  readonly #now: () => number;
  #created = false;

  constructor(table: TableClient, windowMs: number, now: () => number = Date.now) {
    this.#table = table;
    this.#windowMs = windowMs;
    this.#now = now;
  }

  async wasRouted(eventId: string): Promise<boolean> {
    if (this.#windowMs <= 0) return false;
    try {
      const entity = await this.#table.getEntity<{ routedAt: string }>(eventId.slice(0, 2), eventId);
      return this.#now() - Date.parse(entity.routedAt) < this.#windowMs;
    } catch (e) {
      if (e instanceof RestError && e.statusCode === 404) return false;
      throw e;
    }
  }

  async recordRouted(eventId: string): Promise<void> {
    if (this.#windowMs <= 0) return;
    const entity = { partitionKey: eventId.slice(0, 2), rowKey: eventId, routedAt: new Date(this.#now()).toISOString() };
    try {
      await this.#table.upsertEntity(entity, 'Replace');
    } catch (e) {
      if (this.#created || !(e instanceof RestError) || e.statusCode !== 404) throw e;
      await this.#table.createTable();
      this.#created = true;
      await this.#table.upsertEntity(entity, 'Replace');
    }
  }
}
