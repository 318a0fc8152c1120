import { app, type InvocationContext } from '@azure/functions';
import { runtime, withInvocationLog } from './adapters/runtime.js';
import { LIFECYCLE_QUEUE } from './adapters/trigger-bindings.js';

/**
 * Lifecycle queue → reauthorize, recreate, or ask consumers to resync. The reconciler's lines (a renewal or
 * recreation the event asks for) go to this invocation's log too.
 */
export function handleLifecycle(message: unknown, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => {
    await runtime().subscriptions.lifecycle.process(message, logger);
  });
}

app.storageQueue('handleLifecycle', {
  queueName: LIFECYCLE_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: handleLifecycle,
});
