import { describe, expect, it } from 'vitest';
import { DESIRED, GRAPH_GIVES_UP_AFTER_MS, LIFETIME_MINUTES } from '../../dev/chaos/chaos-config.js';
import { planChaos, type FaultKind } from '../../dev/chaos/plan.js';
import { runChaosCli } from '../helpers/chaos-cli.js';

/** Fixed, so that a failure replays: `npm run chaos -- --tenants 2 --seed <seed> --seconds <seconds> --rate <rate> --faults <faults>`. */
const SEED = 22;
const SECONDS = 20;
const RATE = 2;
const FAULTS: FaultKind[] = ['subscriptionRemoved', 'hostKill'];

describe('npm run chaos -- --tenants 2: the pipeline in two tenants at once', () => {
  it('refuses a count of tenants out of 1 to 4, and several tenants on the Azure-shaped stack, as bad usage (exit 2)', async () => {
    for (const [args, says] of [
      [['--tenants', '0'], '--tenants must be an integer ≥ 1.'],
      [['--tenants', 'two'], '--tenants must be an integer ≥ 1.'],
      [['--tenants', '5'], '--tenants must be at most 4.'],
      [['--tenants', '2', '--azure'], '--tenants goes without --azure'],
    ] as const) {
      const run = await runChaosCli([...args, '--seconds', '10']);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(says);
      expect(run.stderr).toContain('[--tenants N]');
    }
  });

  it("loses nothing in either tenant: each tenant's changes reach downstream with its own tenantid, a subscription of the second removed and recreated", async () => {
    // The seed's plan removes a subscription of the second tenant (an index past the home tenant's four).
    const plan = planChaos({
      seed: SEED,
      seconds: SECONDS,
      rate: RATE,
      subscriptions: 2 * DESIRED.length,
      lifetimeMinutes: LIFETIME_MINUTES,
      longDowntimeMs: GRAPH_GIVES_UP_AFTER_MS + 20_000,
      faultKinds: FAULTS,
    });
    expect(plan.faults.filter((f) => f.kind === 'subscriptionRemoved').map((f) => f.subscription >= DESIRED.length)).toEqual([true]);

    const args = ['--tenants', '2', '--seconds', String(SECONDS), '--seed', String(SEED), '--rate', String(RATE), '--faults', FAULTS.join(','), '--json'];
    const run = await runChaosCli(args);
    const replay = `replay with: npm run chaos -- ${args.join(' ')}\nstdout:\n${run.stdout}\nstderr (tail):\n${run.stderr.slice(-4000)}`;
    expect(run.report, replay).toMatchObject({ seed: SEED, seconds: SECONDS, lost: 0, converged: true, faults: { subscriptionRemoved: 1, hostKill: 1 } });
    expect(run.code, replay).toBe(0);

    const tenants = run.report.tenants as { tenantId: string; events: number; changes: number; delivered: number; superseded: number; deadLettered: number; lost: number; duplicates: number }[];
    expect(tenants, replay).toHaveLength(2);
    expect(new Set(tenants.map((t) => t.tenantId)).size, replay).toBe(2);
    for (const t of tenants) {
      expect(t.lost, replay).toBe(0);
      // The same activity in each tenant: a good share of changes each, all found with this tenant's tenantid.
      expect(t.changes, replay).toBeGreaterThan(30);
      expect(t.events, replay).toBeGreaterThanOrEqual(t.delivered);
      expect(t.delivered + t.superseded + t.deadLettered, replay).toBe(t.changes);
      expect(t.delivered, replay).toBeGreaterThan(t.changes / 2);
    }
    expect(tenants[0]!.changes + tenants[1]!.changes, replay).toBe(run.report.changes);
    // The second tenant's baseline (a gap per entry, opened when it became active) and the window of its
    // recreated subscription (the quiet period waits until every such window is a gap, filled).
    expect(run.report.gaps, replay).toBeGreaterThanOrEqual(DESIRED.length + 1);
  }, 900_000);
});
