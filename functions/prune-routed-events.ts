import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invocationLogger } from './adapters/invocation-logger.js';
import { runtime } from './adapters/runtime.js';

/**
 * Daily: delete de-duplication records older than the window (Table storage has no TTL) and event payload
 * blobs older than EVENT_PAYLOAD_RETENTION_DAYS.
 */
export async function pruneRoutedEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  invocationLogger(context).info('dedup.pruned', await runtime().pruneRoutedEvents());
}

app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: pruneRoutedEvents,
});
