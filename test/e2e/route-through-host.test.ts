import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import type { DeadLetter } from '../../shared/route/dead-letter.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../../shared/queue/queued-notification.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { subscribeToChatMessages } from '../helpers/graph-client.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { ALICE, BOB, chatOfAliceAndBob } from '../helpers/users.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';

const run = promisify(execFile);
const REPLAY = fileURLToPath(new URL('../../dist/cli/replay.js', import.meta.url));
const SECRET = 'route-e2e-client-state';

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let dir: string;
beforeAll(async () => {
  azurite = await testAzurite();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0002, batchWindowMs: 5 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-route-e2e-'));
});
afterAll(async () => {
  await sim?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const appEnv = (over: Record<string, string>) => ({
  AzureWebJobsStorage: azurite.connectionString,
  GRAPH_CLIENT_STATE: SECRET,
  ...simulatorAppSettings(sim),
  AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:00',
  AzureFunctionsJobHost__extensions__queues__maxDequeueCount: '3',
  ...over,
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A queued notification whose encrypted content is garbage, as the receive function would have queued it. */
const garbageNotification = (messageId: string, encryptionCertificateId: string) => ({
  schema: QUEUED_NOTIFICATION_SCHEMA,
  kind: 'change',
  receivedAt: new Date().toISOString(),
  notification: {
    subscriptionId: 's',
    changeType: 'created',
    resource: `chats('19:x@thread.v2')/messages('${messageId}')`,
    tenantId: sim.tenantId,
    encryptedContent: { data: 'AAAA', dataKey: 'AAAA', dataSignature: 'AAAA', encryptionCertificateId },
  },
});

describe('Graph simulator → local host → decrypt and route → downstream queues', () => {
  let host: HostProcess;
  const incoming = uniqueName('route-in');
  const archive = uniqueName('archive');
  const deadLetters = uniqueName('route-dead');

  beforeAll(async () => {
    const routes = join(dir, 'routes.json');
    writeFileSync(routes, JSON.stringify({ routes: [{ match: { kind: 'chatMessage' }, queues: ['teams-chat-messages', archive] }] }));
    // Two incoming partitions: Graph's two copies land on different queues, routed by different triggers.
    host = await startHost(
      REPO_ROOT,
      appEnv({
        NOTIFICATIONS_QUEUE: incoming,
        NOTIFICATIONS_QUEUE_PARTITIONS: '2',
        LIFECYCLE_QUEUE: `${incoming}-life`,
        DEAD_LETTER_QUEUE: deadLetters,
        LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
        ROUTES_FILE: routes,
      }),
    );
  });
  afterAll(() => host?.stop());

  it('binds each queue trigger to the queue its setting names (the host resolves %SETTING%; npm start gives the defaults)', async () => {
    const started = await host.waitFor((l) => l.event === 'host.started');
    expect(started.queues).toEqual(
      expect.arrayContaining([
        { function: 'routeNotifications', queue: incoming },
        { function: 'routeNotifications1', queue: `${incoming}-1` },
        { function: 'handleLifecycle', queue: `${incoming}-life` },
        { function: 'deadLetterPoisonedNotifications1', queue: `${incoming}-1-poison` },
        { function: 'deadLetterPoisonedLifecycle', queue: `${incoming}-life-poison` },
        { function: 'backfillGaps', queue: 'graph-backfill' },
        { function: 'backfillPoisoned', queue: 'graph-backfill-poison' },
      ]),
    );
  });

  it('delivers a message posted in a simulated chat, decrypted, to teams-chat-messages and the fan-out queue, once despite a duplicate', async () => {
    const current = await host.waitFor((l) => l.event === 'certificates.current');
    const cert = await new LocalCertificateStore(join(dir, 'certs')).current();
    expect(cert.id).toBe(current.id);
    const chat = chatOfAliceAndBob(sim.teams);
    const created = await subscribeToChatMessages(sim.baseUrl, { chatId: chat.id, hostUrl: host.url, clientState: SECRET, certificate: cert });
    expect(created.status).toBe(201);

    sim.deliveries.duplicateNext(1);
    const posted = sim.teams.postChatMessage(chat.id, { from: ALICE, content: '<p>Quarterly numbers attached</p>', mentions: [BOB] });
    await sim.deliveries.idle();
    expect(sim.deliveries.log.filter((a) => a.status === 202)).toHaveLength(2);

    const service = queueService(azurite);
    const events = await waitFor('the event', async () => {
      const peeked = await service
        .getQueueClient('teams-chat-messages')
        .peekMessages({ numberOfMessages: 32 })
        .catch(() => undefined);
      const found = peeked?.peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText)).filter((e) => e.messageid === posted.id);
      return found?.length ? found : undefined;
    });
    await host.waitFor((l) => l.event === 'route.duplicate_skipped');
    expect(events).toHaveLength(1);
    // One copy through each partition's trigger, the duplicate skipped across partitions.
    for (const name of ['routeNotifications', 'routeNotifications1']) {
      await host.waitFor((l) => l.event === 'invocation' && l.function === name && l.status === 'succeeded');
    }
    expect(events[0]).toMatchObject({
      type: 'com.microsoft.graph.teams.chatMessage.created',
      subject: `chats('${chat.id}')/messages('${posted.id}')`,
      chatid: chat.id,
      datamode: 'resource',
      data: { id: posted.id, body: { contentType: 'html', content: '<p>Quarterly numbers attached</p>' }, from: { user: { id: ALICE } }, mentions: [{ mentioned: { user: { id: BOB } } }] },
    });
    const archived = (await service.getQueueClient(archive).peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
    expect(archived.map((e) => e.id)).toEqual([events[0]?.id]);
  });

  it('dead-letters a notification with a bad signature at once, and replay puts it back', async () => {
    const cert = await new LocalCertificateStore(join(dir, 'certs')).current();
    const forged = garbageNotification('1', cert.id);
    const service = queueService(azurite);
    await service.getQueueClient(incoming).sendMessage(Buffer.from(JSON.stringify(forged)).toString('base64'));
    const letter = await waitFor('the dead letter', async () => {
      const q = service.getQueueClient(deadLetters);
      const peeked = (await q.exists()) ? (await q.peekMessages()).peekedMessageItems : [];
      return peeked[0] ? decodeJsonMessage<DeadLetter>(peeked[0].messageText) : undefined;
    });
    expect(letter).toMatchObject({ reason: 'key_unwrap_failed', sourceQueue: incoming });
    const attempts = host.lines.filter((l) => l.event === 'invocation' && l.function === 'routeNotifications' && l.status === 'failed');
    expect(attempts).toHaveLength(0);

    const { stdout } = await run(process.execPath, [REPLAY, '--from', 'deadletter', '--json'], {
      cwd: dir,
      env: { ...process.env, ...appEnv({ NOTIFICATIONS_QUEUE: incoming, DEAD_LETTER_QUEUE: deadLetters }), CERTIFICATE_STORE: 'local' },
    });
    expect(JSON.parse(stdout)).toMatchObject({ from: 'deadletter', moved: 1, skipped: 0 });
    await host.waitFor((l) => l.event === 'route.dead_lettered' && host.lines.filter((x) => x.event === 'route.dead_lettered').length >= 2);
  });
});

describe('when the certificate store cannot be read', () => {
  it('retries the message, the host poisons it, the app moves it to the dead-letter queue; replay brings it back', async () => {
    const broken = join(dir, 'not-a-folder');
    writeFileSync(broken, 'a file where the certificate folder should be');
    const incoming = uniqueName('route-broken');
    const deadLetters = uniqueName('route-broken-dead');
    const env = appEnv({ NOTIFICATIONS_QUEUE: incoming, LIFECYCLE_QUEUE: `${incoming}-life`, DEAD_LETTER_QUEUE: deadLetters });
    const host = await startHost(REPO_ROOT, { ...env, LOCAL_CERTIFICATE_DIR: join(broken, 'certs') });
    try {
      const message = garbageNotification('2', 'relay-cert');
      const text = Buffer.from(JSON.stringify(message)).toString('base64');
      const service = queueService(azurite);
      await service.getQueueClient(incoming).createIfNotExists();
      await service.getQueueClient(incoming).sendMessage(text);
      await host.waitFor((l) => l.event === 'queue.message_poisoned' && l.queue === incoming);
      const failures = host.lines.filter((l) => l.event === 'invocation' && l.function === 'routeNotifications' && l.status === 'failed');
      expect(failures.map((f) => f.dequeueCount)).toEqual([1, 2, 3]);
      // The host's poison copy would expire after 7 days: the app moves it to the dead-letter queue at once.
      const letter = await waitFor('the poisoned message as a dead letter', async () => {
        const q = service.getQueueClient(deadLetters);
        const peeked = (await q.exists()) ? (await q.peekMessages()).peekedMessageItems : [];
        return peeked[0] ? { letter: decodeJsonMessage<DeadLetter>(peeked[0].messageText), expiresOn: peeked[0].expiresOn } : undefined;
      });
      expect(letter.letter).toMatchObject({ reason: 'poisoned', sourceQueue: incoming, originalMessage: text });
      expect(letter.expiresOn.getTime()).toBeGreaterThan(Date.now() + 365 * 24 * 3600_000);
      await waitFor('the poison queue to be empty', async () => ((await service.getQueueClient(`${incoming}-poison`).peekMessages()).peekedMessageItems.length === 0 ? true : undefined));

      await host.stop();
      const { stdout } = await run(process.execPath, [REPLAY, '--from', 'deadletter', '--json'], { cwd: dir, env: { ...process.env, ...env, CERTIFICATE_STORE: 'local' } });
      expect(JSON.parse(stdout)).toMatchObject({ moved: 1 });
      expect((await service.getQueueClient(incoming).peekMessages()).peekedMessageItems.map((m) => m.messageText)).toEqual([text]);
    } finally {
      await host.stop();
    }
  });
});
