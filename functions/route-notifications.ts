import { app, type InvocationContext } from '@azure/functions';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';
import { notificationQueueBindings } from './adapters/trigger-bindings.js';

/** Incoming queue partition `partition` → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
export function routeNotifications(partition: number): (message: unknown, context: InvocationContext) => Promise<void> {
  return (message, context) => {
    const messageId = context.triggerMetadata?.id;
    return withInvocationLog(context, async (logger) => {
      const { notificationProcessor, settings } = runtime();
      await notificationProcessor.process(message, {
        sourceQueue: notificationQueueNames(settings)[partition]!,
        logger,
        ...(typeof messageId === 'string' ? { messageId } : {}),
      });
    });
  };
}

/** One trigger per incoming queue partition (routeNotifications, routeNotifications1, …), so each scales out. */
notificationQueueBindings().forEach((queueName, i) => {
  app.storageQueue(i === 0 ? 'routeNotifications' : `routeNotifications${i}`, {
    queueName,
    connection: 'AzureWebJobsStorage',
    handler: routeNotifications(i),
  });
});
