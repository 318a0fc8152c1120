import type { Settings } from '../config/settings.js';

/**
 * The incoming queues change notifications are spread over: `NOTIFICATIONS_QUEUE` itself, then
 * `NOTIFICATIONS_QUEUE-1` … `-<N-1>` for NOTIFICATIONS_QUEUE_PARTITIONS = N. The first keeps the plain name,
 * so a deployment with one partition is unchanged and raising N strands nothing.
 */
export function notificationQueueNames(settings: Pick<Settings, 'notificationsQueue' | 'notificationsQueuePartitions'>): string[] {
  return Array.from({ length: settings.notificationsQueuePartitions }, (_, i) => (i === 0 ? settings.notificationsQueue : `${settings.notificationsQueue}-${i}`));
}
