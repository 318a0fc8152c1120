import { app } from '@azure/functions';
import { pruneRoutedEvents, withInvocationLog } from './adapters/runtime.js';

/**
 * Daily: delete de-duplication records older than the window (Table storage has no TTL) and event payload
 * blobs older than EVENT_PAYLOAD_RETENTION_DAYS.
 */
app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: (_timer, context) => withInvocationLog(context, async (logger) => logger.info('dedup.pruned', await pruneRoutedEvents())),
});
