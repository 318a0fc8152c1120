import { GapLog } from '../../shared/backfill/gap-log.js';
import { recordedWindows } from '../../shared/backfill/recorded-windows.js';
import { messageCount } from '../../shared/queue/message-count.js';
import { SubscriptionRecords } from '../../shared/subscriptions/subscription-records.js';
import { DEAD_LETTER_QUEUES, EVENT_QUEUES, WORK_QUEUES } from './chaos-config.js';
import { control, type Driver } from './driver.js';
import type { HostProcess, SimulatorProcess } from './processes.js';
import type { RunStorage } from './run-storage.js';
import { missingSubscriptions, type RunTenants } from './run-tenants.js';
import { sleep } from './wait.js';

/** What the quiet check reads: Graph (the driver and the simulator process), the run's storage and the host. */
export interface QuietWatch {
  readonly driver: Driver;
  /** The run's tenants, each of which must hold every desired subscription. */
  readonly tenants: RunTenants;
  readonly sim: SimulatorProcess;
  readonly storage: RunStorage;
  readonly host: HostProcess;
  /** When the host last reported a detectGaps heartbeat that succeeded (ms). */
  readonly lastDetectGaps: () => number;
}

/** How many messages a queue holds (none when it does not exist). */
const depth = async (storage: RunStorage, name: string) => (await messageCount(storage.queues.getQueueClient(name))) ?? 0;

/**
 * Waits until the app has caught up: Graph has nothing left to deliver or retry, every desired
 * subscription exists in every tenant of the run, every window without subscription the reconciler recorded is a gap, the gaps are
 * filled, the app's work queues are empty, a heartbeat ran since, and the downstream queues stopped
 * growing, twice in a row. Gives up at the cap (the report says `converged: false`).
 */
export async function waitForQuiet(q: QuietWatch & { readonly capMs: number; readonly log: (line: string) => void }): Promise<boolean> {
  const deadline = Date.now() + q.capMs;
  let calm = 0;
  let previous = '';
  let lastReason = '';
  while (Date.now() < deadline) {
    await sleep(3000);
    const reason = await notQuietBecause(q).catch((e: Error) => `error: ${e.message}`);
    const depths = await Promise.all([...EVENT_QUEUES, ...DEAD_LETTER_QUEUES].map((n) => depth(q.storage, n))).catch(() => []);
    const snapshot = depths.join(',');
    if (reason === '' && snapshot === previous) calm++;
    else calm = 0;
    previous = snapshot;
    if (reason !== lastReason && reason) q.log(`  not quiet yet: ${reason}`);
    lastReason = reason;
    if (calm >= 2) return true;
  }
  return false;
}

/** Why the app has not caught up yet (the first reason found), or '' when it has. */
export async function notQuietBecause(q: QuietWatch): Promise<string> {
  if (!q.host.running) return 'host down';
  if (!(await control(q.sim)).deliveriesIdle) return 'Graph still delivering or retrying';
  const missing = await missingSubscriptions(q.driver, q.tenants);
  if (missing.length) return `subscriptions missing: ${missing.join(', ')}`;
  const gaps = await new GapLog(q.storage.backfillTable).list().catch(() => []);
  const known = new Set(gaps.map((g) => g.id));
  for (const r of await new SubscriptionRecords(q.storage.subscriptionsTable).list()) {
    if (r.gapFrom && !r.gapTo) return `${r.name}: window without subscription still open`;
    for (const w of recordedWindows(r)) if (!known.has(w.gapId)) return `${r.name}: recreation window not yet a gap`;
  }
  const unfilled = gaps.filter((g) => g.status === 'open' || g.status === 'filling');
  if (unfilled.length) return `${unfilled.length} gap(s) filling`;
  for (const name of WORK_QUEUES) if ((await depth(q.storage, name)) > 0) return `${name} not empty`;
  if (q.lastDetectGaps() < q.host.startedAt) return 'no heartbeat since the last start';
  return '';
}
