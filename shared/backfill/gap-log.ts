import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { tableOnce } from '../util/table-once.js';
import type { PieceStore } from './piece-store.js';

/** Why a window may hold changes Graph never delivered. */
export type GapReason = 'downtime' | 'subscription_recreated' | 'storage_outage' | 'safety_net' | 'manual' | 'validation_token_expired' | 'tenant_baseline';

/**
 * A window `[from, to]` of one desired subscription during which notifications may have been lost, and how
 * far filling it from Graph's read APIs has come.
 */
export interface Gap {
  /** `<name>|<reason>|<from>`: the same window opened twice (two instances starting) is one gap. */
  readonly id: string;
  readonly name: string;
  readonly from: string;
  readonly to: string;
  readonly reason: GapReason;
  readonly status: 'open' | 'filling' | 'filled' | 'partial';
  readonly openedAt: string;
  /** Pieces of work queued and not yet done. */
  readonly piecesPending?: number;
  /** Changes found in the window and routed. */
  readonly changesFound?: number;
  /** Why the gap could not be filled completely (then a resync event names the window). */
  readonly note?: string;
  /** When its pieces were last queued or one of them finished (ISO): how long a `filling` gap has stood still. */
  readonly progressAt?: string;
  /** Its piece rows were deleted (PIECE_RETENTION_DAYS after it closed; the gap's row goes GAP_RETENTION_DAYS after). */
  readonly piecesPruned?: boolean;
}

/** Days a closed gap keeps its piece rows (a late copy of one of its pieces then finds them done). */
export const PIECE_RETENTION_DAYS = 7;
/** Days a closed gap's row is kept (see `GapLog.prune`). */
export const GAP_RETENTION_DAYS = 30;

type Entity = Omit<Gap, 'id'> & { partitionKey: string; rowKey: string };

const GAPS = 'gap';
/** A gap's id: `<name>|<reason>|<from>`, so the same window opened twice is one gap. */
export const gapIdOf = (gap: Pick<Gap, 'name' | 'reason' | 'from'>) => `${gap.name}|${gap.reason}|${gap.from}`;

/** Row keys may not hold `/ \ # ?`: ISO times and names never do, but encode to be safe. */
const rowKey = (id: string) => encodeURIComponent(id);

/**
 * The gaps (BACKFILL_TABLE, partition `gap`, row per gap id): each window opened, and how far filling it has
 * come. Their pieces are the PieceStore's, in the same table.
 */
export class GapLog {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /** Records a gap; one already recorded under the same id is left as it is. Returns whether it is new. */
  async open(gap: Pick<Gap, 'name' | 'from' | 'to' | 'reason'>, now: Date): Promise<{ gap: Gap; created: boolean }> {
    await this.#ensure();
    const id = gapIdOf(gap);
    const entity: Entity = { partitionKey: GAPS, rowKey: rowKey(id), ...gap, status: 'open', openedAt: now.toISOString() };
    try {
      await this.#table.createEntity(entity);
      return { gap: { id, ...gap, status: 'open', openedAt: entity.openedAt }, created: true };
    } catch (e) {
      if (restStatus(e) !== 409) throw e;
      return { gap: (await this.get(id))!, created: false };
    }
  }

  async get(id: string): Promise<Gap | undefined> {
    return (await this.getVersioned(id))?.gap;
  }

  /** A gap with its etag, for an update that must not overwrite another's (see `update`). */
  async getVersioned(id: string): Promise<{ gap: Gap; etag: string } | undefined> {
    await this.#ensure();
    try {
      const e = await this.#table.getEntity<Entity>(GAPS, rowKey(id));
      return { gap: fromEntity(e), etag: e.etag };
    } catch (e) {
      if (restStatus(e) === 404) return undefined;
      throw e;
    }
  }

