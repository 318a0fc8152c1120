import type { NotificationItem } from '../protocol/notification.js';

/**
 * What the receive functions put on the incoming queues. The queue message text is base64 of the UTF-8
 * JSON of one of these, which is what a Functions queue trigger expects by default (host.json
 * `messageEncoding: base64`). See docs/queue-messages.md.
 *
 * - v2 (change notifications): one message per Graph request, holding every accepted item.
 * - v1: one message per item. Lifecycle notifications are still written so (they are rare); change
 *   messages written before an upgrade are read as before.
 */
export const QUEUED_NOTIFICATION_SCHEMA = 'teams-change-relay.queued-notification.v1';
export const QUEUED_BATCH_SCHEMA = 'teams-change-relay.queued-notifications.v2';

export type NotificationKind = 'change' | 'lifecycle';

export interface QueuedNotification {
  readonly schema: typeof QUEUED_NOTIFICATION_SCHEMA;
  readonly kind: NotificationKind;
  /** When our endpoint accepted it (ISO 8601). */
  readonly receivedAt: string;
  /** The Graph notification item as received (validation done), less its `clientState`. */
  readonly notification: NotificationItem;
}

/**
 * A window to read back for one subscription, asked for by the receiver instead of items it refused: items whose
 * clientState matched and whose tenant's validation token was Graph's but expired (docs/backfill.md). The
 * route side opens the gap, so that the request stays one durable write.
 */
export interface QueuedGapRequest {
  readonly reason: 'validation_token_expired';
  readonly subscriptionId: string;
  readonly tenantId: string;
  /** ISO 8601 times. */
  readonly from: string;
  readonly to: string;
}

/** The accepted items of one Graph request, in the order Graph sent them, and the gaps it asks for. */
export interface QueuedBatch {
  readonly schema: typeof QUEUED_BATCH_SCHEMA;
  readonly kind: NotificationKind;
  readonly receivedAt: string;
  readonly items: readonly NotificationItem[];
  /** Absent when there are none (and in messages of earlier versions). */
  readonly gaps?: readonly QueuedGapRequest[];
}

interface ClaimCheckRef {
  readonly container: string;
  readonly blob: string;
  readonly bytes: number;
}

/**
 * Stands in the queue for a message too large for the queue; the blob holds the QueuedNotification (v1)
 * or the QueuedBatch (v2) whole.
 */
export interface QueuedClaimCheck {
  readonly schema: typeof QUEUED_NOTIFICATION_SCHEMA | typeof QUEUED_BATCH_SCHEMA;
  readonly kind: NotificationKind;
  readonly receivedAt: string;
  /** v2 only: how many items the blob holds. */
  readonly count?: number;
  readonly claimCheck: ClaimCheckRef;
}

export type QueueMessageBody = QueuedNotification | QueuedBatch | QueuedClaimCheck;

export function isClaimCheck(body: QueueMessageBody): body is QueuedClaimCheck {
  return 'claimCheck' in body;
}

export function isQueueMessageBody(value: unknown): value is QueueMessageBody {
  const schema = (value as { schema?: unknown } | null)?.schema;
  return typeof value === 'object' && value !== null && (schema === QUEUED_NOTIFICATION_SCHEMA || schema === QUEUED_BATCH_SCHEMA);
}

/** The items of a message (its claim-check blob already read) as v1 notifications, one per item. */
export function unpackQueued(body: QueuedNotification | QueuedBatch): QueuedNotification[] {
  if (body.schema === QUEUED_NOTIFICATION_SCHEMA) return [body];
  if (!Array.isArray(body.items)) throw new TypeError('A queued batch without items.');
  return body.items.map((notification: NotificationItem) => ({ schema: QUEUED_NOTIFICATION_SCHEMA, kind: body.kind, receivedAt: body.receivedAt, notification }));
}

const isIsoTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** Whether a batch's `gaps` (absent, or gap requests as the receiver writes them) can be read. */
export function hasReadableGaps(body: QueuedBatch): boolean {
  const gaps: unknown = body.gaps;
  if (gaps === undefined) return true;
  return (
    Array.isArray(gaps) &&
    gaps.every(
      (g: Partial<Record<keyof QueuedGapRequest, unknown>>) =>
        g.reason === 'validation_token_expired' && typeof g.subscriptionId === 'string' && typeof g.tenantId === 'string' && isIsoTime(g.from) && isIsoTime(g.to),
    )
  );
}

/** Azure Storage's limit for one message, counted on the text we send (after base64). */
export const MAX_QUEUE_MESSAGE_CHARS = 64 * 1024;
