import type { NotificationItem } from '../protocol/notification.js';

/**
 * What the receive functions put on the incoming queues: one message per accepted notification.
 * The queue message text is base64 of the UTF-8 JSON of one of these, which is what a Functions queue
 * trigger expects by default (host.json `messageEncoding: base64`). See docs/queue-messages.md.
 */
export const QUEUED_NOTIFICATION_SCHEMA = 'teams-change-relay.queued-notification.v1';

export type NotificationKind = 'change' | 'lifecycle';

export interface QueuedNotification {
  readonly schema: typeof QUEUED_NOTIFICATION_SCHEMA;
  readonly kind: NotificationKind;
  /** When our endpoint accepted it (ISO 8601). */
  readonly receivedAt: string;
  /** The Graph notification item as received (validation done), less its `clientState`. */
  readonly notification: NotificationItem;
}

/** Stands in the queue for a notification too large for a queue message; the blob holds the QueuedNotification. */
export interface QueuedClaimCheck {
  readonly schema: typeof QUEUED_NOTIFICATION_SCHEMA;
  readonly kind: NotificationKind;
  readonly receivedAt: string;
  readonly claimCheck: { readonly container: string; readonly blob: string; readonly bytes: number };
}

export type QueueMessageBody = QueuedNotification | QueuedClaimCheck;

export function isClaimCheck(body: QueueMessageBody): body is QueuedClaimCheck {
  return 'claimCheck' in body;
}

/** Azure Storage's limit for one message, counted on the text we send (after base64). */
export const MAX_QUEUE_MESSAGE_CHARS = 64 * 1024;
