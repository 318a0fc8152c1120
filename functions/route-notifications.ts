import { app } from '@azure/functions';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { invocationLogger } from './adapters/invocation-logger.js';
import { notificationProcessor, settings } from './adapters/runtime.js';

/**
 * Incoming queue → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed).
 * One trigger per incoming queue partition (routeNotifications, routeNotifications1, …), so each scales out.
 */
notificationQueueNames(settings).forEach((queueName, i) => {
  app.storageQueue(i === 0 ? 'routeNotifications' : `routeNotifications${i}`, {
    queueName,
    connection: 'AzureWebJobsStorage',
    handler: async (message, context) => {
      const messageId = context.triggerMetadata?.id;
      await notificationProcessor.process(message, {
        sourceQueue: queueName,
        logger: invocationLogger(context),
        ...(typeof messageId === 'string' ? { messageId } : {}),
      });
    },
  });
});
