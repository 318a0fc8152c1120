import { app } from '@azure/functions';
import { POISON_SUFFIX } from '../shared/route/poison-mover.js';
import { poisonMover, settings, withInvocationLog } from './adapters/runtime.js';

/** `<queue>-poison` → dead-letter queue (which never expires), for the incoming and the lifecycle queue. */
for (const [name, sourceQueue] of [
  ['deadLetterPoisonedNotifications', settings.notificationsQueue],
  ['deadLetterPoisonedLifecycle', settings.lifecycleQueue],
] as const) {
  app.storageQueue(name, {
    queueName: `${sourceQueue}${POISON_SUFFIX}`,
    connection: 'AzureWebJobsStorage',
    handler: (message, context) => {
      const dequeueCount = context.triggerMetadata?.dequeueCount;
      return withInvocationLog(context, (logger) => poisonMover.move(message, sourceQueue, logger, typeof dequeueCount === 'number' ? dequeueCount : undefined));
    },
  });
}
