import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { ALICE, BOB, CAROL } from '../helpers/users.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));

let azurite: AzuriteProcess;
let host: HostProcess;
let dir: string;
let driver: string;
let env: Record<string, string>;

beforeAll(async () => {
  azurite = await testAzurite();
  dir = mkdtempSync(join(tmpdir(), 'tcr-loop-'));
  const desired = join(dir, 'subscriptions.json');
  writeFileSync(
    desired,
    JSON.stringify({
      subscriptions: [
        { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true },
        { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true },
        { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
        { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      ],
    }),
  );
  env = { AzureWebJobsStorage: azurite.connectionString, SUBSCRIPTIONS_FILE: desired, LOCAL_CERTIFICATE_DIR: join(dir, 'certs'), SUBSCRIPTIONS_TABLE: 'loopsubscriptions' };
  host = await startHost(REPO_ROOT, { ...env, LOCAL_GRAPH_SIMULATOR: 'true', 'AzureWebJobs.reconcileSubscriptions.Disabled': 'false' });
  driver = (host.lines.find((l) => l.event === 'simulator.started') as { driver: string }).driver;
  env.GRAPH_BASE_URL = (host.lines.find((l) => l.event === 'simulator.started') as { url: string }).url;
  env.GRAPH_NOTIFICATION_URL = `${host.url}/api/notifications`;
  env.GRAPH_LIFECYCLE_URL = `${host.url}/api/lifecycle`;
  // What npm start runs the simulator with; then exact counts for the tests below (member events carry no
  // version, so Graph's duplicates are duplicate events), and no slow-endpoint drops on a loaded machine.
  startDelivery = await call('PATCH', '/delivery', {});
  await call('PATCH', '/delivery', { duplicateRate: 0, slowEndpoint: { enabled: false } });
});
let startDelivery: Record<string, any>;
afterAll(async () => {
  await host?.stop();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${driver}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Record<string, any>;
};

async function eventsOn(queue: string, count: number): Promise<TeamsCloudEvent[]> {
  const q = queueService(azurite).getQueueClient(queue);
  const deadline = Date.now() + 90_000; // generous: a loaded machine is slow, and the wait ends as soon as the events are there
  for (;;) {
    const items = (await q.exists()) ? (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems : [];
    if (items.length >= count || Date.now() > deadline) return items.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start's whole loop: simulator, host, Azurite", () => {
  it('creates the desired subscriptions at start, and Teams activity arrives decrypted on the four queues', async () => {
    await host.waitFor((l) => l.event === 'subscriptions.reconciled');
    expect(host.lines.find((l) => l.event === 'subscriptions.reconciled')).toMatchObject({ created: 4, failed: 0 });

    for (const [id, displayName] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
      [CAROL, 'Carol'],
    ])
      await call('POST', '/users', { id, displayName });
    const chat = await call('POST', '/chats', { members: [ALICE, BOB], topic: 'Launch', chatType: 'group' });
    await call('POST', `/chats/${chat.id}/members`, { userId: CAROL });
    await call('DELETE', `/chats/${chat.id}/members/${CAROL}`);
    const message = await call('POST', `/chats/${chat.id}/messages`, { from: ALICE, content: 'Ship it?' });
    await call('PATCH', `/chats/${chat.id}/messages/${message.id}`, { content: 'Ship it!' });
    await call('DELETE', `/chats/${chat.id}/messages/${message.id}`);
    const team = await call('POST', '/teams', { displayName: 'Launch team', channels: ['General'] });
    const channel = team.channels[0].id as string;
    const post = await call('POST', `/teams/${team.id}/channels/${encodeURIComponent(channel)}/messages`, { from: BOB, content: 'Launch at noon' });

    const chats = await eventsOn('teams-chats', 1);
    const members = await eventsOn('teams-chat-members', 4);
    // Carol's addition and removal are also system event messages in the chat, notified as new messages.
    const chatMessages = await eventsOn('teams-chat-messages', 5);
    const channelMessages = await eventsOn('teams-channel-messages', 1);

    expect(chats.map((e) => e.type)).toContain('com.microsoft.graph.teams.chat.created');
    expect(chats.find((e) => e.type.endsWith('chat.created'))?.data).toMatchObject({ id: chat.id, topic: 'Launch', chatType: 'group' });
    expect(members.map((e) => e.type).sort()).toEqual([
      'com.microsoft.graph.teams.chatMember.created',
      'com.microsoft.graph.teams.chatMember.created',
      'com.microsoft.graph.teams.chatMember.created',
      'com.microsoft.graph.teams.chatMember.deleted',
    ]);
    expect(members.find((e) => e.changetype === 'deleted')?.data).toMatchObject({ userId: CAROL });
    // No ordering is promised: find each change by its type.
    expect(
      chatMessages
        .filter((e) => e.messageid === message.id)
        .map((e) => e.changetype)
        .sort(),
    ).toEqual(['created', 'deleted', 'updated']);
    const system = chatMessages.filter((e) => e.messageid !== message.id);
    expect(system.map((e) => `${e.changetype} ${(e.data as { eventDetail: { '@odata.type': string } }).eventDetail['@odata.type']}`).sort()).toEqual([
      'created #microsoft.graph.membersAddedEventMessageDetail',
      'created #microsoft.graph.membersDeletedEventMessageDetail',
    ]);
    expect(chatMessages.find((e) => e.changetype === 'updated')?.data).toMatchObject({ id: message.id, body: { content: 'Ship it!' } });
    expect(chatMessages.find((e) => e.changetype === 'deleted')?.data).toMatchObject({ id: message.id, deletedDateTime: expect.any(String) });
    expect(channelMessages[0]).toMatchObject({ teamid: team.id, channelid: channel, messageid: post.id, data: { body: { content: 'Launch at noon' } } });
  });

  it("runs Graph's duplicates and slow-endpoint rule under npm start, and de-duplication keeps one event per message change", async () => {
    expect(startDelivery).toMatchObject({ duplicateRate: 0.02, slowEndpoint: { enabled: true, thresholdMs: 2900 } });
    await host.waitFor((l) => l.event === 'subscriptions.reconciled');
    await call('PATCH', '/delivery', { duplicateRate: 1 }); // every batch twice
    const chat = await call('POST', '/chats', { members: [ALICE, BOB], topic: 'Twice', chatType: 'group' });
    const message = await call('POST', `/chats/${chat.id}/messages`, { from: ALICE, content: 'once' });
    await call('PATCH', `/chats/${chat.id}/messages/${message.id}`, { content: 'once, edited' });
    await call('PATCH', '/delivery', { duplicateRate: 0 });
    const log = async () => (await call('GET', '/deliveries')).value as { duplicate: boolean; status: number; items: { resource: string }[] }[];
    const deadline = Date.now() + 20_000;
    while ((await log()).filter((a) => a.duplicate && a.status === 202 && a.items.some((i) => i.resource.includes(message.id))).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    // Every copy was accepted and queued; once the incoming queue is drained, each has been routed (or dropped).
    const incoming = queueService(azurite).getQueueClient('graph-notifications');
    while (Date.now() < deadline && (await incoming.getProperties()).approximateMessagesCount !== 0) await new Promise((r) => setTimeout(r, 100));
    const events = (await eventsOn('teams-chat-messages', 2)).filter((e) => e.messageid === message.id);
    expect(events.map((e) => e.changetype).sort()).toEqual(['created', 'updated']);
  });

  it('keeps every real membership change: a member added, removed, added and removed again is 2 created + 2 deleted events', async () => {
    const chat = await call('POST', '/chats', { members: [ALICE, BOB], topic: 'Churn', chatType: 'group' });
    for (let round = 0; round < 2; round++) {
      await call('POST', `/chats/${chat.id}/members`, { userId: CAROL });
      await call('DELETE', `/chats/${chat.id}/members/${CAROL}`);
    }
    const members = queueService(azurite).getQueueClient('teams-chat-members');
    const deadline = Date.now() + 90_000; // generous: a loaded machine is slow, and the wait ends as soon as the events are there
    let carol: TeamsCloudEvent[] = [];
    while (Date.now() < deadline) {
      const peeked = (await members.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
      carol = peeked.filter((e) => e.chatid === chat.id && (e.data as { userId?: string }).userId === CAROL);
      if (carol.length >= 4) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(carol.map((e) => e.changetype).sort()).toEqual(['created', 'created', 'deleted', 'deleted']);
    expect(new Set(carol.map((e) => e.id)).size).toBe(4);
  });

  it('shows the subscriptions with the CLI: status table and --json, exit code 0', async () => {
    const status = await run(process.execPath, [CLI, 'status'], { cwd: dir, env: { ...process.env, ...env } });
    expect(status.stdout).toMatch(/^name\s+resource\s+subscription\s+expires/);
    expect(status.stdout).toContain('chat-messages');
    const list = await run(process.execPath, [CLI, 'list', '--json'], { cwd: dir, env: { ...process.env, ...env } });
    expect((JSON.parse(list.stdout) as unknown[]).length).toBe(4);
    const sync = await run(process.execPath, [CLI, 'sync', '--json'], { cwd: dir, env: { ...process.env, ...env } });
    expect((JSON.parse(sync.stdout) as { entries: { action: string }[] }).entries.map((e) => e.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('exits 2 on bad usage and 3 on invalid configuration', async () => {
    await expect(run(process.execPath, [CLI, 'explode'], { cwd: dir, env: { ...process.env, ...env } })).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, [CLI, 'status'], { cwd: dir, env: { ...process.env, ...env, GRAPH_AUTH_MODE: 'telepathy' } })).rejects.toMatchObject({ code: 3 });
  });
});
