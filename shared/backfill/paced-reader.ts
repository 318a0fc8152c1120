import type { QueueClient } from '@azure/storage-queue';
import { isGraphRequestError, type GraphClient } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';
import { Pacer } from '../util/pacer.js';
import type { BackfillPiece } from './backfill-piece.js';
import type { ChatRead } from './first-members.js';
import { chatContainer, containerOf } from './graph-reads.js';
import type { TenantReadShares } from './tenant-read-shares.js';

/**
 * Teams' limit on one chat or channel is one request per second per app; the margin covers the time
 * between booking a slot and the request reaching Graph. A 429 that slips through is honoured anyway.
 */
const PER_CONTAINER_INTERVAL_MS = 1250;
/** A piece whose chat or channel has no free slot for longer than this goes back on the queue instead of waiting. */
const MAX_PACED_WAIT_MS = 5000;

/** The outcome of a piece: done (its changes routed, a next page queued or not), or put back for after Retry-After. */
export type PieceOutcome = { readonly status: 'done'; readonly changes: number; readonly next: boolean } | { readonly status: 'throttled'; readonly retryAfterSeconds: number };

/** A Graph page: a listing's `value` and next link, or one resource. */
export type GraphPage = { value?: Record<string, unknown>[]; '@odata.nextLink'?: string } & Record<string, unknown>;

/**
 * What reading a piece's page gave: the page; the piece put back on the queue (throttled, by Graph or by the
 * pacer); or the chat, team or user gone or out of reach (404, 403).
 */
export type PageRead = { readonly page: GraphPage } | { readonly outcome: PieceOutcome } | { readonly unreachable: Error };

/**
 * Graph reads at the pace Teams allows: the pieces of one chat or channel (pages, retries) keep to its rate
 * in this process, and a piece Graph or the pacer holds back goes back on the queue for after the wait.
 */
export class PacedReader {
  readonly #graph: GraphClient;
  readonly #queue: QueueClient;
  readonly #pacer = new Pacer(PER_CONTAINER_INTERVAL_MS);
  readonly #tenantId: string;
  readonly #shares: TenantReadShares | undefined;

  /** `shares`: the budget this reader's tenant (`tenantId`) shares with the other tenants' readers. */
  constructor(options: { graph: GraphClient; queue: QueueClient; tenantId?: string; shares?: TenantReadShares }) {
    this.#graph = options.graph;
    this.#queue = options.queue;
    this.#tenantId = options.tenantId ?? '';
    this.#shares = options.shares;
  }

  /** Reads the page `url` of a piece (see PageRead). */
  async readPage(piece: BackfillPiece, url: string, logger: Logger): Promise<PageRead> {
    if (this.#shares) {
      // The tenant's fair share first: a tenant far ahead of its share puts the piece back for when it is due.
      const waitMs = this.#shares.reserve(this.#tenantId, MAX_PACED_WAIT_MS);
      if (waitMs > MAX_PACED_WAIT_MS) return { outcome: await this.#putBack(piece, waitMs) };
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    const container = containerOf(piece.scope);
    if (container) {
      // A long wait goes back on the queue for when the slot is free, without booking it (it would push back
      // every later piece).
      const waitMs = this.#pacer.reserve(container, MAX_PACED_WAIT_MS);
      if (waitMs > MAX_PACED_WAIT_MS) return { outcome: await this.#putBack(piece, waitMs) };
      if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    }
    try {
      return { page: await this.#graph.get<GraphPage>(url) };
    } catch (e) {
      if (isGraphRequestError(e, 429)) return { outcome: await this.throttled(piece, e.retryAfterSeconds, logger) };
      if (isGraphRequestError(e, 404) || isGraphRequestError(e, 403)) return { unreachable: e };
      throw e;
    }
  }

  /** Puts a piece back on the queue for when its slot is free. */
  async #putBack(piece: BackfillPiece, waitMs: number): Promise<PieceOutcome> {
    const retryAfterSeconds = Math.ceil(waitMs / 1000);
    await sendToQueue(this.#queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: retryAfterSeconds });
    return { status: 'throttled', retryAfterSeconds };
  }

  /** Puts a piece Graph throttled back on the queue for after its Retry-After (at least a second). */
  async throttled(piece: BackfillPiece, retryAfter: number | undefined, logger: Logger): Promise<PieceOutcome> {
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfter ?? 1));
    await sendToQueue(this.#queue, encodeJsonMessage(piece), { visibilityTimeoutSeconds: retryAfterSeconds });
    logger.info('backfill.throttled', { gapId: piece.gapId, scope: piece.scope.kind, retryAfterSeconds });
    return { status: 'throttled', retryAfterSeconds };
  }

  /** A GET of one chat's resource, paced as the chat's other reads (a ChatRead: undefined on 404, 403 or 400). */
  readonly chatGet: ChatRead = async (chatId, path) => {
    const waitMs = this.#pacer.reserve(chatContainer(chatId));
    if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
    try {
      return await this.#graph.get<Record<string, unknown>>(path);
    } catch (e) {
      if (isGraphRequestError(e, 404) || isGraphRequestError(e, 403) || isGraphRequestError(e, 400)) return undefined;
      throw e;
    }
  };
}
