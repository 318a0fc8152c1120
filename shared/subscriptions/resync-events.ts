import { createHash } from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';

/**
 * Why consumers should re-read a subscription's resource: a Graph lifecycle event, our own recreation, or
 * a gap the backfill could not fill completely from Graph's read APIs.
 */
export type ResyncReason = 'subscriptionRemoved' | 'missed' | 'subscriptionRecreated' | 'backfillIncomplete';

export interface ResyncNotice {
  readonly reason: ResyncReason;
  readonly tenantId: string;
  readonly record: { readonly name: string; readonly resource: string; readonly changeTypes: string; readonly lastRenewedAt?: string };
  /** The subscription the notice is about (the old one when it was replaced). */
  readonly subscriptionId: string;
  readonly newSubscriptionId?: string;
  /** A window in which no subscription existed, when known. */
  readonly gap?: { readonly from: string; readonly to: string };
  /** What could not be done, in words (a backfill's limit). */
  readonly note?: string;
  readonly time?: string;
}

/** The resync CloudEvent: names the subscription, its resource and, when known, the window to re-read. */
export function resyncEvent(notice: ResyncNotice): Record<string, unknown> {
  const { reason, tenantId, record, subscriptionId, newSubscriptionId, gap, note } = notice;
  const time = notice.time ?? new Date().toISOString();
  return {
    specversion: '1.0',
    id: createHash('sha256').update(`${subscriptionId}\n${reason}\n${time}`).digest('hex').slice(0, 40),
    source: `/tenants/${tenantId}`,
    type: `com.microsoft.graph.teams.subscription.${reason}`,
    subject: record.resource,
    time,
    datacontenttype: 'application/json',
    data: {
      reason,
      name: record.name,
      resource: record.resource,
      changeTypes: record.changeTypes.split(','),
      subscriptionId,
      ...(newSubscriptionId && newSubscriptionId !== subscriptionId ? { newSubscriptionId } : {}),
      ...(gap ? { gap: { from: gap.from, to: gap.to } } : {}),
      ...(note ? { note } : {}),
      ...(record.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
    },
    tenantid: tenantId,
    subscriptionid: subscriptionId,
  };
}

/** Publishes resync events on the subscription events queue (SUBSCRIPTION_EVENTS_QUEUE). */
export class ResyncEvents {
  readonly #queue: QueueClient;

  constructor(queue: QueueClient) {
    this.#queue = queue;
  }

  async publish(notice: ResyncNotice): Promise<void> {
    await sendToQueue(this.#queue, encodeJsonMessage(resyncEvent(notice)));
  }
}
