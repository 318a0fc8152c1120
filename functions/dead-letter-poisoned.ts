import { app, type InvocationContext } from '@azure/functions';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { POISON_SUFFIX } from '../shared/route/poison-mover.js';
import { appSettings, runtime, withInvocationLog } from './adapters/runtime.js';

/** `<queue>-poison` → dead-letter queue (which never expires), for the queue the message was poisoned on. */
export function deadLetterPoisoned(sourceQueue: string): (message: unknown, context: InvocationContext) => Promise<void> {
  return (message, context) => {
    const dequeueCount = context.triggerMetadata?.dequeueCount;
    return withInvocationLog(context, (logger) => runtime().poisonMover.move(message, sourceQueue, logger, typeof dequeueCount === 'number' ? dequeueCount : undefined));
  };
}

/** For each incoming queue (partition) and the lifecycle queue. */
for (const [name, sourceQueue] of [
  ...notificationQueueNames(appSettings()).map((queue, i) => [i === 0 ? 'deadLetterPoisonedNotifications' : `deadLetterPoisonedNotifications${i}`, queue] as const),
  ['deadLetterPoisonedLifecycle', appSettings().lifecycleQueue] as const,
]) {
  app.storageQueue(name, {
    queueName: `${sourceQueue}${POISON_SUFFIX}`,
    connection: 'AzureWebJobsStorage',
    handler: deadLetterPoisoned(sourceQueue),
  });
}
