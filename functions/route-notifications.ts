import { app, type InvocationContext } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { appSettings, runtime } from './adapters/runtime.js';

/** Incoming queue → decrypt → CloudEvent on its downstream queues (dead-letter for what can never succeed). */
export async function routeNotifications(message: unknown, context: InvocationContext): Promise<void> {
  const { notificationProcessor, settings } = runtime();
  const messageId = context.triggerMetadata?.id;
  await notificationProcessor.process(message, {
    sourceQueue: settings.notificationsQueue,
    logger: invocationLogger(context),
    ...(typeof messageId === 'string' ? { messageId } : {}),
  });
}

app.storageQueue('routeNotifications', {
  queueName: appSettings().notificationsQueue,
  connection: 'AzureWebJobsStorage',
  handler: routeNotifications,
});
