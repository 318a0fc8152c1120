import { describe, expect, it } from 'vitest';
import { runChaosCli } from '../helpers/chaos-cli.js';

/** Fixed, so that a failure replays: `npm run chaos -- --azure --seed <seed> --seconds <seconds> --faults <faults>`. */
const SEED = 28;
const SECONDS = 40;
/** The faults whose Azure-shaped form differs: the storage restart behind the role gate and Key Vault down (and a host kill). */
const FAULTS = 'hostKill,azuriteRestart,certUnreadable';

describe('npm run chaos -- --azure: the same run on the Azure-shaped stack', () => {
  it('loses nothing with the app in Production on the stand-ins, each of which the app really used', async () => {
    const args = ['--azure', '--seconds', String(SECONDS), '--seed', String(SEED), '--faults', FAULTS, '--json'];
    const run = await runChaosCli(args);
    const replay = `replay with: npm run chaos -- ${args.join(' ')}\nstdout:\n${run.stdout}\nstderr (tail):\n${run.stderr.slice(-4000)}`;
    expect(run.report, replay).toMatchObject({ stack: 'azure', seed: SEED, seconds: SECONDS, lost: 0, converged: true });
    expect(run.code, replay).toBe(0);
    expect(run.report.changes, replay).toBeGreaterThan(50);
    expect(run.report.delivered + run.report.superseded + run.report.deadLettered, replay).toBe(run.report.changes);
    expect(run.report.faults, replay).toEqual({ hostKill: 1, azuriteRestart: 1, certUnreadable: 1 });
    // Storage through the role gate, Key Vault with the identity's tokens (and refusing while down), telemetry taken.
    const traffic = run.report.azureTraffic as Record<string, number>;
    expect(traffic.storage, replay).toBeGreaterThan(100);
    expect(traffic.vault, replay).toBeGreaterThan(3);
    expect(traffic.vaultRefusedWhileDown, replay).toBeGreaterThan(0);
    expect(traffic.telemetry, replay).toBeGreaterThan(0);
  }, 900_000);
});
