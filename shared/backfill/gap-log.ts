import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { deleteEntities } from '../util/delete-entities.js';
import { tableOnce } from '../util/table-once.js';

/** Why a window may hold changes Graph never delivered. */
export type GapReason = 'downtime' | 'subscription_recreated' | 'storage_outage' | 'safety_net' | 'manual' | 'validation_token_expired';

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
/** Days a closed gap's row is kept (see `pruneGaps`). */
export const GAP_RETENTION_DAYS = 30;

/** A piece of a gap's work not done yet, as recorded before it was queued. */
export interface PendingPiece {
  readonly pieceId: string;
  /** The piece's JSON (undefined for a piece recorded by a version that kept none, or not asked for). */
  readonly json?: string;
}

/** A piece's row: its JSON as UTF-8 bytes (a binary property holds 64 KiB, more than a queue message). */
interface PieceRow {
  readonly done: boolean;
  readonly sent?: boolean;
  readonly body?: Uint8Array;
}

type Entity = Omit<Gap, 'id'> & { partitionKey: string; rowKey: string };

const GAPS = 'gap';
const DELIVERIES = 'delivery';
/** A subscription's last delivery is written at most this often per instance. */
const DELIVERY_WRITE_INTERVAL_MS = 60_000;
const HEARTBEAT = { partitionKey: 'heartbeat', rowKey: 'app' };
/** A gap's id: `<name>|<reason>|<from>`, so the same window opened twice is one gap. */
export const gapIdOf = (gap: Pick<Gap, 'name' | 'reason' | 'from'>) => `${gap.name}|${gap.reason}|${gap.from}`;

/** Row keys may not hold `/ \ # ?`: ISO times and names never do, but encode to be safe. */
const rowKey = (id: string) => encodeURIComponent(id);
const piecePartition = (gapId: string) => `piece|${rowKey(gapId)}`;

/**
 * Table storage: one entity per gap (partition `gap`) and the app's heartbeat (partition `heartbeat`), so a
 * restart can tell how long the app was away.
 */
