import type { StatusSnapshot } from './status-snapshot.js';

/** What a status page cell or attribute shows. */
export type Cell = string | number | boolean | null | undefined;

/** Text for HTML content and attribute values. */
export function escapeHtml(value: Cell): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const cell = (v: Cell) => `<td>${v === null || v === undefined || v === '' ? '<span class="none">—</span>' : escapeHtml(v)}</td>`;

function table(caption: string, id: string, columns: readonly string[], rows: readonly (readonly Cell[])[], empty: string): string {
  if (rows.length === 0) return `<section id="${id}"><h2>${escapeHtml(caption)}</h2><p class="none">${escapeHtml(empty)}</p></section>`;
  const head = columns.map((c) => `<th scope="col">${escapeHtml(c)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return `<section id="${id}"><h2>${escapeHtml(caption)}</h2><div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div></section>`;
}

const CSS = `
body{font:15px/1.4 system-ui,sans-serif;margin:0;padding:12px;color:#1b1b1b;background:#fafafa}
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:18px 0 6px}
.meta,.none{color:#666}.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #ddd;vertical-align:top;white-space:nowrap}
td:nth-child(2){white-space:normal;word-break:break-all}
.bad{color:#b00020;font-weight:600}
@media (prefers-color-scheme:dark){body{background:#121212;color:#e6e6e6}table{background:#1e1e1e}th,td{border-color:#333}.meta,.none{color:#999}.bad{color:#ff6b6b}}
`;

/**
 * The status snapshot as one self-contained HTML page: no script or asset from elsewhere, readable on a
 * phone (viewport, tables that scroll sideways), reloading itself every `refreshSeconds`. Every value is
 * escaped; the snapshot holds no secret and no message content.
 */
export function renderStatusPage(s: StatusSnapshot, refreshSeconds = 30): string {
  const failing = s.subscriptions.filter((x) => x.lastError || !x.subscriptionId).length;
  const dead = s.deadLetters.waiting ?? 0;
  const summary = `${s.subscriptions.length} subscriptions${failing ? `, <span class="bad">${failing} without subscription or failing</span>` : ''}; ${dead ? `<span class="bad">${dead} dead letters waiting</span>` : 'no dead letter waiting'}.`;
  const counters = Object.entries(s.metrics.counters).sort(([a], [b]) => a.localeCompare(b));
  const sections = [
    table(
      'Subscriptions',
      'subscriptions',
      ['name', 'resource', 'Graph id', 'expires', 'last renewal', 'last delivery', 'clientState', 'certificate', 'last action', 'last error'],
      s.subscriptions.map((x) => [x.name, x.resource, x.subscriptionId, x.expiresAt, x.lastRenewedAt, x.lastDeliveryAt, x.clientState, x.certificateId, x.lastAction, x.lastError]),
      'No desired subscription (SUBSCRIPTIONS_FILE is unset).',
    ),
    table(
      'Queues',
      'queues',
      ['queue', 'role', 'messages'],
      s.queues.map((q) => [q.name, q.role, q.approximateMessageCount ?? 'not created']),
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
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="${Math.max(1, Math.floor(refreshSeconds))}">
<meta name="robots" content="noindex">
<title>teams-change-relay status</title>
<style>${CSS}</style></head>
<body><h1>teams-change-relay</h1>
<p class="meta">As of <time datetime="${escapeHtml(s.generatedAt)}">${escapeHtml(s.generatedAt)}</time>; reloads every ${Math.max(1, Math.floor(refreshSeconds))} s.</p>
<p>${summary}</p>
${sections.join('\n')}
</body></html>
`;
}
