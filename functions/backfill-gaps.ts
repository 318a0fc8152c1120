import { app, type InvocationContext, type Timer } from '@azure/functions';
import { parseBackfillPiece } from '../shared/backfill/backfill-piece.js';
import { invocationLogger } from './adapters/invocation-logger.js';
import { appSettings, runtime } from './adapters/runtime.js';

/** Backfill queue → one page of one Graph listing, its changes routed, the next page queued. */
export async function backfillGaps(message: unknown, context: InvocationContext): Promise<void> {
  const { backfill, settings } = runtime();
  const logger = invocationLogger(context);
  const piece = parseBackfillPiece(message);
  if (!piece) logger.error('backfill.malformed_piece', { queue: settings.backfill.queue });
  else await backfill.worker.process(piece, logger);
}

/** Every minute (and at start): the heartbeat; a stale previous one opens a downtime gap. */
export async function detectGaps(_timer: Timer, context: InvocationContext): Promise<void> {
  await runtime().backfill.detector.beat(invocationLogger(context));
}

/** Daily, when BACKFILL_SAFETY_NET_HOURS is set: read back the last hours whatever was detected. */
export async function backfillSafetyNet(_timer: Timer, context: InvocationContext): Promise<void> {
  await runtime().backfill.detector.safetyNet(invocationLogger(context));
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
