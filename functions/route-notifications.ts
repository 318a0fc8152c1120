import { app, type InvocationContext } from '@azure/functions';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { appSettings, runtime, withInvocationLog } from './adapters/runtime.js';

/** Incoming queue `sourceQueue` → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
export function routeNotifications(sourceQueue: string): (message: unknown, context: InvocationContext) => Promise<void> {
  return (message, context) => {
    const messageId = context.triggerMetadata?.id;
    return withInvocationLog(context, async (logger) => {
      await runtime().notificationProcessor.process(message, {
        sourceQueue,
        logger,
        ...(typeof messageId === 'string' ? { messageId } : {}),
      });
    });
  };
}

/** One trigger per incoming queue partition (routeNotifications, routeNotifications1, …), so each scales out. */
notificationQueueNames(appSettings()).forEach((queueName, i) => {
  app.storageQueue(i === 0 ? 'routeNotifications' : `routeNotifications${i}`, {
    queueName,
    connection: 'AzureWebJobsStorage',
    handler: routeNotifications(queueName),
  });
});
