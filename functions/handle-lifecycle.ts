import { app } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { settings, subscriptions } from './adapters/runtime.js';

/** Lifecycle queue → reauthorize, recreate, or ask consumers to resync. */
app.storageQueue('handleLifecycle', {
  queueName: settings.lifecycleQueue,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    await subscriptions.lifecycle.process(message, invocationLogger(context));
  },
});
