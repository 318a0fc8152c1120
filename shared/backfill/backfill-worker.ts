import { createHash } from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import { isGraphRequestError, type GraphClient } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { messageCount } from '../queue/message-count.js';
import { sendToQueue } from '../queue/storage-writes.js';
import { permanentReason, type NotificationProcessor } from '../route/notification-processor.js';
import { KeyedLock } from '../util/keyed-lock.js';
import { Pacer } from '../util/pacer.js';
import { Semaphore } from '../util/semaphore.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import { BACKFILL_PIECE_SCHEMA, parseBackfillPiece, scopesOf, type BackfillPiece, type BackfillScope } from './backfill-piece.js';
import type { Gap, GapLog } from './gap-log.js';
import type { PendingPiece, PieceStore } from './piece-store.js';
import { FirstMembers } from './first-members.js';
import type { MembershipLog } from './membership-log.js';
import { MembershipReadBack, type MembershipChanges } from './membership-read-back.js';
import { changeFromChat, changeFromMessage, type ReadBackChange } from './read-back-change.js';

export interface BackfillWorkerOptions {
  readonly graph: GraphClient;
  readonly gaps: GapLog;
  readonly pieces: PieceStore;
  readonly queue: QueueClient;
  readonly processor: NotificationProcessor;
  readonly records: SubscriptionRecords;
  readonly desired: readonly DesiredSubscription[];
  /** The tenant the app reads from (its Graph credential's). */
  readonly tenantId: string;
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
 * Teams' limit on one chat or channel is one request per second per app; the margin covers the time
 * between booking a slot and the request reaching Graph. A 429 that slips through is honoured anyway.
 */
const PER_CONTAINER_INTERVAL_MS = 1250;
/** A piece whose chat or channel has no free slot for longer than this goes back on the queue instead of waiting. */
const MAX_PACED_WAIT_MS = 5000;
/** Route this many changes of a page at once. */
const ROUTE_CONCURRENCY = 8;

export type PieceOutcome = { readonly status: 'done'; readonly changes: number; readonly next: boolean } | { readonly status: 'throttled'; readonly retryAfterSeconds: number };

const PAGE_SIZE = 50;
/**
 * A piece the host gave up on (its attempts ran out: crashes mid-piece, storage or Graph down) is queued
 * again this many times, each a while later, before its gap is given up as partial.
 */
export const POISONED_PIECE_REQUEUES = 3;
const POISONED_PIECE_DELAY_SECONDS = 60;
const enc = encodeURIComponent;
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
/** A piece's pages and children start with no requeue of their own. */
const freshPiece = ({ requeues: _requeues, ...piece }: BackfillPiece): BackfillPiece => piece;
/** A membership history piece is followed, once its listing is read, by the comparison of members it leads to. */
function afterHistory(scope: BackfillScope): BackfillScope | undefined {
  if (scope.kind === 'chatMembershipHistory') return { kind: 'chatMembers', chatId: scope.chatId };
  if (scope.kind === 'userMembershipHistory') return { kind: 'userChatsMembership', userId: scope.userId };
  return undefined;
}
/** The chats a page of membership history names (none for other pieces; a chat's members piece holds its chat from the start). */
function historyChatsOf(scope: BackfillScope, items: readonly Record<string, unknown>[]): string[] {
  if (afterHistory(scope) === undefined) return [];
  return items.flatMap((m) => (typeof m.chatId === 'string' ? [m.chatId] : []));
}
const pieceId = (scope: BackfillScope, next: string | undefined) =>
  createHash('sha256')
    .update(`${JSON.stringify(scope)}\n${next ?? ''}`)
    .digest('hex')
    .slice(0, 40);

/**
 * Fills gaps from Graph's read APIs, one resumable piece at a time. Opening a gap records it and queues
 * the pieces that cover its subscription (widened by the margins); each piece reads one page, routes every
 * change in the window through the same path as notifications (same event ids, so a late notification of
 * the same change is a duplicate), records and queues the next page as a new piece before it finishes, and
 * marks the gap filled when its last piece is done. 429 answers put the piece back after Retry-After.
 */
export class BackfillWorker {
  readonly #o: BackfillWorkerOptions;
  readonly #now: () => number;
  readonly #pacer = new Pacer(PER_CONTAINER_INTERVAL_MS);
  readonly #membershipReadBack: MembershipReadBack;
  /** Each chat's membership, one piece at a time (see process). */
  readonly #memberships = new KeyedLock();

