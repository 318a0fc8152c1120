import type { MetricTotals } from '../metrics/metrics.js';
import type { AppQueue, QueueRole } from '../queue/app-queues.js';
import { judgeHealth } from '../health/health-verdict.js';
import type { SelfCheck } from '../health/self-check.js';
import { TEAMS_SUBSCRIPTIONS_PER_TENANT } from '../tenants/teams-subscription-quota.js';
import type { TenantProblem, TenantRecord, TenantState } from '../tenants/tenant-registry.js';
import { maskSecrets } from '../util/mask-secrets.js';
import { answersSummary, delayByKind, hourlySeries } from './measure-summary.js';

/** One desired subscription as an operator sees it. Never a secret: the clientState is only its position. */
export interface SubscriptionStatus {
  /** `<entry>` in the home tenant, `<entry>@<tenant id>` in another. */
  readonly name: string;
  /** The tenant the subscription lives in. */
  readonly tenantId: string;
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

/** Shown for a tenant of GRAPH_TENANT_IDS that has no display name. */
export const CONFIGURED_TENANT_NAME = '(GRAPH_TENANT_IDS)';

/** One tenant the relay serves (or served: the registry keeps a removed tenant's row) as an operator sees it. */
export interface TenantStatus {
  readonly id: string;
  /** Its display name; `(GRAPH_TENANT_IDS)` for a tenant of that setting without one. */
  readonly name: string | null;
  readonly state: TenantState;
  /** Whether the tenant registry holds it (a tenant of GRAPH_TENANT_IDS is served without a row until its first reconcile). */
  readonly registered: boolean;
  /** How many of its desired subscriptions Graph holds (a subscription id in their record). */
  readonly subscriptions: number;
  /** The latest delivery of any of them. */
  readonly lastDelivery: string | null;
  /** The app's subscriptions in the tenant at the last reconcile, of Teams' `quotaLimit` per tenant (every app's together). */
  readonly quotaUsed: number | null;
  readonly quotaLimit: number;
  /** The application permissions its subscriptions need that its consent lacks. */
  readonly missingPermissions: readonly string[];
  /** Why it is not (fully) served, as the last reconcile run found it. */
  readonly problem: { readonly code: TenantProblem; readonly message: string; readonly at: string | null } | null;
}

/** Whether the page and the text show the tenants: several, or one the registry holds (a lone tenant of GRAPH_TENANT_IDS is not). */
export const showsTenants = (tenants: readonly TenantStatus[]) => tenants.length > 1 || tenants.some((t) => t.registered);

export interface QueueStatus {
  readonly name: string;
  readonly role: QueueRole;
  /** null: the queue does not exist (yet); the app or the host creates it on first use. */
  readonly approximateMessageCount: number | null;
  /** How long its oldest message has waited, in seconds; 0 when empty, null when unknown (no queue, storage down). */
  readonly oldestMessageAgeSeconds: number | null;
}

export type Verdict = 'healthy' | 'degraded' | 'failing';

/** One reason the verdict is not healthy. */
export interface HealthReason {
  readonly level: 'degraded' | 'failing';
  /** What found it: a self-check's name (`encryption_certificate`, …), `storage`, `dead_letters`, `queues`, `subscriptions`. */
  readonly source: string;
  readonly message: string;
  /** What to do about it, when one thing does. */
  readonly fix?: string;
}

export interface Health {
  readonly verdict: Verdict;
  readonly reasons: readonly HealthReason[];
}

/** The last result of one self-check (run by the checkHealth timer). */
export interface SelfCheckStatus {
  readonly check: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skipped';
  readonly message: string;
  readonly fix?: string;
  readonly checkedAt: string;
}

/** Percentiles of a histogram, in milliseconds, and how many values it holds. */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly count: number;
}

/** Per hour of the window (oldest first): what the charts draw. */
export interface HourlySeries {
  /** The start of each hour, ISO 8601 (24 of them). */
  readonly hours: readonly string[];
  /** Per kind: events routed in each hour, and the delay's p50 and p95 (null: nothing routed live that hour). */
  readonly kinds: Readonly<Record<string, { readonly routed: readonly number[]; readonly p50: readonly (number | null)[]; readonly p95: readonly (number | null)[] }>>;
}

