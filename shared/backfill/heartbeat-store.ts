import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { tableOnce } from '../util/table-once.js';

const HEARTBEAT = { partitionKey: 'heartbeat', rowKey: 'app' };

/**
 * The app's heartbeat in Table storage (BACKFILL_TABLE, partition `heartbeat`), written every minute by
 * the gap detector, so that a restart can tell how long the app was away.
 */
export class HeartbeatStore {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /** The last heartbeat written (undefined on a first start). */
  async last(): Promise<Date | undefined> {
    await this.#ensure();
    try {
      const e = await this.#table.getEntity<{ at: string }>(HEARTBEAT.partitionKey, HEARTBEAT.rowKey);
      return new Date(e.at);
    } catch (e) {
      if (restStatus(e) !== 404) throw e;
      return undefined;
    }
  }

  /** Writes the heartbeat (never back in time: `previous` is the one read before). */
  async write(now: Date, previous: Date | undefined): Promise<void> {
    if (!previous || previous.getTime() < now.getTime()) await this.#table.upsertEntity({ ...HEARTBEAT, at: now.toISOString() }, 'Replace');
  }
}
