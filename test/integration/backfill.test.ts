import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TableClient } from '@azure/data-tables';
import type { QueueClient } from '@azure/storage-queue';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBackfillPiece } from '../../shared/backfill/backfill-piece.js';
import { POISONED_PIECE_REQUEUES } from '../../shared/backfill/backfill-worker.js';
import { createBackfill } from '../../shared/backfill/create-backfill.js';
import { GapLog, type Gap } from '../../shared/backfill/gap-log.js';
import { PieceStore } from '../../shared/backfill/piece-store.js';
import { MembershipLog } from '../../shared/backfill/membership-log.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { readSettings } from '../../shared/config/settings.js';
import { createQueueServiceClient, createTableClient } from '../../shared/config/storage-clients.js';
import { createRecordingLogger } from '../../shared/log.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { createNotificationProcessor } from '../../shared/route/create-notification-processor.js';
import { createResourceHydrator, UnknownSubscriptionError } from '../../shared/route/resource-hydrator.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../../shared/queue/queued-notification.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { createSubscriptionManager } from '../../shared/subscriptions/create-subscription-manager.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { memberId } from '../../dev/graph-simulator/teams-model.js';
import { drainQueue, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { createNotificationReceiver } from '../../shared/receive/create-notification-receiver.js';
import { EXPIRED_TOKEN_GAP_MARGIN_MS } from '../../shared/receive/expired-token-gaps.js';
import { encryptedNotification, testEnv } from '../helpers/notifications.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { ALICE, BOB, CAROL, DAVE } from '../helpers/users.js';
import { nonEmpty } from '../helpers/non-empty.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';

let azurite: AzuriteProcess;
let sink: WebhookSink;
let dir: string;
let certs: LocalCertificateStore;
beforeAll(async () => {
  azurite = await testAzurite();
  sink = await startWebhookSink();
  dir = mkdtempSync(join(tmpdir(), 'tcr-backfill-'));
  certs = new LocalCertificateStore(join(dir, 'certs'));
  await certs.current();
});
afterAll(async () => {
  await sink.close();
  await azurite.stop();
  rmSync(dir, { recursive: true, force: true });
});

let sim: GraphSimulator;
beforeEach(async () => {
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0001 } });
});
afterEach(() => sim.close());

/** The app's own wiring (route, subscriptions, backfill) against the simulator and Azurite, names unique per call. */
function relay(subscriptions: unknown[], env: Record<string, string> = {}) {
  const file = join(dir, `${uniqueName('desired')}.json`);
  writeFileSync(file, JSON.stringify({ subscriptions }));
  const queues = { chatMessage: uniqueName('chat-msgs'), channelMessage: uniqueName('chan-msgs'), chat: uniqueName('chats'), chatMember: uniqueName('members') };
  const routes = join(dir, `${uniqueName('routes')}.json`);
  writeFileSync(routes, JSON.stringify({ defaultRoutes: false, routes: Object.entries(queues).map(([kind, q]) => ({ match: { kind }, queues: [q] })) }));
  const settings = readSettings(
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      ...simulatorAppSettings(sim),
      GRAPH_NOTIFICATION_URL: sink.url,
      GRAPH_LIFECYCLE_URL: sink.url.replace('notifications', 'lifecycle'),
      SUBSCRIPTIONS_FILE: file,
      SUBSCRIPTIONS_TABLE: `subs${Math.random().toString(36).slice(2, 10)}`,
      SUBSCRIPTION_EVENTS_QUEUE: uniqueName('sub-events'),
      BACKFILL_QUEUE: uniqueName('backfill'),
      BACKFILL_TABLE: `backfill${Math.random().toString(36).slice(2, 10)}`,
      DEDUP_TABLE: `dedup${Math.random().toString(36).slice(2, 10)}`,
      DEAD_LETTER_QUEUE: uniqueName('dead'),
      ROUTES_FILE: routes,
      LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
      ...env,
    }),
  );
  const logger = createRecordingLogger();
  const manager = createSubscriptionManager(settings, certs, logger, { now: () => sim.clock.now() });
  const processor = () => createNotificationProcessor(settings, { certificates: certs, hydrator: createResourceHydrator(manager) });
  /** A fresh instance of the app's parts, as after a restart. */
  const start = () => createBackfill(settings, processor(), manager, { now: () => sim.clock.now() });
  const service = createQueueServiceClient(settings.storage);
  const first = start();
  return {
    settings,
    queues,
    logger,
    manager,
    processor: processor(),
    backfill: first,
    start,
    /** Every event on the kind's queue, each taken once (kept invisible, not deleted: fast for thousands). */
    events: async (kind: keyof typeof queues) => {
      const q = service.getQueueClient(queues[kind]);
      const out: TeamsCloudEvent[] = [];
      if (!(await q.exists())) return out;
      const reader = async () => {
        for (;;) {
          const { receivedMessageItems } = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
          if (receivedMessageItems.length === 0) return;
          out.push(...receivedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText)));
        }
      };
      await Promise.all([reader(), reader(), reader(), reader()]);
      return out;
    },
    /**
     * Plays the backfillGaps queue function until every gap is closed and its queue is empty (a late copy of a
     * piece would otherwise run during the next step of the test): takes pieces as the host would
     * (batch, a lease longer than any piece takes), processes each with `worker`, deletes it when done.
     * `abandon` pieces are taken and never worked on, `crashAfterWork` pieces are worked on but never
     * deleted (the host died): both come back when their lease runs out, shortened here to a second.
     */
    async drain(backfill = first, options: { abandon?: number; crashAfterWork?: number } = {}) {
      const queue = service.getQueueClient(settings.backfill.queue);
      let abandon = options.abandon ?? 0;
      let crashAfterWork = options.crashAfterWork ?? 0;
      // Gives up only after two minutes without a single piece taken: a loaded machine is slow, not stuck.
      let progressAt = Date.now();
      while (Date.now() - progressAt < 120_000) {
        const open = (await backfill.gaps.list({ unfinished: true })).length;
        const { receivedMessageItems: batch } = (await queue.exists()) ? await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 120 }) : { receivedMessageItems: [] };
        if (batch.length === 0) {
          // Every gap closed and no message left, not even one out of sight (a copy of a piece put back for later).
          if (open === 0 && (await messagesLeft(queue)) === 0) return;
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        progressAt = Date.now();
        await Promise.all(
          batch.map(async (m) => {
            const crash = () => queue.updateMessage(m.messageId, m.popReceipt, undefined, 1);
            if (abandon > 0) {
              abandon--;
              await crash();
              return;
            }
            const piece = parseBackfillPiece(decodeJsonMessage(m.messageText));
            if (!piece) throw new Error(`not a piece: ${m.messageText}`);
            await backfill.worker.process(piece, logger);
            if (crashAfterWork > 0) {
              crashAfterWork--; // the work is done but the host died before deleting the message
              await crash();
              return;
            }
            await queue.deleteMessage(m.messageId, m.popReceipt);
          }),
        );
      }
      throw new Error('the backfill made no progress for two minutes');
    },
  };
}

const at = () => new Date(sim.clock.now());
/** Messages on a queue, those out of sight (taken, or put back for later) too. */
const messagesLeft = async (queue: QueueClient) => ((await queue.exists()) ? (await queue.getProperties()).approximateMessagesCount : 0);
const ALL_MEMBERS = { name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true };
const userOf = (e: TeamsCloudEvent) => (e.data as { userId: string }).userId;
/** Each event's user, change, time and id: what a failed assertion on member events prints. */
const eventsAsRead = (events: readonly TeamsCloudEvent[]) => events.map((e) => `${userOf(e)} ${e.changetype} ${e.time} ${e.id}`).join('; ');
/** Each event as `<user> <changeType>`, sorted. */
const whoChanged = (events: readonly TeamsCloudEvent[]) => events.map((e) => `${userOf(e)} ${e.changetype}`).sort();
/**
 * Reads the window from `from` to now back, then again as a second gap over the same changes (another
 * reason, an overlap, a second earlier): the second read must bring no new event.
 */
async function readWindowTwice(r: ReturnType<typeof relay>, from: Date): Promise<void> {
  await readBack(r, from);
  await readBack(r, new Date(from.getTime() - 1000));
}
/** Opens a manual gap from `from` to `to` (now) and drains the backfill. */
async function readBack(r: ReturnType<typeof relay>, from: Date, to = at()): Promise<void> {
  await r.backfill.detector.open('manual', from, to, undefined, r.logger);
  await r.drain();
}
/**
 * A relay on every chat's members (no margin) and a chat of Alice, Bob and Carol created inside the window
 * `[from, to]`, a minute from each end, that no notification covered.
 */
