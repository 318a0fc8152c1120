import { app, type InvocationContext } from '@azure/functions';
import type { Settings } from '../shared/config/settings.js';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { POISON_SUFFIX } from '../shared/route/poison-mover.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';
import { LIFECYCLE_QUEUE, notificationQueueBindings } from './adapters/trigger-bindings.js';

/** `<queue>-poison` → dead-letter queue (which never expires), for the queue the message was poisoned on. */
export function deadLetterPoisoned(sourceQueueOf: (settings: Settings) => string): (message: unknown, context: InvocationContext) => Promise<void> {
  return (message, context) => {
    const dequeueCount = context.triggerMetadata?.dequeueCount;
    return withInvocationLog(context, (logger) => {
      const { poisonMover, settings } = runtime();
      return poisonMover.move(message, sourceQueueOf(settings), logger, typeof dequeueCount === 'number' ? dequeueCount : undefined);
    });
  };
}

/** For each incoming queue (partition) and the lifecycle queue. */
for (const [name, binding, sourceQueueOf] of [
  ...notificationQueueBindings().map(
    (binding, i) => [i === 0 ? 'deadLetterPoisonedNotifications' : `deadLetterPoisonedNotifications${i}`, binding, (s: Settings) => notificationQueueNames(s)[i]!] as const,
  ),
  ['deadLetterPoisonedLifecycle', LIFECYCLE_QUEUE, (s: Settings) => s.lifecycleQueue] as const,
]) {
  app.storageQueue(name, {
    queueName: `${binding}${POISON_SUFFIX}`,
    connection: 'AzureWebJobsStorage',
    handler: deadLetterPoisoned(sourceQueueOf),
  });
}
