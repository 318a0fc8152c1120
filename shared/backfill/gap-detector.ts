import type { Logger } from '../log.js';
import type { DesiredSubscriptionSource } from '../subscriptions/tenant-desired-subscriptions.js';
import type { SubscriptionRecords } from '../subscriptions/subscription-records.js';
import type { BackfillWorker } from './backfill-worker.js';
import type { Gap, GapLog, GapReason } from './gap-log.js';
import type { HeartbeatStore } from './heartbeat-store.js';
import type { PieceStore } from './piece-store.js';
import { recordedWindows } from './recorded-windows.js';

export interface GapDetectorOptions {
  readonly gaps: GapLog;
  /** Where the gaps' pieces are recorded (deleted with their gaps, see `prune`). */
  readonly pieces: Pick<PieceStore, 'deleteAll'>;
  readonly heartbeat: HeartbeatStore;
  readonly worker: Pick<BackfillWorker, 'openGap' | 'resumeGap' | 'requeueStalled'>;
  readonly desired: DesiredSubscriptionSource;
  /** Where the reconciler records the windows in which an entry had no subscription. */
  readonly records: Pick<SubscriptionRecords, 'list'>;
  /** A heartbeat older than this opens a downtime gap; 0: never. */
  readonly afterDowntimeSeconds: number;
  /** Hours the daily safety net reads back; 0: off. */
  readonly safetyNetHours: number;
  readonly now?: () => number;
}

/** An opener queues a gap's first pieces within seconds; a gap still `open` after this lost its opener. */
const STALE_OPEN_MS = 60_000;

/**
 * Notices the windows in which Graph's notifications may have been lost, since Teams never says so
 * (no `missed` lifecycle event): the app's own downtime (a heartbeat in Table storage, written every minute,
 * compared at each beat), the windows in which a desired subscription did not exist (recorded by the
 * reconciler when it replaced or recreated one, picked up at each beat), a daily safety-net window for
 * operators who want one, windows an operator names, storage outages longer than Graph retries
 * (reported by the receiver through `open`), and items refused for an expired validation token (asked for in
 * their queue message, opened by the route through `openForSubscription`). Each window becomes a gap per desired subscription, which the backfill worker fills;
 * a gap whose opener died before queueing its first pieces is resumed at a later beat, and one whose
 * pieces' messages vanished is queued again.
 */
export class GapDetector {
  readonly #gaps: GapLog;
  readonly #pieces: Pick<PieceStore, 'deleteAll'>;
  readonly #heartbeat: HeartbeatStore;
  readonly #worker: GapDetectorOptions['worker'];
  readonly #desired: DesiredSubscriptionSource;
  readonly #records: GapDetectorOptions['records'];
  readonly #afterDowntimeSeconds: number;
  readonly #safetyNetHours: number;
  readonly #now: () => number;
  /** The heartbeat this detector wrote last: found again at the next beat, the app was up in between. */
  #lastBeat: number | undefined;

  constructor(options: GapDetectorOptions) {
    this.#gaps = options.gaps;
    this.#pieces = options.pieces;
    this.#heartbeat = options.heartbeat;
    this.#worker = options.worker;
    this.#desired = options.desired;
    this.#records = options.records;
    this.#afterDowntimeSeconds = options.afterDowntimeSeconds;
    this.#safetyNetHours = options.safetyNetHours;
    this.#now = options.now ?? Date.now;
  }

