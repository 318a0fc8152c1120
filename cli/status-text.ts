import { formatMilliseconds } from '../shared/status/format-duration.js';
import { GRAPH_SLOW_ANSWER_MS } from '../shared/receive/answer-budget.js';
import { showsTenants, type StatusSnapshot, type TenantStatus } from '../shared/status/status-snapshot.js';
import { textTable } from './text-table.js';

const count = (n: number) => n.toLocaleString('en-US');

/** The tenants' table, when there are several or a registry (as on the page). */
function tenantsText(tenants: readonly TenantStatus[]): string {
  if (!showsTenants(tenants)) return '';
  const rows = tenants.map((t) => ({
    id: t.id,
    name: t.name ?? '',
    state: t.state,
    subscriptions: t.subscriptions,
    quotaUsed: t.quotaUsed === null ? '' : `${count(t.quotaUsed)} / ${count(t.quotaLimit)}`,
    lastDelivery: t.lastDelivery ?? '',
    problem: t.problem ? `${t.problem.code}: ${t.problem.message}` : '',
  }));
  return `\nTenants (${tenants.length})\n${textTable(rows, ['id', 'name', 'state', 'subscriptions', 'quotaUsed', 'lastDelivery', 'problem'])}`;
}

/**
 * `npm run status`'s text: the verdict and its reasons first, then the tenants (several, or a registry), the delay per kind, the answers to
 * Graph and the self-checks, then the subscriptions, queues, dead letters, last routed events and counters.
 */
export function describeStatus(s: StatusSnapshot): string {
  const pairs = (o: Readonly<Record<string, string | number>>, key: string, value: string) => Object.entries(o).map(([k, v]) => ({ [key]: k, [value]: v }));
  const table: typeof textTable = (rows, columns) => (rows.length ? textTable(rows, columns) : '(none)\n');
  const a = s.answers;
  const answers = a.count
    ? `${count(a.count)}, slow (over ${count(GRAPH_SLOW_ANSWER_MS)} ms): ${count(a.slow)}, 5xx: ${count(a.serverErrors)}, p95: ${a.ms ? formatMilliseconds(a.ms.p95) : '-'}`
    : 'none in the last 24 h';
  return [
    `Status at ${s.generatedAt}\n`,
    `\nHealth: ${s.health.verdict.toUpperCase()}\n`,
    s.health.reasons.length ? textTable(s.health.reasons, ['level', 'source', 'message', 'fix']) : 'Nothing needs attention.\n',
    tenantsText(s.tenants),
    `\nDelay of live events per kind, last 24 h\n`,
    table(
      Object.entries(s.delay).map(([kind, d]) => ({ kind, p50: formatMilliseconds(d.p50), p95: formatMilliseconds(d.p95), p99: formatMilliseconds(d.p99), count: d.count })),
      ['kind', 'p50', 'p95', 'p99', 'count'],
    ),
    `\nAnswers to Graph: ${answers}\n`,
    `\nSelf-checks\n`,
    table(s.selfChecks, ['check', 'status', 'message', 'fix', 'checkedAt']),
    `\nSubscriptions (${s.subscriptions.length})\n`,
    table(s.subscriptions, ['name', 'tenantId', 'resource', 'subscriptionId', 'expiresAt', 'lastRenewedAt', 'lastDeliveryAt', 'clientState', 'certificateId', 'lastAction', 'lastError']),
    `\nQueues\n`,
    table(
      s.queues.map((q) => ({
        ...q,
        approximateMessageCount: q.approximateMessageCount ?? 'not created',
        oldestMessage: q.oldestMessageAgeSeconds ? formatMilliseconds(q.oldestMessageAgeSeconds * 1000) : '',
      })),
      ['name', 'role', 'approximateMessageCount', 'oldestMessage'],
    ),
    `\nDead letters waiting in ${s.deadLetters.queue}: ${s.deadLetters.waiting ?? 0} (reasons of the first ${s.deadLetters.sampled})\n`,
    table(pairs(s.deadLetters.byReason, 'reason', 'count'), ['reason', 'count']),
    `\nLast routed event per kind\n`,
    table(pairs(s.lastRouted, 'kind', 'at'), ['kind', 'at']),
    `\nCounters since ${s.metrics.since}\n`,
    table(pairs(s.metrics.counters, 'counter', 'count'), ['counter', 'count']),
  ].join('');
}
