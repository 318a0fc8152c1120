import { app } from '@azure/functions';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { POISON_SUFFIX } from '../shared/route/poison-mover.js';
import { invocationLogger } from './adapters/invocation-logger.js';
import { poisonMover, settings } from './adapters/runtime.js';

/** `<queue>-poison` → dead-letter queue (which never expires), for each incoming queue and the lifecycle queue. */
for (const [name, sourceQueue] of [
  ...notificationQueueNames(settings).map((queue, i) => [i === 0 ? 'deadLetterPoisonedNotifications' : `deadLetterPoisonedNotifications${i}`, queue] as const),
  ['deadLetterPoisonedLifecycle', settings.lifecycleQueue] as const,
]) {
  app.storageQueue(name, {
    queueName: `${sourceQueue}${POISON_SUFFIX}`,
    connection: 'AzureWebJobsStorage',
    handler: async (message, context) => {
      const dequeueCount = context.triggerMetadata?.dequeueCount;
      await poisonMover.move(message, sourceQueue, invocationLogger(context), typeof dequeueCount === 'number' ? dequeueCount : undefined);
    },
  });
}
