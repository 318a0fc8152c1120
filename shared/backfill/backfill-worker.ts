import type { QueueClient } from '@azure/storage-queue';
import type { GraphClient } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';
import type { NotificationProcessor } from '../route/notification-processor.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { DesiredSubscriptionSource } from '../subscriptions/tenant-desired-subscriptions.js';
import type { TenantReadShares } from './tenant-read-shares.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { BACKFILL_PIECE_SCHEMA, scopesOf, type BackfillPiece } from './backfill-piece.js';
import { FirstMembers } from './first-members.js';
import { freshPiece, GapClosing, pieceId } from './gap-closing.js';
import type { Gap, GapLog } from './gap-log.js';
import { afterHistory, childScopesOf, firstPage, historyChatsOf } from './graph-reads.js';
import type { MembershipLog } from './membership-log.js';
import { MembershipReadBack } from './membership-read-back.js';
import { PacedReader, type PieceOutcome } from './paced-reader.js';
import { PageRouting } from './page-routing.js';
import type { PieceStore } from './piece-store.js';
import { StallRecovery } from './stall-recovery.js';

export type { PieceOutcome } from './paced-reader.js';

export interface BackfillWorkerOptions {
  /** The Graph client acting in a tenant: a gap is read in its subscription's tenant. */
  readonly graphIn: (tenantId: string) => GraphClient;
  readonly gaps: GapLog;
  readonly pieces: PieceStore;
  readonly queue: QueueClient;
  readonly processor: NotificationProcessor;
  readonly records: SubscriptionRecords;
  readonly desired: DesiredSubscriptionSource;
  /** Whether the relay serves a tenant now (a tenant the last read did not serve: read again): a removed tenant's pieces are dropped. */
  readonly serves: (tenantId: string) => Promise<boolean>;
  /** The read budget the tenants share (BACKFILL_READS_PER_SECOND). */
  readonly shares?: TenantReadShares;
  /** Widening of each gap: before its start and after its end, in ms. */
  readonly marginBeforeMs: number;
  readonly marginAfterMs: number;
  /** Teams allows one request per second per app on a given chat or channel: the pause between pages. */
  readonly pagePauseSeconds?: number;
  /** The last known membership of each chat, to tell who left during a gap. */
  readonly memberships: MembershipLog;
  /** Publishes a resync event naming a window that could not be filled completely. */
  readonly resync: (gap: Gap, note: string) => Promise<void>;
  readonly now?: () => number;
}

/**
 * A piece the host gave up on (its attempts ran out: crashes mid-piece, storage or Graph down) is queued
 * again this many times, each a while later, before its gap is given up as partial.
 */
export const POISONED_PIECE_REQUEUES = 3;
const POISONED_PIECE_DELAY_SECONDS = 60;

/**
 * Fills gaps from Graph's read APIs, one resumable piece at a time. Opening a gap records it and queues
 * the pieces that cover its subscription (widened by the margins); each piece reads one page, routes every
 * change in the window through the same path as notifications (same event ids, so a late notification of
 * the same change is a duplicate), records and queues the next page as a new piece before it finishes, and
 * marks the gap filled when its last piece is done. 429 answers put the piece back after Retry-After.
 */
export class BackfillWorker {
  readonly #gaps: GapLog;
  readonly #queue: QueueClient;
  readonly #desired: DesiredSubscriptionSource;
  readonly #serves: (tenantId: string) => Promise<boolean>;
  readonly #marginBeforeMs: number;
  readonly #marginAfterMs: number;
  readonly #pagePauseSeconds: number;
  readonly #resync: (gap: Gap, note: string) => Promise<void>;
  readonly #now: () => number;
  readonly #closing: GapClosing;
  readonly #stalls: StallRecovery;
  /** Each tenant's reader (its Graph client, its share) and routing (its tenant id on every change read). */
  readonly #tenantParts = new Map<string, { reader: PacedReader; routing: PageRouting }>();
  readonly #makeParts: (tenantId: string) => { reader: PacedReader; routing: PageRouting };
  /** Each chat's membership, one piece at a time (see process). */
  readonly #memberships = new KeyedLock();

