import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runCleanups } from '../shared/util/run-cleanups.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/**
 * Daily: delete what has outlived its retention (Table storage has no TTL): de-duplication records older than
 * the window, event payload blobs older than EVENT_PAYLOAD_RETENTION_DAYS, claim-check blobs older than
 * CLAIM_CHECK_RETENTION_DAYS, the counters' hours older than METRICS_RETENTION_DAYS, and the backfill's piece
 * and gap rows of gaps closed long enough ago; each whatever became of the others, and the invocation fails if
 * any of them did.
 */
export function pruneExpiredData(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, (logger) => runCleanups(runtime().cleanups, logger));
}

app.timer('pruneExpiredData', {
  schedule: '0 30 3 * * *',
  handler: pruneExpiredData,
});
