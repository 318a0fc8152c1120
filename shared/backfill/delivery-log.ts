import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { tableOnce } from '../util/table-once.js';

const DELIVERIES = 'delivery';
/** A subscription's last delivery is written at most this often per instance. */
const DELIVERY_WRITE_INTERVAL_MS = 60_000;

/**
 * When each subscription last delivered a notification (BACKFILL_TABLE, partition `delivery`, row per
 * subscription id): for the status page and the subscriptions CLI.
 */
export class DeliveryLog {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;
  readonly #written = new Map<string, number>();

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /**
   * Notes that a subscription delivered a notification; written at most once a minute per subscription and
   * instance, so the route path pays almost nothing for it.
   */
  async delivered(subscriptionId: string, at: Date): Promise<void> {
    const last = this.#written.get(subscriptionId) ?? 0;
    if (at.getTime() - last < DELIVERY_WRITE_INTERVAL_MS) return;
    this.#written.set(subscriptionId, at.getTime());
    await this.#ensure();
    await this.#table.upsertEntity({ partitionKey: DELIVERIES, rowKey: encodeURIComponent(subscriptionId), at: at.toISOString() }, 'Replace');
  }

  /** The last delivery noted per subscription id. */
  async lastDeliveries(): Promise<Map<string, string>> {
    await this.#ensure();
    const out = new Map<string, string>();
    for await (const e of this.#table.listEntities<{ at: string }>({ queryOptions: { filter: odata`PartitionKey eq ${DELIVERIES}` } })) out.set(decodeURIComponent(e.rowKey ?? ''), e.at);
    return out;
  }

  /** Deletes what is noted of these subscriptions (a tenant purged); answers how many rows were deleted. */
  async forget(subscriptionIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const id of subscriptionIds) {
      this.#written.delete(id);
      try {
        await this.#table.deleteEntity(DELIVERIES, encodeURIComponent(id));
        deleted++;
      } catch (e) {
        if (restStatus(e) !== 404) throw e;
      }
    }
    return deleted;
  }
}