  constructor(options: BackfillWorkerOptions) {
    this.#gaps = options.gaps;
    this.#queue = options.queue;
    this.#desired = options.desired;
    this.#serves = options.serves;
    this.#marginBeforeMs = options.marginBeforeMs;
    this.#marginAfterMs = options.marginAfterMs;
    this.#pagePauseSeconds = options.pagePauseSeconds ?? 1;
    this.#resync = options.resync;
    this.#now = options.now ?? Date.now;
    const { gaps, pieces, queue } = options;
    this.#closing = new GapClosing({ gaps, pieces, queue, resync: options.resync, now: this.#now });
    this.#stalls = new StallRecovery({ gaps, pieces, queue, closing: this.#closing, now: this.#now });
    this.#makeParts = (tenantId) => {
      const reader = new PacedReader({ graph: options.graphIn(tenantId), queue, tenantId, ...(options.shares ? { shares: options.shares } : {}) });
      const firstMembers = new FirstMembers({ read: reader.chatGet, gaps, marginBeforeMs: options.marginBeforeMs, marginAfterMs: options.marginAfterMs, now: this.#now });
      const membershipReadBack = new MembershipReadBack({ memberships: options.memberships, firstMembers, tenantId });
      return { reader, routing: new PageRouting({ processor: options.processor, records: options.records, gaps, membershipReadBack, reader, tenantId }) };
    };
  }

  /** The reader and routing of a tenant (made once). */
  #partsOf(tenantId: string): { reader: PacedReader; routing: PageRouting } {
    let parts = this.#tenantParts.get(tenantId);
    if (!parts) {
      parts = this.#makeParts(tenantId);
      this.#tenantParts.set(tenantId, parts);
    }
    return parts;
  }

  /** The desired entry a gap or piece belongs to, if its tenant is served. */
  async #servedEntry(name: string): Promise<DesiredSubscription | undefined> {
    const d = this.#desired.byName(name);
    return d && (await this.#serves(d.tenantId ?? '')) ? d : undefined;
  }

  /**
   * Records a gap and queues its first pieces; an already recorded gap (the same subscription, reason and
   * start) is left alone. A downtime found again with a later end is the exception: the rest of its window,
   * from the recorded end, is a gap of its own. A detector that died after opening some of a downtime's gaps,
   * before writing its heartbeat, is followed by one that finds the same old heartbeat later, and the
   * minutes between the two detections must be read back too. (Other reasons' ends say nothing new when
   * repeated: an expired token's window is bounded by the token, and a replayed request must not widen it.)
   */
  async openGap(gap: Pick<Gap, 'name' | 'from' | 'to' | 'reason'>, logger: Logger): Promise<Gap> {
    const { gap: recorded, created } = await this.#gaps.open(gap, new Date(this.#now()));
    if (!created && gap.reason === 'downtime' && Date.parse(gap.to) > Date.parse(recorded.to)) return this.openGap({ ...gap, from: recorded.to }, logger);
    if (!created) return recorded;
    logger.warn('backfill.gap_opened', { gapId: recorded.id, name: gap.name, from: gap.from, to: gap.to, reason: gap.reason });
    return this.#start(recorded);
  }

  /**
   * Queues the first pieces of a gap that is still `open`: its opener died between recording it and
   * queueing them (nothing else would ever fill it). Pieces are idempotent: one queued twice is read twice,
   * its changes reach each queue once.
   */
  async resumeGap(gap: Gap, logger: Logger): Promise<Gap> {
    logger.warn('backfill.gap_resumed', { gapId: gap.id, name: gap.name, from: gap.from, to: gap.to, reason: gap.reason, openedAt: gap.openedAt });
    return this.#start(gap);
  }