  /**
   * When the last heartbeat is older than the threshold, opens a downtime gap from it for every desired
   * subscription, then writes the heartbeat (so a crash in between repeats the opening, never skips it).
   * Also opens a gap for each window without subscription the reconciler closed and no gap covers yet.
   */
  async beat(logger: Logger): Promise<Gap[]> {
    // The tenants served may have changed (onboarded, removed): read the registry again when stale.
    await this.#desired.refresh();
    const now = new Date(this.#now());
    const previous = await this.#heartbeat.last();
    const ownBeat = previous?.getTime() === this.#lastBeat; // a threshold under the beat interval is no downtime
    const opened: Gap[] = [];
    if (previous && !ownBeat && this.#afterDowntimeSeconds > 0 && now.getTime() - previous.getTime() > this.#afterDowntimeSeconds * 1000) {
      logger.warn('backfill.downtime_detected', { lastHeartbeat: previous.toISOString(), seconds: Math.round((now.getTime() - previous.getTime()) / 1000) });
      opened.push(...(await this.open('downtime', previous, now, undefined, logger)));
    }
    // Only once every downtime gap is recorded: written first, a crash in between would leave the rest unopened.
    await this.#heartbeat.write(now, previous);
    this.#lastBeat = now.getTime();
    // Windows the reconciler recorded: only those not opened yet (one listing of the gaps opened for such
    // windows, not a write per old window); and the gaps not closed yet, for what follows. Closed gaps of other
    // reasons are not listed: the heartbeat's reads stay as small as the work under way.
    const [unfinished, recreated] = await Promise.all([this.#gaps.list({ unfinished: true }), this.#gaps.list({ reason: 'subscription_recreated' })]);
    const known = new Set(recreated.map((g) => g.id));
    // A gap still `open` a while after it was recorded lost its opener before its pieces were queued.
    for (const g of unfinished) {
      if (g.status === 'open' && now.getTime() - Date.parse(g.openedAt) > STALE_OPEN_MS) await this.#worker.resumeGap(g, logger);
    }
    for (const r of await this.#records.list()) {
      if (!this.#desired.all.some((d) => d.name === r.name)) continue;
      for (const w of recordedWindows(r)) {
        if (known.has(w.gapId)) continue;
        opened.push(...(await this.open('subscription_recreated', w.from, w.to, r.name, logger)));
      }
    }
    // Last (a failure here must not keep windows from being opened): a gap `filling` with no piece finished
    // for a long while may have lost pieces' messages.
    await this.#worker.requeueStalled(
      unfinished.filter((g) => g.status === 'filling'),
      logger,
    );
    return opened;
  }

  /**
   * Deletes the gaps closed more than GAP_RETENTION_DAYS ago (see GapLog.prune), with their pieces, except those whose
   * window a subscription record still names, whatever its entry (one removed from the file may come back):
   * `beat` would open such a window again.
   */
  async prune(): Promise<number> {
    const keep = new Set((await this.#records.list()).flatMap((r) => recordedWindows(r).map((w) => w.gapId)));
    return this.#gaps.prune(this.#pieces, new Date(this.#now()), keep);
  }

  /** The daily safety net: the last `safetyNetHours` of every desired subscription. */
  async safetyNet(logger: Logger): Promise<Gap[]> {
    if (this.#safetyNetHours <= 0) return [];
    const now = this.#now();
    return this.open('safety_net', new Date(now - this.#safetyNetHours * 3600_000), new Date(now), undefined, logger);
  }

  /**
   * Opens a gap `[from, to]` for the desired subscription whose Graph subscription is `subscriptionId` (its
   * current one, or the one it last replaced), or for all of them when no record names it (replaced twice
   * since, say): reading more back is a duplicate, never a loss. The receiver bounds an expired token's window
   * (expired-token-gaps.ts), so a replayed request costs at most one such gap per desired subscription. With
   * `tenantId` (the notification's), an unknown subscription's gaps are those of that tenant's entries only.
   */
  async openForSubscription(reason: GapReason, subscriptionId: string, from: Date, to: Date, logger: Logger, tenantId?: string): Promise<Gap[]> {
    const record = (await this.#records.list()).find((r) => (r.subscriptionId === subscriptionId || r.gapSubscriptionId === subscriptionId) && this.#desired.all.some((d) => d.name === r.name));
    if (record) return this.open(reason, from, to, record.name, logger);
    const tenant = tenantId?.toLowerCase();
    const targets = this.#desired.all.filter((d) => tenant === undefined || (d.tenantId ?? tenant) === tenant);
    logger.warn('backfill.subscription_unknown', { subscriptionId, reason, tenantId: tenant, desired: targets.length });
    const out: Gap[] = [];
    for (const d of targets) out.push(...(await this.open(reason, from, to, d.name, logger)));
    return out;
  }

  /** Opens a gap `[from, to]` for one desired subscription (`name`) or all. */
  async open(reason: GapReason, from: Date, to: Date, name: string | undefined, logger: Logger): Promise<Gap[]> {
    const targets = this.#desired.all.filter((d) => name === undefined || d.name === name);
    const out: Gap[] = [];
    for (const d of targets) out.push(await this.#worker.openGap({ name: d.name, from: from.toISOString(), to: to.toISOString(), reason }, logger));
    return out;
  }
}
