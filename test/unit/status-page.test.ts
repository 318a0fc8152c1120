import { describe, expect, it } from 'vitest';
import { escapeHtml } from '../../shared/status/escape-html.js';
import { renderStatusPage } from '../../shared/status/status-page.js';
import type { StatusSnapshot } from '../../shared/status/status-snapshot.js';
import { HOME_TENANT, subscriptionRow, tenantRow } from '../helpers/status-rows.js';

const snapshot = (over: Partial<StatusSnapshot> = {}): StatusSnapshot => ({
  generatedAt: '2026-11-23T12:00:00.000Z',
  health: { verdict: 'healthy', reasons: [] },
  delay: {},
  answers: { count: 0, slow: 0, serverErrors: 0, ms: null },
  hourly: { hours: [], kinds: {} },
  selfChecks: [],
  tenants: [],
  subscriptions: [],
  queues: [],
  deadLetters: { queue: 'dead', waiting: 0, sampled: 0, byReason: {} },
  lastRouted: {},
  metrics: { since: '2026-11-22T12:00:00.000Z', counters: {} },
  ...over,
});

/** 24 hours from 2026-11-22T13:00Z; `at` sets some of them, the rest take `rest`. */
const HOURS = Array.from({ length: 24 }, (_, i) => new Date(Date.UTC(2026, 10, 22, 13 + i)).toISOString());
const perHour = <T>(rest: T, at: Record<number, T>): T[] => HOURS.map((_, i) => (i in at ? (at[i] as T) : rest));

