import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/util/canonical-json.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { azuriteVia, drainNotifications, queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { createTestCertificate } from '../helpers/certificates.js';
import { graphClient, inMinutes } from '../helpers/graph-client.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { ALICE, BOB, chatOfAliceAndBob } from '../helpers/users.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';

const SECRET = 'e2e-client-state-secret';

let azurite: AzuriteProcess;
let proxy: TcpProxy;
let sim: GraphSimulator;
let host: HostProcess;
const queue = uniqueName('e2e-notif');

beforeAll(async () => {
  azurite = await testAzurite();
  proxy = await startTcpProxy(azurite.ports.queue);
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0002, batchWindowMs: 20, maxBatchSize: 5 } });
  host = await startHost(REPO_ROOT, {
    AzureWebJobsStorage: azuriteVia(azurite, { queue: proxy.port }),
    GRAPH_CLIENT_STATE: SECRET,
    ...simulatorAppSettings(sim),
    NOTIFICATIONS_QUEUE: queue,
    LIFECYCLE_QUEUE: `${queue}-life`,
    RECEIVE_STORAGE_TIMEOUT_MS: '1000',
    // This test reads the incoming queue itself.
    'AzureWebJobs.routeNotifications.Disabled': 'true',
  });
});
afterAll(async () => {
  await host?.stop();
  await sim?.close();
  await proxy?.close();
  await azurite?.stop();
});

describe('Graph simulator → local host → Azurite', () => {
  it('lands every notification on the incoming queue exactly as sent, and no forged one', async () => {
    const chat = chatOfAliceAndBob(sim.teams);
    const cert = await createTestCertificate();
    const graph = graphClient(sim.baseUrl);
    const subscribe = async (body: Record<string, unknown>) => {
      const res = await graph.post('/v1.0/subscriptions', {
        notificationUrl: `${host.url}/api/notifications?code=local`,
        lifecycleNotificationUrl: `${host.url}/api/lifecycle`,
        expirationDateTime: inMinutes(240),
        clientState: SECRET,
        ...body,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body as { id: string };
    };
    const withData = await subscribe({
      resource: `/chats/${chat.id}/messages`,
      changeType: 'created,updated,deleted',
      includeResourceData: true,
      encryptionCertificate: cert.base64,
      encryptionCertificateId: 'e2e-cert',
    });
    await subscribe({ resource: '/chats', changeType: 'created,updated' });

    // batched
    for (let i = 0; i < 7; i++) sim.teams.postChatMessage(chat.id, { from: ALICE, content: `message ${i}` });
    sim.teams.renameChat(chat.id, 'Renamed');
    await sim.deliveries.idle();
    // duplicated
    sim.deliveries.duplicateNext(1);
    const edited = sim.teams.postChatMessage(chat.id, { from: BOB, content: 'to edit' });
    sim.teams.editChatMessage(chat.id, edited.id, 'edited');
    await sim.deliveries.idle();
    // retried after a 503: storage refuses connections until the first failed attempt is logged
    proxy.mode = 'refuse';
    sim.teams.deleteChatMessage(chat.id, edited.id);
    for (let i = 0; i < 200 && !sim.deliveries.log.some((a) => a.status === 503); i++) await new Promise((r) => setTimeout(r, 25));
    proxy.mode = 'pass';
    await sim.deliveries.idle();
    // forged
    expect(await sim.sendForged(withData.id, 'clientState')).toBe(202);
    expect(await sim.sendForged(withData.id, 'tokenKey')).toBe(202);

    const log = sim.deliveries.log;
    expect(log.some((a) => a.status === 503)).toBe(true);
    expect(log.some((a) => a.duplicate)).toBe(true);
    expect(log.some((a) => a.notifications > 1)).toBe(true);

    // Queued as sent, less the clientState (checked on receipt, then not kept).
    const sent = log
      .filter((a) => a.status === 202)
      .flatMap((a) => a.items)
      .map(({ clientState: _, ...kept }) => canonicalJson(kept))
      .sort();
    const queued = (await drainNotifications(queueService(azurite).getQueueClient(queue))).map((q) => canonicalJson(q.notification)).sort();
    expect(queued).toEqual(sent);
    expect(queued.length).toBeGreaterThanOrEqual(7 + 1 + 2 * 2 + 1);
    expect(queued.some((q) => q.includes('forged'))).toBe(false);
    const rejected = host.lines.filter((l) => l.event === 'security.notification_rejected' || l.event === 'security.validation_token_rejected');
    expect(rejected.map((l) => l.reason)).toEqual(expect.arrayContaining(['client_state_mismatch', 'token_bad_signature', 'validation_token_invalid']));
  });
});
