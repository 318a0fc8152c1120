import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/**
 * Daily: delete de-duplication records older than the window (Table storage has no TTL) and event payload
 * blobs older than EVENT_PAYLOAD_RETENTION_DAYS.
 */
export function pruneRoutedEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => logger.info('dedup.pruned', await runtime().pruneRoutedEvents()));
}

app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: pruneRoutedEvents,
});
