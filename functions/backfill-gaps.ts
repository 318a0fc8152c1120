import { app } from '@azure/functions';
import { parseBackfillPiece } from '../shared/backfill/backfill-piece.js';
import { invocationLogger } from './adapters/invocation-logger.js';
import { backfill, settings } from './adapters/runtime.js';

/** Backfill queue → one page of one Graph listing, its changes routed, the next page queued. */
app.storageQueue('backfillGaps', {
  queueName: settings.backfill.queue,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const logger = invocationLogger(context);
    const piece = parseBackfillPiece(message);
    if (!piece) logger.error('backfill.malformed_piece', { queue: settings.backfill.queue });
    else await backfill.worker.process(piece, logger);
  },
});

/** Every minute (and at start): the heartbeat; a stale previous one opens a downtime gap. */
app.timer('detectGaps', {
  schedule: '0 * * * * *',
  runOnStartup: true,
  handler: async (_timer, context) => {
    await backfill.detector.beat(invocationLogger(context));
  },
});

/** Daily, when BACKFILL_SAFETY_NET_HOURS is set: read back the last hours whatever was detected. */
app.timer('backfillSafetyNet', {
  schedule: '0 0 2 * * *',
  handler: async (_timer, context) => {
    await backfill.detector.safetyNet(invocationLogger(context));
  },
});
