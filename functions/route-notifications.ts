import { app, type InvocationContext } from '@azure/functions';
import { appSettings, runtime, withInvocationLog } from './adapters/runtime.js';

/** Incoming queue → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
export function routeNotifications(message: unknown, context: InvocationContext): Promise<void> {
  const { notificationProcessor, settings } = runtime();
  const messageId = context.triggerMetadata?.id;
  return withInvocationLog(context, async (logger) => {
    await notificationProcessor.process(message, {
      sourceQueue: settings.notificationsQueue,
      logger,
      ...(typeof messageId === 'string' ? { messageId } : {}),
    });
  });
}

app.storageQueue('routeNotifications', {
  queueName: appSettings().notificationsQueue,
  connection: 'AzureWebJobsStorage',
  handler: routeNotifications,
});
