import type { TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';

/**
 * A function that creates the table on its first call (an existing one is fine) and does nothing after,
 * so a Table storage class pays for one create per process, not one per call.
 */
export function tableOnce(table: TableClient): () => Promise<void> {
  let ready: Promise<void> | undefined;
  return () =>
    (ready ??= table.createTable().catch((e: unknown) => {
      if (restStatus(e) === 409) return;
      ready = undefined; // try again next time
      throw e;
    }));
}