  constructor(options: BackfillWorkerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    const firstMembers = new FirstMembers({
      read: (chatId, path) => this.#chatGet(chatId, path),
      gaps: options.gaps,
      marginBeforeMs: options.marginBeforeMs,
      marginAfterMs: options.marginAfterMs,
      now: this.#now,
    });
    this.#membershipReadBack = new MembershipReadBack({ memberships: options.memberships, firstMembers, tenantId: options.tenantId });
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
    const { gap: recorded, created } = await this.#o.gaps.open(gap, new Date(this.#now()));
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
    const desired = this.#o.desired.find((d) => d.name === gap.name);
    const covered = desired ? scopesOf(desired) : { unsupported: 'not a desired subscription' };
    if ('unsupported' in covered) {
      await this.#o.gaps.update(gap.id, { status: 'partial', note: covered.unsupported });
      await this.#o.resync(gap, covered.unsupported);
      return { ...gap, status: 'partial', note: covered.unsupported };
    }
    const from = new Date(Date.parse(gap.from) - this.#o.marginBeforeMs).toISOString();
    const to = new Date(Date.parse(gap.to) + this.#o.marginAfterMs).toISOString();
    for (const scope of covered.scopes) await this.#queue({ schema: BACKFILL_PIECE_SCHEMA, gapId: gap.id, name: gap.name, from, to, scope });
    const progressAt = new Date(this.#now()).toISOString();
    await this.#o.gaps.update(gap.id, { status: 'filling', progressAt });
    return { ...gap, status: 'filling', progressAt };
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
    const pending = new Map(await Promise.all(filling.map(async (g) => [g.id, await this.#o.pieces.pending(g.id, { bodies: stalled.includes(g) })] as const)));
    const waitedFor = [...pending.values()].reduce((sum, p) => sum + p.length, 0);
    const queued = (await messageCount(this.#o.queue)) ?? 0;
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
    if (pending.length === 0) return this.#settle(gap.id, logger, 0, false);
    if (!reason) return;
    // Progress first: a crash among the sends must not have the next beat send them all again at once.
    await this.#o.gaps.update(gap.id, { progressAt: new Date(this.#now()).toISOString() });
    const unknown: string[] = [];
    for (const p of pending) {
      const piece = parsePieceJson(p.json);
      if (piece) await sendToQueue(this.#o.queue, encodeJsonMessage(freshPiece(piece)));
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
    await this.#o.gaps.update(gap.id, { note: `${unknown.length} piece(s) were lost from the queue and cannot be queued again; their part of the window was not read` });
    let left = pending.length;
    for (const id of unknown) left = await this.#o.pieces.finish(gap.id, id);
    await this.#settle(gap.id, logger, 0, true, left);
  }

  /** Processes one piece from the backfill queue. */
  async process(piece: BackfillPiece, logger: Logger): Promise<PieceOutcome> {
    const desired = this.#o.desired.find((d) => d.name === piece.name);
    const id = pieceId(piece.scope, piece.next);
    if (!desired) {
      await this.#finish(piece, id, logger, 0);
      return { status: 'done', changes: 0, next: false };
    }
    // A chat's members are read (the GET too: an older listing must not be compared after a newer one),
    // routed and remembered by one piece at a time in this process; a history page takes its chats once read.
    return this.#memberships.run(piece.scope.kind === 'chatMembers' ? [piece.scope.chatId] : [], () => this.#read(piece, desired, id, logger));
  }

  /** Reads one page of a piece, routes its changes and queues what follows it. */
  async #read(piece: BackfillPiece, desired: DesiredSubscription, id: string, logger: Logger): Promise<PieceOutcome> {
    const container = this.#containerOf(piece.scope);
    if (container) {
      // Pieces of one chat or channel (pages, retries) keep to its rate in this process; a long wait goes back
      // on the queue for when the slot is free, without booking it (it would push back every later piece).
      const waitMs = this.#pacer.reserve(container, MAX_PACED_WAIT_MS);
      if (waitMs > MAX_PACED_WAIT_MS) {
        const retryAfterSeconds = Math.ceil(waitMs / 1000);
        await sendToQueue(this.#o.queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: retryAfterSeconds });
        return { status: 'throttled', retryAfterSeconds };
      }
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    let page: { value?: Record<string, unknown>[]; '@odata.nextLink'?: string } & Record<string, unknown>;
    try {
      page = await this.#o.graph.get(piece.next ?? this.#firstPage(piece, desired));
    } catch (e) {
      if (isGraphRequestError(e, 429)) return this.#throttled(piece, e.retryAfterSeconds, logger);
      if (isGraphRequestError(e, 404) || isGraphRequestError(e, 403)) {
        // The chat, team or user is gone or out of reach: nothing more to read here; say so on the gap.
        await this.#o.gaps.update(piece.gapId, { note: `${piece.scope.kind}: ${(e as Error).message}` });
        // A history the app may not read still leaves the comparison of members (the safety net).
        const then = afterHistory(piece.scope);
        if (then) await this.#queue({ ...freshPiece(piece), scope: then, next: undefined });
        await this.#finish(piece, id, logger, 0, true);
        return { status: 'done', changes: 0, next: false };
      }
      throw e;
    }

    const items = Array.isArray(page.value) ? page.value : [page];
    const window = { from: Date.parse(piece.from), to: Date.parse(piece.to) };
    let changes = 0;
    if (piece.scope.kind === 'plan') {
      for (const item of items) {
        const child = this.#childScope(desired, typeof item.id === 'string' ? item.id : '');
        if (child) await this.#queue({ ...freshPiece(piece), scope: child, next: undefined });
      }
    } else if (piece.scope.kind === 'userChatsMembership') {
      // Chats whose membership may have changed in the window: created in it (its first members came with it,
      // and a later change moves lastUpdatedDateTime past the window) or updated in it (it moves on member changes).
      const inWindow = (stamp: unknown) => typeof stamp === 'string' && Date.parse(stamp) >= window.from && Date.parse(stamp) <= window.to;
      for (const chat of items) {
        if (typeof chat.id === 'string' && (inWindow(chat.createdDateTime) || inWindow(chat.lastUpdatedDateTime ?? chat.createdDateTime)))
          await this.#queue({ ...freshPiece(piece), scope: { kind: 'chatMembers', chatId: chat.id }, next: undefined });
      }
    } else {
      // A chat's membership is read, routed and remembered by one piece at a time in this process: two pieces
      // of one chat at once (two users' listings queue its comparison; a history page and a comparison) would
      // both compare with the memory as it was before either, and could tell the same member twice.
      const outcome = await this.#memberships.run(historyChatsOf(piece.scope, items), () => this.#routeChanges(piece, id, items, window, desired, logger));
      if (typeof outcome !== 'number') return outcome;
      changes = outcome;
    }
    const next = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
    const then = afterHistory(piece.scope);
    if (next) await this.#queue({ ...freshPiece(piece), next }, this.#o.pagePauseSeconds ?? 1);
    // History first, then the members now: what history told is remembered by then, so the comparison (the
    // safety net for what history cannot say) does not report it again.
    else if (then) await this.#queue({ ...freshPiece(piece), scope: then, next: undefined });
    await this.#finish(piece, id, logger, changes);
    return { status: 'done', changes, next: next !== undefined };
  }

  /**
   * Routes the changes a page of a piece's listing holds (for a chat's members or membership history, the
   * membership changes it tells): how many were routed, or the outcome of the piece put back (throttled).
   */
  async #routeChanges(
    piece: BackfillPiece,
    id: string,
    items: Record<string, unknown>[],
    window: { from: number; to: number },
    desired: DesiredSubscription,
    logger: Logger,
  ): Promise<PieceOutcome | number> {
    const record = await this.#o.records.get(desired.name);
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
      if (isGraphRequestError(e, 429)) return this.#throttled(piece, e.retryAfterSeconds, logger);
      throw e;
    }
    const listed = membership ? membership.changes : items.flatMap((item) => this.#changes(piece.scope, item, window, subscriptionId));
    const wanted = listed.filter((c) => desired.changeTypes.includes(c.notification.changeType));
    const slots = new Semaphore(ROUTE_CONCURRENCY);
    // The owner names the gap too: two gaps reading the same listing at once are two units of work.
    const read = { occurrence: `backfill:${piece.gapId}`, owner: `backfill:${piece.gapId}/${id}` };
    const skipped: string[] = [];
    const route = (c: ReadBackChange) =>
      this.#o.processor.routeReadBack(c.notification, c.resource, read, logger).catch((e: unknown) => {
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
    if (skipped.length > 0) await this.#o.gaps.update(piece.gapId, { note: `${skipped.length} change(s) read back could not be routed (${[...new Set(skipped)].join(', ')})` });
    return wanted.length - skipped.length;
  }

  /** Puts a piece Graph throttled back on the queue for after its Retry-After (at least a second). */
  async #throttled(piece: BackfillPiece, retryAfter: number | undefined, logger: Logger): Promise<PieceOutcome> {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfter ?? 1));
    await sendToQueue(this.#o.queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: retryAfterSeconds });
    logger.info('backfill.throttled', { gapId: piece.gapId, scope: piece.scope.kind, retryAfterSeconds });
    return { status: 'throttled', retryAfterSeconds };
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
      await sendToQueue(this.#o.queue, encodeJsonMessage({ ...piece, requeues: requeues + 1 }), { visibilityTimeoutSeconds: POISONED_PIECE_DELAY_SECONDS });
      logger.warn('backfill.piece_requeued', fields);
      return 'requeued';
    }
    const note = `a ${piece.scope.kind} piece failed ${requeues + 1} times over; its part of the window was not read`;
    await this.#o.gaps.update(piece.gapId, { note });
    await this.#finish(piece, pieceId(piece.scope, piece.next), logger, 0, true);
    logger.error('backfill.piece_abandoned', fields);
    return 'abandoned';
  }

  /** A GET of one chat's resource, paced as the chat's other reads (a ChatRead: undefined on 404, 403 or 400). */
  async #chatGet(chatId: string, path: string): Promise<Record<string, unknown> | undefined> {
    const waitMs = this.#pacer.reserve(`chat:${chatId}`);
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    try {
      return await this.#o.graph.get<Record<string, unknown>>(path);
    } catch (e) {
      if (isGraphRequestError(e, 404) || isGraphRequestError(e, 403) || isGraphRequestError(e, 400)) return undefined;
      throw e;
    }
  }

  /** The chat or channel a piece reads, which Teams rate-limits on its own. */
  #containerOf(scope: BackfillScope): string | undefined {
    if (scope.kind === 'chatMessages' || scope.kind === 'chatMembers' || scope.kind === 'chatMembershipHistory') return `chat:${scope.chatId}`;
    if (scope.kind === 'channelMessages') return `channel:${scope.teamId}/${scope.channelId}`;
    return undefined;
  }

  /** The changes one listed item stands for: a chat, a message, or a delta's reply chain (root and replies). */
  #changes(scope: BackfillScope, item: Record<string, unknown>, window: { from: number; to: number }, subscriptionId: string): ReadBackChange[] {
    if (scope.kind === 'userChats' || scope.kind === 'chat') return [changeFromChat(item, window, subscriptionId, this.#o.tenantId)].filter((c) => c !== undefined);
    const replies = Array.isArray(item.replies) ? (item.replies as Record<string, unknown>[]) : [];
    return [item, ...replies].map((m) => changeFromMessage(m, window, subscriptionId, this.#o.tenantId)).filter((c) => c !== undefined);
  }

  #firstPage(piece: BackfillPiece, desired: DesiredSubscription): string {
    const window = `lastModifiedDateTime gt ${piece.from} and lastModifiedDateTime lt ${piece.to}`;
    const model = desired.model ? `&model=${desired.model}` : '';
    const s = piece.scope;
    switch (s.kind) {
      case 'plan':
        return desired.catalog.kind === 'channelMessage' ? '/v1.0/teams?$select=id' : '/v1.0/users?$select=id';
      case 'chatMessages':
      case 'chatMembershipHistory':
        return `/v1.0/chats/${enc(s.chatId)}/messages?$top=${PAGE_SIZE}&$orderby=lastModifiedDateTime desc&$filter=${enc(window)}`;
      case 'userChatMessages':
        return `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(window)}${model}`;
      case 'teamChannelMessages':
        return `/v1.0/teams/${enc(s.teamId)}/channels/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(window)}${model}`;
      case 'channelMessages':
        return `/v1.0/teams/${enc(s.teamId)}/channels/${enc(s.channelId)}/messages/delta?$filter=${enc(`lastModifiedDateTime gt ${piece.from}`)}`;
      case 'userChats':
        return `/v1.0/users/${enc(s.userId)}/chats?$top=${PAGE_SIZE}`;
      case 'chat':
        return `/v1.0/chats/${enc(s.chatId)}`;
      case 'userChatsMembership':
        return `/v1.0/users/${enc(s.userId)}/chats?$top=${PAGE_SIZE}`;
      case 'chatMembers':
        return `/v1.0/chats/${enc(s.chatId)}/members`;
      case 'userMembershipHistory':
        // The export API filters system event messages itself: a user's whole membership history, few pages.
        return `/v1.0/users/${enc(s.userId)}/chats/getAllMessages?$top=${PAGE_SIZE}&$filter=${enc(`${window} and messageType eq 'systemEventMessage'`)}${model}`;
    }
  }

  #childScope(desired: DesiredSubscription, id: string): BackfillScope | undefined {
    if (!id) return undefined;
    switch (desired.catalog.kind) {
      case 'chatMessage':
        return { kind: 'userChatMessages', userId: id };
      case 'channelMessage':
        return { kind: 'teamChannelMessages', teamId: id };
      case 'chat':
        return { kind: 'userChats', userId: id };
      case 'chatMember':
        return { kind: 'userMembershipHistory', userId: id };
    }
  }

  /**
   * Records the piece (so its gap waits for it), then queues it and notes it sent; a piece already done or
   * sent is not queued again (a repeated parent, or a requeued copy, makes no second copy of its pages and
   * children: a message lost after its send is the stall check's to find).
   */
  async #queue(piece: BackfillPiece, delaySeconds = 0): Promise<void> {
    const id = pieceId(piece.scope, piece.next);
    const recorded = await this.#o.pieces.record(piece.gapId, id, JSON.stringify(piece));
    if (recorded === 'done' || recorded === 'sent') return;
    await sendToQueue(this.#o.queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: delaySeconds });
    await this.#o.pieces.sent(piece.gapId, id);
  }

  async #finish(piece: BackfillPiece, id: string, logger: Logger, changes: number, incomplete = false): Promise<void> {
    const pending = await this.#o.pieces.finish(piece.gapId, id);
    await this.#settle(piece.gapId, logger, changes, incomplete, pending);
  }

  /**
   * Adds a finished piece's changes to its gap, and closes the gap when no piece is left (`pending` 0).
   * Written only over the gap as read (etag), again after another finisher's write: pieces that finish at
   * once all see none left, and one of them closes the gap (one `gap_closed`, one resync event), none
   * of the counts lost. A closed gap stays closed (a late copy of a piece adds its count, nothing more).
   */
  async #settle(gapId: string, logger: Logger, changes: number, incomplete: boolean, pending = 0): Promise<void> {
    for (;;) {
      const current = await this.#o.gaps.getVersioned(gapId);
      if (!current) return;
      const { gap, etag } = current;
      const closed = gap.status === 'filled' || gap.status === 'partial';
      if (closed && changes === 0) return;
      const found = (gap.changesFound ?? 0) + changes;
      const progressAt = new Date(this.#now()).toISOString();
      if (closed || pending > 0) {
        // A piece that finished as another closed the gap still counts its changes.
        if (await this.#o.gaps.update(gapId, closed ? { changesFound: found } : { changesFound: found, piecesPending: pending, progressAt }, etag)) return;
        continue;
      }
      const partial = incomplete || gap.note !== undefined;
      if (!(await this.#o.gaps.update(gapId, { changesFound: found, piecesPending: 0, progressAt, status: partial ? 'partial' : 'filled' }, etag))) continue;
      logger.info('backfill.gap_closed', { gapId, name: gap.name, status: partial ? 'partial' : 'filled', changesFound: found });
      if (partial) await this.#o.resync({ ...gap, status: 'partial' }, gap.note ?? 'part of the window could not be read');
      return;
    }
  }
}
