import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TENANT_ID } from '../../shared/config/settings.js';
import type { StatusSnapshot } from '../../shared/status/status-snapshot.js';
import { loadDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';
import { eventually } from '../helpers/eventually.js';
import { ALICE, BOB } from '../helpers/users.js';

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };
const STATUS_CLI = fileURLToPath(new URL('../../dist/cli/status.js', import.meta.url));
/** The full page as the browser drew it, for a person to look at (test-results/ is not committed). */
const SCREENSHOT = join(REPO_ROOT, 'test-results', 'status-page.png');

let azurite: AzuriteProcess;
let host: HostProcess;
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tcr-status-page-'));
  azurite = await testAzurite();
  // npm start's set-up: the Graph simulator, the desired subscriptions of subscriptions.example.json.
  host = await startHost(REPO_ROOT, {
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_GRAPH_SIMULATOR: 'true',
    'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    METRICS_FLUSH_SECONDS: '1',
  });
  await host.waitFor((l) => l.event === 'subscriptions.reconciled', 60_000);
  // Root in a container has no user namespace for Chromium's sandbox.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: PHONE });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.stop();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Loads the page again until `check` passes (the page shows storage as it is when loaded). */
async function reloadUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  await eventually(
    async () => {
      await page.goto(`${host.url}/api/status`);
      return check();
    },
    `the status page to show ${what}`,
    { intervalMs: 200 },
  );
}

const cellTexts = (selector: string) => page.locator(selector).allInnerTexts();

/** Each colour channel of a computed CSS colour (`rgb(26, 127, 55)`). */
const channels = (css: string) => (css.match(/\d+/g) ?? []).slice(0, 3).map(Number);

/** Whether a colour reads as the verdict's: green for healthy, amber for degraded, red for failing. */
function looksLike(verdict: string, css: string): boolean {
  const [r = 0, g = 0, b = 0] = channels(css);
  if (verdict === 'healthy') return g > r && g > b;
  if (verdict === 'degraded') return r > b + 60 && g > b + 40 && r >= g;
  return r > g + 60 && r > b + 40;
}

