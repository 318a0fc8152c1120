import { type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { restStatus as status } from '../errors.js';
import { MAX_TRANSACTION_ACTIONS } from '../util/delete-entities.js';
import { tableOnce } from '../util/table-once.js';

/** An insert (no etag) or a replace conditional on `etag`. */
interface PendingWrite {
  readonly entity: TableEntity;
  readonly etag: string | undefined;
  resolve(etag: string | undefined): void;
  reject(e: unknown): void;
}

export interface TableWriteBatcherOptions {
  /** How long a write waits for others of its partition before it is sent. */
  readonly delayMs?: number;
}

/**
 * Whether a failed transaction names the table as missing (a first write to a new table): not one row's
 * conflict. Azure answers 404 TableNotFound; Azurite 404 with "The table specified does not exist".
 */
function isTableMissing(e: unknown): boolean {
  if (status(e) !== 404) return false;
  const code = (e as { code?: unknown }).code;
  return code === 'TableNotFound' || /TableNotFound|table specified does not exist/i.test((e as Error).message ?? '');
}

/**
 * Conditional writes (insert if absent, replace if the etag still matches) gathered for a few milliseconds
 * and sent as one entity group transaction per partition: one storage operation for many writes. Each write
 * still gets its own answer (its new etag, or undefined when another write won): a transaction that fails
 * (one conflict makes the whole group fail) is sent again write by write. A missing table is created once.
 */
export class TableWriteBatcher {
  readonly #table: TableClient;
  readonly #delayMs: number;
  readonly #createTable: () => Promise<void>;
  #pending: PendingWrite[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(table: TableClient, options: TableWriteBatcherOptions = {}) {
    this.#table = table;
    this.#delayMs = options.delayMs ?? 5;
    this.#createTable = tableOnce(table);
  }

  /** Inserts (no etag) or replaces (if-match etag). The new etag, or undefined when another write won. */
  write(entity: TableEntity, etag: string | undefined): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ entity, etag, resolve, reject });
      if (!this.#timer) this.#timer = setTimeout(() => this.#flush(), this.#delayMs);
    });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    this.#timer = undefined;
    // One group per partition; a row written twice goes in a later group (a transaction names a row once).
    const groups: PendingWrite[][] = [];
    const open = new Map<string, { group: PendingWrite[]; rows: Set<string> }>();
    for (const write of pending) {
      const current = open.get(write.entity.partitionKey);
      if (current && current.group.length < MAX_TRANSACTION_ACTIONS && !current.rows.has(write.entity.rowKey)) {
        current.group.push(write);
        current.rows.add(write.entity.rowKey);
        continue;
      }
      const group = [write];
      groups.push(group);
      open.set(write.entity.partitionKey, { group, rows: new Set([write.entity.rowKey]) });
    }
    for (const group of groups) void (group.length === 1 ? this.#single(group[0]!) : this.#transaction(group));
  }

  async #transaction(group: PendingWrite[]): Promise<void> {
    const actions: TransactionAction[] = group.map(({ entity, etag }) => (etag === undefined ? ['create', entity] : ['update', entity, 'Replace', { etag }]));
    let etags: (string | undefined)[];
    try {
      etags = await this.#submit(actions);
    } catch {
      // A conflict on one row fails the group: each write on its own tells which.
      await Promise.all(group.map((w) => this.#single(w)));
      return;
    }
    group.forEach((w, i) => w.resolve(etags[i] ?? ''));
  }

  /** Sends one transaction; a missing table is created and the transaction sent again, still as one. */
  async #submit(actions: TransactionAction[]): Promise<(string | undefined)[]> {
    try {
      return (await this.#table.submitTransaction(actions)).subResponses.map((r) => r.etag);
    } catch (e) {
      if (!isTableMissing(e)) throw e;
      await this.#createTable();
      return (await this.#table.submitTransaction(actions)).subResponses.map((r) => r.etag);
    }
  }

  async #single(write: PendingWrite): Promise<void> {
    try {
      write.resolve(await this.#writeOne(write));
    } catch (e) {
      write.reject(e);
    }
  }

  async #writeOne({ entity, etag }: PendingWrite): Promise<string | undefined> {
    for (let created = false; ; created = true) {
      try {
        const r = etag === undefined ? await this.#table.createEntity(entity) : await this.#table.updateEntity(entity, 'Replace', { etag });
        return r.etag ?? '';
      } catch (e) {
        if (status(e) === 404 && etag === undefined && !created) {
          await this.#createTable();
          continue;
        }
        if (status(e) === 409 || status(e) === 412 || status(e) === 404) return undefined;
        throw e;
      }
    }
  }
}
