import { app } from '@azure/functions';
import { parseBackfillPiece } from '../shared/backfill/backfill-piece.js';
import { backfill, settings, withInvocationLog } from './adapters/runtime.js';

/** Backfill queue → one page of one Graph listing, its changes routed, the next page queued. */
app.storageQueue('backfillGaps', {
  queueName: settings.backfill.queue,
  connection: 'AzureWebJobsStorage',
  handler: (message, context) =>
    withInvocationLog(context, async (logger) => {
      const piece = parseBackfillPiece(message);
      if (!piece) logger.error('backfill.malformed_piece', { queue: settings.backfill.queue });
      else await backfill.worker.process(piece, logger);
    }),
});

/** Every minute (and at start): the heartbeat; a stale previous one opens a downtime gap. */
app.timer('detectGaps', {
  schedule: '0 * * * * *',
  runOnStartup: true,
  handler: (_timer, context) => withInvocationLog(context, (logger) => backfill.detector.beat(logger)),
});

/** Daily, when BACKFILL_SAFETY_NET_HOURS is set: read back the last hours whatever was detected. */
app.timer('backfillSafetyNet', {
  schedule: '0 0 2 * * *',
  handler: (_timer, context) => withInvocationLog(context, (logger) => backfill.detector.safetyNet(logger)),
});