/** A call to the Graph simulator's driver API (what a person does in Teams). */
async function drive(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const driver = (host.lines.find((l) => l.event === 'simulator.started') as { driver: string }).driver;
  const res = await fetch(`${driver}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

describe('/api/status in a real browser', () => {
  it('is one self-contained HTML page listing every desired subscription and every queue, readable on a phone', async () => {
    const response = await page.goto(`${host.url}/api/status`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toBe('teams-change-relay status');

    // The verdict first, its word coloured green, amber or red, in light and in dark mode.
    const verdict = page.locator('#health [data-verdict]');
    const value = (await verdict.getAttribute('data-verdict')) ?? '';
    expect(value).toMatch(/^(healthy|degraded|failing)$/);
    expect(await verdict.innerText()).toBe(value.charAt(0).toUpperCase() + value.slice(1));
    expect(await page.locator('section').first().getAttribute('id')).toBe('health');
    // (Expressions run in the page; this file is compiled without the DOM's types.)
    const colour = () => page.evaluate<string>(`getComputedStyle(document.querySelector('#health [data-verdict]')).color`);
    const light = await colour();
    expect(looksLike(value, light), `${value} in ${light}`).toBe(true);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await colour();
    expect(looksLike(value, dark), `${value} in ${dark}`).toBe(true);
    expect(dark).not.toBe(light);
    await page.emulateMedia({ colorScheme: 'light' });
    // Every reason says what found it and what it found.
    for (const reason of await page.locator('#health li').all()) {
      expect(await reason.getAttribute('data-level')).toMatch(/^(degraded|failing)$/);
      expect(await reason.locator('.source').innerText()).not.toBe('');
      expect(await reason.locator('.message').innerText()).not.toBe('');
    }

    const desired = loadDesiredSubscriptions(join(REPO_ROOT, 'subscriptions.example.json'));
    expect(desired.length).toBeGreaterThanOrEqual(10);
    const names = await cellTexts('#subscriptions tbody tr td:nth-child(1)');
    expect(names).toEqual(desired.map((d) => d.name));
    // Each has its Graph subscription id and uses the current clientState secret (position, never the value).
    const ids = await cellTexts('#subscriptions tbody tr td:nth-child(4)');
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(await cellTexts('#subscriptions tbody tr td:nth-child(8)'))).toEqual(new Set(['1 (current)']));
    // One tenant, the local one of GRAPH_TENANT_IDS, recorded in the registry once its first reconcile is observed: each subscription in it, the tenant active, in green.
    expect(new Set(await cellTexts('#subscriptions tbody tr td:nth-child(2)'))).toEqual(new Set([LOCAL_TENANT_ID]));
    await reloadUntil(async () => (await page.locator('#tenants tbody tr').count()) === 1, 'the local tenant in the registry');
    expect(looksLike('healthy', await page.evaluate<string>(`getComputedStyle(document.querySelector('#tenants td.healthy')).color`))).toBe(true);
    expect(await page.locator('#tenants tbody tr td').allInnerTexts()).toEqual([
      LOCAL_TENANT_ID,
      '(GRAPH_TENANT_IDS)',
      'active',
      String(desired.length),
      expect.stringMatching(/ \/ 10,000$/),
      expect.any(String),
      '—',
    ]);

    const queues = await cellTexts('#queues tbody tr td:nth-child(1)');
    for (const q of [
      'graph-notifications',
      'graph-lifecycle',
      'graph-backfill',
      'teams-chats',
      'teams-chat-members',
      'teams-chat-messages',
      'teams-channel-messages',
      'graph-notifications-deadletter',
      'graph-notifications-poison',
      'graph-lifecycle-poison',
      'graph-backfill-poison',
    ]) {
      expect(queues).toContain(q);
    }

    // The reconciler that created them logged through the timer's invocation.
    expect(host.lines.find((l) => l.event === 'subscriptions.reconciled')).toMatchObject({ function: 'reconcileSubscriptions', invocationId: expect.any(String) });

    // Nothing loaded from elsewhere, and it reloads itself.
    expect(await page.locator('script, link, img, iframe, object, embed').count()).toBe(0);
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute('content')).toMatch(/^\d+$/);
    // On a phone's width the page itself does not scroll sideways (wide tables scroll in their own box).
    // (The function runs in the page; this file is compiled without the DOM's types.)
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
    // A long resource path stays on one line (one line box for its text), not a column of fragments.
    const longest = desired.map((d) => d.resource).reduce((a, b) => (b.length > a.length ? b : a));
    expect(longest.length).toBeGreaterThan(100);
    const lineBoxes = await page.evaluate<[string, number][]>(
      `[...document.querySelectorAll('#subscriptions tbody td:nth-child(3)')].map((td) => { const r = document.createRange(); r.selectNodeContents(td); return [td.textContent, r.getClientRects().length]; })`,
    );
    expect(lineBoxes.find(([text]) => text === longest)).toEqual([longest, 1]);
  });

  it('shows a dead letter, by reason, once a notification that can never be decrypted is dead-lettered', async () => {
    const dead = () => page.locator('#dead-letters').innerText();
    expect(await dead()).not.toContain('unknown_certificate');
    // A queued notification encrypted to a certificate the app does not have: no retry can decrypt it.
    await queueUndecryptableNotification(queueService(azurite).getQueueClient('graph-notifications'));
    // The page reads the queues' counts and the dead letters side by side: one render may have read the
    // count just before the dead letter landed and the letters just after, so wait until both show it.
    const deadLetterQueue = page.locator('#queues tbody tr', { hasText: 'graph-notifications-deadletter' });
    await reloadUntil(async () => (await dead()).includes('unknown_certificate') && (await deadLetterQueue.locator('td').allInnerTexts())[2] === '1', 'the dead letter');
    const row = page.locator('#dead-letters tbody tr', { hasText: 'unknown_certificate' });
    expect(await row.locator('td').allInnerTexts()).toEqual(['unknown_certificate', '1']);
    // The counter follows once the instance has written it (every METRICS_FLUSH_SECONDS).
    await reloadUntil(async () => (await page.locator('#metrics').innerText()).includes('dead_letters.unknown_certificate'), 'the dead-letter counter');
    // The message's contents are not on the page.
    expect(await page.content()).not.toContain('no-such-certificate');
  });

  it('shows the same in `npm run status -- --json`: one object with every subscription and every queue with its count', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [STATUS_CLI, '--json', '--app', dir], {
      env: { ...process.env, AzureWebJobsStorage: azurite.connectionString, SUBSCRIPTIONS_FILE: join(REPO_ROOT, 'subscriptions.example.json') },
    });
    const status = JSON.parse(stdout) as StatusSnapshot;
    expect(status.subscriptions.length).toBeGreaterThanOrEqual(10);
    expect(status.subscriptions.map((s) => s.name)).toEqual(await cellTexts('#subscriptions tbody tr td:nth-child(1)'));
    for (const s of status.subscriptions) expect(s.subscriptionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(status.queues.map((q) => q.name)).toEqual(await cellTexts('#queues tbody tr td:nth-child(1)'));
    expect(status.tenants).toEqual([
      expect.objectContaining({ id: LOCAL_TENANT_ID, state: 'active', registered: true, subscriptions: status.subscriptions.length, quotaLimit: 10_000, problem: null }),
    ]);
    expect(status.queues.find((q) => q.name === 'graph-notifications-deadletter')?.approximateMessageCount).toBe(1);
    expect(status.deadLetters.byReason).toEqual({ unknown_certificate: 1 });
    expect(status.metrics.counters['dead_letters.unknown_certificate']).toBe(1);
  });

  it('draws the delay and throughput of each kind with routed events as an SVG chart, beside the delay table', async () => {
    // Teams activity: a chat created, a message posted in it; routed to teams-chats and teams-chat-messages.
    for (const [id, displayName] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
    ])
      await drive('POST', '/users', { id, displayName });
    const chat = await drive('POST', '/chats', { members: [ALICE, BOB], topic: 'Status', chatType: 'group' });
    await drive('POST', `/chats/${String(chat.id)}/messages`, { from: ALICE, content: 'Charts?' });
    const routedKinds = async () => (await cellTexts('#last-routed tbody tr td:nth-child(1)')).sort();
    await reloadUntil(async () => (await routedKinds()).includes('chat') && (await routedKinds()).includes('chatMessage'), 'the routed chat and message');
    const kinds = await routedKinds();
    try {
      // Each kind with routed events has its chart once the instance has written its measures.
      await reloadUntil(async () => (await page.locator('figure.chart').count()) >= kinds.length, 'a chart per routed kind');
      for (const kind of kinds) {
        const svg = page.locator(`figure.chart[data-kind="${kind}"] svg`);
        expect(await svg.isVisible(), kind).toBe(true);
        expect(await svg.getAttribute('role')).toBe('img');
        expect(await svg.getAttribute('aria-label')).toMatch(new RegExp(`^${kind}: \\d+ events routed in 24 h`));
        expect(await svg.locator('rect.bar').count()).toBeGreaterThanOrEqual(1);
        // Legible on the phone: the chart fits the width, its text no smaller than 9 px.
        const box = await svg.boundingBox();
        expect(box?.width).toBeLessThanOrEqual(PHONE.width);
        expect(await page.evaluate(`document.querySelector('figure.chart[data-kind="${kind}"] svg text').getBoundingClientRect().height`)).toBeGreaterThanOrEqual(9);
      }
      expect(await cellTexts('#delay tbody tr td:nth-child(1)')).toEqual(expect.arrayContaining(kinds));
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      expect(await page.locator('script, link, img, iframe, object, embed').count()).toBe(0);
    } finally {
      mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  });
});
