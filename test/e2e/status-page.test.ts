import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../shared/status/status-snapshot.js';
import { loadDesiredSubscriptions } from '../../shared/subscriptions/desired-subscriptions.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { queueUndecryptableNotification } from '../helpers/notifications.js';
import { eventually } from '../helpers/eventually.js';

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PHONE = { width: 390, height: 844 };
const STATUS_CLI = fileURLToPath(new URL('../../dist/cli/status.js', import.meta.url));

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

describe('/api/status in a real browser', () => {
  it('is one self-contained HTML page listing every desired subscription and every queue, readable on a phone', async () => {
    const response = await page.goto(`${host.url}/api/status`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toBe('teams-change-relay status');

    const desired = loadDesiredSubscriptions(join(REPO_ROOT, 'subscriptions.example.json'));
    expect(desired.length).toBeGreaterThanOrEqual(10);
    const names = await cellTexts('#subscriptions tbody tr td:nth-child(1)');
    expect(names).toEqual(desired.map((d) => d.name));
    // Each has its Graph subscription id and uses the current clientState secret (position, never the value).
    const ids = await cellTexts('#subscriptions tbody tr td:nth-child(3)');
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(await cellTexts('#subscriptions tbody tr td:nth-child(7)'))).toEqual(new Set(['1 (current)']));

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
    expect(status.queues.find((q) => q.name === 'graph-notifications-deadletter')?.approximateMessageCount).toBe(1);
    expect(status.deadLetters.byReason).toEqual({ unknown_certificate: 1 });
    expect(status.metrics.counters['dead_letters.unknown_certificate']).toBe(1);
  });
});
