import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '../log.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { messageCount } from '../queue/message-count.js';
import { sendToQueue } from '../queue/storage-writes.js';
import { parseBackfillPiece, type BackfillPiece } from './backfill-piece.js';
import { freshPiece, type GapClosing } from './gap-closing.js';
import type { Gap, GapLog } from './gap-log.js';
import type { PendingPiece, PieceStore } from './piece-store.js';

/**
 * A `filling` gap none of whose pieces finished for this long may have lost some (their messages gone):
 * longer than a piece waits for Graph's Retry-After, a poisoned piece's requeue delay or the host's retries.
 */
export const STALLED_FILLING_MS = 10 * 60_000;
/** A gap standing still this long has its pieces queued again whatever the queue's count says. */
export const STALLED_FILLING_LONG_MS = 60 * 60_000;

/** A recorded piece's JSON as a piece, or undefined (none kept, or not a piece). */
function parsePieceJson(json: string | undefined): BackfillPiece | undefined {
  if (json === undefined) return undefined;
  try {
    return parseBackfillPiece(JSON.parse(json));
  } catch {
    return undefined;
  }
}

/** Queues again the pieces of gaps that stood still (see `requeueStalled`). */
export class StallRecovery {
  readonly #gaps: GapLog;
  readonly #pieces: PieceStore;
  readonly #queue: QueueClient;
  readonly #closing: GapClosing;
  readonly #now: () => number;

  constructor(options: { gaps: GapLog; pieces: PieceStore; queue: QueueClient; closing: GapClosing; now: () => number }) {
    this.#gaps = options.gaps;
    this.#pieces = options.pieces;
    this.#queue = options.queue;
    this.#closing = options.closing;
    this.#now = options.now;
  }

  /**
   * Queues again the pieces of `filling` gaps that stood still (the detector's call, with every gap still
   * filling): pieces are recorded before they are queued, so a piece not done whose message is gone (a
   * queue's data lost with a storage restart, a host killed between the record and the send) would hold
   * its gap open for ever. A gap none of whose pieces finished for STALLED_FILLING_MS has every pending
   * piece queued again when the backfill queue holds fewer messages than all filling gaps have pieces left
   * (then some messages are surely gone), or in any case once it stood still for STALLED_FILLING_LONG_MS
   * (a queue's count can be too high). Which pieces are gone cannot be told: one still queued is read
   * twice, a duplicate, never a loss, and its copies queue no page or child twice. A gap with no piece
   * left is closed; a piece recorded without its JSON (by an earlier version) cannot be queued again, and
   * its gap ends `partial` with a resync event. One gap's failure is logged and does not stop the others.
   */
  async requeueStalled(filling: readonly Gap[], logger: Logger): Promise<void> {
    const now = this.#now();
    const idleMs = (g: Gap) => now - Date.parse(g.progressAt ?? g.openedAt);
    const stalled = filling.filter((g) => g.status === 'filling' && idleMs(g) > STALLED_FILLING_MS);
    if (stalled.length === 0) return;
    // Every filling gap's pieces left (a stalled gap's with the pieces themselves, to queue them again).
    const pending = new Map(await Promise.all(filling.map(async (g) => [g.id, await this.#pieces.pending(g.id, { bodies: stalled.includes(g) })] as const)));
    const waitedFor = [...pending.values()].reduce((sum, p) => sum + p.length, 0);
    const queued = (await messageCount(this.#queue)) ?? 0;
    for (const gap of stalled) {
      try {
        const reason = queued < waitedFor ? 'messages_missing' : idleMs(gap) > STALLED_FILLING_LONG_MS ? 'long_stall' : undefined;
        await this.#requeueGap(gap, pending.get(gap.id) ?? [], reason, { queued, waitedFor }, logger);
      } catch (e) {
        logger.error('backfill.stall_check_failed', { gapId: gap.id, error: (e as Error).message });
      }
    }
  }

  async #requeueGap(gap: Gap, pending: readonly PendingPiece[], reason: 'messages_missing' | 'long_stall' | undefined, counts: { queued: number; waitedFor: number }, logger: Logger): Promise<void> {
    if (pending.length === 0) return this.#closing.settle(gap.id, logger, 0, false);
    if (!reason) return;
    // Progress first: a crash among the sends must not have the next beat send them all again at once.
    await this.#gaps.update(gap.id, { progressAt: new Date(this.#now()).toISOString() });
    const unknown: string[] = [];
    for (const p of pending) {
      const piece = parsePieceJson(p.json);
      if (piece) await sendToQueue(this.#queue, encodeJsonMessage(freshPiece(piece)));
      else unknown.push(p.pieceId);
    }
    logger.warn('backfill.gap_stalled', {
      gapId: gap.id,
      name: gap.name,
      reason,
      piecesPending: pending.length,
      queueMessages: counts.queued,
      piecesWaitedFor: counts.waitedFor,
      requeued: pending.length - unknown.length,
      unrecoverable: unknown.length,
    });
    if (unknown.length === 0) return;
    await this.#gaps.update(gap.id, { note: `${unknown.length} piece(s) were lost from the queue and cannot be queued again; their part of the window was not read` });
    let left = pending.length;
    for (const id of unknown) left = await this.#pieces.finish(gap.id, id);
    await this.#closing.settle(gap.id, logger, 0, true, left);
  }
}