  /**
   * The gaps recorded (a closed one for GAP_RETENTION_DAYS, see `prune`), oldest window first; filtered
   * in the query, so that Table storage returns only what is asked for: one subscription's (`name`), those
   * not closed yet (`unfinished`: `open` or `filling`), those opened for one `reason`.
   */
  async list(filter: { name?: string; unfinished?: boolean; reason?: GapReason } = {}): Promise<Gap[]> {
    await this.#ensure();
    const clauses = [odata`PartitionKey eq ${GAPS}`];
    if (filter.name) clauses.push(odata`name eq ${filter.name}`);
    if (filter.unfinished) clauses.push(odata`(status eq ${'open'} or status eq ${'filling'})`);
    if (filter.reason) clauses.push(odata`reason eq ${filter.reason}`);
    const out: Gap[] = [];
    for await (const e of this.#table.listEntities<Entity>({ queryOptions: { filter: clauses.join(' and ') } })) out.push(fromEntity(e));
    return out.sort((a, b) => a.from.localeCompare(b.from));
  }

  /** Marks a gap's piece rows deleted (see `PieceStore.prune`); a gap deleted meanwhile is left out. */
  async markPiecesPruned(id: string): Promise<void> {
    try {
      await this.#table.updateEntity({ partitionKey: GAPS, rowKey: rowKey(id), piecesPruned: true }, 'Merge');
    } catch (e) {
      if (restStatus(e) !== 404) throw e; // prune, running beside PieceStore.prune, deleted the gap meanwhile
    }
  }

  /**
   * Deletes the gaps closed (filled or partial) more than `days` days before `now`, with their piece rows
   * (in `pieces`) if still there, except those in `keep`: the `subscription_recreated` gaps whose windows a subscription
   * record still names (the detector would open those windows again without them; see `recordedWindows`).
   * A gap not closed stays whatever its age. Returns how many gap rows were deleted.
   */
  async prune(pieces: Pick<PieceStore, 'deleteAll'>, now: Date, keep: ReadonlySet<string>, days = GAP_RETENTION_DAYS): Promise<number> {
    let deleted = 0;
    for (const gap of await this.list()) {
      if (keep.has(gap.id) || !closedBefore(gap, now, days)) continue;
      // Pieces first: a failure in between leaves the gap, and the next run deletes the rest.
      await pieces.deleteAll(gap.id);
      deleted += await this.#delete(gap.id);
    }
    return deleted;
  }

  /**
   * Deletes every gap of these entries (names: a tenant purged), whatever its state, with its piece rows.
   * Pieces first, as in `prune`. Returns how many gap rows were deleted.
   */
  async deleteOf(names: readonly string[], pieces: Pick<PieceStore, 'deleteAll'>): Promise<number> {
    let deleted = 0;
    for (const name of names) {
      for (const gap of await this.list({ name })) {
        await pieces.deleteAll(gap.id);
        deleted += await this.#delete(gap.id);
      }
    }
    return deleted;
  }

  /** Deletes a gap's row: 1, or 0 when another deleted it meanwhile. */
  async #delete(id: string): Promise<number> {
    try {
      await this.#table.deleteEntity(GAPS, rowKey(id));
      return 1;
    } catch (e) {
      if (restStatus(e) !== 404) throw e;
      return 0;
    }
  }

  /**
   * Merges fields into a gap (progress, status); with `etag`, only if the gap is still as it was read.
   * Returns false when another write came first (then nothing was written).
   */
  async update(id: string, fields: Partial<Pick<Gap, 'status' | 'piecesPending' | 'changesFound' | 'note' | 'progressAt'>>, etag?: string): Promise<boolean> {
    await this.#ensure();
    try {
      await this.#table.updateEntity({ partitionKey: GAPS, rowKey: rowKey(id), ...fields }, 'Merge', etag ? { etag } : {});
      return true;
    } catch (e) {
      if (etag && restStatus(e) === 412) return false;
      throw e;
    }
  }
}

/** Whether a gap closed (filled or partial) more than `days` days before `now` (its last progress, or its opening for one without). */
export function closedBefore(gap: Gap, now: Date, days: number): boolean {
  const closed = gap.status === 'filled' || gap.status === 'partial';
  return closed && Date.parse(gap.progressAt ?? gap.openedAt) <= now.getTime() - days * 86_400_000;
}

function fromEntity(e: Entity & { etag?: string; timestamp?: string }): Gap {
  const { partitionKey: _p, rowKey: key, etag: _e, timestamp: _t, ...rest } = e;
  return { id: decodeURIComponent(key), ...rest };
}
