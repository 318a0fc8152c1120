import { isGraphRequestError } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { permanentReason, type NotificationProcessor } from '../route/notification-processor.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { Semaphore } from '../util/semaphore.js';
import { readingOf } from '../kinds/backfill-scopes.js';
import type { BackfillPiece, BackfillScope } from './backfill-piece.js';
import type { GapLog } from './gap-log.js';
import { afterHistory, type Window } from './graph-reads.js';
import type { MembershipChanges, MembershipReadBack } from './membership-read-back.js';
import type { PacedReader, PieceOutcome } from './paced-reader.js';
import { changeFromChat, changeFromMessage, type ReadBackChange } from './read-back-change.js';

/** Route this many changes of a page at once. */
const ROUTE_CONCURRENCY = 8;

/**
 * Routes the changes a page of a piece's listing holds through the same path as notifications (same event
 * ids, so a late notification of the same change is a duplicate): chats and messages as listed, a chat's
 * members and membership history as the membership changes they tell.
 */
export class PageRouting {
  readonly #processor: NotificationProcessor;
  readonly #records: Pick<SubscriptionRecords, 'get'>;
  readonly #gaps: GapLog;
  readonly #membershipReadBack: MembershipReadBack;
  readonly #reader: PacedReader;
  readonly #tenantId: string;

  constructor(options: { processor: NotificationProcessor; records: Pick<SubscriptionRecords, 'get'>; gaps: GapLog; membershipReadBack: MembershipReadBack; reader: PacedReader; tenantId: string }) {
    this.#processor = options.processor;
    this.#records = options.records;
    this.#gaps = options.gaps;
    this.#membershipReadBack = options.membershipReadBack;
    this.#reader = options.reader;
    this.#tenantId = options.tenantId;
  }

  /**
   * Routes the changes a page of a piece's listing holds (for a chat's members or membership history, the
   * membership changes it tells): how many were routed, or the outcome of the piece put back (throttled).
   */
  async route(piece: BackfillPiece, id: string, items: Record<string, unknown>[], window: Window, desired: DesiredSubscription, logger: Logger): Promise<PieceOutcome | number> {
    const record = await this.#records.get(desired.name);
    const subscriptionId = record?.subscriptionId ?? `backfill:${desired.name}`;
    const history = afterHistory(piece.scope) !== undefined;
    let membership: MembershipChanges | undefined;
    try {
      membership =
        piece.scope.kind === 'chatMembers'
          ? await this.#membershipReadBack.ofMembers(piece.scope.chatId, items, desired, subscriptionId)
          : history
            ? await this.#membershipReadBack.ofHistory(items, window, desired, subscriptionId)
            : undefined;
    } catch (e) {
      // A chat read for its first members was throttled: the whole page again, after Retry-After.
      if (isGraphRequestError(e, 429)) return this.#reader.throttled(piece, e.retryAfterSeconds, logger);
      throw e;
    }
    const listed = membership ? membership.changes : items.flatMap((item) => this.#changes(piece.scope, item, window, subscriptionId));
    const wanted = listed.filter((c) => desired.changeTypes.includes(c.notification.changeType));
    const slots = new Semaphore(ROUTE_CONCURRENCY);
    // The owner names the gap too: two gaps reading the same listing at once are two units of work.
    const read = { occurrence: `backfill:${piece.gapId}`, owner: `backfill:${piece.gapId}/${id}` };
    const skipped: string[] = [];
    const route = (c: ReadBackChange) =>
      this.#processor.routeReadBack(c.notification, c.resource, read, logger).catch((e: unknown) => {
        // An item no retry can route (no route for it, a resource we do not know) must not stall the gap.
        const reason = permanentReason(e);
        if (reason === undefined) throw e;
        skipped.push(reason);
        logger.warn('backfill.change_skipped', { gapId: piece.gapId, resource: c.notification.resource, reason });
      });
    // Membership history one change at a time, in the order the changes happened: a member's addition goes
    // out (and is remembered) before their removal, so the chat's known members end in the last state.
    if (history) for (const c of wanted) await route(c);
    else await Promise.all(wanted.map((c) => slots.run(() => route(c))));
    // Only now, with every change routed: remembered before, a crash in between would hide them from the retry.
    await membership?.remember();
    if (skipped.length > 0) await this.#gaps.update(piece.gapId, { note: `${skipped.length} change(s) read back could not be routed (${[...new Set(skipped)].join(', ')})` });
    return wanted.length - skipped.length;
  }

  /** The changes one listed item stands for: a chat, a message, or a delta's reply chain (root and replies). */
  #changes(scope: BackfillScope, item: Record<string, unknown>, window: Window, subscriptionId: string): ReadBackChange[] {
    if (readingOf(scope).items === 'chats') return [changeFromChat(item, window, subscriptionId, this.#tenantId)].filter((c) => c !== undefined);
    const replies = Array.isArray(item.replies) ? (item.replies as Record<string, unknown>[]) : [];
    return [item, ...replies].map((m) => changeFromMessage(m, window, subscriptionId, this.#tenantId)).filter((c) => c !== undefined);
  }
}