export interface StatusSnapshot {
  readonly generatedAt: string;
  /** The verdict first: healthy, degraded or failing, with each reason. */
  readonly health: Health;
  /** End-to-end delay of live events per kind over the window, in milliseconds. */
  readonly delay: Readonly<Record<string, Percentiles>>;
  /** The receive endpoints' answers over the window: how many, how many slower than Graph's 2,900 ms mark, answer-time percentiles (null: none). */
  readonly answers: { readonly count: number; readonly slow: number; readonly serverErrors: number; readonly ms: Percentiles | null };
  readonly hourly: HourlySeries;
  readonly selfChecks: readonly SelfCheckStatus[];
  /** Every tenant served (the home tenant first), then those the registry holds offboarding or removed. */
  readonly tenants: readonly TenantStatus[];
  /** The desired subscriptions of every served tenant. */
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
  /** The desired subscriptions applied to each served tenant (`all` read after the tenants' refresh). */
  readonly desired: { readonly all: readonly DesiredView[]; forTenant(tenantId: string): readonly DesiredView[] };
  /** The tenants served and the tenant registry's records (a TenantDirectory), read afresh by `refresh`. */
  readonly tenants: { readonly home: string; readonly served: readonly string[]; readonly records: readonly TenantRecord[]; refresh(options: { force: true }): Promise<void> };
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
  /** How long a queue's oldest message has waited, in seconds; undefined when it does not exist. */
  oldestMessageAge(queue: string): Promise<number | undefined>;
  /** The last result of each self-check, as checkHealth saved them. */
  readonly selfChecks: { list(): Promise<readonly SelfCheckStatus[]> };
  /** Self-checks that read only storage, run afresh on each read. */
  readonly liveChecks: readonly SelfCheck[];
  /** HEALTH_QUEUE_AGE_MINUTES */
  readonly queueAgeMinutes: number;
  readonly now?: () => Date;
}

