import { RelayError } from '../errors.js';
import type { GraphClient } from '../graph/graph-client.js';
import type { Logger } from '../log.js';
import { lifecycleNotificationSchema } from '../protocol/notification.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../queue/queued-notification.js';
import { originalMessageText, type DeadLetterQueue } from '../route/dead-letter.js';
import type { ResyncEvents } from './resync-events.js';
import type { SubscriptionRecords } from './subscription-records.js';
import type { TenantReconcilers } from './tenant-reconcilers.js';

export type LifecycleOutcome =
  | { readonly status: 'reauthorized' | 'renewed' | 'recreated' | 'resync'; readonly subscriptionId: string }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly reason: string };

export interface LifecycleProcessorOptions {
  /** The Graph client acting in a tenant. */
  readonly graphIn: (tenantId: string) => GraphClient;
  readonly records: SubscriptionRecords;
  readonly reconciler: Pick<TenantReconcilers, 'renew' | 'reconcileOne'>;
  /** Where resync events go (teams-subscription-events). */
  readonly resync: ResyncEvents;
  /** Where a message that can never be acted on goes, with its reason (replayable after a fix). */
  readonly deadLetters: DeadLetterQueue;
  /** The lifecycle queue, named in dead letters so that replay puts them back there. */
  readonly sourceQueue: string;
}

/** Renewing or recreating a subscription failed: transient, the host retries the lifecycle message. */
export class SubscriptionRepairError extends RelayError {
  constructor(message: string) {
    super('ERR_SUBSCRIPTION_REPAIR_FAILED', message);
  }
}

/**
 * Acts on lifecycle notifications: `reauthorizationRequired` → reauthorize (renew if that fails);
 * `subscriptionRemoved` → create the subscription again (the reconciler records, announces and leaves for
 * the backfill the window without one); `missed` → emit a resync
 * event. Resync events are CloudEvents naming the subscription and resource, so consumers can re-read what
 * they missed. Unknown subscription ids are logged and dropped (another app's subscription on our URL);
 * a message that is not a lifecycle notification is dead-lettered. (clientState was checked on receipt.)
 */
export class LifecycleProcessor {
  readonly #graphIn: (tenantId: string) => GraphClient;
  readonly #records: SubscriptionRecords;
  readonly #reconciler: Pick<TenantReconcilers, 'renew' | 'reconcileOne'>;
  readonly #resync: ResyncEvents;
  readonly #deadLetters: DeadLetterQueue;
  readonly #sourceQueue: string;

  constructor(options: LifecycleProcessorOptions) {
    this.#graphIn = options.graphIn;
    this.#records = options.records;
    this.#reconciler = options.reconciler;
    this.#resync = options.resync;
    this.#deadLetters = options.deadLetters;
    this.#sourceQueue = options.sourceQueue;
  }

  async process(message: unknown, logger: Logger): Promise<LifecycleOutcome> {
    const body = message as QueuedNotification | undefined;
    const parsed = body?.schema === QUEUED_NOTIFICATION_SCHEMA ? lifecycleNotificationSchema.safeParse(body.notification) : undefined;
    if (!parsed?.success) {
      const reason = 'malformed_message';
      await this.#deadLetters.send({
        reason,
        error: 'The message is not a queued lifecycle notification.',
        failedAt: new Date().toISOString(),
        sourceQueue: this.#sourceQueue,
        originalMessage: originalMessageText(message),
      });
      logger.warn('lifecycle.dead_lettered', { reason, deadLetterQueue: this.#deadLetters.name });
      return { status: 'dead-lettered', reason };
    }
    const item = parsed.data;
    const record = await this.#records.findBySubscriptionId(item.subscriptionId);
    if (!record) {
      logger.warn('lifecycle.unknown_subscription', { subscriptionId: item.subscriptionId, tenantId: item.tenantId, lifecycleEvent: item.lifecycleEvent });
      return { status: 'ignored', reason: 'unknown_subscription' };
    }
    const fields = { subscriptionId: item.subscriptionId, name: record.name, lifecycleEvent: item.lifecycleEvent };
    switch (item.lifecycleEvent) {
      case 'reauthorizationRequired': {
        try {
          await this.#graphIn(item.tenantId).reauthorizeSubscription(item.subscriptionId);
          logger.info('lifecycle.reauthorized', fields);
          return { status: 'reauthorized', subscriptionId: item.subscriptionId };
        } catch (e) {
          logger.warn('lifecycle.reauthorize_failed', { ...fields, error: (e as Error).message });
          const result = await this.#reconciler.renew(record);
          if (result.action === 'skipped') return { status: 'ignored', reason: result.error ?? 'skipped' };
          if (result.action === 'failed') throw new SubscriptionRepairError(`Renewal of ${record.name} failed: ${result.error}`);
          return { status: result.action === 'renewed' ? 'renewed' : 'recreated', subscriptionId: result.subscriptionId ?? item.subscriptionId };
        }
      }
      case 'subscriptionRemoved': {
        const result = await this.#reconciler.reconcileOne(record.name);
        if (result.action === 'skipped') return { status: 'ignored', reason: result.error ?? 'skipped' };
        if (result.action === 'failed') throw new SubscriptionRepairError(`Recreating ${record.name} failed: ${result.error}`);
        // The reconciler recorded the window without subscription, announced it (subscriptionRecreated) and
        // left it for the backfill: nothing more to publish here.
        logger.info('lifecycle.recreated', { ...fields, newSubscriptionId: result.subscriptionId });
        return { status: 'recreated', subscriptionId: result.subscriptionId ?? item.subscriptionId };
      }
      case 'missed':
        await this.#resync.publish({ reason: item.lifecycleEvent, tenantId: item.tenantId, record, subscriptionId: item.subscriptionId });
        logger.info('lifecycle.resync_requested', fields);
        return { status: 'resync', subscriptionId: item.subscriptionId };
      default:
        logger.warn('lifecycle.unknown_event', fields);
        return { status: 'ignored', reason: 'unknown_event' };
    }
  }
}
