import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GapLog } from '../../shared/backfill/gap-log.js';
import { splitTenantEntryName } from '../../shared/subscriptions/tenant-desired-subscriptions.js';
import { TenantRegistry } from '../../shared/tenants/tenant-registry.js';
import { freePort } from '../azurite/azurite-process.js';
import { setUp, perform, type Ids } from './activity.js';
import { startAzureChaosStack } from './azure-chaos-stack.js';
import { DESIRED, GRAPH_GIVES_UP_AFTER_MS, KINDS_OF, LIFETIME_MINUTES } from './chaos-config.js';
import type { AzureTraffic, ChaosStack, StackKind } from './chaos-stack.js';
import { startDevelopmentStack } from './development-stack.js';
import { control, deliveryLog, Driver } from './driver.js';
import { inject, type FaultEnv } from './faults.js';
import type { LedgerResult } from './ledger.js';
import { startNotificationProxy } from './notification-proxy.js';
import { FAULT_KINDS, planChaos, type FaultKind } from './plan.js';
import type { HostLine } from './processes.js';
import { waitForQuiet } from './quiet.js';
import { readDeadLetters, readEvents } from './read-outcome.js';
import { addRunTenant, missingSubscriptions, type RunTenants } from './run-tenants.js';
import { compareTenantLedgers, type TenantLedger } from './tenant-ledger.js';
import { sleep, waitUntil } from './wait.js';

/** The run's Flex topology: two route instances per partition (the minimum), instances stopped after 20 s idle so that groups scale to zero and back within a run. */
const CHAOS_TOPOLOGY = { routeInstances: 2, idleSeconds: 20 } as const;

export interface ChaosOptions {
  readonly seconds: number;
  readonly seed: number;
  /** Activity operations per second. */
  readonly rate?: number;
  /**
   * Tenants the activity acts in (default 1: the simulator's default tenant, the app's home tenant). Each one
   * more is added to the simulator, consented and registered with the app as onboarding while it runs; the
   * activity is performed in each.
   */
  readonly tenants?: number;
  readonly faultKinds?: readonly FaultKind[];
  /** The app on one host process instead of Flex's topology (no instanceKill fault then). */
  readonly singleProcess?: boolean;
  /** Longest wait for the app to catch up after the activity, in seconds. */
  readonly quietCapSeconds?: number;
  /** Harness-only: every n-th notification batch is acknowledged without reaching the app (the ledger test). */
  readonly plantLossEvery?: number;
  /** Progress lines (human). */
  readonly log?: (line: string) => void;
  /** Start no fault after the activity ended (a long run on a loaded machine); default: every planned fault runs. */
  readonly skipLateFaults?: boolean;
  /** Keep the run's folder (Azurite data, certificates, host log tail) instead of deleting it. */
  readonly keep?: boolean;
  /**
   * Run the app on the Azure-shaped stack (the template's settings in Production, every Azure service a stand-in)
   * with this compiled template, instead of the Development host. Needs NODE_EXTRA_CA_CERTS naming the
   * loopback certificate in this process.
   */
  readonly azure?: { readonly templateFile?: string };
}

export interface ChaosReport extends Omit<LedgerResult, 'lostSamples'> {
  /** Which stack ran the app. */
  readonly stack: StackKind;
  readonly seed: number;
  readonly seconds: number;
  readonly faults: Partial<Record<FaultKind, number>>;
  readonly faultsSkipped: number;
  readonly converged: boolean;
  readonly quietSeconds: number;
  readonly wallSeconds: number;
  readonly hostStarts: number;
  /** Single instances of the topology killed (instanceKill faults that found one). */
  readonly instanceKills: number;
  readonly gaps: number;
  readonly plantedLosses?: number;
  /** What the Azure stand-ins answered the app with authorization (azure only). */
  readonly azureTraffic?: AzureTraffic;
  /** Each tenant's share of the ledger (runs in more than one tenant). */
  readonly tenants?: readonly TenantLedger[];
  readonly lostSamples: readonly { tenantId?: string; resource: string; changeType: string; version: string | null; at: string }[];
  readonly workDir?: string;
}