function chatCreatedInAGap() {
  addAliceAndBob();
  sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
  const r = relay([ALL_MEMBERS], { BACKFILL_MARGIN_MINUTES: '0' });
  const from = at();
  sim.clock.advance(60_000);
  const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL] });
  sim.clock.advance(60_000);
  return { r, chat, from, to: at() };
}
/**
 * A relay on every chat's members and a chat of Alice, Bob and Carol created after `from`; Carol (a first
 * member: no system message of her addition) leaves at `removedAt`, a minute before now, all while
 * notifications are lost.
 */
function firstMemberGoneInAGap() {
  addAliceAndBob();
  sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
  const r = relay([ALL_MEMBERS]);
  const from = at();
  sim.clock.advance(60_000);
  const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL] });
  sim.clock.advance(60_000);
  sim.teams.removeMember(chat.id, CAROL, { initiator: BOB });
  const removedAt = chat.lastUpdatedDateTime;
  sim.clock.advance(60_000);
  return { r, chat, from, removedAt };
}
/** The events on the chat member queue, oldest first (at most 32). */
async function memberEventsInQueueOrder(r: ReturnType<typeof relay>): Promise<TeamsCloudEvent[]> {
  const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.queues.chatMember);
  return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
}
const CHAT_MESSAGES = { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true };
/** A relay subscribed to every chat message, and one message posted a second before now that Graph never delivered (`from`: just before it). */
async function undeliveredChatMessage() {
  const chat = aliceAndBobChat();
  const r = relay([CHAT_MESSAGES]);
  await r.manager.reconciler.reconcile();
  const from = sim.clock.date().toISOString();
  const unseen = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Never delivered' });
  sim.clock.advance(1000);
  return { r, from, unseen };
}
/** A queued reference notification (no resource data) of `subscriptionId`. */
const reference = (subscriptionId: string, resource: string, changeType = 'created'): QueuedNotification => ({
  schema: QUEUED_NOTIFICATION_SCHEMA,
  kind: 'change',
  receivedAt: new Date().toISOString(),
  notification: { subscriptionId, changeType, resource, resourceData: { id: 'x' }, tenantId: sim.tenantId },
});
const addAliceAndBob = () => {
  sim.teams.addUser({ id: ALICE, displayName: 'Alice' });
  sim.teams.addUser({ id: BOB, displayName: 'Bob' });
};
/**
 * Graph removes the relay's subscription `name` a minute on (nothing is delivered from then on), `meanwhile`
 * happens, and a minute later the relay gets the `subscriptionRemoved` lifecycle event and recreates it: the
 * reconciler records the window between. Returns what `meanwhile` returned.
 */
