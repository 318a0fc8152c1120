import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEAMS_APPLICATION_PERMISSIONS } from '../../dev/graph-simulator/app-grants.js';
import { LOCAL_APP_ID, LOCAL_CLIENT_STATE } from '../../shared/config/settings.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { createTestCertificate } from '../helpers/certificates.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

const run = promisify(execFile);
const TENANTS_CLI = fileURLToPath(new URL('../../dist/cli/tenants.js', import.meta.url));

/** Three customer tenants of the relay's one multi-tenant app: A and B added with the CLI, C never; D consented too little. */
const [A, B, C, D] = ['aaaa0000-0000-4000-8000-00000000000a', 'bbbb0000-0000-4000-8000-00000000000b', 'cccc0000-0000-4000-8000-00000000000c', 'dddd0000-0000-4000-8000-00000000000d'];
const USER = { [A]: 'a0000000-0000-4000-8000-0000000000a1', [B]: 'b0000000-0000-4000-8000-0000000000b1', [C]: 'c0000000-0000-4000-8000-0000000000c1', [D]: 'd0000000-0000-4000-8000-0000000000d1' };
const OTHER = { [A]: 'a0000000-0000-4000-8000-0000000000a2', [B]: 'b0000000-0000-4000-8000-0000000000b2', [C]: 'c0000000-0000-4000-8000-0000000000c2', [D]: 'd0000000-0000-4000-8000-0000000000d2' };
const QUEUE = { [A]: 'tenant-a-events', [B]: 'tenant-b-events' };

let azurite: AzuriteProcess;
let host: HostProcess;
let sink: WebhookSink;
let dir: string;
let driver: string;
let graphUrl: string;
let env: Record<string, string>;

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${driver}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as Record<string, any>;
};

/** The app's Graph client in a tenant: the unsigned token the relay's simulator credential sends. */
const appIn = (tenantId: string) => graphClient(graphUrl, bearerFor({ appid: LOCAL_APP_ID, tid: tenantId, exp: Math.floor(Date.now() / 1000) + 3600 }));

