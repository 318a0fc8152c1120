import type { MetricTotals } from '../metrics/metrics.js';
import type { AppQueue, QueueRole } from '../queue/app-queues.js';
import { maskSecrets } from '../util/mask-secrets.js';

/** One desired subscription as an operator sees it. Never a secret: the clientState is only its position. */
export interface SubscriptionStatus {
  readonly name: string;
  readonly resource: string;
  readonly subscriptionId: string | null;
  readonly expiresAt: string | null;
  readonly lastRenewedAt: string | null;
  readonly lastDeliveryAt: string | null;
  readonly lastAction: string | null;
  readonly lastError: string | null;
  /** Which configured GRAPH_CLIENT_STATE secret it uses: `1 (current)`, `2 (previous)`, `unknown`, … */
  readonly clientState: string | null;
  readonly certificateId: string | null;
}

export interface QueueStatus {
  readonly name: string;
  readonly role: QueueRole;
  /** null: the queue does not exist (yet); the app or the host creates it on first use. */
  readonly approximateMessageCount: number | null;
}

export interface StatusSnapshot {
  readonly generatedAt: string;
  readonly subscriptions: readonly SubscriptionStatus[];
  readonly queues: readonly QueueStatus[];
  /** The reasons of the dead letters waiting (from a peek at the first `sampled` of them; no contents). */
  readonly deadLetters: { readonly queue: string; readonly waiting: number | null; readonly sampled: number; readonly byReason: Readonly<Record<string, number>> };
  /** The latest routed event per kind (from the metrics). */
  readonly lastRouted: Readonly<Record<string, string>>;
  /** The counters since `since` (every instance's, summed). */
  readonly metrics: { readonly since: string; readonly counters: Readonly<Record<string, number>> };
}

/** The small seams the snapshot reads through; each is a thin wrapper over a storage client. */
export interface StatusSources {
  readonly desired: readonly { readonly name: string; readonly resource: string }[];
  readonly records: { list(): Promise<readonly SubscriptionRecordView[]> };
  /** The configured clientState secret a record's subscription uses, described. */
  clientStateOf(record: SubscriptionRecordView): string | undefined;
  readonly deliveries: { lastDeliveries(): Promise<ReadonlyMap<string, string>> };
  readonly queues: readonly AppQueue[];
  /** A queue's approximate message count; undefined when it does not exist. */
  messageCount(queue: string): Promise<number | undefined>;
  /** The `reason` of up to the first 32 dead letters waiting. */
  peekDeadLetterReasons(): Promise<readonly string[]>;
  readonly deadLetterQueue: string;
  readonly metrics: { read(since: Date): Promise<MetricTotals> };
  readonly now?: () => Date;
}

export interface SubscriptionRecordView {
  readonly name: string;
  readonly subscriptionId?: string;
  readonly expiresAt?: string;
  readonly lastRenewedAt?: string;
  readonly certificateId?: string;
  readonly clientStateFingerprint?: string;
  readonly lastAction?: string;
  readonly lastError?: string;
}

/** How far back the counters on the status go. */
export const METRICS_WINDOW_HOURS = 24;

/** Gathers the relay's health at one moment: subscriptions, queues, dead letters, counters. */
export async function gatherStatus(s: StatusSources): Promise<StatusSnapshot> {
  const now = (s.now ?? (() => new Date()))();
  const since = new Date(now.getTime() - METRICS_WINDOW_HOURS * 3_600_000);
  const [records, deliveries, counts, reasons, totals] = await Promise.all([
    s.records.list(),
    s.deliveries.lastDeliveries(),
    Promise.all(s.queues.map((q) => s.messageCount(q.name))),
    s.peekDeadLetterReasons(),
    s.metrics.read(since),
  ]);
  const byName = new Map(records.map((r) => [r.name, r]));
  const subscriptions = s.desired.map((d): SubscriptionStatus => {
    const r = byName.get(d.name);
    return {
      name: d.name,
      resource: d.resource,
      subscriptionId: r?.subscriptionId ?? null,
      expiresAt: r?.expiresAt ?? null,
      lastRenewedAt: r?.lastRenewedAt ?? null,
      lastDeliveryAt: (r?.subscriptionId && deliveries.get(r.subscriptionId)) || null,
      lastAction: r?.lastAction ?? null,
      // Graph's refusals can quote the notification URL, whose `code=` is a function key.
      lastError: r?.lastAction === 'failed' && r.lastError ? maskSecrets(r.lastError) : null,
      clientState: (r && s.clientStateOf(r)) ?? null,
      certificateId: r?.certificateId ?? null,
    };
  });
  const queues = s.queues.map((q, i): QueueStatus => ({ name: q.name, role: q.role, approximateMessageCount: counts[i] ?? null }));
  const byReason: Record<string, number> = {};
  for (const reason of reasons) byReason[reason] = (byReason[reason] ?? 0) + 1;
  return {
    generatedAt: now.toISOString(),
    subscriptions,
    queues,
    deadLetters: { queue: s.deadLetterQueue, waiting: queues.find((q) => q.name === s.deadLetterQueue)?.approximateMessageCount ?? null, sampled: reasons.length, byReason },
    lastRouted: totals.lastRouted,
    metrics: { since: since.toISOString(), counters: totals.counters },
  };
}
