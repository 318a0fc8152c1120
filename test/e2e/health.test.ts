import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TENANT_ID } from '../../shared/config/settings.js';
import type { StatusSnapshot } from '../../shared/status/status-snapshot.js';
import { startTestAzurite, tempDir, type AzuriteProcess } from '../helpers/azurite.js';
import { eventually } from '../helpers/eventually.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';

const STATUS_CLI = fileURLToPath(new URL('../../dist/cli/status.js', import.meta.url));
const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const BOB = 'b0b00000-0000-4000-8000-000000000002';

let azurite: AzuriteProcess;
let host: HostProcess;
let dir: ReturnType<typeof tempDir>;

beforeAll(async () => {
  dir = tempDir('tcr-health-');
  // An Azurite of this file's own, with its data on disk: the test stops it and starts it again.
  azurite = await startTestAzurite({ location: join(dir.path, 'azurite') });
  // npm start's set-up: the Graph simulator, the desired subscriptions of subscriptions.example.json.
  host = await startHost(REPO_ROOT, {
    AzureWebJobsStorage: azurite.connectionString,
    LOCAL_GRAPH_SIMULATOR: 'true',
    'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
    LOCAL_CERTIFICATE_DIR: join(dir.path, 'certs'),
    METRICS_FLUSH_SECONDS: '1',
  });
  await host.waitFor((l) => l.event === 'subscriptions.reconciled', 60_000);
  await host.waitFor((l) => l.event === 'health.checked', 60_000);
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
  dir?.remove();
});

/** A call to the Graph simulator's driver API (what a person does in Teams). */
async function drive(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const driver = (host.lines.find((l) => l.event === 'simulator.started') as { driver: string }).driver;
  const res = await fetch(`${driver}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

/** `npm run status -- --json` against this test's storage. */
async function statusJson(): Promise<StatusSnapshot> {
  const { stdout } = await promisify(execFile)(process.execPath, [STATUS_CLI, '--json', '--app', dir.path], {
    env: { ...process.env, AzureWebJobsStorage: azurite.connectionString, SUBSCRIPTIONS_FILE: join(REPO_ROOT, 'subscriptions.example.json') },
  });
  return JSON.parse(stdout) as StatusSnapshot;
}

/** The verdict and reasons' sources of the host's own /api/status page. */
async function pageVerdict(): Promise<{ verdict: string | undefined; sources: string[]; html: string }> {
  const res = await fetch(`${host.url}/api/status`);
  expect(res.status).toBe(200);
  const html = await res.text();
  return { verdict: /data-verdict="(\w+)"/.exec(html)?.[1], sources: [...html.matchAll(/<li data-level="\w+"[^>]*>.*?class="source"[^>]*>([^<]+)</g)].map((m) => m[1] ?? ''), html };
}

describe('the verdict and the measures under the local host', () => {
  it("shows delay percentiles for the README's loop and a healthy verdict", async () => {
    const chat = await drive('POST', '/chats', { members: [ALICE, BOB] });
    await drive('POST', `/chats/${String(chat.id)}/messages`, { from: ALICE, content: 'Hello' });
    const status = await eventually(
      async () => {
        const s = await statusJson();
        return s.delay.chatMessage && s.delay.chat ? s : undefined;
      },
      'the delay of the chat and its message in `npm run status -- --json`',
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const kind of ['chat', 'chatMessage'] as const) {
      const d = status.delay[kind];
      expect(d?.count).toBeGreaterThanOrEqual(1);
      expect(d?.p50).toBeGreaterThanOrEqual(0);
      expect(d?.p99).toBeGreaterThanOrEqual(d?.p50 ?? Infinity);
    }
    expect(status.answers.count).toBeGreaterThan(0);
    expect(status.hourly.kinds.chatMessage?.routed.at(-1)).toBeGreaterThanOrEqual(1);
    expect(status.health, JSON.stringify(status.health.reasons)).toEqual({ verdict: 'healthy', reasons: [] });
    // Every self-check has run (at start) and none is failing under npm start's defaults.
    expect(status.selfChecks.map((c) => c.check).sort()).toEqual([
      'backfill_gaps',
      'encryption_certificate',
      'graph_credential',
      'graph_permissions',
      'silent_subscriptions',
      'subscriptions',
      'tenants',
      'validation_tokens',
    ]);
    expect(status.selfChecks.find((c) => c.check === 'graph_credential')?.status).toBe('ok');
    expect((await pageVerdict()).verdict).toBe('healthy');
  });

  it('turns degraded, naming storage, while Azurite is stopped, and healthy again once it is back', async () => {
    const ports = azurite.ports;
    await azurite.stop();
    try {
      const down = await pageVerdict();
      expect(down.verdict).toBe('degraded');
      expect(down.sources).toContain('storage');
      expect(down.html).toMatch(/storage did not answer/);
      const cli = await statusJson();
      expect(cli.health.verdict).toBe('degraded');
      expect(cli.health.reasons.some((r) => r.source === 'storage' && /ECONNREFUSED|connect/i.test(r.message))).toBe(true);
    } finally {
      azurite = await startTestAzurite({ location: join(dir.path, 'azurite'), ports });
    }
    await eventually(async () => (await pageVerdict()).verdict === 'healthy', 'a healthy verdict once Azurite is back', { timeoutMs: 60_000, intervalMs: 1_000 });
  });

  it("fails, naming the tenant setting to change, when a tenant's notifications come without validationTokens", async () => {
    await drive('PATCH', `/tenants/${LOCAL_TENANT_ID}`, { appRoleAssignmentRequired: true });
    try {
      const chat = await drive('POST', '/chats', { members: [ALICE, BOB] });
      await drive('POST', `/chats/${String(chat.id)}/messages`, { from: BOB, content: 'unseen' });
      const status = await eventually(
        async () => {
          const s = await statusJson();
          return s.health.reasons.some((r) => r.source === 'validation_tokens') ? s : undefined;
        },
        'the validation_tokens self-check to fail',
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      expect(status.health.verdict).toBe('failing');
      const reason = status.health.reasons.find((r) => r.source === 'validation_tokens');
      expect(reason?.message).toMatch(/without validationTokens/);
      // Counted per tenant on the receive path: the tenant is named.
      expect(reason?.message).toContain(LOCAL_TENANT_ID);
      expect(reason?.fix).toMatch(/Assignment required\?/);
      expect((await pageVerdict()).sources).toContain('validation_tokens');
    } finally {
      await drive('PATCH', `/tenants/${LOCAL_TENANT_ID}`, { appRoleAssignmentRequired: false });
    }
  });
});
