import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { tableOnce } from '../util/table-once.js';
import { maskSecrets } from '../util/mask-secrets.js';

/** What the app remembers of each desired subscription, so status survives restarts. */
export interface SubscriptionRecord {
  readonly name: string;
  readonly subscriptionId?: string;
  readonly resource: string;
  readonly changeTypes: string;
  readonly expiresAt?: string;
  readonly lastRenewedAt?: string;
  readonly certificateId?: string;
  /** Fingerprint (clientStateFingerprint) of the secret the subscription was created with; never the secret. */
  readonly clientStateFingerprint?: string;
  /** The last window in which this entry had no subscription because the app replaced it (open while no `gapTo`). */
  readonly gapFrom?: string;
  readonly gapTo?: string;
  /**
   * Earlier closed windows (JSON `[{from, to}]`, the newest 20), kept when the next window starts so that a
   * window the gap detector has not picked up yet is not forgotten (two recreations within one heartbeat).
   */
  readonly earlierGaps?: string;
  /** The subscription that was replaced when the gap opened. */
  readonly gapSubscriptionId?: string;
  readonly lastAction?: string;
  readonly lastError?: string;
  readonly lastErrorStatus?: number;
  readonly lastErrorAt?: string;
  /**
   * When Graph last showed the subscription alive (listed, created, renewed or adopted by a run). A failed
   * run updates the record but not this: the window of a subscription Graph dropped starts here.
   */
  readonly seenAt?: string;
  /** When this record first held its subscription id (created, recreated or adopted): a silent subscription's silence counts from here until a delivery. */
  readonly subscribedAt?: string;
  readonly updatedAt: string;
}

const PARTITION = 'desired';
const KEPT_WINDOWS = 20;

export interface GapWindow {
  readonly from: string;
  readonly to: string;
}

const isGapWindow = (w: unknown): w is GapWindow => typeof w === 'object' && w !== null && 'from' in w && typeof w.from === 'string' && 'to' in w && typeof w.to === 'string';

function earlierGapsOf(r: SubscriptionRecord | undefined): GapWindow[] {
  if (!r?.earlierGaps) return [];
  try {
    const parsed = JSON.parse(r.earlierGaps) as unknown;
    return Array.isArray(parsed) ? parsed.filter(isGapWindow) : [];
  } catch {
    return [];
  }
}

/** Every closed window without subscription a record remembers: the earlier ones and the last. */
export function closedGapWindows(r: SubscriptionRecord): GapWindow[] {
  return [...earlierGapsOf(r), ...(r.gapFrom && r.gapTo ? [{ from: r.gapFrom, to: r.gapTo }] : [])];
}

/** The `earlierGaps` of a record whose next window starts now: the remembered ones and its last closed one. */
export function carriedGapWindows(r: SubscriptionRecord | undefined): Pick<SubscriptionRecord, 'earlierGaps'> {
  const windows = r ? closedGapWindows(r).slice(-KEPT_WINDOWS) : [];
  return windows.length ? { earlierGaps: JSON.stringify(windows) } : {};
}

/** Table storage: one entity per desired entry (partition `desired`, row = its name). */
export class SubscriptionRecords {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  async get(name: string): Promise<SubscriptionRecord | undefined> {
    await this.#ensure();
    try {
      return fromEntity(await this.#table.getEntity<Record<string, unknown>>(PARTITION, name));
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
  }

  async list(): Promise<SubscriptionRecord[]> {
    await this.#ensure();
    const out: SubscriptionRecord[] = [];
    for await (const e of this.#table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` } })) out.push(fromEntity(e));
    return out;
  }

  async findBySubscriptionId(subscriptionId: string): Promise<SubscriptionRecord | undefined> {
    await this.#ensure();
    for await (const e of this.#table.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${PARTITION} and subscriptionId eq ${subscriptionId}` } }))
      return fromEntity(e);
    return undefined;
  }

  /** Deletes an entry's record (a tenant purged); answers whether there was one. */
  async delete(name: string): Promise<boolean> {
    await this.#ensure();
    try {
      await this.#table.deleteEntity(PARTITION, name);
      return true;
    } catch (e) {
      if (restStatus(e) === 404) return false;
      throw e;
    }
  }

  async save(record: SubscriptionRecord): Promise<void> {
    await this.#ensure();
    const { name, ...fields } = record;
    const entity: Record<string, unknown> = { partitionKey: PARTITION, rowKey: name };
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) entity[k] = v;
    // Graph's errors can quote our notification URL, function key and all; the status page shows what is stored.
    if (typeof entity.lastError === 'string') entity.lastError = maskSecrets(entity.lastError);
    await this.#table.upsertEntity(entity as { partitionKey: string; rowKey: string }, 'Replace');
  }
}

function fromEntity(e: Record<string, unknown>): SubscriptionRecord {
  const { partitionKey: _p, rowKey, etag: _e, timestamp: _t, ...rest } = e;
  return { name: String(rowKey), ...(rest as Omit<SubscriptionRecord, 'name'>) };
}
