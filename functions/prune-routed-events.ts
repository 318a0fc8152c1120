import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runCleanups } from '../shared/util/run-cleanups.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/**
 * Daily: delete de-duplication records older than the window (Table storage has no TTL), event payload
 * blobs older than EVENT_PAYLOAD_RETENTION_DAYS, claim-check blobs older than CLAIM_CHECK_RETENTION_DAYS and
 * the counters' hours older than METRICS_RETENTION_DAYS, each whatever became of the others; the invocation
 * fails if any of them did.
 */
export function pruneRoutedEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, (logger) => runCleanups(runtime().cleanups, logger));
}

app.timer('pruneRoutedEvents', {
  schedule: '0 30 3 * * *',
  handler: pruneRoutedEvents,
});
