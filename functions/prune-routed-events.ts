import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/**
 * Daily: delete de-duplication records older than the window (Table storage has no TTL), event payload
 * blobs older than EVENT_PAYLOAD_RETENTION_DAYS and the counters' hours older than METRICS_RETENTION_DAYS.
 */
export function pruneRoutedEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => {
    const relay = runtime();
    logger.info('dedup.pruned', await relay.pruneRoutedEvents());
    logger.info('metrics.pruned', { entities: await relay.pruneMetrics() });
  });
}

app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: pruneRoutedEvents,
});