/** The markup of one element, from its start tag to the first closing tag of that name (no nesting of it inside). */
const element = (html: string, start: string, tag: string) => {
  const from = html.indexOf(start);
  expect(from, `${start} on the page`).toBeGreaterThanOrEqual(0);
  return html.slice(from, html.indexOf(`</${tag}>`, from) + tag.length + 3);
};
/** The activity section, which holds the delay's section. */
const activity = (html: string) => html.slice(html.indexOf('<section id="activity">'), html.indexOf('<section id="self-checks">'));
/** The text of each cell of each body row of the table in `section`. */
const rows = (html: string, id: string) =>
  [...element(html, `<section id="${id}">`, 'section').matchAll(/<tr>(.*?)<\/tr>/g)]
    .slice(1)
    .map((r) => [...(r[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => (c[1] ?? '').replace(/<[^>]+>/g, '')));

describe('the status page', () => {
  it('escapes every value it shows', () => {
    const html = renderStatusPage(
      snapshot({
        subscriptions: [subscriptionRow({ name: '<script>alert(1)</script>', resource: `/chats?x="'&`, lastAction: 'failed', lastError: '<img src=x onerror=alert(1)>' })],
        deadLetters: { queue: 'dead', waiting: 1, sampled: 1, byReason: { '<b>': 1 } },
        health: { verdict: 'failing', reasons: [{ level: 'failing', source: '<i>', message: '<u>m</u>', fix: '<s>f</s>' }] },
        selfChecks: [{ check: '<em>', status: 'warn', message: '<q>', checkedAt: '<time>' }],
        delay: { '<kbd>': { p50: 1, p95: 2, p99: 3, count: 1 } },
        hourly: { hours: HOURS, kinds: { '"><svg onload=x>': { routed: perHour(0, { 1: 1 }), p50: perHour(null, {}), p95: perHour(null, {}) } } },
      }),
    );
    for (const tag of ['<script', '<img', '<b>', '<i>', '<u>', '<s>', '<em>', '<q>', '<time>', '<kbd>', '<svg onload']) expect(html).not.toContain(tag);
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
    expect(html).toContain('/chats?x=&#34;&#39;&#38;');
    expect(html).toContain('data-kind="&#34;&#62;&#60;svg onload=x&#62;"');
    expect(escapeHtml(`<>&"'`)).toBe('&#60;&#62;&#38;&#34;&#39;');
  });

  it('starts with the verdict, coloured by its class, before any other section', () => {
    for (const verdict of ['healthy', 'degraded', 'failing'] as const) {
      const html = renderStatusPage(snapshot({ health: { verdict, reasons: [] } }));
      const word = verdict[0]?.toUpperCase() + verdict.slice(1);
      expect(html).toContain(`<span class="verdict ${verdict}" data-verdict="${verdict}">${word}</span>`);
      expect(html.indexOf('<section')).toBe(html.indexOf('<section id="health"'));
    }
    // Each verdict's colour, in light and in dark mode.
    const css = /<style>(.*?)<\/style>/s.exec(renderStatusPage(snapshot()))?.[1] ?? '';
    const dark = css.slice(css.indexOf('prefers-color-scheme:dark'));
    for (const styles of [css.slice(0, css.indexOf('@media')), dark]) for (const verdict of ['healthy', 'degraded', 'failing']) expect(styles).toMatch(new RegExp(`\\.${verdict}[,{][^}]*color:#`));
  });

  it('lists each reason with its level, source, message and fix, or says nothing needs attention', () => {
    const html = renderStatusPage(
      snapshot({
        health: {
          verdict: 'failing',
          reasons: [
            { level: 'failing', source: 'storage', message: 'Storage did not answer.', fix: 'Check the storage account.' },
            { level: 'degraded', source: 'dead_letters', message: '3 dead letters waiting.' },
          ],
        },
      }),
    );
    const items = [...element(html, '<section id="health"', 'section').matchAll(/<li data-level="(\w+)">(.*?)<\/li>/g)].map((m) => [
      m[1],
      (m[2] ?? '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    ]);
    expect(items).toEqual([
      ['failing', 'failing storage : Storage did not answer. Fix: Check the storage account.'],
      ['degraded', 'degraded dead_letters : 3 dead letters waiting.'],
    ]);
    expect(element(renderStatusPage(snapshot()), '<section id="health"', 'section')).toContain('Nothing needs attention.');
  });

  it('draws a chart for each kind: a bar per hour with routed events, the p95 line broken where an hour has none', () => {
    const html = renderStatusPage(
      snapshot({
        hourly: {
          hours: HOURS,
          kinds: {
            chat: { routed: perHour(0, { 3: 2, 4: 5 }), p50: perHour(null, { 3: 400, 4: 500 }), p95: perHour(null, { 3: 900, 4: 2_400 }) },
            chatMessage: { routed: perHour(0, { 0: 1, 10: 7, 11: 3, 23: 1 }), p50: perHour(null, { 0: 300, 10: 350, 11: 320 }), p95: perHour(null, { 0: 800, 10: 1_200, 11: 90_000 }) },
          },
        },
      }),
    );
    expect(activity(html)).toMatch(/^<section id="activity"><h2>Delay and throughput, last 24 h<\/h2>/);
    const figures = [...activity(html).matchAll(/<figure class="chart" data-kind="(\w+)">(.*?)<\/figure>/gs)];
    expect(figures.map((f) => f[1])).toEqual(['chat', 'chatMessage']);
    const chatMessage = figures[1]?.[2] ?? '';
    expect(chatMessage).toMatch(/<svg [^>]*role="img" aria-label="chatMessage: 12 events routed in 24 h, at most 7 in an hour; delay p95 at most 1\.5 min">/);
    expect(chatMessage.match(/<rect class="bar"/g)).toHaveLength(4);
    expect(figures[0]?.[2]?.match(/<rect class="bar"/g)).toHaveLength(2);
    // p95: hour 0 alone, then 10–11 joined: two runs, three dots (hour 23 routed only backfilled events: no delay).
    const p95 = /<g class="line" data-line="p95">(.*?)<\/g>/.exec(chatMessage)?.[1] ?? '';
    expect(/ d="([^"]*)"/.exec(p95)?.[1]).toMatch(/^M[\d. ]+M[\d. ]+L[\d. ]+$/);
    expect(p95.match(/<circle/g)).toHaveLength(3);
    // Axis labels: the maxima, the first and the last hour.
    for (const text of ['max 7 / h', 'max 1.5 min', '13:00', '12:00 UTC']) expect(chatMessage).toContain(`>${text}</text>`);
    // Nothing that runs or loads: no script, no URL but the SVG namespace.
    expect(html).not.toMatch(/<script/i);
    expect([...html.matchAll(/https?:\/\/[^"'\s<>]*/g)].map((m) => m[0])).toEqual(['http://www.w3.org/2000/svg', 'http://www.w3.org/2000/svg']);
  });

  it('says so when nothing was routed, instead of empty charts', () => {
    const empty = activity(renderStatusPage(snapshot()));
    expect(empty).not.toContain('<svg');
    expect(empty).toContain('Nothing routed in the last 24 h.');
    expect(empty).toContain('No live event routed in the last 24 h.');
    expect(empty).toContain('No answer to Graph in the last 24 h.');
  });

  it('tables the delay per kind in readable units, and sums up the answers to Graph', () => {
    const html = renderStatusPage(
      snapshot({
        delay: { chat: { p50: 850, p95: 2_400, p99: 180_000, count: 1_234 }, chatMember: { p50: 40, p95: 61_000, p99: 61_000, count: 2 } },
        answers: { count: 5_000, slow: 3, serverErrors: 0, ms: { p50: 120, p95: 450, p99: 2_950, count: 5_000 } },
      }),
    );
    expect(rows(html, 'delay')).toEqual([
      ['chat', '850 ms', '2.4 s', '3 min', '1,234'],
      ['chatMember', '40 ms', '1 min', '1 min', '2'],
    ]);
    const answers = /<p id="answers">(.*?)<\/p>/.exec(html)?.[1] ?? '';
    expect(answers.replace(/<[^>]+>/g, '')).toBe("Answers to Graph: 5,000; slow (over 2,900 ms, Graph's slow mark): 3; 5xx: 0; answer time p95: 450 ms.");
    // Slow answers are marked; no 5xx is not.
    expect(answers).toContain('<span class="bad">slow');
    expect(answers).not.toContain('<span class="bad">5xx');
  });

  it('tables the self-checks after the activity, each status with its colour', () => {
    const checks = [
      { check: 'encryption_certificate', status: 'ok', message: 'Expires in 200 days.', checkedAt: '2026-11-23T11:58:00.000Z' },
      { check: 'graph_credential', status: 'warn', message: 'The client secret expires in 20 days.', fix: 'Add a new secret.', checkedAt: '2026-11-23T11:58:00.000Z' },
    ] as const;
    const html = renderStatusPage(snapshot({ selfChecks: checks }));
    expect(rows(html, 'self-checks')).toEqual([
      ['encryption_certificate', 'ok', 'Expires in 200 days.', '—', '2026-11-23T11:58:00.000Z'],
      ['graph_credential', 'warn', 'The client secret expires in 20 days.', 'Add a new secret.', '2026-11-23T11:58:00.000Z'],
    ]);
    expect(html).toContain('<td class="warn">warn</td>');
    expect(html.indexOf('id="activity"')).toBeLessThan(html.indexOf('id="self-checks"'));
    expect(html.indexOf('id="self-checks"')).toBeLessThan(html.indexOf('id="subscriptions"'));
    expect(renderStatusPage(snapshot())).toContain('No self-check has run yet');
  });

  it("shows each queue's oldest message's age", () => {
    const html = renderStatusPage(
      snapshot({
        queues: [
          { name: 'in', role: 'incoming', approximateMessageCount: 12, oldestMessageAgeSeconds: 200 },
          { name: 'dead', role: 'dead-letter', approximateMessageCount: 0, oldestMessageAgeSeconds: 0 },
          { name: 'in-poison', role: 'poison', approximateMessageCount: null, oldestMessageAgeSeconds: null },
        ],
      }),
    );
    expect(rows(html, 'queues')).toEqual([
      ['in', 'incoming', '12', '3.3 min'],
      ['dead', 'dead-letter', '0', '—'],
      ['in-poison', 'poison', 'not created', '—'],
    ]);
  });

  it('keeps a long resource path whole on one line: no word breaking, the table scrolls in its own box', () => {
    const resource = `/teams/${'0'.repeat(36)}/channels/19:${'a'.repeat(32)}@thread.tacv2/messages?$filter=x`;
    const html = renderStatusPage(snapshot({ subscriptions: [subscriptionRow({ resource: resource })] }));
    expect(rows(html, 'subscriptions')[0]?.[2]).toBe(escapeHtml(resource));
    expect(element(html, '<section id="subscriptions">', 'section')).toContain('<div class="scroll"><table>');
    const css = /<style>(.*?)<\/style>/s.exec(html)?.[1] ?? '';
    expect(css).not.toMatch(/word-break|overflow-wrap|white-space:normal/);
    expect(css).toMatch(/th,td\{[^}]*white-space:nowrap/);
    expect(css).toContain('.scroll{overflow-x:auto}');
  });

  it('tables the tenants after the verdict, each state in the colours of the verdicts, a quota near its limit marked', () => {
    const other = 'bbbbbbbb-0000-4000-8000-000000000002';
    const html = renderStatusPage(
      snapshot({
        tenants: [
          tenantRow({ registered: true, subscriptions: 1_200, lastDelivery: '2026-11-23T11:59:00.000Z', quotaUsed: 1_200 }),
          tenantRow({
            id: other,
            name: '<Contoso>',
            state: 'degraded',
            registered: true,
            quotaUsed: 9_600,
            missingPermissions: ['Chat.Read.All'],
            problem: { code: 'missing_permission', message: "the tenant's consent lacks Chat.Read.All", at: '2026-11-23T11:00:00.000Z' },
          }),
          tenantRow({ id: 'cccccccc-0000-4000-8000-000000000003', name: null, state: 'onboarding', registered: true }),
          tenantRow({ id: 'dddddddd-0000-4000-8000-000000000004', name: null, state: 'removed', registered: true }),
        ],
        subscriptions: [subscriptionRow({ name: `chats@${other}`, tenantId: other })],
      }),
    );
    expect(rows(html, 'tenants')).toEqual([
      [HOME_TENANT, '(GRAPH_TENANT_IDS)', 'active', '1,200', '1,200 / 10,000', '2026-11-23T11:59:00.000Z', '—'],
      [other, escapeHtml('<Contoso>'), 'degraded', '0', '9,600 / 10,000', '—', escapeHtml("missing_permission: the tenant's consent lacks Chat.Read.All")],
      ['cccccccc-0000-4000-8000-000000000003', '—', 'onboarding', '0', '—', '—', '—'],
      ['dddddddd-0000-4000-8000-000000000004', '—', 'removed', '0', '—', '—', '—'],
    ]);
    const section = element(html, '<section id="tenants">', 'section');
    expect(section).toContain('<td class="healthy">active</td>');
    expect(section).toContain('<td class="degraded">degraded</td>');
    expect(section).toContain('<td class="degraded">onboarding</td>');
    expect(section).toContain('<td class="skipped">removed</td>');
    expect(section).toContain('<td class="bad">9,600 / 10,000</td>');
    expect(section).toContain('<td>1,200 / 10,000</td>');
    expect(html.indexOf('<section id="health"')).toBeLessThan(html.indexOf('<section id="tenants">'));
    expect(html.indexOf('<section id="tenants">')).toBeLessThan(html.indexOf('<section id="activity">'));
    // Each subscription names its tenant.
    expect(rows(html, 'subscriptions')[0]?.slice(0, 2)).toEqual([`chats@${other}`, other]);
  });

  it('shows no tenants for a lone tenant of GRAPH_TENANT_IDS the registry does not hold, and shows one it holds', () => {
    expect(renderStatusPage(snapshot({ tenants: [tenantRow({})] }))).not.toContain('id="tenants"');
    expect(renderStatusPage(snapshot({ tenants: [tenantRow({ registered: true })] }))).toContain('<section id="tenants">');
  });

  it('says what needs attention in its first lines', () => {
    const html = renderStatusPage(snapshot({ deadLetters: { queue: 'dead', waiting: 3, sampled: 3, byReason: { no_route: 3 } } }));
    expect(html).toContain('3 dead letters waiting');
    expect(renderStatusPage(snapshot())).toContain('no dead letter waiting');
  });
});
