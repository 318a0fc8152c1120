import { app, type InvocationContext } from '@azure/functions';
import { POISON_SUFFIX } from '../shared/route/poison-mover.js';
import { invocationLogger } from './adapters/invocation-logger.js';
import { appSettings, runtime } from './adapters/runtime.js';

/** `<queue>-poison` → dead-letter queue (which never expires), for the queue the message was poisoned on. */
export function deadLetterPoisoned(sourceQueue: string): (message: unknown, context: InvocationContext) => Promise<void> {
  return async (message, context) => {
    const dequeueCount = context.triggerMetadata?.dequeueCount;
    await runtime().poisonMover.move(message, sourceQueue, invocationLogger(context), typeof dequeueCount === 'number' ? dequeueCount : undefined);
  };
}

/** For the incoming and the lifecycle queue. */
for (const [name, sourceQueue] of [
  ['deadLetterPoisonedNotifications', appSettings().notificationsQueue],
  ['deadLetterPoisonedLifecycle', appSettings().lifecycleQueue],
] as const) {
  app.storageQueue(name, {
    queueName: `${sourceQueue}${POISON_SUFFIX}`,
    connection: 'AzureWebJobsStorage',
    handler: deadLetterPoisoned(sourceQueue),
  });
}
