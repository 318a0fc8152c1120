import { GRAPH_SLOW_ANSWER_MS } from '../receive/answer-budget.js';
import { escapeHtml, type Cell } from './escape-html.js';
import { formatMilliseconds } from './format-duration.js';
import { TEAMS_QUOTA_FAIL_AT } from '../tenants/teams-subscription-quota.js';
import type { TenantState } from '../tenants/tenant-registry.js';
import { showsTenants, type HourlySeries, type StatusSnapshot, type TenantStatus, type Verdict } from './status-snapshot.js';
import { barsAndLinesSvg } from './svg-chart.js';

/** A cell with a class for its colour (a status, a level). */
type Marked = { readonly text: Cell; readonly className: string };

const cell = (v: Cell | Marked) => {
  const [text, className] = typeof v === 'object' && v !== null ? [v.text, v.className] : [v, undefined];
  if (text === null || text === undefined || text === '') return '<td><span class="none">—</span></td>';
  return `<td${className ? ` class="${escapeHtml(className)}"` : ''}>${escapeHtml(text)}</td>`;
};

function table(caption: string, id: string, columns: readonly string[], rows: readonly (readonly (Cell | Marked)[])[], empty: string, heading = 'h2'): string {
  const title = `<${heading}>${escapeHtml(caption)}</${heading}>`;
  if (rows.length === 0) return `<section id="${id}">${title}<p class="none">${escapeHtml(empty)}</p></section>`;
  const head = columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return `<section id="${id}">${title}<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div></section>`;
}

