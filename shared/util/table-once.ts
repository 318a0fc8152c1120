import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';

/** Each table client's create, shared by every store on it (the backfill's five stores share BACKFILL_TABLE's). */
const ensures = new WeakMap<TableClient, () => Promise<void>>();

/**
 * A function that creates the table on its first call (an existing one is fine) and does nothing after,
 * so Table storage classes pay for one create per table client and process, not one per call or per store:
 * stores on one client get the same function.
 */
export function tableOnce(table: TableClient): () => Promise<void> {
  let ensure = ensures.get(table);
  if (!ensure) {
    let ready: Promise<void> | undefined;
    ensure = () =>
      (ready ??= table.createTable().catch((e: unknown) => {
        if (restStatus(e) === 409) return;
        ready = undefined; // try again next time
        throw e;
      }));
    ensures.set(table, ensure);
  }
  return ensure;
}
