import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import { describe, expect, it } from 'vitest';
import { decodeJsonMessage, encodeJsonMessage } from '../../shared/queue/json-message.js';
import type { QueuedNotification } from '../../shared/queue/queued-notification.js';
import { createDeadLetterQueue, createPoisonMover } from '../../shared/route/create-notification-processor.js';
import { readDeadLetter, type DeadLetter } from '../../shared/route/dead-letter.js';
import { replayMessages } from '../../shared/route/replay.js';
import { createRecordingLogger } from '../../shared/log.js';
import { queueService, uniqueName } from '../helpers/azurite.js';
import { chatMessage, useRouteHarness } from '../helpers/route-harness.js';

const harness = useRouteHarness();
const { setup, queuedMessage } = harness;

/** The Functions host's `maxDequeueCount` (host.json). */
const MAX_ATTEMPTS = 5;

const storage = () => ({ queues: queueService(harness.azurite()), blobs: BlobServiceClient.fromConnectionString(harness.azurite().connectionString) });

/** A chat message with `chars` characters of content, its signature forged when `forged`. */
async function messageWithContent(id: string, chars: number, forged: boolean): Promise<QueuedNotification> {
  const queued = await queuedMessage(chatMessage(id, { body: { contentType: 'text', content: 'x'.repeat(chars) } }));
  if (forged) (queued.notification as { encryptedContent: { dataSignature: string } }).encryptedContent.dataSignature = Buffer.alloc(32, 7).toString('base64');
  return queued;
}