/** `npm run tenants -- …` against the running stack; resolves with its output and exit code. */
async function tenants(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await run(process.execPath, [TENANTS_CLI, ...args], { cwd: dir, env: { ...process.env, ...env } });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

async function listed(): Promise<Record<string, any>[]> {
  const r = await tenants('list', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>[];
}

async function eventsOn(queue: string, until: (events: TeamsCloudEvent[]) => boolean): Promise<TeamsCloudEvent[]> {
  const q = queueService(azurite).getQueueClient(queue);
  const deadline = Date.now() + 120_000; // generous for a loaded machine: the wait ends as soon as the events are there
  for (;;) {
    const events = (await q.exists()) ? (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText)) : [];
    if (until(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const chatIn = async (tenantId: string): Promise<string> => (await call('POST', '/chats', { tenantId, members: [USER[tenantId], OTHER[tenantId]], chatType: 'group' })).id as string;
const post = (chatId: string, from: string, content: string) => call('POST', `/chats/${chatId}/messages`, { from, content });

/** Subscriptions of ours (the host's notification URL) that Graph holds in a tenant. */
async function oursIn(tenantId: string): Promise<Record<string, any>[]> {
  const listedThere = await appIn(tenantId).get('/v1.0/subscriptions');
  expect(listedThere.status).toBe(200);
  return (listedThere.body.value as Record<string, any>[]).filter((s) => s.notificationUrl === env.GRAPH_NOTIFICATION_URL);
}

beforeAll(async () => {
  azurite = await testAzurite();
  sink = await startWebhookSink();
  dir = mkdtempSync(join(tmpdir(), 'tcr-tenants-'));
  const desired = join(dir, 'subscriptions.json');
  writeFileSync(
    desired,
    JSON.stringify({
      subscriptions: [
        { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true },
        { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      ],
    }),
  );
  // One queue per tenant; the app's own tenant keeps the default queues.
  const routes = join(dir, 'routes.json');
  writeFileSync(routes, JSON.stringify({ routes: Object.entries(QUEUE).map(([tenantId, queue]) => ({ match: { tenantId }, queues: [queue] })) }));
  env = { AzureWebJobsStorage: azurite.connectionString, SUBSCRIPTIONS_FILE: desired, ROUTES_FILE: routes, LOCAL_CERTIFICATE_DIR: join(dir, 'certs'), TENANT_BASELINE_HOURS: '1' };
  host = await startHost(REPO_ROOT, { ...env, LOCAL_GRAPH_SIMULATOR: 'true', 'AzureWebJobs.reconcileSubscriptions.Disabled': 'false' });
  const started = host.lines.find((l) => l.event === 'simulator.started') as { driver: string; url: string };
  driver = started.driver;
  graphUrl = started.url;
  env.GRAPH_BASE_URL = started.url;
  env.GRAPH_NOTIFICATION_URL = `${host.url}/api/notifications`;
  env.GRAPH_LIFECYCLE_URL = `${host.url}/api/lifecycle`;
  // Exact counts (no Graph duplicates) and no slow-endpoint drops on a loaded machine.
  await call('PATCH', '/delivery', { duplicateRate: 0, slowEndpoint: { enabled: false } });
  for (const tenantId of [A, B, C, D]) {
    await call('POST', '/tenants', { id: tenantId, displayName: `Tenant ${tenantId.slice(0, 1).toUpperCase()}` });
    await call('POST', '/users', { tenantId, id: USER[tenantId], displayName: `User of ${tenantId.slice(0, 4)}` });
    await call('POST', '/users', { tenantId, id: OTHER[tenantId], displayName: `Colleague of ${tenantId.slice(0, 4)}` });
  }
  for (const tenantId of [A, B, C]) await call('POST', `/tenants/${tenantId}/consent`, { appId: LOCAL_APP_ID, permissions: [...TEAMS_APPLICATION_PERMISSIONS] });
  // D's admin granted membership reads, not message reads.
  await call('POST', `/tenants/${D}/consent`, { appId: LOCAL_APP_ID, permissions: ['ChatMember.Read.All', 'User.Read.All'] });
  await host.waitFor((l) => l.event === 'subscriptions.reconciled');
});

afterAll(async () => {
  await host?.stop();
  await sink?.close();
  await azurite?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('many tenants, one relay: onboarding with the CLI, isolation, offboarding (simulator, local host, Azurite)', () => {
  it("adds A and B with the CLI: each active, its subscriptions created in its own tenant, and each tenant's activity reaches its own queue with its tenantid", async () => {
    for (const [tenantId, name] of [
      [A, 'Contoso'],
      [B, 'Fabrikam'],
    ] as const) {
      const added = await tenants('add', tenantId, '--name', name);
      expect(added.code, added.stdout + added.stderr).toBe(0);
      expect(added.stdout).toContain('active');
      expect((await oursIn(tenantId)).map((s) => s.resource).sort()).toEqual(['/chats/getAllMembers?model=A', '/chats/getAllMessages?model=A']);
    }
    expect(await oursIn(C)).toEqual([]);
    const rows = await listed();
    expect(rows.find((t) => t.tenantId === A)).toMatchObject({ displayName: 'Contoso', state: 'active', subscriptions: 2 });
    expect(rows.find((t) => t.tenantId === B)).toMatchObject({ displayName: 'Fabrikam', state: 'active', subscriptions: 2 });

    const chatA = await chatIn(A);
    const chatB = await chatIn(B);
    await post(chatA, USER[A]!, 'hello from A');
    await post(chatB, USER[B]!, 'hello from B');
    const hasMessage = (events: TeamsCloudEvent[]) => events.some((e) => e.type.endsWith('chatMessage.created') && (e.data as { body?: { content?: string } })?.body?.content?.startsWith('hello'));
    const inA = await eventsOn(QUEUE[A]!, hasMessage);
    const inB = await eventsOn(QUEUE[B]!, hasMessage);
    expect(hasMessage(inA) && hasMessage(inB), JSON.stringify({ rows: await listed(), log: host.lines.filter((l) => /tenant|rejected|failed|error|dead/i.test(String(l.event))).slice(-30) })).toBe(
      true,
    );
    expect(new Set(inA.map((e) => e.tenantid))).toEqual(new Set([A]));
    expect(new Set(inB.map((e) => e.tenantid))).toEqual(new Set([B]));
    expect(inA.some((e) => e.type.endsWith('chatMember.created'))).toBe(true);
  });

  it("refuses B's item carrying only A's validation token, and the notifications of C, a tenant never added", async () => {
    const cert = await createTestCertificate();
    // Genuine deliveries of A and C with their own tokens, to a sink (the app subscribes there directly).
    for (const tenantId of [A, C]) {
      const created = await appIn(tenantId).post('/v1.0/subscriptions', {
        resource: '/chats/getAllMessages?model=A',
        changeType: 'created',
        notificationUrl: sink.url,
        lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
        expirationDateTime: inMinutes(120),
        clientState: LOCAL_CLIENT_STATE,
        includeResourceData: true,
        encryptionCertificate: cert.base64,
        encryptionCertificateId: 'sink',
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await post(await chatIn(tenantId), USER[tenantId]!, `for the sink in ${tenantId.slice(0, 4)}`);
    }
    const deliveries = () => sink.notifications().filter((n) => n.validationTokens?.length);
    const deadline = Date.now() + 60_000;
    while (!([A, C].every((t) => deliveries().some((d) => d.value.some((i) => i.tenantId === t))) || Date.now() > deadline)) await new Promise((r) => setTimeout(r, 100));
    const ofTenant = (t: string) => deliveries().find((d) => d.value.some((i) => i.tenantId === t))!;

    const forged = ofTenant(A);
    const relayed = (body: unknown) => fetch(env.GRAPH_NOTIFICATION_URL!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = host.lines.length;
    // A's genuine token, B's item (B is served: its own token is what is missing).
    const asB = { ...forged, value: forged.value.map((i) => ({ ...i, tenantId: B, subscriptionId: '0b0b0b0b-0000-4000-8000-000000000001' })) };
    expect((await relayed(asB)).status).toBe(202);
    // C's genuine delivery, with C's own valid token: C is not served.
    expect((await relayed(ofTenant(C))).status).toBe(202);
    await host.waitFor((l) => host.lines.indexOf(l) >= before && l.event === 'security.notification_rejected' && l.tenantId === C, 60_000);
    const rejected = host.lines.slice(before).filter((l) => l.event === 'security.notification_rejected');
    expect(rejected).toEqual(
      expect.arrayContaining([expect.objectContaining({ tenantId: B, reason: 'validation_token_invalid' }), expect.objectContaining({ tenantId: C, reason: 'tenant_not_allowed' })]),
    );
    // Refused at the door: nothing of it was queued (the incoming queue holds no item of that subscription).
    await host.waitFor((l) => host.lines.indexOf(l) >= before && l.event === 'security.rejections_summary', 60_000);
    const inB = await eventsOn(QUEUE[B]!, () => true);
    expect(inB.some((e) => e.subscriptionid === '0b0b0b0b-0000-4000-8000-000000000001')).toBe(false);
  });

  it('shows a tenant whose consent lacks a permission as degraded, naming it', async () => {
    const added = await tenants('add', D, '--name', 'Northwind');
    expect(added.code, added.stdout + added.stderr).toBe(0);
    const d = (await listed()).find((t) => t.tenantId === D)!;
    expect(d).toMatchObject({ state: 'degraded', lastErrorCode: 'missing_permission' });
    expect(`${d.missingPermissions ?? ''} ${d.lastError ?? ''}`).toContain('Chat.Read.All');
  });

  it("removes A: its subscriptions deleted in Graph, its later notifications refused, while B's flow on", async () => {
    const removed = await tenants('remove', A);
    expect(removed.code, removed.stdout + removed.stderr).toBe(0);
    expect(await oursIn(A)).toEqual([]);
    expect((await listed()).find((t) => t.tenantId === A)).toMatchObject({ state: 'removed' });

    // A notification of A (a genuine one, replayed) is refused from now on: the host reads the registry again.
    const fromA = sink.notifications().find((n) => n.validationTokens?.length && n.value.some((i) => i.tenantId === A))!;
    const before = host.lines.length;
    const deadline = Date.now() + 60_000;
    for (;;) {
      expect((await fetch(env.GRAPH_NOTIFICATION_URL!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fromA) })).status).toBe(202);
      const seen = host.lines.slice(before).some((l) => l.event === 'security.notification_rejected' && l.tenantId === A && l.reason === 'tenant_not_allowed');
      if (seen || Date.now() > deadline) {
        expect(seen).toBe(true);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }

    const chatB = await chatIn(B);
    await post(chatB, USER[B]!, 'B flows on');
    const inB = await eventsOn(QUEUE[B]!, (events) => events.some((e) => (e.data as { body?: { content?: string } })?.body?.content === 'B flows on'));
    expect(inB.some((e) => (e.data as { body?: { content?: string } })?.body?.content === 'B flows on')).toBe(true);
  });
});
