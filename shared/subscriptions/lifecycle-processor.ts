import { createHash } from 'node:crypto';
import type { QueueClient } from '@azure/storage-queue';
import type { GraphClient } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { lifecycleNotificationSchema } from '../protocol/notification.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../queue/queued-notification.js';
import { encodeJsonMessage } from '../queue/json-message.js';
import { sendToQueue } from '../queue/storage-writes.js';
import type { SubscriptionRecords } from './subscription-records.js';
import type { SubscriptionReconciler } from './subscription-reconciler.js';

export type LifecycleOutcome =
  | { readonly status: 'reauthorized' | 'renewed' | 'recreated' | 'resync'; readonly subscriptionId: string }
  | { readonly status: 'ignored'; readonly reason: string };

export interface LifecycleProcessorOptions {
  readonly graph: GraphClient;
  readonly records: SubscriptionRecords;
  readonly reconciler: SubscriptionReconciler;
  /** Where resync events go (teams-subscription-events). */
  readonly events: QueueClient;
}

/**
 * Acts on lifecycle notifications: `reauthorizationRequired` → reauthorize (renew if that fails);
 * `subscriptionRemoved` → create the subscription again and emit a resync event; `missed` → emit a resync
 * event. Resync events are CloudEvents naming the subscription and resource, so consumers can re-read what
 * they missed. Unknown subscription ids are logged and dropped. (clientState was checked on receipt.)
 */
export class LifecycleProcessor {
  readonly #o: LifecycleProcessorOptions;

  constructor(options: LifecycleProcessorOptions) {
    this.#o = options;
  }

  async process(message: unknown, logger: Logger): Promise<LifecycleOutcome> {
    const body = message as QueuedNotification | undefined;
    const parsed = body?.schema === QUEUED_NOTIFICATION_SCHEMA ? lifecycleNotificationSchema.safeParse(body.notification) : undefined;
    if (!parsed?.success) {
      logger.warn('lifecycle.malformed', {});
      return { status: 'ignored', reason: 'malformed' };
    }
    const item = parsed.data;
    const record = await this.#o.records.findBySubscriptionId(item.subscriptionId);
    if (!record) {
      logger.warn('lifecycle.unknown_subscription', { subscriptionId: item.subscriptionId, tenantId: item.tenantId, lifecycleEvent: item.lifecycleEvent });
      return { status: 'ignored', reason: 'unknown_subscription' };
    }
    const fields = { subscriptionId: item.subscriptionId, name: record.name, lifecycleEvent: item.lifecycleEvent };
    switch (item.lifecycleEvent) {
      case 'reauthorizationRequired': {
        try {
          await this.#o.graph.reauthorizeSubscription(item.subscriptionId);
          logger.info('lifecycle.reauthorized', fields);
          return { status: 'reauthorized', subscriptionId: item.subscriptionId };
        } catch (e) {
          logger.warn('lifecycle.reauthorize_failed', { ...fields, error: (e as Error).message });
          const result = await this.#o.reconciler.renew(record);
          if (result.action === 'failed') throw new Error(`Renewal of ${record.name} failed: ${result.error}`);
          return { status: result.action === 'renewed' ? 'renewed' : 'recreated', subscriptionId: result.subscriptionId ?? item.subscriptionId };
        }
      }
      case 'subscriptionRemoved': {
        const result = await this.#o.reconciler.reconcileOne(record.name);
        if (result.action === 'failed') throw new Error(`Recreating ${record.name} failed: ${result.error}`);
        await this.#resync(item.lifecycleEvent, item.tenantId, record, item.subscriptionId, result.subscriptionId);
        logger.info('lifecycle.recreated', { ...fields, newSubscriptionId: result.subscriptionId });
        return { status: 'recreated', subscriptionId: result.subscriptionId ?? item.subscriptionId };
      }
      case 'missed':
        await this.#resync(item.lifecycleEvent, item.tenantId, record, item.subscriptionId);
        logger.info('lifecycle.resync_requested', fields);
        return { status: 'resync', subscriptionId: item.subscriptionId };
      default:
        logger.warn('lifecycle.unknown_event', fields);
        return { status: 'ignored', reason: 'unknown_event' };
    }
  }

  async #resync(lifecycleEvent: string, tenantId: string, record: { name: string; resource: string; changeTypes: string; lastRenewedAt?: string }, subscriptionId: string, newSubscriptionId?: string): Promise<void> {
    const time = new Date().toISOString();
    const event = {
      specversion: '1.0',
      id: createHash('sha256').update(`${subscriptionId}\n${lifecycleEvent}\n${time}`).digest('hex').slice(0, 40),
      source: `/tenants/${tenantId}`,
      type: `com.microsoft.graph.teams.subscription.${lifecycleEvent}`,
      subject: record.resource,
      time,
      datacontenttype: 'application/json',
      data: {
        reason: lifecycleEvent,
        name: record.name,
        resource: record.resource,
        changeTypes: record.changeTypes.split(','),
        subscriptionId,
        ...(newSubscriptionId && newSubscriptionId !== subscriptionId ? { newSubscriptionId } : {}),
        ...(record.lastRenewedAt ? { lastRenewedAt: record.lastRenewedAt } : {}),
      },
      tenantid: tenantId,
      subscriptionid: subscriptionId,
    };
    await sendToQueue(this.#o.events, encodeJsonMessage(event));
  }
}