/**
 * One chaos run: the simulator, storage and the app under the local host as separate processes (on the
 * Development stack or the Azure-shaped one); the seeded activity and faults; a quiet period until the app
 * has caught up; the ledger.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const log = o.log ?? (() => {});
  const started = Date.now();
  const tenantCount = o.tenants ?? 1;
  const plan = planChaos({
    seed: o.seed,
    seconds: o.seconds,
    rate: o.rate ?? 4,
    // Twice the subscriptions with two tenants: a fault's index counts each tenant's in turn (desiredAt).
    subscriptions: DESIRED.length * tenantCount,
    lifetimeMinutes: LIFETIME_MINUTES,
    longDowntimeMs: GRAPH_GIVES_UP_AFTER_MS + 20_000,
    ...(o.faultKinds || o.singleProcess ? { faultKinds: (o.faultKinds ?? FAULT_KINDS).filter((k) => !(o.singleProcess && k === 'instanceKill')) } : {}),
  });
  const work = mkdtempSync(join(tmpdir(), 'tcr-chaos-'));
  const desiredFile = join(work, 'subscriptions.json');
  writeFileSync(desiredFile, JSON.stringify({ subscriptions: DESIRED }, null, 2));

  const stoppers: (() => Promise<unknown>)[] = [];
  let keepDir = o.keep === true;
  try {
    const hostPort = await freePort();
    const proxy = await startNotificationProxy(hostPort, o.plantLossEvery ? { loseEvery: o.plantLossEvery } : {});
    stoppers.push(() => proxy.close());
    let lastDetectGapsMs = 0;
    const onLine = (line: HostLine) => {
      if (line.event === 'invocation' && line.function === 'detectGaps' && line.status === 'succeeded') lastDetectGapsMs = Date.now();
    };
    const stackOptions = { work, desiredFile, hostPort, proxyUrl: proxy.url, onLine, ...(o.singleProcess ? {} : { topology: CHAOS_TOPOLOGY }) };
    const stack: ChaosStack = o.azure ? await startAzureChaosStack({ ...stackOptions, ...o.azure }) : await startDevelopmentStack(stackOptions);
    stoppers.unshift(() => stack.stop());
    const { sim, host } = stack;
    const driver = new Driver(sim.driverUrl);
    await host.start();
    log(`${stack.kind} stack: host on 127.0.0.1:${hostPort}, ${stack.description}, folder ${work}`);
    const home = sim.tenantId.toLowerCase();
    await waitUntil(async () => (await missingSubscriptions(driver, { home, ids: [home] })).length === 0, 120_000, 'the desired subscriptions to exist');
    // More tenants join while the app runs, as a customer onboarded by an operator would: the app's reconciler
    // serves each from its next run on (its registry read at most 30 s old, a run every 20 s).
    const registry = new TenantRegistry(stack.storage.tenantsTable);
    const tenantIds = [home];
    for (let n = 1; n < tenantCount; n++) tenantIds.push(await addRunTenant(driver, registry, sim.appId, n));
    const tenants: RunTenants = { home, ids: tenantIds };
    if (tenantCount > 1) {
      log(`tenants ${tenantIds.join(', ')}: waiting for the app to subscribe in each`);
      await waitUntil(async () => (await missingSubscriptions(driver, tenants)).length === 0, 180_000, "every tenant's desired subscriptions to exist");
    }

    const idsOf: Ids[] = [];
    for (const tenantId of tenantIds) idsOf.push(await setUp(driver, plan, tenantId === home ? undefined : tenantId));
    const t0 = Date.now();
    log(`seed ${plan.seed}: ${plan.activity.length} activity operations and ${plan.faults.length} faults over ${plan.seconds} s`);

    const faults: Partial<Record<FaultKind, number>> = {};
    let faultsSkipped = 0;
    const env: FaultEnv = {
      driver,
      tenants,
      host,
      log,
      hostBack: Promise.resolve(),
      activityGate: Promise.resolve(),
      deliveriesIdle: async () => (await control(sim)).deliveriesIdle,
      restartAzurite: (downMs) => stack.restartStorage(downMs),
      certificatesUnreadable: (forMs) => stack.certificatesUnreadable(forMs),
    };
    const activity = (async () => {
      for (const op of plan.activity) {
        await sleep(t0 + op.at - Date.now());
        await env.activityGate;
        for (const ids of idsOf) await perform(driver, ids, op);
        // Two changes of one resource never share a millisecond (the version is a timestamp).
        await sleep(2);
      }
    })();
    const chaos = (async () => {
      for (const fault of plan.faults) {
        // Faults run one after the other and may fall behind their times on a loaded machine. By default
        // every planned fault runs (the same seed, the same faults); `skipLateFaults` bounds a long run's
        // wall time instead: none starts after the activity ended (those are counted as skipped).
        if (o.skipLateFaults && Date.now() - t0 > plan.seconds * 1000) {
          faultsSkipped++;
          continue;
        }
        await sleep(t0 + fault.at - Date.now());
        const done = await inject(env, fault);
        if (done) faults[fault.kind] = (faults[fault.kind] ?? 0) + 1;
        else faultsSkipped++;
        log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${fault.kind}${done ? '' : ' (skipped)'} ${JSON.stringify(fault)}`);
      }
    })();
    await Promise.all([activity, chaos]);
    await env.hostBack;
    log(`activity done after ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for the app to catch up`);

    // Quiet period: everything restored, then wait until the app has caught up (or the cap).
    await stack.restore();
    await driver.call('PATCH', '/delivery', { requestTimeoutMs: 10_000, duplicateRate: 0 });
    const quietStart = Date.now();
    const { storage } = stack;
    const converged = await waitForQuiet({ driver, tenants, sim, storage, host, lastDetectGaps: () => lastDetectGapsMs, capMs: (o.quietCapSeconds ?? 600) * 1000, log });
    const quietSeconds = (Date.now() - quietStart) / 1000;
    await host.stop();
    const azureTraffic = stack.traffic?.();

    const { changes } = await control(sim);
    const events = await readEvents(storage.queues);
    const dead = await readDeadLetters(storage.queues, storage.blobs, stack.certificates);
    const gaps = await new GapLog(storage.backfillTable).list();
    const ledger = compareTenantLedgers({
      tenants: tenantIds,
      changes,
      events,
      deadLettered: dead,
      // A change whose notification Graph was still retrying when a gap began may be given up inside it.
      gaps: gaps.map((g) => {
        const { entryName, tenantId } = splitTenantEntryName(g.name);
        return { tenantId: tenantId ?? home, kinds: KINDS_OF[entryName] ?? [], fromMs: Date.parse(g.from) - GRAPH_GIVES_UP_AFTER_MS, toMs: Date.parse(g.to) + 5000 };
      }),
    });
    // With --keep always, so that anyone can recount the run (changes.json beside the Azurite data).
    if (ledger.lost > 0 || !converged || o.keep === true) {
      writeFileSync(join(work, 'host-tail.log'), host.recent.join('\n'));
      writeFileSync(join(work, 'changes.json'), JSON.stringify(changes));
      writeFileSync(join(work, 'events.json'), JSON.stringify(events));
      writeFileSync(join(work, 'gaps.json'), JSON.stringify(gaps));
      writeFileSync(join(work, 'deliveries.json'), JSON.stringify(await deliveryLog(driver)));
    }
    keepDir ||= ledger.lost > 0 || !converged;
    return {
      stack: stack.kind,
      changes: ledger.changes,
      delivered: ledger.delivered,
      superseded: ledger.superseded,
      supersededByKind: ledger.supersededByKind,
      deadLettered: ledger.deadLettered,
      lost: ledger.lost,
      duplicates: ledger.duplicates,
      excluded: ledger.excluded,
      unmatchedEvents: ledger.unmatchedEvents,
      seed: plan.seed,
      seconds: plan.seconds,
      faults,
      faultsSkipped,
      converged,
      quietSeconds: Math.round(quietSeconds),
      wallSeconds: Math.round((Date.now() - started) / 1000),
      hostStarts: host.starts,
      instanceKills: host.instanceKills,
      gaps: gaps.length,
      ...(o.plantLossEvery ? { plantedLosses: proxy.swallowed } : {}),
      ...(azureTraffic ? { azureTraffic } : {}),
      ...(tenantCount > 1 ? { tenants: ledger.tenants } : {}),
      lostSamples: ledger.lostSamples.map((c) => ({
        ...(tenantCount > 1 && c.tenantId ? { tenantId: c.tenantId } : {}),
        resource: c.resource,
        changeType: c.changeType,
        version: c.version,
        at: c.at,
      })),
      ...(keepDir ? { workDir: work } : {}),
    };
  } finally {
    for (const stop of stoppers) await stop().catch(() => {});
    // Kept only when asked or when something needs looking at (workDir in the report).
    if (!keepDir) rmSync(work, { recursive: true, force: true });
  }
}
