import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../dev/chaos/plan.js';
import { runChaosCli } from '../helpers/chaos-cli.js';

/** Fixed, so that a failure replays: `npm run chaos -- --seed <seed> --seconds <seconds>`. */
const SEED = 81;
const SECONDS = 30;

describe('npm run chaos: the whole pipeline under seeded faults', () => {
  it('loses nothing: every change Graph made is found downstream (or superseded in a gap, or dead-lettered)', async () => {
    const run = await runChaosCli(['--seconds', String(SECONDS), '--seed', String(SEED), '--json']);
    const replay = `replay with: npm run chaos -- --seed ${SEED} --seconds ${SECONDS}\nstdout:\n${run.stdout}\nstderr (tail):\n${run.stderr.slice(-4000)}`;
    expect(run.report, replay).toMatchObject({
      seed: SEED,
      seconds: SECONDS,
      changes: expect.any(Number),
      delivered: expect.any(Number),
      lost: 0,
      deadLettered: expect.any(Number),
      duplicates: expect.any(Number),
      faults: expect.any(Object),
      converged: true,
    });
    expect(run.code, replay).toBe(0);
    expect(run.report.changes, replay).toBeGreaterThan(50);
    expect(run.report.delivered + run.report.superseded + run.report.deadLettered, replay).toBe(run.report.changes);
    // On Flex's topology (the default), with one single instance killed by the seed's plan.
    expect(run.report.instanceKills, replay).toBeGreaterThanOrEqual(1);
    const kinds = Object.keys(run.report.faults as Record<string, number>);
    expect(kinds.length, replay).toBeGreaterThanOrEqual(3);
    for (const k of kinds) expect(FAULT_KINDS as readonly string[], replay).toContain(k);
  }, 900_000);
});
