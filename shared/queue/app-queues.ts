import type { Settings } from '../config/settings.js';
import { POISON_SUFFIX } from '../route/poison-mover.js';
import { notificationQueueNames } from './notification-queues.js';

/** What a queue is for, on the status page and in `npm run status`. */
export type QueueRole = 'incoming' | 'lifecycle' | 'downstream' | 'subscription-events' | 'dead-letter' | 'backfill' | 'poison';

export interface AppQueue {
  readonly name: string;
  readonly role: QueueRole;
}

/**
 * Every queue the app owns: the incoming and lifecycle queues, the downstream queues the routes send to,
 * the resync events, the dead letters, the backfill pieces, and the host's `<queue>-poison` of each
 * queue-triggered function (what the host moves there after the last failed attempt).
 */
export function appQueues(
  settings: Pick<Settings, 'notificationsQueue' | 'notificationsQueuePartitions' | 'lifecycleQueue' | 'deadLetterQueue' | 'subscriptionEventsQueue'> & {
    readonly backfill: Pick<Settings['backfill'], 'queue'>;
  },
  downstream: readonly string[],
): AppQueue[] {
  const triggered: AppQueue[] = [
    ...notificationQueueNames(settings).map((name) => ({ name, role: 'incoming' as const })),
    { name: settings.lifecycleQueue, role: 'lifecycle' },
    { name: settings.backfill.queue, role: 'backfill' },
  ];
  const all: AppQueue[] = [
    ...triggered,
    ...downstream.map((name) => ({ name, role: 'downstream' as const })),
    { name: settings.subscriptionEventsQueue, role: 'subscription-events' },
    { name: settings.deadLetterQueue, role: 'dead-letter' },
    ...triggered.map((q) => ({ name: `${q.name}${POISON_SUFFIX}`, role: 'poison' as const })),
  ];
  const seen = new Set<string>();
  return all.filter((q) => !seen.has(q.name) && (seen.add(q.name), true));
}
