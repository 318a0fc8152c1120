import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import type { SelfCheckStatus } from '../status/status-snapshot.js';
import { tableOnce } from '../util/table-once.js';

const PARTITION = 'selfcheck';

type SelfCheckEntity = {
  partitionKey: string;
  rowKey: string;
  status: string;
  message: string;
  fix?: string;
  checkedAt: string;
};

const STATUSES: readonly SelfCheckStatus['status'][] = ['ok', 'warn', 'fail', 'skipped'];

/** The last result of each self-check (HEALTH_TABLE, one row per check), written by checkHealth, read by status. */
export class HealthStore {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  async save(results: readonly SelfCheckStatus[]): Promise<void> {
    await this.#ensure();
    if (results.length === 0) return;
    await this.#table.submitTransaction(
      results.map((r) => {
        const entity: SelfCheckEntity = { partitionKey: PARTITION, rowKey: r.check, status: r.status, message: r.message, ...(r.fix ? { fix: r.fix } : {}), checkedAt: r.checkedAt };
        return ['upsert', entity, 'Replace'] as const;
      }),
    );
  }

  /** Every check's last result, by name; none before checkHealth's first run (a missing table too). */
  async list(): Promise<SelfCheckStatus[]> {
    const out: SelfCheckStatus[] = [];
    try {
      for await (const e of this.#table.listEntities<SelfCheckEntity>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })) {
        const status = STATUSES.find((s) => s === e.status);
        if (!status || !e.rowKey) continue;
        out.push({ check: e.rowKey, status, message: e.message, ...(e.fix ? { fix: e.fix } : {}), checkedAt: e.checkedAt });
      }
    } catch (e) {
      if (restStatus(e) === 404) return [];
      throw e;
    }
    return out.sort((a, b) => a.check.localeCompare(b.check));
  }
}
