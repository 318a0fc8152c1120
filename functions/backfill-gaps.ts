import { app, type InvocationContext, type Timer } from '@azure/functions';
import { parseBackfillPiece } from '../shared/backfill/backfill-piece.js';
import { appSettings, runtime, withInvocationLog } from './adapters/runtime.js';

/** Backfill queue → one page of one Graph listing, its changes routed, the next page queued. */
export function backfillGaps(message: unknown, context: InvocationContext): Promise<void> {
  const { backfill, settings } = runtime();
  return withInvocationLog(context, async (logger) => {
    const piece = parseBackfillPiece(message);
    if (!piece) logger.error('backfill.malformed_piece', { queue: settings.backfill.queue });
    else await backfill.worker.process(piece, logger);
  });
}

/** Every minute (and at start): the heartbeat; a stale previous one opens a downtime gap. */
export function detectGaps(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => {
    await runtime().backfill.detector.beat(logger);
  });
}

/** Daily, when BACKFILL_SAFETY_NET_HOURS is set: read back the last hours whatever was detected. */
export function backfillSafetyNet(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => {
    await runtime().backfill.detector.safetyNet(logger);
  });
}

app.storageQueue('backfillGaps', {
  queueName: appSettings().backfill.queue,
  connection: 'AzureWebJobsStorage',
  handler: backfillGaps,
});

app.timer('detectGaps', {
  schedule: '0 * * * * *',
  runOnStartup: true,
  handler: detectGaps,
});

app.timer('backfillSafetyNet', {
  schedule: '0 0 2 * * *',
  handler: backfillSafetyNet,
});
