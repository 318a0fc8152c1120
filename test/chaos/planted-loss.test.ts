import { describe, expect, it } from 'vitest';
import { runChaosCli } from '../helpers/chaos-cli.js';

describe('the chaos ledger can fail', () => {
  it('reports lost > 0 and exits 1 when notifications are acknowledged without reaching the app', async () => {
    // The harness's proxy in front of the app answers every 3rd notification batch 202 itself: an app that
    // acknowledged before storing would look like this to Graph. No fault, so no gap hides it.
    const run = await runChaosCli(['--seconds', '10', '--seed', '7', '--faults', '', '--plant-loss-every', '3', '--json']);
    const output = `stdout:\n${run.stdout}\nstderr (tail):\n${run.stderr.slice(-3000)}`;
    expect(run.report.plantedLosses, output).toBeGreaterThan(0);
    expect(run.report.lost, output).toBeGreaterThan(0);
    expect(run.report.lostSamples?.length, output).toBeGreaterThan(0);
    expect(run.report.faults, output).toEqual({});
    expect(run.code, output).toBe(1);
  }, 600_000);
});
