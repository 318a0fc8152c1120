import { describe, expect, it } from 'vitest';
import { createRecordingLogger } from '../../shared/log.js';
import { CleanupFailedError, runCleanups, type Cleanup } from '../../shared/util/run-cleanups.js';

describe('runCleanups', () => {
  const counting = (event: string, ran: string[]): Cleanup => ({
    event,
    run: async () => {
      ran.push(event);
      return { deleted: ran.length };
    },
  });

  it('runs every clean-up and logs each with what it deleted', async () => {
    const ran: string[] = [];
    const logger = createRecordingLogger();
    await runCleanups([counting('dedup.pruned', ran), counting('metrics.pruned', ran)], logger);
    expect(ran).toEqual(['dedup.pruned', 'metrics.pruned']);
    expect(logger.lines.map((l) => [l.event, l.fields])).toEqual([
      ['dedup.pruned', { deleted: 1 }],
      ['metrics.pruned', { deleted: 2 }],
    ]);
  });

  it('runs the other clean-ups when one fails, logs the failure, then fails naming it', async () => {
    const ran: string[] = [];
    const logger = createRecordingLogger();
    const outage = Object.assign(new Error('The table service is unavailable.'), { code: 'ServiceUnavailable' });
    const failing: Cleanup = {
      event: 'dedup.pruned',
      run: () => Promise.reject(outage),
    };
    const error = await runCleanups([failing, counting('payloads.pruned', ran), counting('metrics.pruned', ran)], logger).catch((e: unknown) => e);
    expect(ran).toEqual(['payloads.pruned', 'metrics.pruned']);
    expect(error).toBeInstanceOf(CleanupFailedError);
    expect(error).toMatchObject({ code: 'ERR_CLEANUP_FAILED', failed: ['dedup.pruned'], cause: outage });
    expect(logger.lines.map((l) => [l.level, l.event]).sort()).toEqual([
      ['error', 'cleanup.failed'],
      ['info', 'metrics.pruned'],
      ['info', 'payloads.pruned'],
    ]);
    expect(logger.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ cleanup: 'dedup.pruned', error: 'The table service is unavailable.', code: 'ServiceUnavailable' });
  });

  it('does not wait for a clean-up that hangs before running the others', async () => {
    const ran: string[] = [];
    let finishHanging: () => void = () => undefined;
    const hanging: Cleanup = { event: 'payloads.pruned', run: () => new Promise((resolve) => (finishHanging = () => resolve({ payloadBlobs: 0 }))) };
    const all = runCleanups([hanging, counting('metrics.pruned', ran)], createRecordingLogger());
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['metrics.pruned']);
    finishHanging();
    await all;
  });
});