export class GapLog {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;
  readonly #deliveryWritten = new Map<string, number>();

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /** The last heartbeat written (undefined on a first start). */
  async lastHeartbeat(): Promise<Date | undefined> {
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
  async writeHeartbeat(now: Date, previous: Date | undefined): Promise<void> {
    if (!previous || previous.getTime() < now.getTime()) await this.#table.upsertEntity({ ...HEARTBEAT, at: now.toISOString() }, 'Replace');
  }

  /**
   * Notes that a subscription delivered a notification (for status and for gap windows); written at most
   * once a minute per subscription and instance, so the route path pays almost nothing for it.
   */
  async delivered(subscriptionId: string, at: Date): Promise<void> {
    const last = this.#deliveryWritten.get(subscriptionId) ?? 0;
    if (at.getTime() - last < DELIVERY_WRITE_INTERVAL_MS) return;
    this.#deliveryWritten.set(subscriptionId, at.getTime());
    await this.#ensure();
    await this.#table.upsertEntity({ partitionKey: DELIVERIES, rowKey: rowKey(subscriptionId), at: at.toISOString() }, 'Replace');
  }

  /** The last delivery noted per subscription id. */
  async lastDeliveries(): Promise<Map<string, string>> {
    await this.#ensure();
    const out = new Map<string, string>();
    for await (const e of this.#table.listEntities<{ at: string }>({ queryOptions: { filter: odata`PartitionKey eq ${DELIVERIES}` } })) out.set(decodeURIComponent(e.rowKey ?? ''), e.at);
    return out;
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
   * The gaps recorded (a closed one for GAP_RETENTION_DAYS, see `pruneGaps`), oldest window first; filtered
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

  /**
   * Records a piece of a gap's work before it is queued, with the piece itself (its JSON), so that one whose
   * message vanished (a queue's data lost, a send that never landed) can be queued again from here. Returns
   * `new` the first time; `unsent` when it was recorded before but its message was never noted as sent (a
   * crash in between: queue it); `sent` when it was (a repeated parent queues nothing twice); `done` when it
   * finished. Piece ids are derived from what they read, so a repeated parent makes no new work.
   */
  async recordPiece(gapId: string, pieceId: string, json: string): Promise<'new' | 'unsent' | 'sent' | 'done'> {
    await this.#ensure();
    const body = Buffer.from(json, 'utf8');
    try {
      await this.#table.createEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, done: false, body });
      return 'new';
    } catch (e) {
      if (restStatus(e) !== 409) throw e;
      const existing = await this.#table.getEntity<PieceRow>(piecePartition(gapId), pieceId);
      if (existing.done) return 'done';
      // A row from a version that kept no body gets one, so its piece can be queued again if need be.
      if (!existing.body) await this.#table.updateEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, body }, 'Merge');
      return existing.sent ? 'sent' : 'unsent';
    }
  }

  /** Notes that a recorded piece's message was sent. */
  async pieceSent(gapId: string, pieceId: string): Promise<void> {
    await this.#table.updateEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, sent: true }, 'Merge');
  }

  /** Marks a piece done (its body dropped: only pieces not done are ever queued again); returns how many of the gap's pieces are not done. */
  async finishPiece(gapId: string, pieceId: string): Promise<number> {
    await this.#ensure();
    await this.#table.upsertEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, done: true }, 'Replace');
    return (await this.pendingPieces(gapId, { bodies: false })).length;
  }

  /** The pieces of a gap not done yet, with the JSON of each unless `bodies` is false. */
  async pendingPieces(gapId: string, { bodies = true }: { bodies?: boolean } = {}): Promise<PendingPiece[]> {
    await this.#ensure();
    const out: PendingPiece[] = [];
    const select = bodies ? ['RowKey', 'body'] : ['RowKey'];
    for await (const e of this.#table.listEntities<PieceRow>({ queryOptions: { filter: odata`PartitionKey eq ${piecePartition(gapId)} and done eq false`, select } })) {
      out.push({ pieceId: e.rowKey ?? '', ...(e.body && e.body.length > 0 ? { json: Buffer.from(e.body).toString('utf8') } : {}) });
    }
    return out;
  }

  /**
   * Deletes the piece rows of gaps closed (filled or partial) more than `days` days before `now`: a large
   * tenant's gap records thousands, which Table storage would keep for ever. The gap rows stay (until
   * `pruneGaps`). Returns how many rows were deleted.
   */
  async prunePieces(now: Date, days = PIECE_RETENTION_DAYS): Promise<number> {
    let deleted = 0;
    for (const gap of await this.list()) {
      if (gap.piecesPruned || !closedBefore(gap, now, days)) continue;
      deleted += await this.#deletePieces(gap.id);
      try {
        await this.#table.updateEntity({ partitionKey: GAPS, rowKey: rowKey(gap.id), piecesPruned: true }, 'Merge');
      } catch (e) {
        if (restStatus(e) !== 404) throw e; // pruneGaps, running beside this, deleted the gap meanwhile
      }
    }
    return deleted;
  }

  /**
   * Deletes the gaps closed (filled or partial) more than `days` days before `now`, with their piece rows
   * if still there, except those in `keep`: the `subscription_recreated` gaps whose windows a subscription
   * record still names (the detector would open those windows again without them; see `recordedWindows`).
   * A gap not closed stays whatever its age. Returns how many gap rows were deleted.
   */
  async pruneGaps(now: Date, keep: ReadonlySet<string>, days = GAP_RETENTION_DAYS): Promise<number> {
    let deleted = 0;
    for (const gap of await this.list()) {
      if (keep.has(gap.id) || !closedBefore(gap, now, days)) continue;
      // Pieces first: a failure in between leaves the gap, and the next run deletes the rest.
      await this.#deletePieces(gap.id);
      try {
        await this.#table.deleteEntity(GAPS, rowKey(gap.id));
        deleted++;
      } catch (e) {
        if (restStatus(e) !== 404) throw e;
      }
    }
    return deleted;
  }

  #deletePieces(gapId: string): Promise<number> {
    return deleteEntities(this.#table, odata`PartitionKey eq ${piecePartition(gapId)}`);
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
function closedBefore(gap: Gap, now: Date, days: number): boolean {
  const closed = gap.status === 'filled' || gap.status === 'partial';
  return closed && Date.parse(gap.progressAt ?? gap.openedAt) <= now.getTime() - days * 86_400_000;
}

function fromEntity(e: Entity & { etag?: string; timestamp?: string }): Gap {
  const { partitionKey: _p, rowKey: key, etag: _e, timestamp: _t, ...rest } = e;
  return { id: decodeURIComponent(key), ...rest };
}