/** Green, amber, red (and grey for a skipped check), in light and in dark mode. */
const CSS = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:18px 0 6px}h3{font-size:1em;margin:10px 0 6px}
.meta,.none{color:#666}.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top;white-space:nowrap}
.bad{color:#b00020;font-weight:600}
#health{border-left:6px solid #888;padding:2px 0 2px 10px;margin-top:12px}
#health h2{margin:0;font-size:1.4em}
#health ul{margin:6px 0;padding-left:18px}#health li{margin:4px 0}
#health .source{font-family:ui-monospace,monospace;font-size:.9em}#health .fix{display:block;color:#444}
.healthy{color:#1a7f37}.degraded,.warn{color:#9a6700}.failing,.fail{color:#b00020}.ok{color:#1a7f37}.skipped{color:#666}
.healthy,.degraded,.failing,.warn,.fail{font-weight:600}
#health.verdict-healthy{border-color:#1a7f37}#health.verdict-degraded{border-color:#bf8700}#health.verdict-failing{border-color:#b00020}
.activity{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:12px;flex:2 1 300px;min-width:0}
.chart{margin:0;background:#fff;border:1px solid #ddd;padding:6px;max-width:480px}
.chart figcaption{font-size:.9em;margin-bottom:2px}
.key{white-space:nowrap;margin-left:8px;color:#555}.key::before{content:"";display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:-1px}
.key.bar::before{background:#9cc3e6}.key.p50::before{background:#0d9488;height:3px;vertical-align:3px}.key.p95::before{background:#ea580c;height:3px;vertical-align:3px}
#delay{flex:1 1 280px;min-width:0}#delay h3{margin-top:0}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e6e6e6}table,.chart{background:#1e1e1e}th,td,.chart{border-color:#333}.meta,.none,.key,.skipped{color:#999}.bad{color:#ff6b6b}
#health .fix{color:#bbb}.healthy,.ok{color:#3fb950}.degraded,.warn{color:#e3b341}.failing,.fail{color:#ff6b6b}
#health.verdict-healthy{border-color:#3fb950}#health.verdict-degraded{border-color:#e3b341}#health.verdict-failing{border-color:#ff6b6b}
.chart .bar{fill:#3d6e99}.key.bar::before{background:#3d6e99}}
`;

const VERDICT_WORD: Readonly<Record<Verdict, string>> = { healthy: 'Healthy', degraded: 'Degraded', failing: 'Failing' };

const count = (n: number) => n.toLocaleString('en-US');

function healthSection(s: StatusSnapshot): string {
  const { verdict, reasons } = s.health;
  const items = reasons.map(
    (r) =>
      `<li data-level="${escapeHtml(r.level)}"><span class="${escapeHtml(r.level)}">${escapeHtml(r.level)}</span> <span class="source">${escapeHtml(r.source)}</span>: <span class="message">${escapeHtml(r.message)}</span>` +
      (r.fix ? `<span class="fix">Fix: ${escapeHtml(r.fix)}</span>` : '') +
      '</li>',
  );
  const list = items.length ? `<ul>\n${items.join('\n')}\n</ul>` : '<p class="none">Nothing needs attention.</p>';
  const v = escapeHtml(verdict);
  return `<section id="health" class="verdict-${v}"><h2>Health: <span class="verdict ${v}" data-verdict="${v}">${escapeHtml(VERDICT_WORD[verdict] ?? verdict)}</span></h2>\n${list}\n</section>`;
}

/** A tenant's state in the verdict's colours: served in full green, served with a problem amber, not served grey. */
const STATE_COLOUR: Readonly<Record<TenantState, string>> = { active: 'healthy', onboarding: 'degraded', degraded: 'degraded', offboarding: 'skipped', removed: 'skipped' };

function tenantsSection(tenants: readonly TenantStatus[]): string {
  if (!showsTenants(tenants)) return '';
  return table(
    'Tenants',
    'tenants',
    ['tenant', 'name', 'state', 'subscriptions', 'quota used', 'last delivery', 'problem'],
    tenants.map((t) => [
      t.id,
      t.name,
      { text: t.state, className: STATE_COLOUR[t.state] ?? '' },
      count(t.subscriptions),
      t.quotaUsed === null ? null : { text: `${count(t.quotaUsed)} / ${count(t.quotaLimit)}`, className: t.quotaUsed >= TEAMS_QUOTA_FAIL_AT ? 'bad' : '' },
      t.lastDelivery,
      t.problem ? `${t.problem.code}: ${t.problem.message}` : null,
    ]),
    'No tenant.',
  );
}

/** `12:00` from an hour's ISO start; what it is when it is not one. */
const hourOf = (iso: string | undefined) => /T(\d\d:\d\d)/.exec(iso ?? '')?.[1] ?? iso ?? '';

function charts(hourly: HourlySeries): string {
  const kinds = Object.entries(hourly.kinds);
  if (kinds.length === 0) return '<p class="none">Nothing routed in the last 24 h.</p>';
  const figures = kinds.map(([kind, series]) => {
    const routed = series.routed.reduce((a, b) => a + b, 0);
    const p95s = series.p95.filter((v): v is number => v !== null);
    const label = `${kind}: ${count(routed)} events routed in 24 h, at most ${count(Math.max(0, ...series.routed))} in an hour; ${p95s.length ? `delay p95 at most ${formatMilliseconds(Math.max(...p95s))}` : 'no live delay measured'}`;
    const svg = barsAndLinesSvg({
      label,
      bars: series.routed,
      lines: [
        { name: 'p50', values: series.p50 },
        { name: 'p95', values: series.p95 },
      ],
      barAxis: (max) => `max ${count(max)} / h`,
      lineAxis: (max) => `max ${formatMilliseconds(max)}`,
      firstSlot: hourOf(hourly.hours[0]),
      lastSlot: `${hourOf(hourly.hours.at(-1))} UTC`,
    });
    return `<figure class="chart" data-kind="${escapeHtml(kind)}"><figcaption><strong>${escapeHtml(kind)}</strong><span class="key bar">routed / h</span><span class="key p50">delay p50</span><span class="key p95">p95</span></figcaption>${svg}</figure>`;
  });
  return `<div class="charts">\n${figures.join('\n')}\n</div>`;
}

function answersLine(a: StatusSnapshot['answers']): string {
  if (a.count === 0) return '<p id="answers" class="none">No answer to Graph in the last 24 h.</p>';
  const flagged = (n: number, text: string) => (n ? `<span class="bad">${text}</span>` : text);
  return (
    `<p id="answers">Answers to Graph: ${count(a.count)}; ` +
    `${flagged(a.slow, `slow (over ${count(GRAPH_SLOW_ANSWER_MS)} ms, Graph's slow mark): ${count(a.slow)}`)}; ` +
    `${flagged(a.serverErrors, `5xx: ${count(a.serverErrors)}`)}; ` +
    `answer time p95: ${a.ms ? formatMilliseconds(a.ms.p95) : '—'}.</p>`
  );
}

function activitySection(s: StatusSnapshot): string {
  const delay = table(
    'Delay, live events',
    'delay',
    ['kind', 'p50', 'p95', 'p99', 'count'],
    Object.entries(s.delay).map(([kind, d]) => [kind, formatMilliseconds(d.p50), formatMilliseconds(d.p95), formatMilliseconds(d.p99), count(d.count)]),
    'No live event routed in the last 24 h.',
    'h3',
  );
  return `<section id="activity"><h2>Delay and throughput, last 24 h</h2>\n<div class="activity">\n${charts(s.hourly)}\n${delay}\n</div>\n${answersLine(s.answers)}\n</section>`;
}

/**
 * The status snapshot as one self-contained HTML page: the verdict and its reasons first, then the tenants
 * (when there are several, or a tenant registry), the delay and
 * throughput per kind (inline SVG charts and a table), the answers to Graph, the self-checks, then the
 * tables of subscriptions, queues, dead letters and counters. No script or asset from elsewhere, readable
 * on a phone (viewport; tables keep each value on one line and scroll sideways in their own box), reloading
 * itself every `refreshSeconds`. Every value is escaped; the snapshot holds no secret and no message content.
 */
export function renderStatusPage(s: StatusSnapshot, refreshSeconds = 30): string {
  const failing = s.subscriptions.filter((x) => x.lastError || !x.subscriptionId).length;
  const dead = s.deadLetters.waiting ?? 0;
  const summary = `${s.subscriptions.length} subscriptions${failing ? `, <span class="bad">${failing} without subscription or failing</span>` : ''}; ${dead ? `<span class="bad">${dead} dead letters waiting</span>` : 'no dead letter waiting'}.`;
  const counters = Object.entries(s.metrics.counters).sort(([a], [b]) => a.localeCompare(b));
  const sections = [
    healthSection(s),
    tenantsSection(s.tenants),
    `<p>${summary}</p>`,
    activitySection(s),
    table(
      'Self-checks',
      'self-checks',
      ['check', 'status', 'message', 'fix', 'checked at'],
      s.selfChecks.map((c) => [c.check, { text: c.status, className: c.status }, c.message, c.fix, c.checkedAt]),
      'No self-check has run yet (the checkHealth timer runs them at start and every 5 minutes).',
    ),
    table(
      'Subscriptions',
      'subscriptions',
      ['name', 'tenant', 'resource', 'Graph id', 'expires', 'last renewal', 'last delivery', 'clientState', 'certificate', 'last action', 'last error'],
      s.subscriptions.map((x) => [x.name, x.tenantId, x.resource, x.subscriptionId, x.expiresAt, x.lastRenewedAt, x.lastDeliveryAt, x.clientState, x.certificateId, x.lastAction, x.lastError]),
      'No desired subscription (SUBSCRIPTIONS_FILE is unset).',
    ),
    table(
      'Queues',
      'queues',
      ['queue', 'role', 'messages', 'oldest message'],
      s.queues.map((q) => [q.name, q.role, q.approximateMessageCount ?? 'not created', q.oldestMessageAgeSeconds ? formatMilliseconds(q.oldestMessageAgeSeconds * 1000) : null]),
      'No queue.',
    ),
    table(
      `Dead letters by reason (${s.deadLetters.queue}, first ${s.deadLetters.sampled} waiting)`,
      'dead-letters',
      ['reason', 'waiting'],
      Object.entries(s.deadLetters.byReason).sort(([, a], [, b]) => b - a),
      'No dead letter waiting.',
    ),
    table('Last routed event per kind', 'last-routed', ['kind', 'at'], Object.entries(s.lastRouted).sort(), 'Nothing routed in the window.'),
    table(`Counters since ${s.metrics.since}`, 'metrics', ['counter', 'count'], counters, 'Nothing counted in the window.'),
  ];
  const refresh = Math.max(1, Math.floor(refreshSeconds));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="${refresh}">
<meta name="robots" content="noindex">
<title>teams-change-relay status</title>
<style>${CSS}</style></head>
<body><h1>teams-change-relay</h1>
<p class="meta">As of <time datetime="${escapeHtml(s.generatedAt)}">${escapeHtml(s.generatedAt)}</time>; reloads every ${refresh} s.</p>
${sections.filter(Boolean).join('\n')}
</body></html>
`;
}
