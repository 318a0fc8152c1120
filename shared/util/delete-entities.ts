import type { TableClient, TransactionAction } from '@azure/data-tables';
import { restStatus } from '../errors.js';

/** Table storage's limit on the actions of one entity group transaction (Azure's and Azurite's alike). */
export const MAX_TRANSACTION_ACTIONS = 100;

/**
 * Deletes every entity `filter` (an OData filter, built with `odata`) selects: one entity group transaction
 * per partition and 100 entities, the most Table storage takes in one. The pruning of tables that Table
 * storage would otherwise keep forever (it has no TTL). A missing table deletes nothing, and an entity another
 * deleted since it was listed is left out (two clean-ups may delete the same rows). Returns how many.
 */
export async function deleteEntities(table: TableClient, filter: string): Promise<number> {
  const byPartition = new Map<string, TransactionAction[]>();
  try {
    for await (const e of table.listEntities<{ partitionKey: string; rowKey: string }>({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } })) {
      const list = byPartition.get(e.partitionKey) ?? [];
      list.push(['delete', { partitionKey: e.partitionKey, rowKey: e.rowKey }]);
      byPartition.set(e.partitionKey, list);
    }
  } catch (e) {
    if (restStatus(e) === 404) return 0;
    throw e;
  }
  let deleted = 0;
  for (const actions of byPartition.values()) {
    for (let i = 0; i < actions.length; i += MAX_TRANSACTION_ACTIONS) {
      const chunk = actions.slice(i, i + MAX_TRANSACTION_ACTIONS);
      try {
        await table.submitTransaction(chunk);
        deleted += chunk.length;
      } catch (e) {
        if (restStatus(e) !== 404) throw e;
        // Another deleted one of them since the listing (a transaction is all or nothing): one by one.
        deleted += await deleteEach(table, chunk);
      }
    }
  }
  return deleted;
}

/** Deletes each entity of `actions` on its own, those already gone left out; returns how many it deleted. */
async function deleteEach(table: TableClient, actions: readonly TransactionAction[]): Promise<number> {
  let deleted = 0;
  for (const [, { partitionKey, rowKey }] of actions) {
    try {
      await table.deleteEntity(partitionKey, rowKey);
      deleted++;
    } catch (e) {
      if (restStatus(e) !== 404) throw e;
    }
  }
  return deleted;
}
