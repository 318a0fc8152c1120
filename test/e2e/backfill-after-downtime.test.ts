import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { ALICE, BOB, CAROL, DAVE } from '../helpers/users.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';

const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let dir: string;
let env: Record<string, string>;
let port: number;
let host: HostProcess | undefined;

beforeAll(async () => {
  azurite = await testAzurite();
  // Graph's four-hour retry horizon shrunk to about a second: it gives up on a stopped app at once.
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0001, requestTimeoutMs: 1000 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-downtime-'));
  const desired = join(dir, 'subscriptions.json');
  writeFileSync(
    desired,
    JSON.stringify({
      subscriptions: [
        { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
        { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
        { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true },
      ],
    }),
  );
  port = await freePort();
  env = {
    AzureWebJobsStorage: azurite.connectionString,
    SUBSCRIPTIONS_FILE: desired,
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    ...simulatorAppSettings(sim, `http://127.0.0.1:${port}`),
    BACKFILL_AFTER_DOWNTIME_SECONDS: '2',
    BACKFILL_MARGIN_MINUTES: '1',
    'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
  };
});
afterAll(async () => {
  await host?.stop();
  await sim?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventsOn(queue: string, until: (events: TeamsCloudEvent[]) => boolean): Promise<TeamsCloudEvent[]> {
  const q = queueService(azurite).getQueueClient(queue);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const items = (await q.exists()) ? (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems : [];
    const events = items.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
    if (until(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('after the app was down', () => {
  it('reads back what Graph gave up delivering, messages and memberships, each change once with its full resource', async () => {
    host = await startHost(REPO_ROOT, env, port);
    await host.waitFor((l) => l.event === 'subscriptions.reconciled', 60_000);
    sim.teams.addUser({ id: ALICE, displayName: 'Alice' });
    sim.teams.addUser({ id: BOB, displayName: 'Bob' });
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    const chat = sim.teams.createChat({ members: [ALICE, BOB], topic: 'Launch' });
    const before = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Before the outage' });
    const edited = sim.teams.postChatMessage(chat.id, { from: BOB, content: 'Draft' });
    await eventsOn('teams-chat-messages', (e) => e.length >= 2);
    await host.stop();
    host = undefined;

    // While the app is down: an edit, a new message, a member added, a channel post. Graph gives up on each.
    const sent = sim.deliveries.log.length;
    sim.teams.editChatMessage(chat.id, edited.id, 'Final');
    const during = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'During the outage' });
    sim.teams.addMember(chat.id, CAROL);
    const team = sim.teams.createTeam({ displayName: 'Launch team', channels: ['General'] });
    const channelId: string = [...team.channels.values()][0]!.id;
    const post = sim.teams.postChannelMessage(team.id, channelId, { from: BOB, content: 'Launch at noon' });
    await sim.deliveries.idle();
    expect(sim.deliveries.log.slice(sent).filter((a) => a.droppedAfterRetries).length).toBeGreaterThan(0);
    expect(sim.deliveries.log.slice(sent).some((a) => a.status === 202)).toBe(false);
    await new Promise((r) => setTimeout(r, 2500)); // longer than BACKFILL_AFTER_DOWNTIME_SECONDS

    host = await startHost(REPO_ROOT, env, port);
    await host.waitFor((l) => l.event === 'backfill.downtime_detected', 60_000);
    const chatEvents = await eventsOn('teams-chat-messages', (e) => e.length >= 5);
    const channelEvents = await eventsOn('teams-channel-messages', (e) => e.length >= 1);

    const summary = (events: TeamsCloudEvent[]) => events.map((e) => `${e.messageid} ${e.changetype}${e.backfilled ? ' backfilled' : ''}`).sort();
    // Carol's addition is in the chat's history as a system event message: read back with the rest.
    const system = chatEvents.filter((e) => (e.data as { messageType?: string }).messageType === 'systemEventMessage');
    expect(system.map((e) => (e.data as { eventDetail: { members: { id: string }[] } }).eventDetail.members[0]?.id)).toEqual([CAROL]);
    expect(summary(chatEvents.filter((e) => !system.includes(e)))).toEqual(
      [`${before.id} created`, `${edited.id} created`, `${edited.id} updated backfilled`, `${during.id} created backfilled`].sort(),
    );
    expect(chatEvents.find((e) => e.messageid === during.id)?.data).toMatchObject({ body: { content: 'During the outage' }, from: { user: { id: ALICE } } });
    expect(chatEvents.find((e) => e.messageid === edited.id && e.backfilled)?.data).toMatchObject({ body: { content: 'Final' } });
    expect(summary(channelEvents)).toEqual([`${post.id} created backfilled`]);

    // Carol joined during the outage: the chat's members now, against the members the app had routed.
    const members = await eventsOn('teams-chat-members', (e) => e.some((x) => x.backfilled));
    const carol = [...chat.members.values()].find((m) => m.userId === CAROL)!;
    expect(members.filter((e) => e.backfilled).map((e) => `${e.memberid} ${e.changetype}`)).toEqual([`${carol.id} created`]);
    expect(
      members
        .filter((e) => !e.backfilled)
        .map((e) => (e.data as { userId: string }).userId)
        .sort(),
    ).toEqual([ALICE, BOB].sort());

    // The operator's view: per subscription, its last delivery, its gaps and how far their backfill came.
    type Row = { name: string; lastDelivery?: string; gapList: { reason: string; status: string; changesFound?: number }[] };
    const status = async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--json'], { cwd: dir, env: { ...process.env, ...env } });
      return new Map((JSON.parse(stdout) as Row[]).map((s) => [s.name, s]));
    };
    let byName = await status();
    for (let i = 0; i < 60 && byName.get('chat-messages')?.gapList[0]?.status !== 'filled'; i++) {
      await new Promise((r) => setTimeout(r, 500));
      byName = await status();
    }
    expect(byName.get('chat-messages')?.lastDelivery).toEqual(expect.any(String));
    expect(byName.get('chat-messages')?.gapList).toEqual([expect.objectContaining({ reason: 'downtime', status: 'filled' })]);
    expect(byName.get('members')?.gapList).toEqual([expect.objectContaining({ reason: 'downtime', status: expect.stringMatching(/filling|filled/) })]);
  });

  /** A chat of Alice and Bob whose two member events are out, and the host stopped: the app is down. */
  async function chatThenDowntime(topic: string) {
    host ??= await startHost(REPO_ROOT, env, port);
    await host.waitFor((l) => l.event === 'subscriptions.reconciled', 60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB], topic });
    await eventsOn('teams-chat-members', (e) => e.filter((x) => x.chatid === chat.id).length >= 2);
    await host.stop();
    host = undefined;
    return chat;
  }
  /** Graph gives up on what it could not deliver, and the app stays down longer than BACKFILL_AFTER_DOWNTIME_SECONDS. */
  async function graphGivesUp() {
    await sim.deliveries.idle();
    await new Promise((r) => setTimeout(r, 2500));
  }
  const daveIn = (chatId: string) => (e: TeamsCloudEvent) => e.chatid === chatId && (e.data as { userId?: string }).userId === DAVE;
  /** Once the host logged `count` closed gaps of the members subscription. */
  async function membersGapsClosed(count: number) {
    for (let i = 0; i < 600 && host!.lines.filter((l) => l.event === 'backfill.gap_closed' && l.name === 'members').length < count; i++) await new Promise((r) => setTimeout(r, 200));
  }

  it("reads back a member added and removed while the app was down from the chat's history: both events, once each, in order", async () => {
    sim.teams.addUser({ id: DAVE, displayName: 'Dave' });
    const chat = await chatThenDowntime('Short stay');
    sim.teams.addMember(chat.id, DAVE, { initiator: ALICE });
    sim.teams.removeMember(chat.id, DAVE, { initiator: ALICE });
    await graphGivesUp();

    host = await startHost(REPO_ROOT, env, port);
    await eventsOn('teams-chat-members', (e) => e.filter(daveIn(chat.id)).length >= 2);
    await membersGapsClosed(1);
    const dave = (await eventsOn('teams-chat-members', () => true)).filter(daveIn(chat.id));
    expect(dave.map((e) => `${e.changetype} ${e.backfilled}`)).toEqual(['created true', 'deleted true']);
    expect(Date.parse(dave[0]!.time)).toBeLessThan(Date.parse(dave[1]!.time));
  });

  it('reads back a member added in one downtime and removed in the next, the first gap filled only after the removal: both events, once each', async () => {
    const chat = await chatThenDowntime('Two gaps');
    sim.teams.addMember(chat.id, DAVE, { initiator: BOB });
    await graphGivesUp();
    // The first gap is opened and its pieces queued, but nothing reads them before the member is gone again.
    host = await startHost(REPO_ROOT, { ...env, AzureWebJobs_backfillGaps_Disabled: 'true' }, port);
    await host.waitFor((l) => l.event === 'backfill.gap_opened' && l.name === 'members', 60_000);
    await host.stop();
    host = undefined;
    sim.teams.removeMember(chat.id, DAVE, { initiator: BOB });
    await graphGivesUp();

    host = await startHost(REPO_ROOT, env, port);
    await eventsOn('teams-chat-members', (e) => e.filter(daveIn(chat.id)).length >= 2);
    await membersGapsClosed(2);
    const dave = (await eventsOn('teams-chat-members', () => true)).filter(daveIn(chat.id));
    expect(dave.map((e) => `${e.changetype} ${e.backfilled}`).sort()).toEqual(['created true', 'deleted true']);
  });
});