async function removedAndRecreated<T>(r: ReturnType<typeof relay>, meanwhile: () => T, name = 'chat-messages'): Promise<T> {
  const removedId = (await r.manager.records.get(name))!.subscriptionId!;
  sim.clock.advance(60_000);
  sim.sendLifecycle(removedId, 'subscriptionRemoved');
  const happened = meanwhile();
  sim.clock.advance(60_000);
  const lifecycle = {
    schema: QUEUED_NOTIFICATION_SCHEMA,
    kind: 'lifecycle',
    receivedAt: new Date().toISOString(),
    notification: { subscriptionId: removedId, tenantId: sim.tenantId, lifecycleEvent: 'subscriptionRemoved' },
  };
  expect(await r.manager.lifecycle.process(lifecycle, r.logger)).toMatchObject({ status: 'recreated' });
  return happened;
}
/** Piece rows per gap id (partition `piece|<gap id>`) in the relay's backfill table. */
async function pieceRowsOf(r: ReturnType<typeof relay>): Promise<Map<string, number>> {
  const byGap = new Map<string, number>();
  const table = createTableClient(r.settings.storage, r.settings.backfill.table);
  for await (const e of table.listEntities<{ partitionKey: string }>({ queryOptions: { select: ['PartitionKey'] } })) {
    if (!e.partitionKey.startsWith('piece|')) continue;
    const gapId = decodeURIComponent(e.partitionKey.slice('piece|'.length));
    byGap.set(gapId, (byGap.get(gapId) ?? 0) + 1);
  }
  return byGap;
}
/** `target` with some methods replaced; the others are bound to it (a class's private fields need their own `this`). */
function withMethods<T extends object>(target: T, replaced: { [K in keyof T]?: T[K] }): T {
  return new Proxy(target, {
    get(t, property) {
      if (Object.hasOwn(replaced, property)) return replaced[property as keyof T];
      const value: unknown = Reflect.get(t, property, t);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}
/** Alice and Bob, and a chat of the two. */
const aliceAndBobChat = () => {
  addAliceAndBob();
  return sim.teams.createChat({ members: [ALICE, BOB] });
};

describe('backfill', () => {
  it('reads back what Graph never delivered, each change once with its full resource, and nothing again on a second pass', async () => {
    const r = relay([
      { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
    ]);
    await r.manager.reconciler.reconcile();
    addAliceAndBob();
    sim.deliveries.options = { ...sim.deliveries.options, dropAll: true };
    const from = at();
    sim.clock.advance(60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB], topic: 'Launch' });
    const kept = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Ship it?' });
    const gone = sim.teams.postChatMessage(chat.id, { from: BOB, content: 'Typo' });
    sim.clock.advance(60_000);
    sim.teams.editChatMessage(chat.id, kept.id, 'Ship it!');
    sim.teams.deleteChatMessage(chat.id, gone.id);
    const team = sim.teams.createTeam({ displayName: 'Launch team', channels: ['General'] });
    const channel = [...team.channels.values()][0]!;
    const channelId: string = channel.id;
    const post = sim.teams.postChannelMessage(team.id, channelId, { from: BOB, content: 'Launch at noon' });
    sim.clock.advance(60_000);
    const to = at();
    sim.deliveries.options = { ...sim.deliveries.options, dropAll: false };
    expect(sim.deliveries.log.filter((a) => a.dropped).length).toBeGreaterThan(0);

    const gaps = await r.backfill.detector.open('manual', from, to, undefined, r.logger);
    expect(gaps.map((g) => g.status)).toEqual(['filling', 'filling']);
    await r.drain();
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['filled', 'filled']);

    const chatEvents = await r.events('chatMessage');
    expect(chatEvents.map((e) => `${e.messageid} ${e.changetype}`).sort()).toEqual([`${gone.id} deleted`, `${kept.id} updated`].sort());
    expect(nonEmpty(chatEvents).every((e) => e.backfilled === true && e.datamode === 'resource')).toBe(true);
    expect(chatEvents.find((e) => e.messageid === kept.id)?.data).toMatchObject({ id: kept.id, body: { content: 'Ship it!' }, from: { user: { id: ALICE } } });
    expect(chatEvents.find((e) => e.messageid === gone.id)?.data).toMatchObject({ deletedDateTime: expect.any(String) });
    const channelEvents = await r.events('channelMessage');
    expect(channelEvents.map((e) => `${e.teamid} ${e.messageid} ${e.changetype}`)).toEqual([`${team.id} ${post.id} created`]);

    // A second pass over the same window (an operator's, or the safety net) publishes nothing again.
    await r.backfill.detector.open('safety_net', from, to, undefined, r.logger);
    await r.drain();
    expect(await r.events('chatMessage')).toEqual([]);
    expect(await r.events('channelMessage')).toEqual([]);
  });

  it('reads back 10,000 messages across 100 chats, one request per second per chat, resuming after crashes, each message exactly once', async () => {
    sim.reads.options = { ...sim.reads.options, perTenantMessageGets: 10_000 };
    addAliceAndBob();
    const from = at();
    sim.clock.advance(60_000);
    const chats = Array.from({ length: 100 }, (_, i) => sim.teams.createChat({ members: [ALICE, BOB], topic: `chat ${i}` }));
    const posted = new Set<string>();
    for (const chat of chats) for (let i = 0; i < 100; i++) posted.add(sim.teams.postChatMessage(chat.id, { from: i % 2 ? ALICE : BOB, content: `m${i}` }).id);
    sim.clock.advance(60_000);
    const to = at();
    const r = relay(chats.map((c, i) => ({ name: `chat-${i}`, resource: `/chats/${c.id}/messages`, changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true })));

    await r.backfill.detector.open('manual', from, to, undefined, r.logger);
    // Eight pieces taken and lost before any work, eight done but never acknowledged: both come back.
    await r.drain(r.start(), { abandon: 8, crashAfterWork: 8 });

    const events = await r.events('chatMessage');
    expect(events).toHaveLength(posted.size);
    expect(new Set(events.map((e) => e.messageid))).toEqual(posted);
    expect(nonEmpty(await r.backfill.gaps.list()).every((g) => g.status === 'filled')).toBe(true);
    for (const chat of chats) expect(sim.reads.maxObservedRate((e) => e.container === chat.id)).toBeLessThanOrEqual(1);
    // A 429 that slipped through (a loaded machine) was honoured: the piece went back for after Retry-After.
    expect(r.logger.lines.filter((l) => l.event === 'backfill.throttled')).toHaveLength(sim.reads.log.filter((e) => e.status === 429).length);
  }, 900_000);

  it('reads every one of twelve pieces of one chat taken at once by one process, each in its turn: none is put back for ever', async () => {
    const chat = aliceAndBobChat();
    const from = at();
    const unseen = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Read me back' });
    sim.clock.advance(1000);
    const r = relay([{ name: 'one-chat', resource: `/chats/${chat.id}/messages`, changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true }]);
    await r.backfill.detector.open('manual', from, at(), undefined, r.logger);
    // The gap's one piece and eleven copies of it (as the hourly requeue of a stalled gap adds): from the
    // sixth on, a piece's turn is over 5 s away and it goes back on the queue, for when its turn comes.
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    const [piece] = (await queue.peekMessages()).peekedMessageItems;
    for (let i = 0; i < 11; i++) await queue.sendMessage(piece!.messageText);
    const reads = () => sim.reads.log.filter((e) => e.container === chat.id && e.status === 200).length;
    // The gap is filled by the first piece; the copies put back keep coming until each has run.
    let progress = { reads: 0, at: Date.now() };
    while ((await queue.getProperties()).approximateMessagesCount! > 0) {
      await r.drain();
      if (reads() > progress.reads) progress = { reads: reads(), at: Date.now() };
      else if (Date.now() - progress.at > 120_000) throw new Error(`no piece of the chat ran for two minutes (${progress.reads} read)`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    expect(reads()).toBe(12);
    expect(sim.reads.maxObservedRate((e) => e.container === chat.id)).toBeLessThanOrEqual(1);
    // Copies of one piece that run at once (a slow machine stretches a read past the next turn) share its
    // de-duplication owner, so one may take over the other's claim: a duplicate at worst, never a loss.
    expect([...new Set((await r.events('chatMessage')).map((e) => e.messageid))]).toEqual([unseen.id]);
  }, 300_000);

  it('hydrates reference notifications of a hydrate subscription: the full resource, or a deleted event when it is gone', async () => {
    const chat = aliceAndBobChat();
    const r = relay([
      { name: 'hydrated', resource: `/chats/${chat.id}/messages`, changeTypes: ['created', 'updated', 'deleted'], hydrate: true },
      { name: 'plain', resource: `/chats/${chat.id}/members`, changeTypes: ['created', 'deleted'] },
    ]);
    await r.manager.reconciler.reconcile();
    const subscriptionOf = async (name: string) => (await r.manager.records.get(name))!.subscriptionId!;
    const posted = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Hydrate me' });
    const hydrated = await subscriptionOf('hydrated');
    await r.processor.process(reference(hydrated, `chats('${chat.id}')/messages('${posted.id}')`), { sourceQueue: 'in', logger: r.logger });
    await r.processor.process(reference(hydrated, `chats('${chat.id}')/messages('404404')`, 'updated'), { sourceQueue: 'in', logger: r.logger });
    const events = await r.events('chatMessage');
    expect(events.find((e) => e.messageid === posted.id)).toMatchObject({ datamode: 'resource', changetype: 'created', data: { id: posted.id, body: { content: 'Hydrate me' } } });
    expect(events.find((e) => e.messageid === '404404')).toMatchObject({ datamode: 'reference', changetype: 'deleted' });
    // Another subscription's references are left as they are.
    const member = [...chat.members.values()][0]!;
    await r.processor.process(reference(await subscriptionOf('plain'), `chats('${chat.id}')/members('${member.id}')`), { sourceQueue: 'in', logger: r.logger });
    expect((await r.events('chatMember'))[0]).toMatchObject({ datamode: 'reference', changetype: 'created' });
  });

  it('hydrates the events of a subscription created after the hydrator last read the records (a rotation), and retries, never routes, one in no record', async () => {
    // Two entries of one kind, one hydrated: the subscription id alone says whether to hydrate.
    const [hydratedChat, plainChat] = [aliceAndBobChat(), aliceAndBobChat()];
    const r = relay([
      { name: 'hydrated', resource: `/chats/${hydratedChat.id}/messages`, changeTypes: ['created', 'updated', 'deleted'], hydrate: true },
      { name: 'plain', resource: `/chats/${plainChat.id}/messages`, changeTypes: ['created', 'updated', 'deleted'] },
    ]);
    await r.manager.reconciler.reconcile();
    const subscriptionOf = async (name: string) => (await r.manager.records.get(name))!.subscriptionId!;
    const process = (n: QueuedNotification) => r.processor.process(n, { sourceQueue: 'in', logger: r.logger });
    const plain = sim.teams.postChatMessage(plainChat.id, { from: ALICE, content: 'Left a reference' });
    await process(reference(await subscriptionOf('plain'), `chats('${plainChat.id}')/messages('${plain.id}')`));
    // The hydrator has just read the records; the hydrated entry's subscription is replaced with a new one.
    const replaced = await subscriptionOf('hydrated');
    await removedAndRecreated(r, () => undefined, 'hydrated');
    const recreated = await subscriptionOf('hydrated');
    expect(recreated).not.toBe(replaced);
    const [fresh, late] = [0, 1].map((i) => sim.teams.postChatMessage(hydratedChat.id, { from: ALICE, content: `Hydrate me ${i}` }));
    await process(reference(recreated, `chats('${hydratedChat.id}')/messages('${fresh!.id}')`));
    // The replaced subscription's last notifications, still arriving, are hydrated too.
    await process(reference(replaced, `chats('${hydratedChat.id}')/messages('${late!.id}')`));
    const events = await r.events('chatMessage');
    expect(events.map((e) => [e.messageid, e.datamode]).sort()).toEqual(
      [
        [plain.id, 'reference'],
        [fresh!.id, 'resource'],
        [late!.id, 'resource'],
      ].sort(),
    );

    // A subscription in no record (deleted, or not ours): retried by the host, never routed as a reference.
    const unknown = sim.teams.postChatMessage(hydratedChat.id, { from: ALICE, content: 'Whose?' });
    await expect(process(reference('5eed0000-0000-4000-8000-00000000dead', `chats('${hydratedChat.id}')/messages('${unknown.id}')`))).rejects.toBeInstanceOf(UnknownSubscriptionError);
    expect(await r.events('chatMessage')).toEqual([]);
    expect(await drainQueue(createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.deadLetterQueue))).toEqual([]);

    // Another tenant's notification (a cross-tenant chat): never read with this tenant's credential, routed as it came.
    const foreign = { ...reference('5eed0000-0000-4000-8000-00000000f00d', `chats('${hydratedChat.id}')/messages('${unknown.id}')`) };
    await process({ ...foreign, notification: { ...foreign.notification, tenantId: 'f0e1d2c3-0000-4000-8000-000000000002' } });
    expect((await r.events('chatMessage')).map((e) => [e.messageid, e.datamode])).toEqual([[unknown.id, 'reference']]);
  });

  it('reads the records again for a flood of unknown subscription ids at most once a second, one read at a time, each id retried', async () => {
    const [hydratedChat, plainChat] = [aliceAndBobChat(), aliceAndBobChat()];
    const r = relay([
      { name: 'hydrated', resource: `/chats/${hydratedChat.id}/messages`, changeTypes: ['created'], hydrate: true },
      { name: 'plain', resource: `/chats/${plainChat.id}/messages`, changeTypes: ['created'] },
    ]);
    await r.manager.reconciler.reconcile();
    let reads = 0;
    let reading = 0;
    let overlapping = 0;
    const records = {
      list: async () => {
        reads++;
        overlapping = Math.max(overlapping, ++reading);
        try {
          return await r.manager.records.list();
        } finally {
          reading--;
        }
      },
    };
    const processor = createNotificationProcessor(r.settings, { certificates: certs, hydrator: createResourceHydrator(r.manager, records) });
    const startedAt = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        processor.process(reference(`5eed0000-0000-4000-8000-${String(i).padStart(12, '0')}`, `chats('${hydratedChat.id}')/messages('${i + 1}')`), { sourceQueue: 'in', logger: r.logger }),
      ),
    );
    const elapsedMs = Date.now() - startedAt;
    expect(nonEmpty(outcomes).every((o) => o.status === 'rejected' && o.reason instanceof UnknownSubscriptionError)).toBe(true);
    // Reads start at least a second apart, whatever the machine's speed.
    expect(reads).toBeLessThanOrEqual(Math.floor(elapsedMs / 1000) + 1);
    expect(reads).toBeLessThan(40);
    expect(overlapping).toBe(1);
    expect(await r.events('chatMessage')).toEqual([]);
  });

  it('reads back what happened while a removed subscription did not exist, once the reconciler recreated it', async () => {
    const chat = aliceAndBobChat();
    const r = relay([CHAT_MESSAGES]);
    await r.manager.reconciler.reconcile();
    const unseen = await removedAndRecreated(r, () => sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'While no subscription existed' }));

    // The next heartbeat finds the window the reconciler recorded and reads it back.
    const gaps = await r.backfill.detector.beat(r.logger);
    expect(gaps.map((g) => [g.reason, g.name])).toEqual([['subscription_recreated', 'chat-messages']]);
    await r.drain();
    const events = await r.events('chatMessage');
    expect(events.map((e) => `${e.messageid} ${e.changetype} ${e.backfilled}`)).toEqual([`${unseen.id} created true`]);
    // Later beats leave the same window alone: no new gap, the filled one kept.
    expect(await r.backfill.detector.beat(r.logger)).toEqual([]);
    expect((await r.backfill.gaps.list()).map((g) => [g.reason, g.status])).toEqual([['subscription_recreated', 'filled']]);
  });

  it('opens one gap over the window of items refused for an expired validation token, however often Graph sends them, and routes none', async () => {
    const r = relay([CHAT_MESSAGES, { ...CHAT_MESSAGES, name: 'more-chat-messages' }], { GRAPH_JWKS_URL: sim.jwksUrl, NOTIFICATIONS_QUEUE: uniqueName('notif') });
    await r.manager.reconciler.reconcile();
    const subscriptionId = (await r.manager.records.get('chat-messages'))!.subscriptionId!;
    // The app's receive and route parts, wired as in the app: the route opens the gaps a queued batch asks for.
    const receiver = createNotificationReceiver(r.settings);
    const processor = createNotificationProcessor(r.settings, {
      certificates: certs,
      gapRequests: { open: (g, logger) => r.backfill.detector.openForSubscription(g.reason, g.subscriptionId, new Date(g.from), new Date(g.to), logger) },
    });
    // Graph resends, after a long outage, a notification with the token it first sent: issued two hours ago.
    const issuedAt = Date.now() - 2 * 3600_000;
    const token = await sim.signer.validationToken(sim.appId, sim.tenantId, issuedAt);
    const item = { ...encryptedNotification({ subscriptionId, tenantId: sim.tenantId }) };
    const body = Buffer.from(JSON.stringify({ value: [item], validationTokens: [token] }));
    const post = () => receiver.receive({ validationToken: null, contentType: 'application/json', contentLength: body.length, readBody: async () => body }, 'notifications', r.logger);
    const received = new Date().toISOString();
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(202); // Graph's retry of the same request
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.notificationsQueue);
    const messages = await drainQueue(queue);
    expect(messages).toHaveLength(2);
    for (const m of messages) expect(await processor.process(m.body, { sourceQueue: queue.name, logger: r.logger })).toEqual({ status: 'batch', items: [] });

    const gaps = await r.backfill.gaps.list({ reason: 'validation_token_expired' });
    expect(gaps.map((g) => [g.name, g.from])).toEqual([['chat-messages', new Date(Math.floor(issuedAt / 1000) * 1000 - EXPIRED_TOKEN_GAP_MARGIN_MS).toISOString()]]);
    expect(Date.parse(gaps[0]!.to)).toBeGreaterThanOrEqual(Date.parse(received));
    expect(r.logger.lines.filter((l) => l.event === 'backfill.gap_opened')).toHaveLength(1);
    await r.drain();
    expect(await r.events('chatMessage')).toEqual([]);
  });

  it('opens the gap of an expired token for every desired subscription of its tenant when no record names its subscription', async () => {
    const r = relay([CHAT_MESSAGES, { ...CHAT_MESSAGES, name: 'more-chat-messages' }]);
    await r.manager.reconciler.reconcile();
    const from = new Date(Date.now() - 3 * 3600_000);
    const to = new Date();
    const opened = await r.backfill.detector.openForSubscription('validation_token_expired', 'a-subscription-since-replaced', from, to, r.logger);
    expect(opened.map((g) => [g.name, g.from, g.to]).sort()).toEqual(['chat-messages', 'more-chat-messages'].map((name) => [name, from.toISOString(), to.toISOString()]));
    expect(r.logger.lines.find((l) => l.event === 'backfill.subscription_unknown')?.fields).toMatchObject({ subscriptionId: 'a-subscription-since-replaced' });
    // Of the notification's own tenant only: another tenant's unknown subscription opens nothing here.
    expect(await r.backfill.detector.openForSubscription('validation_token_expired', 'another-tenants', from, to, r.logger, 'ffff0000-0000-4000-8000-00000000000f')).toEqual([]);
    expect((await r.backfill.detector.openForSubscription('validation_token_expired', 'ours-replaced', from, to, r.logger, sim.tenantId)).map((g) => g.name).sort()).toEqual([
      'chat-messages',
      'more-chat-messages',
    ]);
  });

  it('reads back what happened between the delete and the create when an edited changeTypes entry is replaced on a chat (one subscription per chat)', async () => {
    const chat = aliceAndBobChat();
    const entry = { name: 'one-chat', resource: `/chats/${chat.id}/messages`, includeResourceData: true };
    const before = relay([{ ...entry, changeTypes: ['created'] }]);
    await before.manager.reconciler.reconcile();
    sim.clock.advance(60_000);
    const after = relay([{ ...entry, changeTypes: ['created', 'updated', 'deleted'] }], { SUBSCRIPTIONS_TABLE: before.settings.subscriptionsTable });
    // Someone writes while the old subscription is gone and the new one does not exist yet.
    const remove = sim.subscriptions.remove.bind(sim.subscriptions);
    let unseen: { id: string } | undefined;
    sim.subscriptions.remove = (id) => {
      const removed = remove(id);
      sim.clock.advance(1000);
      unseen = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'Between delete and create' });
      sim.clock.advance(1000);
      return removed;
    };
    expect((await after.manager.reconciler.reconcile()).entries[0]?.action).toBe('recreated');
    expect(sim.subscriptions.active().map((s) => s.changeTypes.join(','))).toEqual(['created,updated,deleted']);
    await sim.deliveries.idle();
    expect(sim.deliveries.log.flatMap((a) => a.items).some((i) => String(i.resource).includes(unseen!.id))).toBe(false);

    const gaps = await after.backfill.detector.beat(after.logger);
    expect(gaps.map((g) => [g.reason, g.name])).toEqual([['subscription_recreated', 'one-chat']]);
    await after.drain();
    const events = await after.events('chatMessage');
    expect(events.map((e) => `${e.messageid} ${e.changetype} ${e.backfilled}`)).toEqual([`${unseen!.id} created true`]);
  });

  it('reads back both windows when one subscription is removed twice before the next heartbeat', async () => {
    const chat = aliceAndBobChat();
    const r = relay([CHAT_MESSAGES]);
    await r.manager.reconciler.reconcile();
    const unseen: string[] = [];
    for (const round of [1, 2]) {
      unseen.push(await removedAndRecreated(r, () => sim.teams.postChatMessage(chat.id, { from: ALICE, content: `While no subscription existed, ${round}` }).id));
      sim.clock.advance(5 * 60_000); // the two windows are far apart: one gap each
    }
    // One heartbeat after both: each window is a gap, and each message is read back.
    expect((await r.backfill.detector.beat(r.logger)).map((g) => g.reason)).toEqual(['subscription_recreated', 'subscription_recreated']);
    await r.drain();
    const read = (await r.events('chatMessage')).map((e) => `${e.messageid} ${e.changetype} ${e.backfilled}`);
    expect([...new Set(read)].sort()).toEqual(unseen.map((id) => `${id} created true`).sort());
  });

  it('opens a downtime gap when the heartbeat it finds is stale and not its own, never between its own beats', async () => {
    const r = relay([{ name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true }], {
      BACKFILL_AFTER_DOWNTIME_SECONDS: '2',
    });
    await r.manager.reconciler.reconcile();
    expect(await r.backfill.detector.beat(r.logger)).toEqual([]); // the first start: no heartbeat before
    // The timer beats every minute, far more than the threshold: the app was up all along, no gap.
    sim.clock.advance(60_000);
    expect(await r.backfill.detector.beat(r.logger)).toEqual([]);
    // A restart (a new process) finds the previous process's heartbeat 5 s old: that was downtime.
    sim.clock.advance(5_000);
    const gaps = await r.start().detector.beat(r.logger);
    expect(gaps.map((g) => [g.reason, g.name])).toEqual([['downtime', 'chat-messages']]);
  });

  it('opens every downtime gap, each to the later detection, even when the detector dies after opening some of them', async () => {
    const desired = [
      { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
    ];
    const r = relay(desired, { BACKFILL_AFTER_DOWNTIME_SECONDS: '2' });
    await r.manager.reconciler.reconcile();
    await r.backfill.detector.beat(r.logger);
    sim.clock.advance(5_000);
    // The restarted process is killed after it opened the first subscription's downtime gap.
    const restarted = r.start();
    const openGap = restarted.worker.openGap.bind(restarted.worker);
    let opened = 0;
    restarted.worker.openGap = (gap, logger) => (opened++ === 0 ? openGap(gap, logger) : Promise.reject(new Error('killed')));
    await expect(restarted.detector.beat(r.logger)).rejects.toThrow('killed');
    // The next process still finds the old heartbeat, and opens the gap of each subscription.
    sim.clock.advance(1_000);
    await r.start().detector.beat(r.logger);
    const downtime = (await r.backfill.gaps.list()).filter((g) => g.reason === 'downtime');
    // Each subscription's windows reach the later detection: the gap the killed process opened ends a second
    // earlier, so the rest of its window is a gap of its own (nothing between the two detections goes unread).
    const windows = (name: string) => downtime.filter((g) => g.name === name).map((g) => [g.from, g.to] as const);
    const channel = windows('channel-messages');
    expect(channel).toHaveLength(1);
    const [heartbeat, secondDetection] = channel[0]!;
    const chat = windows('chat-messages');
    expect(chat).toHaveLength(2);
    const firstDetection = chat[0]![1];
    expect(chat).toEqual([
      [heartbeat, firstDetection],
      [firstDetection, secondDetection],
    ]);
    expect(Date.parse(secondDetection) - Date.parse(firstDetection)).toBeGreaterThanOrEqual(1_000);
    expect(r.logger.lines.filter((l) => l.event === 'backfill.gap_opened').length).toBe(3);
  });

  it('resumes a gap whose opener died between recording it and queueing its pieces, at a heartbeat a minute later', async () => {
    const { r, from, unseen } = await undeliveredChatMessage();
    // The host was killed right after the gap was recorded: no piece was ever queued.
    await r.backfill.gaps.open({ name: 'chat-messages', reason: 'downtime', from, to: sim.clock.date().toISOString() }, sim.clock.date());
    expect(await r.backfill.detector.beat(r.logger)).toEqual([]);
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['open']); // its opener may still be at work
    sim.clock.advance(61_000);
    await r.backfill.detector.beat(r.logger);
    expect(r.logger.lines.map((l) => l.event)).toContain('backfill.gap_resumed');
    await r.drain();
    expect((await r.events('chatMessage')).map((e) => `${e.messageid} ${e.changetype} ${e.backfilled}`)).toEqual([`${unseen.id} created true`]);
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['filled']);
  });

  it("queues a filling gap's pieces again when their messages vanished (a storage restart lost the queue's data), only once the queue holds fewer than it waits for", async () => {
    const { r, from, unseen } = await undeliveredChatMessage();
    await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    const queued = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
    expect(queued).toHaveLength(1);
    const stalled = () => r.logger.lines.filter((l) => l.event === 'backfill.gap_stalled');

    // Slow, not lost: its piece is still on the queue ten minutes on, and nothing is queued twice.
    sim.clock.advance(11 * 60_000);
    await r.backfill.detector.beat(r.logger);
    expect(stalled()).toEqual([]);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(1);

    // The queue's messages are gone; the gap still waits for its piece.
    await queue.clearMessages();
    sim.clock.advance(60_000);
    await r.backfill.detector.beat(r.logger);
    expect(stalled().map((l) => l.fields)).toMatchObject([{ reason: 'messages_missing', piecesPending: 1, queueMessages: 0, piecesWaitedFor: 1, requeued: 1, unrecoverable: 0 }]);
    expect((await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText)).toEqual(queued);
    // Queued again, it counts as progress: the next beat does not queue it a second time.
    sim.clock.advance(60_000);
    await r.backfill.detector.beat(r.logger);
    expect(stalled()).toHaveLength(1);

    await r.drain();
    expect((await r.events('chatMessage')).map((e) => `${e.messageid} ${e.changetype} ${e.backfilled}`)).toEqual([`${unseen.id} created true`]);
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['filled']);
  });

  it("finds a gap's lost piece while another gap's pieces keep the queue busy, and queues only the stalled gap's", async () => {
    const { r, from, unseen } = await undeliveredChatMessage();
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    const [lost] = await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    await queue.clearMessages();
    sim.clock.advance(11 * 60_000);
    // A second gap, just opened: its piece is on the queue, as a busy tenant's would be.
    const [busy] = await r.backfill.detector.open('manual', new Date(sim.clock.now() - 60_000), sim.clock.date(), undefined, r.logger);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(1);
    await r.backfill.detector.beat(r.logger);
    const stalled = r.logger.lines.filter((l) => l.event === 'backfill.gap_stalled').map((l) => l.fields);
    expect(stalled).toMatchObject([{ gapId: lost!.id, reason: 'messages_missing', queueMessages: 1, piecesWaitedFor: 2, requeued: 1 }]);
    expect(stalled.map((f) => f.gapId)).not.toContain(busy!.id);
    await r.drain();
    expect((await r.events('chatMessage')).map((e) => e.messageid)).toEqual([unseen.id]);
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['filled', 'filled']);
  });

  it('queues a gap that stood still for an hour again even while the queue seems to hold its pieces, and the copies queue no page or child twice', async () => {
    const { r, from, unseen } = await undeliveredChatMessage();
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    sim.clock.advance(61 * 60_000);
    await r.backfill.detector.beat(r.logger);
    expect(r.logger.lines.filter((l) => l.event === 'backfill.gap_stalled').map((l) => l.fields)).toMatchObject([{ reason: 'long_stall', queueMessages: 1, piecesWaitedFor: 1, requeued: 1 }]);
    // Two copies of the gap's first piece (every user): the second queues none of the per-user pieces again.
    const copies = await drainQueue(queue);
    expect(copies).toHaveLength(2);
    await r.backfill.worker.process(parseBackfillPiece(copies[0]!.body)!, r.logger);
    const children = (await queue.getProperties()).approximateMessagesCount;
    expect(children).toBeGreaterThan(0);
    await r.backfill.worker.process(parseBackfillPiece(copies[1]!.body)!, r.logger);
    expect((await queue.getProperties()).approximateMessagesCount).toBe(children);
    await r.drain();
    expect((await r.events('chatMessage')).map((e) => e.messageid)).toEqual([unseen.id]);
    expect((await r.backfill.gaps.list()).map((g) => g.status)).toEqual(['filled']);
  });

  it('closes a stalled gap as partial, with a resync event, when a lost piece was recorded without its message (by an earlier version)', async () => {
    const { r, from } = await undeliveredChatMessage();
    const [gap] = await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    // A piece row as versions before this one wrote it (id and done only), whose message is gone.
    await createTableClient(r.settings.storage, r.settings.backfill.table).createEntity({
      partitionKey: `piece|${encodeURIComponent(gap!.id)}`,
      rowKey: 'recorded-by-an-earlier-version',
      done: false,
    });
    // Every piece that was queued is worked off; the gap still waits for the lost one.
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    for (let batch = await drainQueue(queue); batch.length > 0; batch = await drainQueue(queue)) {
      for (const m of batch) await r.backfill.worker.process(parseBackfillPiece(m.body)!, r.logger);
    }
    expect(await r.backfill.gaps.list()).toMatchObject([{ status: 'filling', piecesPending: 1 }]);
    sim.clock.advance(11 * 60_000);
    await r.backfill.detector.beat(r.logger);
    expect(await r.backfill.gaps.list()).toMatchObject([{ status: 'partial', piecesPending: 0, note: expect.stringContaining('cannot be queued again') }]);
    const events = await drainQueue(createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.subscriptionEventsQueue));
    expect(events.map((e) => (e.body as unknown as { type: string }).type)).toEqual(['com.microsoft.graph.teams.subscription.backfillIncomplete']);
  });

  it('closes a gap once, with every change counted, when its pieces finish at the same moment', async () => {
    const users = Array.from({ length: 8 }, (_, i) => `0000000${i}-0000-4000-8000-00000000000${i}`);
    for (const id of users) sim.teams.addUser({ id, displayName: `User ${id.slice(0, 8)}` });
    const r = relay([CHAT_MESSAGES]);
    await r.manager.reconciler.reconcile();
    const from = at();
    // One chat of two people per user: the gap's first piece fans out into one piece per user, worked at once.
    for (let i = 0; i < users.length; i++) {
      const chat = sim.teams.createChat({ members: [users[i]!, users[(i + 1) % users.length]!] });
      sim.teams.postChatMessage(chat.id, { from: users[i]!, content: `Never delivered ${i}` });
    }
    sim.clock.advance(1000);
    await r.backfill.detector.open('manual', from, at(), undefined, r.logger);
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    const [plan] = await drainQueue(queue);
    await r.backfill.worker.process(parseBackfillPiece(plan!.body)!, r.logger);
    const perUser = await drainQueue(queue);
    expect(perUser.length).toBeGreaterThanOrEqual(users.length);
    const outcomes = await Promise.all(perUser.map((m) => r.backfill.worker.process(parseBackfillPiece(m.body)!, r.logger)));
    expect(r.logger.lines.filter((l) => l.event === 'backfill.gap_closed')).toHaveLength(1);
    const counted = outcomes.reduce((sum, o) => sum + (o.status === 'done' ? o.changes : 0), 0);
    expect(await r.backfill.gaps.list()).toMatchObject([{ status: 'filled', piecesPending: 0, changesFound: counted }]);
    expect((await r.events('chatMessage')).filter((e) => e.changetype === 'created' && (e.data as { messageType?: string }).messageType === 'message')).toHaveLength(users.length);
  });

  it('deletes the piece rows of gaps closed more than a week before, once, and keeps the gaps and the rest', async () => {
    const { r, from } = await undeliveredChatMessage();
    const pieceRows = () => pieceRowsOf(r);
    const [old] = await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    await r.drain();
    sim.clock.advance(6 * 86_400_000);
    const [recent] = await r.backfill.detector.open('manual', new Date(sim.clock.now() - 60_000), sim.clock.date(), undefined, r.logger);
    await r.drain();
    const before = await pieceRows();
    expect(before.get(old!.id)).toBeGreaterThan(1); // the plan and a piece per user
    expect(before.get(recent!.id)).toBe(before.get(old!.id));

    sim.clock.advance(2 * 86_400_000); // the first gap closed 8 days ago, the second 2
    expect(await r.backfill.pieces.prune(r.backfill.gaps, sim.clock.date())).toBe(before.get(old!.id));
    const after = await pieceRows();
    expect(after.has(old!.id)).toBe(false);
    expect(after.get(recent!.id)).toBe(before.get(recent!.id));
    expect((await r.backfill.gaps.list()).map((g) => [g.id, g.status, g.piecesPruned])).toEqual([
      [old!.id, 'filled', true],
      [recent!.id, 'filled', undefined],
    ]);
    // Done once: the next day's run does not list the pruned gap's pieces again.
    expect(await r.backfill.pieces.prune(r.backfill.gaps, sim.clock.date())).toBe(0);
  });

  it('deletes the gaps closed more than 30 days before, with their piece rows, but not a gap whose window a subscription record still names, nor an unfinished one', async () => {
    const chat = aliceAndBobChat();
    const r = relay([CHAT_MESSAGES]);
    await r.manager.reconciler.reconcile();
    await removedAndRecreated(r, () => sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'While no subscription existed' }));
    const [recreated] = await r.backfill.detector.beat(r.logger);
    const [manual] = await r.backfill.detector.open('manual', new Date(sim.clock.now() - 60_000), sim.clock.date(), undefined, r.logger);
    await r.drain();
    sim.clock.advance(2 * 86_400_000);
    const [recent] = await r.backfill.detector.open('manual', new Date(sim.clock.now() - 60_000), sim.clock.date(), undefined, r.logger);
    await r.drain();
    // Recorded 40 days ago, its opener died before queueing anything: still open.
    const { gap: unfinished } = await r.backfill.gaps.open(
      { name: 'chat-messages', reason: 'downtime', from: new Date(sim.clock.now() - 41 * 86_400_000).toISOString(), to: new Date(sim.clock.now() - 40 * 86_400_000).toISOString() },
      new Date(sim.clock.now() - 40 * 86_400_000),
    );
    const before = await pieceRowsOf(r);
    for (const gap of [recreated, manual, recent]) expect(before.get(gap!.id)).toBeGreaterThan(0);

    sim.clock.advance(29 * 86_400_000); // the first two gaps closed 31 days ago, the third 29
    expect(await r.backfill.detector.prune()).toBe(1);
    expect((await r.backfill.gaps.list()).map((g) => [g.id, g.status])).toEqual([
      [unfinished.id, 'open'],
      [recreated!.id, 'filled'],
      [recent!.id, 'filled'],
    ]);
    const after = await pieceRowsOf(r);
    expect(after.has(manual!.id)).toBe(false);
    expect([recreated, recent].map((g) => after.get(g!.id))).toEqual([recreated, recent].map((g) => before.get(g!.id)));
    // The record still names the recreated gap's window: the heartbeat does not open it again.
    expect(await r.backfill.detector.beat(r.logger)).toEqual([]);
    expect(await r.backfill.detector.prune()).toBe(0);
  });

  it('deletes a subscription_recreated gap 30 days after it closed when no subscription record names its window', async () => {
    const r = relay([CHAT_MESSAGES]);
    await r.manager.reconciler.reconcile();
    const window = { name: 'chat-messages', reason: 'subscription_recreated', from: new Date(sim.clock.now() - 60_000).toISOString(), to: sim.clock.date().toISOString() } as const;
    const { gap } = await r.backfill.gaps.open(window, sim.clock.date());
    await r.backfill.gaps.update(gap.id, { status: 'filled', progressAt: sim.clock.date().toISOString() });
    sim.clock.advance(29 * 86_400_000);
    expect(await r.backfill.detector.prune()).toBe(0);
    sim.clock.advance(2 * 86_400_000);
    expect(await r.backfill.detector.prune()).toBe(1);
    expect(await r.backfill.gaps.list()).toEqual([]);
  });

  it('lets the daily prunes of pieces and of gaps run side by side: rows the other deleted first are left out, no failure', async () => {
    const { r, from } = await undeliveredChatMessage();
    const [gap] = await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    await r.drain();
    expect((await pieceRowsOf(r)).get(gap!.id)).toBeGreaterThan(1);
    sim.clock.advance(31 * 86_400_000); // both prunes' first run: the gap closed 31 days ago, its pieces still there
    // The pieces' prune has listed the gap's pieces when the gaps' prune deletes them, and the gap, first.
    const table = createTableClient(r.settings.storage, r.settings.backfill.table);
    let gapsPruned: number | undefined;
    const overtaken = withMethods(table, {
      submitTransaction: async (...args) => {
        gapsPruned ??= await r.backfill.detector.prune();
        return table.submitTransaction(...args);
      },
    });
    expect(await new PieceStore(overtaken).prune(new GapLog(overtaken), sim.clock.date())).toBe(0);
    expect(gapsPruned).toBe(1);
    expect(await pieceRowsOf(r)).toEqual(new Map());
    expect(await r.backfill.gaps.list()).toEqual([]);
  });

  it('lists only the gaps asked for, filtered by Table storage: those not closed, those of one reason, those of one subscription', async () => {
    const r = relay([CHAT_MESSAGES]);
    const table = createTableClient(r.settings.storage, r.settings.backfill.table);
    /** Entities Table storage returned to the gap log's listings. */
    let returned = 0;
    const counted = withMethods(table, {
      listEntities: async function* (...args: Parameters<TableClient['listEntities']>) {
        for await (const e of table.listEntities(...args)) {
          returned++;
          yield e;
        }
      } as unknown as TableClient['listEntities'],
    });
    const gaps = new GapLog(counted);
    const statuses = ['open', 'filling', 'filled', 'partial'] as const;
    const reasons = ['manual', 'subscription_recreated', 'storage_outage', 'safety_net'] as const;
    const all: Gap[] = [];
    for (const [i, status] of statuses.entries()) {
      for (const [j, reason] of reasons.entries()) {
        const from = new Date(Date.UTC(2026, 0, 1, i, j)).toISOString();
        const { gap } = await gaps.open({ name: (i + j) % 2 ? 'odd' : 'even', reason, from, to: new Date(Date.parse(from) + 60_000).toISOString() }, new Date());
        if (status !== 'open') await gaps.update(gap.id, { status });
        all.push({ ...gap, status });
      }
    }
    const expectListed = async (filter: Parameters<GapLog['list']>[0], matches: (g: Gap) => boolean) => {
      returned = 0;
      const listed = await gaps.list(filter);
      expect(listed.map((g) => g.id)).toEqual(all.filter(matches).map((g) => g.id));
      expect(listed.map((g) => g.status)).toEqual(all.filter(matches).map((g) => g.status));
      expect(returned).toBe(listed.length); // none left out after the query
    };
    await expectListed({}, () => true);
    await expectListed({ unfinished: true }, (g) => g.status === 'open' || g.status === 'filling');
    for (const reason of reasons) await expectListed({ reason }, (g) => g.reason === reason);
    await expectListed({ name: 'odd' }, (g) => g.name === 'odd');
    await expectListed({ unfinished: true, reason: 'subscription_recreated' }, (g) => g.status !== 'filled' && g.status !== 'partial' && g.reason === 'subscription_recreated');
  });

  it('reads membership changes back by comparing each changed chat with its last known members', async () => {
    for (const [id, displayName] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
      [CAROL, 'Carol'],
      [DAVE, 'Dave'],
    ] as const)
      sim.teams.addUser({ id, displayName });
    const r = relay([{ name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true }]);
    const first = at();
    sim.clock.advance(60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL], topic: 'Membership' });
    sim.clock.advance(60_000);
    await r.backfill.detector.open('manual', first, at(), undefined, r.logger);
    await r.drain();
    const initial = await r.events('chatMember');
    expect(initial.map((e) => `${(e.data as { userId: string }).userId} ${e.changetype}`).sort()).toEqual([`${ALICE} created`, `${BOB} created`, `${CAROL} created`].sort());

    // Carol leaves and Dave joins while Graph's notifications are lost.
    const from = at();
    sim.clock.advance(60_000);
    const carol = [...chat.members.values()].find((m) => m.userId === CAROL)!;
    sim.teams.removeMember(chat.id, CAROL);
    const dave = sim.teams.addMember(chat.id, DAVE);
    sim.clock.advance(60_000);
    await r.backfill.detector.open('manual', from, at(), undefined, r.logger);
    await r.drain();
    const changes = await r.events('chatMember');
    expect(changes.map((e) => `${e.memberid} ${e.changetype} ${e.backfilled}`).sort()).toEqual([`${carol.id} deleted true`, `${dave.id} created true`].sort());
    expect(changes.find((e) => e.changetype === 'deleted')?.data).toMatchObject({ userId: CAROL });
  });

  it("reads a member added and removed inside one gap back from the chat's history: both events in order, at their own times, once each however often the window is read", async () => {
    addAliceAndBob();
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    const r = relay([{ name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true }]);
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const from = at();
    sim.clock.advance(60_000);
    // Carol is added and removed while Graph's notifications are lost: the members before and after are the same.
    sim.teams.addMember(chat.id, CAROL, { initiator: ALICE });
    const addedAt = chat.lastUpdatedDateTime;
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL, { initiator: BOB });
    const removedAt = chat.lastUpdatedDateTime;
    sim.clock.advance(60_000);
    await readWindowTwice(r, from);

    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.queues.chatMember);
    const inQueueOrder = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
    const carol = inQueueOrder.filter((e) => (e.data as { userId: string }).userId === CAROL);
    const carolMembership = memberId(chat.id, CAROL, sim.tenantId);
    expect(carol.map((e) => `${e.changetype} ${e.time} ${e.backfilled}`)).toEqual([`created ${addedAt} true`, `deleted ${removedAt} true`]);
    expect(carol.map((e) => e.memberid)).toEqual([carolMembership, carolMembership]);
    expect(carol[0]?.data).toMatchObject({ userId: CAROL, displayName: 'Carol', tenantId: sim.tenantId, visibleHistoryStartDateTime: '0001-01-01T00:00:00Z' });
    // Alice and Bob, whom the app never saw, from the comparison that follows the history (the safety net).
    expect(
      inQueueOrder
        .filter((e) => e !== carol[0] && e !== carol[1])
        .map((e) => `${(e.data as { userId: string }).userId} ${e.changetype}`)
        .sort(),
    ).toEqual([`${ALICE} created`, `${BOB} created`].sort());
  });

  it('reads a pair across two gaps back when the first gap is filled after the second, one subscription per chat: both events once, and the member stays gone', async () => {
    addAliceAndBob();
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    const r = relay([{ name: 'members', resource: `/chats/${chat.id}/members`, changeTypes: ['created', 'deleted'], includeResourceData: true }], { BACKFILL_MARGIN_MINUTES: '0' });
    await r.backfill.detector.open('manual', at(), new Date(sim.clock.now() + 1000), undefined, r.logger);
    await r.drain();
    expect((await r.events('chatMember')).map((e) => (e.data as { userId: string }).userId).sort()).toEqual([ALICE, BOB].sort());

    // Carol is added inside a first gap and removed inside a second; the first gap's backfill runs last.
    sim.clock.advance(60_000);
    const first = { from: at(), to: new Date(0) };
    sim.clock.advance(60_000);
    sim.teams.addMember(chat.id, CAROL);
    sim.clock.advance(60_000);
    first.to = at();
    sim.clock.advance(60_000);
    const secondFrom = at();
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL);
    sim.clock.advance(60_000);
    await r.backfill.detector.open('manual', secondFrom, at(), undefined, r.logger);
    await r.drain();
    await r.backfill.detector.open('manual', first.from, first.to, undefined, r.logger);
    await r.drain();
    const events = await r.events('chatMember');
    expect(events.map((e) => `${(e.data as { userId: string }).userId} ${e.changetype}`).sort()).toEqual([`${CAROL} created`, `${CAROL} deleted`].sort());

    // The late addition did not bring Carol back in the app's memory: a later gap finds nothing to report.
    sim.clock.advance(60_000);
    const later = at();
    sim.clock.advance(60_000);
    await r.backfill.detector.open('manual', later, at(), undefined, r.logger);
    await r.drain();
    expect(await r.events('chatMember')).toEqual([]);
  });

  it("reads a chat's first member, added with it and removed inside one gap, back: the addition at the chat's creation, then the removal, once each", async () => {
    const { r, chat, from, removedAt } = firstMemberGoneInAGap();
    await readWindowTwice(r, from);

    const events = await memberEventsInQueueOrder(r);
    const carol = events.filter((e) => userOf(e) === CAROL);
    expect(carol.map((e) => `${e.changetype} ${e.time} ${e.backfilled}`)).toEqual([`created ${chat.createdDateTime} true`, `deleted ${removedAt} true`]);
    expect(new Set(carol.map((e) => e.memberid))).toEqual(new Set([memberId(chat.id, CAROL, sim.tenantId)]));
    expect(carol[0]?.data).toMatchObject({ userId: CAROL, displayName: 'Carol' });
    expect(whoChanged(events.filter((e) => !carol.includes(e))), eventsAsRead(events)).toEqual([`${ALICE} created`, `${BOB} created`].sort());
  });

  it("reads a first member's addition back even when the removal was notified (and remembered) before the gap was read", async () => {
    const { r, chat, from } = firstMemberGoneInAGap();
    // The removal's notification got through after the host came back: the app remembers Carol as gone.
    const carolMembership = memberId(chat.id, CAROL, sim.tenantId);
    await new MembershipLog(createTableClient(r.settings.storage, r.settings.backfill.table)).remember(sim.tenantId, chat.id, {
      userId: CAROL,
      membershipId: carolMembership,
      resource: { id: carolMembership, userId: CAROL },
      present: false,
    });
    await readBack(r, from);
    const carol = (await r.events('chatMember')).filter((e) => userOf(e) === CAROL);
    expect(carol.map((e) => `${e.changetype} ${e.time}`)).toContain(`created ${chat.createdDateTime}`);
  });

  it("does not take a member added after the chat's creation for a first member when the history's pages split the addition from the removal", async () => {
    addAliceAndBob();
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    sim.teams.addUser({ id: DAVE, displayName: 'Dave' });
    const r = relay([ALL_MEMBERS]);
    const from = at();
    sim.clock.advance(60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    sim.clock.advance(1000);
    sim.teams.addMember(chat.id, CAROL);
    const addedAt = chat.lastUpdatedDateTime;
    // More system messages than a page holds between Carol's addition and her removal (newest pages first).
    for (let i = 0; i < 30; i++) {
      sim.clock.advance(1000);
      sim.teams.addMember(chat.id, DAVE);
      sim.clock.advance(1000);
      sim.teams.removeMember(chat.id, DAVE);
    }
    sim.clock.advance(1000);
    sim.teams.removeMember(chat.id, CAROL);
    const removedAt = chat.lastUpdatedDateTime;
    sim.clock.advance(60_000);
    await readBack(r, from);
    const carol = (await r.events('chatMember')).filter((e) => userOf(e) === CAROL);
    expect(carol.map((e) => `${e.changetype} ${e.time}`).sort()).toEqual([`created ${addedAt}`, `deleted ${removedAt}`].sort());
  });

  it('reads the first members of a chat created inside a gap back at its creation, one who left after the gap too', async () => {
    const { r, chat, from, to } = chatCreatedInAGap();
    // Carol leaves once the app hears again (her removal notified, outside any gap): no history read shows it.
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL);
    sim.clock.advance(60_000);
    await readBack(r, from, to);
    await readBack(r, new Date(from.getTime() - 1000), to);
    const events = (await r.events('chatMember')).filter((e) => e.chatid === chat.id);
    expect(events.map((e) => `${userOf(e)} ${e.changetype} ${e.time}`).sort()).toEqual([ALICE, BOB, CAROL].map((u) => `${u} created ${chat.createdDateTime}`).sort());
  });

  it("compares a chat's members one piece at a time in a process: two gaps' comparisons taken at once tell each member once", async () => {
    // A chat older than the gaps, whose members the app never saw: the comparison tells them (no time of
    // their own, so each gap's read is its own event, and only the memory of the first read stops the second).
    const chat = aliceAndBobChat();
    sim.clock.advance(60_000);
    const r = relay([ALL_MEMBERS], { BACKFILL_MARGIN_MINUTES: '0' });
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    await r.backfill.detector.open('manual', new Date(sim.clock.now() - 30_000), at(), undefined, r.logger);
    await r.backfill.detector.open('manual', new Date(sim.clock.now() - 20_000), at(), undefined, r.logger);
    const plans = await drainQueue(queue);
    expect(plans).toHaveLength(2);
    const comparisons = plans.map((p) => ({ ...parseBackfillPiece(p.body)!, scope: { kind: 'chatMembers' as const, chatId: chat.id }, next: undefined }));
    // Two instances of the queue function take them at once.
    await Promise.all(comparisons.map((c) => r.backfill.worker.process(c, r.logger)));
    const events = await r.events('chatMember');
    expect(whoChanged(events), eventsAsRead(events)).toEqual([`${ALICE} created`, `${BOB} created`].sort());
  });

  it("puts a piece back for after Retry-After when the read of a chat's first members is throttled, and reads them back then", async () => {
    addAliceAndBob();
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    const from = at();
    sim.clock.advance(60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL] });
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL);
    const removedAt = chat.lastUpdatedDateTime;
    sim.clock.advance(60_000);
    const r = relay([{ name: 'members', resource: `/chats/${chat.id}/members`, changeTypes: ['created', 'deleted'], includeResourceData: true }]);
    // One read of the chat's messages per 4 s until Graph has refused one: the first members' read, right after the history's.
    const limits = sim.reads.options;
    sim.reads.options = { ...limits, windowMs: 4000 };
    const relax = setInterval(() => {
      if (sim.reads.log.some((e) => e.status === 429)) sim.reads.options = limits;
    }, 20);
    try {
      await readBack(r, from);
    } finally {
      clearInterval(relax);
    }
    expect(r.logger.lines.filter((l) => l.event === 'backfill.throttled').length).toBeGreaterThan(0);
    const carol = (await r.events('chatMember')).filter((e) => userOf(e) === CAROL);
    expect(carol.map((e) => `${e.changetype} ${e.time}`).sort()).toEqual([`created ${chat.createdDateTime}`, `deleted ${removedAt}`].sort());
  });

  it('reads a first member back when the chat came in one gap and the member left in the next, the first gap read after the removal', async () => {
    const { r, chat, from: firstFrom, to: firstTo } = chatCreatedInAGap();
    sim.clock.advance(120_000);
    const secondFrom = at();
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL);
    const removedAt = chat.lastUpdatedDateTime;
    sim.clock.advance(60_000);
    // Both gaps are read only now, the first one first: its members listing no longer holds Carol.
    await readBack(r, firstFrom, firstTo);
    await readBack(r, secondFrom);
    const carol = (await r.events('chatMember')).filter((e) => userOf(e) === CAROL);
    expect(carol.map((e) => `${e.changetype} ${e.time}`).sort()).toEqual([`created ${chat.createdDateTime}`, `deleted ${removedAt}`].sort());
  });

  it('compares the members of a chat created inside a gap even when it changed again after the gap', async () => {
    addAliceAndBob();
    const r = relay([ALL_MEMBERS], { BACKFILL_MARGIN_MINUTES: '0' });
    const from = at();
    sim.clock.advance(60_000);
    const chat = sim.teams.createChat({ members: [ALICE, BOB] });
    sim.clock.advance(60_000);
    const to = at();
    sim.clock.advance(60_000);
    // Renamed once the app hears again: the chat's lastUpdatedDateTime is past the gap now.
    sim.teams.renameChat(chat.id, 'Later');
    expect(Date.parse(chat.lastUpdatedDateTime)).toBeGreaterThan(to.getTime());
    await readBack(r, from, to);
    expect(whoChanged((await r.events('chatMember')).filter((e) => e.chatid === chat.id))).toEqual([`${ALICE} created`, `${BOB} created`].sort());
  });

  it('leaves the removal of a member the app never knew alone when the chat was made before any window the app missed', async () => {
    addAliceAndBob();
    sim.teams.addUser({ id: CAROL, displayName: 'Carol' });
    // The chat (with Carol) predates the relay's gaps: when Carol was added is not the app's to say.
    const chat = sim.teams.createChat({ members: [ALICE, BOB, CAROL] });
    sim.clock.advance(60_000);
    const r = relay([ALL_MEMBERS], { BACKFILL_MARGIN_MINUTES: '0' });
    const from = at();
    sim.clock.advance(60_000);
    sim.teams.removeMember(chat.id, CAROL);
    sim.clock.advance(60_000);
    await readBack(r, from);
    expect((await r.events('chatMember')).filter((e) => userOf(e) === CAROL).map((e) => e.changetype)).toEqual(['deleted']);
  });

  it("reads a chat's new members back again when the first attempt dies before routing them all", async () => {
    const r = relay([{ name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'], includeResourceData: true }]);
    const from = at();
    sim.clock.advance(60_000);
    const chat = aliceAndBobChat();
    sim.clock.advance(60_000);
    // The first change read back fails to route (storage went away, the host died): the piece fails.
    let failures = 0;
    const processor = r.processor;
    const flaky = withMethods(processor, {
      routeReadBack: (...args) => (failures++ === 0 ? Promise.reject(new Error('storage went away')) : processor.routeReadBack(...args)),
    });
    const backfill = createBackfill(r.settings, flaky, r.manager, { now: () => sim.clock.now() });
    await backfill.detector.open('manual', from, at(), undefined, r.logger);
    // The host's way: a failed piece is released at once (visibilityTimeout 0) and tried again.
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    let progressAt = Date.now();
    while ((await backfill.gaps.list({ unfinished: true })).length > 0 && Date.now() - progressAt < 120_000) {
      const { receivedMessageItems: batch } = await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: 60 });
      if (batch.length === 0) await new Promise((resolve) => setTimeout(resolve, 250));
      else progressAt = Date.now();
      for (const m of batch) {
        const piece = parseBackfillPiece(decodeJsonMessage(m.messageText));
        if (!piece) throw new Error(`not a piece: ${m.messageText}`);
        const done = await backfill.worker.process(piece, r.logger).then(
          () => true,
          () => false,
        );
        await (done ? queue.deleteMessage(m.messageId, m.popReceipt) : queue.updateMessage(m.messageId, m.popReceipt, undefined, 0));
      }
    }
    expect(failures).toBeGreaterThan(1);
    const members = (await r.events('chatMember')).filter((e) => e.chatid === chat.id);
    expect(members.map((e) => `${(e.data as { userId: string }).userId} ${e.changetype}`).sort()).toEqual([`${ALICE} created`, `${BOB} created`].sort());
  });

  it('queues a piece the host poisoned again, a few times, then closes its gap as partial with a resync event', async () => {
    const { r, from } = await undeliveredChatMessage();
    await r.backfill.detector.open('manual', new Date(from), sim.clock.date(), undefined, r.logger);
    const queue = createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.backfill.queue);
    // The host gave up on the gap's first piece (its attempts ran out): it is on the poison queue, not here.
    const [first] = (await drainQueue(queue)).map((m) => parseBackfillPiece(m.body));
    expect(first).toBeDefined();

    // Queued again, a minute later, with its count of requeues: a piece that then succeeds fills the gap.
    expect(await r.backfill.worker.recoverPoisoned(first!, r.logger)).toBe('requeued');
    const [again] = await queue.receiveMessages({ numberOfMessages: 32 }).then((x) => x.receivedMessageItems);
    expect(again).toBeUndefined(); // invisible for a minute
    await queue.clearMessages();
    expect(await r.backfill.worker.recoverPoisoned({ ...first!, requeues: 1 }, r.logger)).toBe('requeued');
    await queue.clearMessages();

    // The last requeue: the gap is given up as partial (after its other pieces), consumers told to resync.
    expect(await r.backfill.worker.recoverPoisoned({ ...first!, requeues: POISONED_PIECE_REQUEUES }, r.logger)).toBe('abandoned');
    const [gap] = await r.backfill.gaps.list();
    expect(gap).toMatchObject({ status: 'partial', note: expect.stringContaining('failed 4 times') });
    const events = await drainQueue(createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.subscriptionEventsQueue));
    expect(events.map((e) => (e.body as unknown as { type: string }).type)).toEqual(['com.microsoft.graph.teams.subscription.backfillIncomplete']);
    expect(r.logger.lines.filter((l) => l.event === 'backfill.piece_requeued').map((l) => l.fields.requeues)).toEqual([0, 1]);
  });

  it('announces a window it cannot read back (a $search subscription) with a resync event instead of widening it', async () => {
    const r = relay([{ name: 'searched', resource: '/chats/getAllMessages?model=A&$search=launch', changeTypes: ['created'], includeResourceData: true }]);
    const [gap] = await r.backfill.detector.open('manual', new Date(Date.now() - 3600_000), new Date(), undefined, r.logger);
    expect(gap).toMatchObject({ status: 'partial', note: expect.stringMatching(/\$search/) });
    const events = await drainQueue(createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.subscriptionEventsQueue));
    expect(events.map((e) => (e.body as unknown as { type: string }).type)).toEqual(['com.microsoft.graph.teams.subscription.backfillIncomplete']);
  });
});
