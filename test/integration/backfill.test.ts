import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseBackfillPiece } from '../../shared/backfill/backfill-piece.js';
import { createBackfill } from '../../shared/backfill/create-backfill.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { readSettings } from '../../shared/config/settings.js';
import { createQueueServiceClient } from '../../shared/config/storage-clients.js';
import { createRecordingLogger } from '../../shared/log.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { createNotificationProcessor } from '../../shared/route/create-notification-processor.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { createSubscriptionManager } from '../../shared/subscriptions/create-subscription-manager.js';
import { startGraphSimulator, type GraphSimulator } from '../../tools/graph-simulator/graph-simulator.js';
import { drainQueue, startTestAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { testEnv } from '../helpers/notifications.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';

const ALICE = 'a11ce000-0000-4000-8000-000000000001';
const BOB = 'b0b00000-0000-4000-8000-000000000002';

let azurite: AzuriteProcess;
let sink: WebhookSink;
let dir: string;
let certs: LocalCertificateStore;
beforeAll(async () => {
  azurite = await startTestAzurite();
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
function relay(subscriptions: unknown[]) {
  const file = join(dir, `${uniqueName('desired')}.json`);
  writeFileSync(file, JSON.stringify({ subscriptions }));
  const queues = { chatMessage: uniqueName('chat-msgs'), channelMessage: uniqueName('chan-msgs'), chat: uniqueName('chats') };
  const routes = join(dir, `${uniqueName('routes')}.json`);
  writeFileSync(routes, JSON.stringify({ defaultRoutes: false, routes: Object.entries(queues).map(([kind, q]) => ({ match: { kind }, queues: [q] })) }));
  const settings = readSettings(
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_APP_ID: sim.appId,
      GRAPH_TENANT_IDS: sim.tenantId,
      GRAPH_BASE_URL: sim.baseUrl,
      GRAPH_AUTH_MODE: 'simulator',
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
    }),
  );
  const logger = createRecordingLogger();
  const manager = createSubscriptionManager(settings, certs, logger, { now: () => sim.clock.now() });
  /** A fresh instance of the app's parts, as after a restart. */
  const start = () => createBackfill(settings, createNotificationProcessor(settings, certs), manager, { now: () => sim.clock.now() });
  const service = createQueueServiceClient(settings.storage);
  const first = start();
  return {
    settings,
    logger,
    manager,
    backfill: first,
    start,
    events: async (kind: keyof typeof queues) => (await drainQueue(service.getQueueClient(queues[kind]))).map((m) => m.body as unknown as TeamsCloudEvent),
    /**
     * Plays the backfillGaps queue function until every gap is closed: takes pieces as the host would
     * (batch, visibility lease), processes each with `worker`, deletes it when done. `abandon` pieces are
     * taken and never finished (a crash): they come back after their lease.
     */
    async drain(backfill = first, options: { abandon?: number; leaseSeconds?: number } = {}) {
      const queue = service.getQueueClient(settings.backfill.queue);
      let abandon = options.abandon ?? 0;
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        const open = (await backfill.gaps.list({ unfinished: true })).length;
        const { receivedMessageItems: batch } = (await queue.exists()) ? await queue.receiveMessages({ numberOfMessages: 16, visibilityTimeout: options.leaseSeconds ?? 30 }) : { receivedMessageItems: [] };
        if (batch.length === 0) {
          if (open === 0) return;
          await new Promise((r) => setTimeout(r, 250));
          continue;
        }
        await Promise.all(
          batch.map(async (m) => {
            if (abandon > 0) {
              abandon--;
              return;
            }
            const piece = parseBackfillPiece(decodeJsonMessage(m.messageText));
            if (!piece) throw new Error(`not a piece: ${m.messageText}`);
            await backfill.worker.process(piece, logger);
            await queue.deleteMessage(m.messageId, m.popReceipt);
          }),
        );
      }
      throw new Error('the backfill did not finish');
    },
  };
}

const at = () => new Date(sim.clock.now());

describe('backfill', () => {
  it('reads back what Graph never delivered, each change once with its full resource, and nothing again on a second pass', async () => {
    const r = relay([
      { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      { name: 'channel-messages', resource: '/teams/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
    ]);
    await r.manager.reconciler.reconcile();
    sim.teams.addUser({ id: ALICE, displayName: 'Alice' });
    sim.teams.addUser({ id: BOB, displayName: 'Bob' });
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
    expect(chatEvents.every((e) => e.backfilled === true && e.datamode === 'resource')).toBe(true);
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

  it('announces a window it cannot read back (membership) with a resync event instead of pretending', async () => {
    const r = relay([{ name: 'members', resource: '/chats/getAllMembers?model=A', changeTypes: ['created', 'deleted'] }]);
    const [gap] = await r.backfill.detector.open('manual', new Date(Date.now() - 3600_000), new Date(), undefined, r.logger);
    expect(gap).toMatchObject({ status: 'partial', note: expect.stringMatching(/membership/) });
    const events = await drainQueue(createQueueServiceClient(r.settings.storage).getQueueClient(r.settings.subscriptionEventsQueue));
    expect(events.map((e) => (e.body as unknown as { type: string; data: { gap: unknown } }).type)).toEqual(['com.microsoft.graph.teams.subscription.backfillIncomplete']);
  });
});
