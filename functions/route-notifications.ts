import { app } from '@azure/functions';
import { notificationProcessor, settings, withInvocationLog } from './adapters/runtime.js';

/** Incoming queue → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
app.storageQueue('routeNotifications', {
  queueName: settings.notificationsQueue,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const messageId = context.triggerMetadata?.id;
    await withInvocationLog(context, (logger) =>
      notificationProcessor.process(message, {
        sourceQueue: settings.notificationsQueue,
        logger,
        ...(typeof messageId === 'string' ? { messageId } : {}),
      }),
    );
  },
});
