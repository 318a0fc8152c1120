import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { queueService, uniqueName } from '../helpers/azurite.js';
import { bearerFor, graphClient, inMinutes } from '../helpers/graph-client.js';
import { CLIENT_STATE } from '../helpers/notifications.js';
import { testReceiver } from '../helpers/receiver.js';
import { useRouteHarness } from '../helpers/route-harness.js';
import { ALICE, BOB, CAROL } from '../helpers/users.js';
import { startWebhookSink, type WebhookSink } from '../helpers/webhook-sink.js';
import { nonEmpty } from '../helpers/non-empty.js';

/**
 * What the simulator now sends as Graph does (capitalised changeTypes, offset date-times, two payloads for a
 * user-specific change, chats with members and lastMessagePreview, Graph's membership ids, membership system
 * event messages, reactions, v1 and v2 tokens), through the app's receiver and its decrypt-and-route path.
 */
const { setup, certs, azurite, writeRoutes } = useRouteHarness();
let sink: WebhookSink;
let sim: GraphSimulator;
beforeAll(async () => {
  sink = await startWebhookSink();
});
afterAll(() => sink.close());
beforeEach(async () => {
  // Small batches: several POSTs, each with its own validation token (v1 and v2 alternate).
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0005, batchWindowMs: 5, maxBatchSize: 2 } });
  for (const [id, displayName] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
    [CAROL, 'Carol'],
  ] as const)
    sim.teams.addUser({ id, displayName });
});
afterEach(() => sim.close());

describe('the app receives and routes every payload variant Graph sends', () => {
  it('queues each, decrypts it, and routes it under the right kind and lower-case changeType', async () => {
    const cert = await certs().current();
    const graph = graphClient(sim.baseUrl);
    const subscribe = async (resource: string, changeType: string, client = graph) => {
      const res = await client.post('/v1.0/subscriptions', {
        resource,
        changeType,
        notificationUrl: sink.url,
        lifecycleNotificationUrl: sink.url.replace('notifications', 'lifecycle'),
        expirationDateTime: inMinutes(180),
        clientState: CLIENT_STATE,
        includeResourceData: true,
        encryptionCertificate: cert.certificateBase64,
        encryptionCertificateId: cert.id,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    };
    const chat = sim.teams.createChat({ members: [ALICE, BOB], topic: 'Plans' });
    await subscribe('/chats', 'created,updated');
    await subscribe('/chats/getAllMembers?model=A', 'created,deleted');
    await subscribe('/chats/getAllMessages?model=A', 'created,updated');
    await subscribe(`/chats/${chat.id}?notifyOnUserSpecificProperties=true`, 'updated', graphClient(sim.baseUrl, bearerFor({ appid: sim.appId, tid: sim.tenantId, oid: BOB, scp: 'Chat.Read' })));

    const message = sim.teams.postChatMessage(chat.id, { from: ALICE, content: 'hello' });
    sim.teams.addMember(chat.id, CAROL, { initiator: ALICE }); // member Created + a membersAdded system event message
    sim.clock.advance(1000);
    sim.teams.reactToChatMessage(chat.id, message.id, BOB, 'heart'); // message updated
    sim.teams.renameChat(chat.id, 'Plans v2'); // chat Updated (+ two payloads for Bob's user-specific subscription)
    await sim.deliveries.idle();
    const batches = sink.notifications();
    const items = batches.flatMap((b) => b.value);
    expect(items.map((n) => n.changeType).sort()).toEqual(['Created', 'Updated', 'Updated', 'Updated', 'created', 'created', 'updated']);
    const tokenVersions = new Set(batches.flatMap((b) => b.validationTokens ?? []).map((t) => (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { ver: string }).ver));
    expect(tokenVersions).toEqual(new Set(['1.0', '2.0']));

    const queues = { chat: uniqueName('chats'), chatMember: uniqueName('members'), chatMessage: uniqueName('msgs') };
    const incoming = uniqueName('incoming');
    const container = uniqueName('claims');
    const env = { NOTIFICATIONS_QUEUE: incoming, NOTIFICATIONS_CONTAINER: container, GRAPH_CLIENT_STATE: CLIENT_STATE, GRAPH_APP_ID: sim.appId, GRAPH_TENANT_IDS: sim.tenantId };
    const receiver = testReceiver(azurite().connectionString, sim.jwksUrl, env);
    for (const body of batches) expect((await receiver.post(body)).status).toBe(202);
    expect(receiver.logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);

    const route = setup({ ...env, ROUTES_FILE: writeRoutes({ defaultRoutes: false, routes: Object.entries(queues).map(([kind, queue]) => ({ match: { kind }, queues: [queue] })) }) });
    const queued = queueService(azurite()).getQueueClient(incoming);
    for (;;) {
      const { receivedMessageItems } = await queued.receiveMessages({ numberOfMessages: 32 });
      if (receivedMessageItems.length === 0) break;
      for (const m of receivedMessageItems) {
        await route.process(decodeJsonMessage(m.messageText), m.messageId);
        await queued.deleteMessage(m.messageId, m.popReceipt);
      }
    }
    expect(await route.deadLetters()).toEqual([]);
    const events = async (queue: string) => await route.events(queue);

    const chats = await events(queues.chat);
    expect(chats.map((e) => e.type).sort()).toEqual(['com.microsoft.graph.teams.chat.updated', 'com.microsoft.graph.teams.chat.updated', 'com.microsoft.graph.teams.chat.updated']);
    expect(nonEmpty(chats).every((e) => e.chatid === chat.id && e.datamode === 'resource')).toBe(true);
    // Bob's two payloads (the viewpoint subset and the whole chat) and the tenant-wide one are three events.
    expect(new Set(chats.map((e) => e.id)).size).toBe(3);
    expect(chats.map((e) => e.data as Record<string, unknown>).find((d) => !d.viewpoint)).toMatchObject({
      topic: 'Plans v2',
      members: expect.any(Array),
      lastMessagePreview: { id: expect.any(String) },
    });
    expect(chats.filter((e) => (e.data as Record<string, unknown>).viewpoint)).toHaveLength(2);

    const members = await events(queues.chatMember);
    expect(members).toHaveLength(1);
    const carol = [...chat.members.values()].find((m) => m.userId === CAROL)!;
    expect(members[0]).toMatchObject({ type: 'com.microsoft.graph.teams.chatMember.created', changetype: 'created', chatid: chat.id, memberid: carol.id, data: { userId: CAROL, roles: ['Owner'] } });

    const messages = await events(queues.chatMessage);
    expect(messages.map((e) => `${e.messageid} ${e.changetype}`).sort()).toEqual([`${message.id} created`, `${message.id} updated`, expect.stringMatching(/ created$/)].sort());
    const system = messages.find((e) => e.messageid !== message.id)!;
    expect(system.data).toMatchObject({ from: null, eventDetail: { '@odata.type': '#microsoft.graph.membersAddedEventMessageDetail' } });
    expect(messages.find((e) => e.changetype === 'updated')?.data).toMatchObject({ reactions: [{ reactionType: 'heart' }] });
  });
});
