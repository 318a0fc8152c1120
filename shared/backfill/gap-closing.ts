import { createHash } from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../log.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';
import type { BackfillPiece, BackfillScope } from './backfill-piece.js';
import type { Gap, GapLog } from './gap-log.js';
import type { PieceStore } from './piece-store.js';

/** A piece's id: derived from what it reads (its scope and page), so a repeated parent makes no new work. */
export const pieceId = (scope: BackfillScope, next: string | undefined) =>
  createHash('sha256')
    .update(`${JSON.stringify(scope)}\n${next ?? ''}`)
    .digest('hex')
    .slice(0, 40);

/** A piece's pages and children start with no requeue of their own. */
export const freshPiece = ({ requeues: _requeues, ...piece }: BackfillPiece): BackfillPiece => piece;

/**
 * A gap's pieces from queued to done, and the gap closed when the last is: each piece is recorded before it
 * is queued (so its gap waits for it), marked done when it finishes, and the gap's counts are written over
 * the gap as read.
 */
export class GapClosing {
  readonly #gaps: GapLog;
  readonly #pieces: PieceStore;
  readonly #queue: QueueClient;
  readonly #resync: (gap: Gap, note: string) => Promise<void>;
  readonly #now: () => number;

  constructor(options: { gaps: GapLog; pieces: PieceStore; queue: QueueClient; resync: (gap: Gap, note: string) => Promise<void>; now: () => number }) {
    this.#gaps = options.gaps;
    this.#pieces = options.pieces;
    this.#queue = options.queue;
    this.#resync = options.resync;
    this.#now = options.now;
  }

  /**
   * Records the piece (so its gap waits for it), then queues it and notes it sent; a piece already done or
   * sent is not queued again (a repeated parent, or a requeued copy, makes no second copy of its pages and
   * children: a message lost after its send is the stall check's to find).
   */
  async queue(piece: BackfillPiece, delaySeconds = 0): Promise<void> {
    const id = pieceId(piece.scope, piece.next);
    const recorded = await this.#pieces.record(piece.gapId, id, JSON.stringify(piece));
    if (recorded === 'done' || recorded === 'sent') return;
    await sendToQueue(this.#queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: delaySeconds });
    await this.#pieces.sent(piece.gapId, id);
  }

  /** Marks a piece done and settles its gap with the piece's changes (see `settle`). */
  async finish(piece: BackfillPiece, id: string, logger: Logger, changes: number, incomplete = false): Promise<void> {
    const pending = await this.#pieces.finish(piece.gapId, id);
    await this.settle(piece.gapId, logger, changes, incomplete, pending);
  }

  /**
   * Adds a finished piece's changes to its gap, and closes the gap when no piece is left (`pending` 0).
   * Written only over the gap as read (etag), again after another finisher's write: pieces that finish at
   * once all see none left, and one of them closes the gap (one `gap_closed`, one resync event), none
   * of the counts lost. A closed gap stays closed (a late copy of a piece adds its count, nothing more).
   */
  async settle(gapId: string, logger: Logger, changes: number, incomplete: boolean, pending = 0): Promise<void> {
    for (;;) {
      const current = await this.#gaps.getVersioned(gapId);
      if (!current) return;
      const { gap, etag } = current;
      const closed = gap.status === 'filled' || gap.status === 'partial';
      if (closed && changes === 0) return;
      const found = (gap.changesFound ?? 0) + changes;
      const progressAt = new Date(this.#now()).toISOString();
      if (closed || pending > 0) {
        // A piece that finished as another closed the gap still counts its changes.
        if (await this.#gaps.update(gapId, closed ? { changesFound: found } : { changesFound: found, piecesPending: pending, progressAt }, etag)) return;
        continue;
      }
      const partial = incomplete || gap.note !== undefined;
      if (!(await this.#gaps.update(gapId, { changesFound: found, piecesPending: 0, progressAt, status: partial ? 'partial' : 'filled' }, etag))) continue;
      logger.info('backfill.gap_closed', { gapId, name: gap.name, status: partial ? 'partial' : 'filled', changesFound: found });
      if (partial) await this.#resync({ ...gap, status: 'partial' }, gap.note ?? 'part of the window could not be read');
      return;
    }
  }
}