  async #start(gap: Gap): Promise<Gap> {
    const desired = await this.#servedEntry(gap.name);
    const covered = desired ? scopesOf(desired) : { unsupported: 'not a desired subscription of a tenant served' };
    if ('unsupported' in covered) {
      await this.#gaps.update(gap.id, { status: 'partial', note: covered.unsupported });
      await this.#resync(gap, covered.unsupported);
      return { ...gap, status: 'partial', note: covered.unsupported };
    }
    const from = new Date(Date.parse(gap.from) - this.#marginBeforeMs).toISOString();
    const to = new Date(Date.parse(gap.to) + this.#marginAfterMs).toISOString();
    for (const scope of covered.scopes) await this.#closing.queue({ schema: BACKFILL_PIECE_SCHEMA, gapId: gap.id, name: gap.name, from, to, scope });
    const progressAt = new Date(this.#now()).toISOString();
    await this.#gaps.update(gap.id, { status: 'filling', progressAt });
    return { ...gap, status: 'filling', progressAt };
  }

  /**
   * Closes the unfinished gaps of these entries as `partial` with `note` (their tenant was removed): their
   * pieces still queued are dropped when they come (process). Answers how many were closed.
   */
  async closeGapsOf(names: readonly string[], note: string): Promise<number> {
    const wanted = new Set(names);
    const open = (await this.#gaps.list({ unfinished: true })).filter((g) => wanted.has(g.name));
    for (const g of open) await this.#gaps.update(g.id, { status: 'partial', note });
    return open.length;
  }

  /** Queues again the pieces of `filling` gaps that stood still (see StallRecovery). */
  requeueStalled(filling: readonly Gap[], logger: Logger): Promise<void> {
    return this.#stalls.requeueStalled(filling, logger);
  }

  /** Processes one piece from the backfill queue. */
  async process(piece: BackfillPiece, logger: Logger): Promise<PieceOutcome> {
    const desired = await this.#servedEntry(piece.name);
    const id = pieceId(piece.scope, piece.next);
    if (!desired) {
      await this.#closing.finish(piece, id, logger, 0);
      return { status: 'done', changes: 0, next: false };
    }
    // A chat's members are read (the GET too: an older listing must not be compared after a newer one),
    // routed and remembered by one piece at a time in this process; a history page takes its chats once read.
    return this.#memberships.run(piece.scope.kind === 'chatMembers' ? [piece.scope.chatId] : [], () => this.#read(piece, desired, id, logger));
  }

  /** Reads one page of a piece, routes its changes and queues what follows it. */
  async #read(piece: BackfillPiece, desired: DesiredSubscription, id: string, logger: Logger): Promise<PieceOutcome> {
    const { reader, routing } = this.#partsOf(desired.tenantId ?? '');
    const read = await reader.readPage(piece, piece.next ?? firstPage(piece, desired), logger);
    if ('outcome' in read) return read.outcome;
    if ('unreachable' in read) {
      // The chat, team or user is gone or out of reach: nothing more to read here; say so on the gap.
      await this.#gaps.update(piece.gapId, { note: `${piece.scope.kind}: ${read.unreachable.message}` });
      // A history the app may not read still leaves the comparison of members (the safety net).
      const then = afterHistory(piece.scope);
      if (then) await this.#closing.queue({ ...freshPiece(piece), scope: then, next: undefined });
      await this.#closing.finish(piece, id, logger, 0, true);
      return { status: 'done', changes: 0, next: false };
    }
    const { page } = read;
    const items = Array.isArray(page.value) ? page.value : [page];
    const window = { from: Date.parse(piece.from), to: Date.parse(piece.to) };
    let changes = 0;
    const children = childScopesOf(piece.scope, items, window, desired);
    if (children) {
      for (const scope of children) await this.#closing.queue({ ...freshPiece(piece), scope, next: undefined });
    } else {
      // A chat's membership is read, routed and remembered by one piece at a time in this process: two pieces
      // of one chat at once (two users' listings queue its comparison; a history page and a comparison) would
      // both compare with the memory as it was before either, and could tell the same member twice.
      const outcome = await this.#memberships.run(historyChatsOf(piece.scope, items), () => routing.route(piece, id, items, window, desired, logger));
      if (typeof outcome !== 'number') return outcome;
      changes = outcome;
    }
    const next = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    const then = afterHistory(piece.scope);
    if (next) await this.#closing.queue({ ...freshPiece(piece), next }, this.#pagePauseSeconds);
    // History first, then the members now: what history told is remembered by then, so the comparison (the
    // safety net for what history cannot say) does not report it again.
    else if (then) await this.#closing.queue({ ...freshPiece(piece), scope: then, next: undefined });
    await this.#closing.finish(piece, id, logger, changes);
    return { status: 'done', changes, next: next !== undefined };
  }

  /**
   * A piece from the host's poison queue: its gap would otherwise wait for it for ever. It is queued again
   * (a minute later, with a fresh count of attempts) up to POISONED_PIECE_REQUEUES times; then the gap is
   * closed as `partial` and consumers get a resync event for its window, as for any window that could not
   * be read completely. A requeued piece already done is a duplicate read, never a loss.
   */
  async recoverPoisoned(piece: BackfillPiece, logger: Logger): Promise<'requeued' | 'abandoned'> {
    const requeues = piece.requeues ?? 0;
    const fields = { gapId: piece.gapId, name: piece.name, scope: piece.scope.kind, requeues };
    if (requeues < POISONED_PIECE_REQUEUES) {
      await sendToQueue(this.#queue, encodeJsonMessage({ ...piece, requeues: requeues + 1 }), { visibilityTimeoutSeconds: POISONED_PIECE_DELAY_SECONDS });
      logger.warn('backfill.piece_requeued', fields);
      return 'requeued';
    }
    const note = `a ${piece.scope.kind} piece failed ${requeues + 1} times over; its part of the window was not read`;
    await this.#gaps.update(piece.gapId, { note });
    await this.#closing.finish(piece, pieceId(piece.scope, piece.next), logger, 0, true);
    logger.error('backfill.piece_abandoned', fields);
    return 'abandoned';
  }
}
