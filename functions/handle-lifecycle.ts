import { app, type InvocationContext } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { appSettings, runtime } from './adapters/runtime.js';

/** Lifecycle queue → reauthorize, recreate, or ask consumers to resync. */
export async function handleLifecycle(message: unknown, context: InvocationContext): Promise<void> {
  await runtime().subscriptions.lifecycle.process(message, invocationLogger(context));
}

app.storageQueue('handleLifecycle', {
  queueName: appSettings().lifecycleQueue,
  connection: 'AzureWebJobsStorage',
  handler: handleLifecycle,
});
