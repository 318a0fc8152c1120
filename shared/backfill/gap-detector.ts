import type { Logger } from '../log.js';
import type { DesiredSubscription } from '../subscriptions/desired-subscriptions.js';
import type { BackfillWorker } from './backfill-worker.js';
import type { Gap, GapLog, GapReason } from './gap-log.js';

export interface GapDetectorOptions {
  readonly gaps: GapLog;
  readonly worker: Pick<BackfillWorker, 'openGap'>;
  readonly desired: readonly DesiredSubscription[];
  /** A heartbeat older than this opens a downtime gap; 0: never. */
  readonly afterDowntimeSeconds: number;
  /** Hours the daily safety net reads back; 0: off. */
  readonly safetyNetHours: number;
  readonly now?: () => number;
}

/**
 * Notices the windows in which Graph's notifications may have been lost, since Teams never says so
 * (no `missed` lifecycle event): the app's own downtime (a heartbeat in Table storage, written every minute,
 * compared at each beat), a daily safety-net window for operators who want one, and windows an operator
 * names. Each window becomes a gap per desired subscription, which the backfill worker fills.
 */
export class GapDetector {
  readonly #o: GapDetectorOptions;
  readonly #now: () => number;

  constructor(options: GapDetectorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Writes the heartbeat; when the previous one is older than the threshold, opens a downtime gap from it. */
  async beat(logger: Logger): Promise<Gap[]> {
    const now = new Date(this.#now());
    const previous = await this.#o.gaps.beat(now);
    if (!previous || this.#o.afterDowntimeSeconds <= 0 || now.getTime() - previous.getTime() <= this.#o.afterDowntimeSeconds * 1000) return [];
    logger.warn('backfill.downtime_detected', { lastHeartbeat: previous.toISOString(), seconds: Math.round((now.getTime() - previous.getTime()) / 1000) });
    return this.open('downtime', previous, now, undefined, logger);
  }

  /** The daily safety net: the last `safetyNetHours` of every desired subscription. */
  async safetyNet(logger: Logger): Promise<Gap[]> {
    if (this.#o.safetyNetHours <= 0) return [];
    const now = this.#now();
    return this.open('safety_net', new Date(now - this.#o.safetyNetHours * 3600_000), new Date(now), undefined, logger);
  }

  /** Opens a gap `[from, to]` for one desired subscription (`name`) or all. */
  async open(reason: GapReason, from: Date, to: Date, name: string | undefined, logger: Logger): Promise<Gap[]> {
    const targets = this.#o.desired.filter((d) => name === undefined || d.name === name);
    const out: Gap[] = [];
    for (const d of targets) out.push(await this.#o.worker.openGap({ name: d.name, from: from.toISOString(), to: to.toISOString(), reason }, logger));
    return out;
  }
}