/** Every message of a queue, taken off it. */
async function takeAll(queue: QueueClient): Promise<string[]> {
  const texts: string[] = [];
  for (;;) {
    const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32 });
    if (receivedMessageItems.length === 0) return texts;
    for (const m of receivedMessageItems) {
      texts.push(m.messageText);
      await queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

async function deleteAllBlobs(container: ContainerClient): Promise<number> {
  let deleted = 0;
  if (!(await container.exists())) return deleted;
  for await (const b of container.listBlobsFlat()) {
    await container.deleteBlob(b.name);
    deleted++;
  }
  return deleted;
}

describe('dead letters of any size', () => {
  it('dead-letters forged messages of 20,000 to 46,000 characters sent alone (none only on a poison queue), and replay restores them byte for byte though their claim-check blobs are gone', async () => {
    const t = setup();
    const poisonMover = createPoisonMover(t.settings);
    const { queues, blobs } = storage();
    const incoming = queues.getQueueClient(t.settings.notificationsQueue);
    const claimChecks = blobs.getContainerClient(t.settings.notificationsContainer);
    const sizes = Array.from({ length: 14 }, (_, i) => 20_000 + i * 2000);
    const forged = await Promise.all(sizes.map((chars, i) => messageWithContent(`f-${i}`, chars, true)));

    // Each alone, through the receive path's store; then as the host runs a queue trigger: up to 5 attempts,
    // then the poison queue, whose function moves the message to the dead letters.
    const endings: string[] = [];
    for (const item of forged) {
      await t.storeIncoming([item]);
      const [message] = (await incoming.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      if (!message) throw new Error('the message was not stored');
      const value = decodeJsonMessage(message.messageText);
      let ending = 'only on the poison queue';
      for (let attempt = 1; attempt <= MAX_ATTEMPTS && ending.startsWith('only'); attempt++) {
        ending = await t.process(value, message.messageId).then(
          (o) => (o.status === 'batch' ? o.items.map((i) => i.status).join() : o.status),
          () => ending,
        );
      }
      if (ending.startsWith('only'))
        ending = await poisonMover.move(value, t.settings.notificationsQueue, t.logger).then(
          () => 'poisoned, then dead-lettered',
          () => ending,
        );
      endings.push(ending);
      await incoming.deleteMessage(message.messageId, message.popReceipt);
    }
    expect(endings).toEqual(sizes.map(() => 'dead-lettered'));

    const stubs = (await queues.getQueueClient(t.settings.deadLetterQueue).peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText);
    expect(stubs).toHaveLength(sizes.length);
    const letters = (await Promise.all(stubs.map((s) => readDeadLetter(blobs, s)))).map((r) => r?.letter as DeadLetter);
    expect(letters.map((l) => l.reason)).toEqual(sizes.map(() => 'signature_mismatch'));
    // The larger ones: their dead letters are claim checks, and their originals claim checks too.
    expect(stubs.filter((s) => 'claimCheck' in decodeJsonMessage<object>(s)).length).toBeGreaterThan(sizes.length / 2);
    expect(letters.filter((l) => l.referencedBlob).length).toBeGreaterThan(0);
    // The status page's peek sees each reason, never content.
    for (const s of stubs) expect(decodeJsonMessage<DeadLetter>(s).reason).toBe('signature_mismatch');

    // Claim-check blobs of the incoming container deleted (or expired) meanwhile: the dead letters do not need them.
    expect(await deleteAllBlobs(claimChecks)).toBeGreaterThan(0);
    expect(await replayMessages(storage(), { kind: 'deadletter', queue: t.settings.deadLetterQueue })).toEqual({ moved: sizes.length, skipped: 0 });

    const back = await takeAll(incoming);
    expect(back.sort()).toEqual(letters.map((l) => l.originalMessage).sort());
    for (const l of letters.filter((x) => x.referencedBlob)) {
      expect((await claimChecks.getBlobClient(l.referencedBlob?.blob ?? '').downloadToBuffer()).toString('utf8')).toBe(l.referencedBlob?.content);
    }
    // Each original whole: the forged item, each its own (inline ones are byte for byte the item's v1 message).
    const restored = await Promise.all(
      back.map(async (text) => {
        const body = decodeJsonMessage<QueuedNotification | { claimCheck: { blob: string } }>(text);
        return 'claimCheck' in body ? (await claimChecks.getBlobClient(body.claimCheck.blob).downloadToBuffer()).toString('utf8') : JSON.stringify(body);
      }),
    );
    expect(restored.sort()).toEqual(forged.map((f) => JSON.stringify(f)).sort());
    for (const text of back.filter((x) => !('claimCheck' in decodeJsonMessage<object>(x)))) expect(forged.map((f) => encodeJsonMessage(f))).toContain(text);
    // Nothing left behind in the dead letters' container once they are back.
    expect(await deleteAllBlobs(blobs.getContainerClient(t.settings.deadLetterContainer))).toBe(0);
  });

  it('moves poisoned messages near 64 KiB and claim-check messages to the dead letters, and replay puts back exactly the message, which then routes', async () => {
    const queue = uniqueName('big');
    const t = setup({ ROUTES_FILE: harness.writeRoutes({ routes: [{ match: {}, queues: [queue] }] }) });
    const { queues, blobs } = storage();
    const incoming = queues.getQueueClient(t.settings.notificationsQueue);
    const claimChecks = blobs.getContainerClient(t.settings.notificationsContainer);
    await t.storeIncoming([await messageWithContent('p-1', 35_000, false)]);
    await t.storeIncoming([await messageWithContent('p-2', 100_000, false)]);
    const originals = await takeAll(incoming);
    expect(originals.map((o) => 'claimCheck' in decodeJsonMessage<object>(o))).toEqual([false, true]);
    expect(originals[0]?.length).toBeGreaterThan(50_000); // its dead letter, base64 again, is over 64 KiB

    // The host gave up on both (storage was down, say): its poison function moves each.
    const poisonMover = createPoisonMover(t.settings);
    for (const text of originals) await poisonMover.move(decodeJsonMessage(text), t.settings.notificationsQueue, createRecordingLogger());
    expect(await deleteAllBlobs(claimChecks)).toBe(1);

    expect(await replayMessages(storage(), { kind: 'deadletter', queue: t.settings.deadLetterQueue })).toEqual({ moved: 2, skipped: 0 });
    const back = await takeAll(incoming);
    expect(back.sort()).toEqual([...originals].sort());
    for (const text of back) expect(await t.process(decodeJsonMessage(text))).toMatchObject({ status: 'batch', items: [{ status: 'routed' }] });
    expect((await t.events(queue)).map((e) => e.messageid).sort()).toEqual(['p-1', 'p-2']);
  });
});

describe('replay', () => {
  it('moves the letters there when it started, once each, and stops though each comes back at once', async () => {
    const t = setup();
    const { queues } = storage();
    const deadLetters = createDeadLetterQueue(t.settings);
    const source = queues.getQueueClient(t.settings.notificationsQueue);
    await source.createIfNotExists();
    const letter = (i: number) => ({
      reason: 'no_route' as const,
      error: 'No route.',
      failedAt: new Date().toISOString(),
      sourceQueue: source.name,
      originalMessage: encodeJsonMessage({ letter: i }),
    });
    const count = 40;
    for (let i = 0; i < count; i++) await deadLetters.send(letter(i));

    // The running app: whatever replay puts back fails again and is dead-lettered again at once.
    let replaying = true;
    const again: string[] = [];
    const app = (async () => {
      for (;;) {
        const { receivedMessageItems } = await source.receiveMessages({ numberOfMessages: 32 });
        if (receivedMessageItems.length === 0 && !replaying) return;
        for (const m of receivedMessageItems) {
          await deadLetters.send({ ...letter(decodeJsonMessage<{ letter: number }>(m.messageText).letter), originalMessage: m.messageText });
          await source.deleteMessage(m.messageId, m.popReceipt);
          again.push(m.messageText);
        }
        if (receivedMessageItems.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await replayMessages(storage(), { kind: 'deadletter', queue: t.settings.deadLetterQueue }).finally(() => (replaying = false));
    await app;

    expect(result).toEqual({ moved: count, skipped: 0 });
    expect(again.map((text) => decodeJsonMessage<{ letter: number }>(text).letter).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    // The letters that came back meanwhile were left in place, visible again.
    const left = await takeAll(queues.getQueueClient(t.settings.deadLetterQueue));
    expect(left).toHaveLength(count);
  });
});
