import { app } from '@azure/functions';
import { settings, subscriptions, withInvocationLog } from './adapters/runtime.js';

/** Lifecycle queue → reauthorize, recreate, or ask consumers to resync. */
app.storageQueue('handleLifecycle', {
  queueName: settings.lifecycleQueue,
  connection: 'AzureWebJobsStorage',
  // The reconciler's lines (a renewal or recreation the event asks for) go to this invocation's log too.
  handler: (message, context) => withInvocationLog(context, (logger) => subscriptions.lifecycle.process(message, logger)),
});
