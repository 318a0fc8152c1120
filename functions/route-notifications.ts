import { app } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { notificationProcessor, settings } from './adapters/runtime.js';

/** Incoming queue → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
app.storageQueue('routeNotifications', {
  queueName: settings.notificationsQueue,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const messageId = context.triggerMetadata?.id;
    await notificationProcessor.process(message, {
      sourceQueue: settings.notificationsQueue,
      logger: invocationLogger(context),
      ...(typeof messageId === 'string' ? { messageId } : {}),
    });
  },
});
