import { odata, type TableClient } from '@azure/data-tables';
import { restStatus } from '../errors.js';
import { deleteEntities } from '../util/delete-entities.js';
import { tableOnce } from '../util/table-once.js';
import { closedBefore, PIECE_RETENTION_DAYS, type GapLog } from './gap-log.js';

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

/** Row keys may not hold `/ \ # ?`: ISO times and names never do, but encode to be safe. */
const piecePartition = (gapId: string) => `piece|${encodeURIComponent(gapId)}`;

/**
 * The pieces of each gap's work (BACKFILL_TABLE, partition `piece|<gap id>`, row per piece id): recorded
 * before each is queued, marked done when it finishes, so that a gap knows when it is filled and a piece
 * whose message vanished can be queued again.
 */
export class PieceStore {
  readonly #table: TableClient;
  readonly #ensure: () => Promise<void>;

  constructor(table: TableClient) {
    this.#table = table;
    this.#ensure = tableOnce(table);
  }

  /**
   * Records a piece of a gap's work before it is queued, with the piece itself (its JSON), so that one whose
   * message vanished (a queue's data lost, a send that never landed) can be queued again from here. Returns
   * `new` the first time; `unsent` when it was recorded before but its message was never noted as sent (a
   * crash in between: queue it); `sent` when it was (a repeated parent queues nothing twice); `done` when it
   * finished. Piece ids are derived from what they read, so a repeated parent makes no new work.
   */
  async record(gapId: string, pieceId: string, json: string): Promise<'new' | 'unsent' | 'sent' | 'done'> {
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
  async sent(gapId: string, pieceId: string): Promise<void> {
    await this.#table.updateEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, sent: true }, 'Merge');
  }

  /** Marks a piece done (its body dropped: only pieces not done are ever queued again); returns how many of the gap's pieces are not done. */
  async finish(gapId: string, pieceId: string): Promise<number> {
    await this.#ensure();
    await this.#table.upsertEntity({ partitionKey: piecePartition(gapId), rowKey: pieceId, done: true }, 'Replace');
    return (await this.pending(gapId, { bodies: false })).length;
  }

  /** The pieces of a gap not done yet, with the JSON of each unless `bodies` is false. */
  async pending(gapId: string, { bodies = true }: { bodies?: boolean } = {}): Promise<PendingPiece[]> {
    await this.#ensure();
    const out: PendingPiece[] = [];
    const select = bodies ? ['RowKey', 'body'] : ['RowKey'];
    for await (const e of this.#table.listEntities<PieceRow>({ queryOptions: { filter: odata`PartitionKey eq ${piecePartition(gapId)} and done eq false`, select } })) {
      out.push({ pieceId: e.rowKey ?? '', ...(e.body && e.body.length > 0 ? { json: Buffer.from(e.body).toString('utf8') } : {}) });
    }
    return out;
  }

  /** Deletes every piece row of a gap; returns how many were deleted. */
  deleteAll(gapId: string): Promise<number> {
    return deleteEntities(this.#table, odata`PartitionKey eq ${piecePartition(gapId)}`);
  }

  /**
   * Deletes the piece rows of the gaps (in `gaps`) closed, filled or partial, more than `days` days before
   * `now`: a large tenant's gap records thousands, which Table storage would keep for ever. The gap rows stay
   * (until `GapLog.prune`), marked `piecesPruned` so that the next run skips them. Returns how many rows were
   * deleted.
   */
  async prune(gaps: GapLog, now: Date, days = PIECE_RETENTION_DAYS): Promise<number> {
    let deleted = 0;
    for (const gap of await gaps.list()) {
      if (gap.piecesPruned || !closedBefore(gap, now, days)) continue;
      deleted += await this.deleteAll(gap.id);
      // After the pieces: a failure in between leaves the mark unset, and the next run deletes what is left.
      await gaps.markPiecesPruned(gap.id);
    }
    return deleted;
  }
}