export interface DesiredView {
  readonly name: string;
  readonly resource: string;
  /** Absent: the home tenant's. */
  readonly tenantId?: string;
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

const EMPTY_TOTALS: MetricTotals = { counters: {}, histograms: {}, lastRouted: {}, hours: [] };

/**
 * Gathers the relay's health at one moment: the verdict and its reasons, delay and answers, the self-checks
 * (the stored results of checkHealth, those that read only storage run afresh), subscriptions, queues, dead
 * letters, counters. A source that does not answer (storage down) leaves its part empty and is a reason of
 * the verdict: the status still answers.
 */
export async function gatherStatus(s: StatusSources): Promise<StatusSnapshot> {
  const now = (s.now ?? (() => new Date()))();
  const since = new Date(now.getTime() - METRICS_WINDOW_HOURS * 3_600_000);
  const unavailable: string[] = [];
  const attempt = async <T>(what: string, work: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await work();
    } catch (e) {
      unavailable.push(`${what} (${firstLine((e as Error).message)})`);
      return fallback;
    }
  };
  // The registry is read afresh while the rest is, and the live checks wait for it, so that they and the
  // subscriptions see the tenants as they are now. One that does not answer leaves the tenants of the last read
  // (GRAPH_TENANT_IDS at first).
  const tenantsRead = attempt('tenant registry', () => s.tenants.refresh({ force: true }), undefined);
  const [records, deliveries, counts, ages, reasons, totals, stored, live] = await Promise.all([
    attempt('subscription records', () => s.records.list(), []),
    attempt('deliveries', () => s.deliveries.lastDeliveries(), new Map<string, string>()),
    Promise.all(s.queues.map((q) => attempt(`queue ${q.name}`, () => s.messageCount(q.name), undefined))),
    Promise.all(s.queues.map((q) => attempt(`queue ${q.name}`, () => s.oldestMessageAge(q.name), undefined))),
    attempt('dead letters', () => s.peekDeadLetterReasons(), []),
    attempt('metrics', () => s.metrics.read(since), EMPTY_TOTALS),
    attempt('self-checks', () => s.selfChecks.list(), []),
    tenantsRead.then(() =>
      Promise.all(
        s.liveChecks.map(async (c): Promise<SelfCheckStatus | undefined> => {
          try {
            const r = await c.run(now);
            return { check: c.name, status: r.status, message: r.message, ...(r.fix ? { fix: r.fix } : {}), checkedAt: now.toISOString() };
          } catch (e) {
            unavailable.push(`the ${c.name} self-check (${firstLine((e as Error).message)})`);
            return undefined;
          }
        }),
      ),
    ),
  ]);
  const byName = new Map(records.map((r) => [r.name, r]));
  const subscriptions = s.desired.all.map((d): SubscriptionStatus => {
    const r = byName.get(d.name);
    return {
      name: d.name,
      tenantId: d.tenantId ?? s.tenants.home,
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
  const tenants = tenantsOf(s, byName, deliveries);
  const queues = s.queues.map((q, i): QueueStatus => ({ name: q.name, role: q.role, approximateMessageCount: counts[i] ?? null, oldestMessageAgeSeconds: ages[i] ?? null }));
  const byReason: Record<string, number> = {};
  for (const reason of reasons) byReason[reason] = (byReason[reason] ?? 0) + 1;
  // A fresh result of a check that reads only storage replaces the stored one of the same check.
  const fresh = live.filter((r): r is SelfCheckStatus => r !== undefined);
  const selfChecks = [...stored.filter((r) => !fresh.some((f) => f.check === r.check)), ...fresh].sort((a, b) => a.check.localeCompare(b.check));
  const lastRun = Math.max(0, ...stored.map((c) => Date.parse(c.checkedAt)).filter(Number.isFinite));
  const deadLettersWaiting = queues.find((q) => q.name === s.deadLetterQueue)?.approximateMessageCount ?? null;
  return {
    generatedAt: now.toISOString(),
    health: judgeHealth({
      now,
      selfChecks,
      lastCheckRun: lastRun ? new Date(lastRun) : undefined,
      queues,
      deadLettersWaiting,
      queueAgeMinutes: s.queueAgeMinutes,
      unavailable: [...new Set(unavailable)],
    }),
    delay: delayByKind(totals),
    answers: answersSummary(totals),
    hourly: hourlySeries(totals, now, METRICS_WINDOW_HOURS),
    selfChecks,
    tenants,
    subscriptions,
    queues,
    deadLetters: { queue: s.deadLetterQueue, waiting: deadLettersWaiting, sampled: reasons.length, byReason },
    lastRouted: totals.lastRouted,
    metrics: { since: since.toISOString(), counters: totals.counters },
  };
}

/** Each tenant served, then the registry's others, with its subscriptions held and their latest delivery. */
function tenantsOf(s: StatusSources, records: ReadonlyMap<string, SubscriptionRecordView>, deliveries: ReadonlyMap<string, string>): TenantStatus[] {
  const rows = new Map(s.tenants.records.map((r) => [r.tenantId, r]));
  const ids = [...new Set([...s.tenants.served, ...rows.keys()])];
  return ids.map((id): TenantStatus => {
    const row = rows.get(id);
    const held = s.desired
      .forTenant(id)
      .map((d) => records.get(d.name)?.subscriptionId)
      .filter((sub): sub is string => Boolean(sub));
    const delivered = held.map((sub) => deliveries.get(sub)).filter((at): at is string => Boolean(at));
    const configured = !row || row.addedBy === 'GRAPH_TENANT_IDS';
    return {
      id,
      name: row?.displayName ?? (configured ? CONFIGURED_TENANT_NAME : null),
      state: row?.state ?? 'active',
      registered: row !== undefined,
      subscriptions: held.length,
      lastDelivery: delivered.reduce<string | null>((latest, at) => (latest === null || Date.parse(at) > Date.parse(latest) ? at : latest), null),
      quotaUsed: row?.quotaUsed ?? null,
      quotaLimit: TEAMS_SUBSCRIPTIONS_PER_TENANT,
      missingPermissions: row?.missingPermissions ? row.missingPermissions.split(',').filter(Boolean) : [],
      problem: row?.lastErrorCode ? { code: row.lastErrorCode, message: maskSecrets(row.lastError ?? ''), at: row.lastErrorAt ?? null } : null,
    };
  });
}

const firstLine = (text: string) => text.split('\n', 1)[0]?.slice(0, 200) ?? '';
