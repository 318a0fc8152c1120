import { app, type InvocationContext, type Timer } from '@azure/functions';
import { parseBackfillPiece } from '../shared/backfill/backfill-piece.js';
import { runtime, withInvocationLog } from './adapters/runtime.js';
import { BACKFILL_POISON_QUEUE, BACKFILL_QUEUE } from './adapters/trigger-bindings.js';

/** Backfill queue → one page of one Graph listing, its changes routed, the next page queued. */
export function backfillGaps(message: unknown, context: InvocationContext): Promise<void> {
  const { backfill, settings } = runtime();
  return withInvocationLog(context, async (logger) => {
    const piece = parseBackfillPiece(message);
    if (!piece) logger.error('backfill.malformed_piece', { queue: settings.backfill.queue });
    else await backfill.worker.process(piece, logger);
  });
}

/**
 * `<backfill queue>-poison` → the piece queued again (a few times), then its gap closed as partial with a
 * resync event: a gap must not wait for ever for a piece the host gave up on. What is not a piece goes to
 * the dead-letter queue.
 */
export function backfillPoisoned(message: unknown, context: InvocationContext): Promise<void> {
  const { backfill, poisonMover, settings } = runtime();
  return withInvocationLog(context, async (logger) => {
    const piece = parseBackfillPiece(message);
    if (piece) await backfill.worker.recoverPoisoned(piece, logger);
    else await poisonMover.move(message, settings.backfill.queue, logger, undefined);
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
  queueName: BACKFILL_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: backfillGaps,
});

app.storageQueue('backfillPoisoned', {
  queueName: BACKFILL_POISON_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: backfillPoisoned,
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
