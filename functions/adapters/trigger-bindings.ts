import { bindingExpression } from '../../shared/config/trigger-settings.js';
import { readNotificationPartitions } from '../../shared/config/settings/receive.js';
import { notificationQueueNames } from '../../shared/queue/notification-queues.js';
import { POISON_SUFFIX } from '../../shared/route/poison-mover.js';

/**
 * What the queue and timer registrations bind to, written as `%SETTING%` binding expressions the host resolves
 * from app settings (shared/config/trigger-settings.ts), so the function files read no settings at load.
 * One thing cannot be a binding expression: how many incoming-queue partitions there are, which is how many
 * functions to register. That one setting is read (and checked) here, when the host loads the files.
 */
export const LIFECYCLE_QUEUE = bindingExpression('LIFECYCLE_QUEUE');
export const BACKFILL_QUEUE = bindingExpression('BACKFILL_QUEUE');
export const BACKFILL_POISON_QUEUE = `${BACKFILL_QUEUE}${POISON_SUFFIX}`;
export const RECONCILE_SCHEDULE = bindingExpression('RECONCILE_SCHEDULE');

/** One binding per incoming queue partition, named as notificationQueueNames names the queues: `%NOTIFICATIONS_QUEUE%`, `%NOTIFICATIONS_QUEUE%-1`, … */
export function notificationQueueBindings(env: NodeJS.ProcessEnv = process.env): string[] {
  return notificationQueueNames({ notificationsQueue: bindingExpression('NOTIFICATIONS_QUEUE'), notificationsQueuePartitions: readNotificationPartitions(env) });
}
