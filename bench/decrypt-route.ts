/**
 * `npm run bench` (second part): decrypt-and-route throughput.
 *
 * 1. In one process, for RSA-2048 and RSA-4096 certificates: notifications per second through the
 *    NotificationProcessor (decrypt with the cached key, build the CloudEvent, de-duplicate, route; the
 *    publisher and de-duplication log are in memory so that only the CPU path is measured), beside the raw
 *    RSA-OAEP private-decrypt rate with a cached KeyObject (the ceiling: RSA dominates), and beside the way
 *    common samples decrypt (the private key read from disk and parsed for every notification).
 * 2. End to end: notifications with resource data POSTed over HTTP to the local host, received, queued,
 *    decrypted and routed by the app into Azurite, until every event is on teams-chat-messages.
 */
import { constants, createPrivateKey, privateDecrypt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { decryptResourceData } from '../shared/certificates/decrypt-resource-data.js';
import { LocalCertificateStore } from '../shared/certificates/local-certificate-store.js';
import { createSelfSignedCertificate } from '../shared/certificates/self-signed.js';
import { createRecordingLogger } from '../shared/log.js';
import type { DeadLetterQueue } from '../shared/route/dead-letter.js';
import { NotificationProcessor } from '../shared/route/notification-processor.js';
import { RoutingTable } from '../shared/route/routing-table.js';
import { QUEUED_NOTIFICATION_SCHEMA, type QueuedNotification } from '../shared/queue/queued-notification.js';
import { startAzurite } from '../dev/azurite/azurite-process.js';
import { encryptResourceData, parseEncryptionCertificate } from '../dev/graph-simulator/encrypt-resource-data.js';
import { startGraphSimulator } from '../dev/graph-simulator/graph-simulator.js';
import { recordFigures } from './figures.js';
import { startHostProcess } from './host-process.js';
import { createHttpSender } from './http-sender.js';
import { startStorageOpCounter } from './storage-op-counter.js';
import { simulatorAppSettings } from '../dev/graph-simulator/app-settings.js';

const BUDGET_MS = Number(process.env.BENCH_SCENARIO_MS ?? 5000);
const CHAT = '19:2da4c29f6d7041eca70b638b43d45437@thread.v2';

function chatMessage(i: number): Record<string, unknown> {
  return {
    id: String(1_700_000_000_000 + i),
    etag: String(1_700_000_000_000 + i),
    messageType: 'message',
    createdDateTime: '2026-11-22T10:00:00Z',
    lastModifiedDateTime: '2026-11-22T10:00:00Z',
    chatId: CHAT,
    from: { user: { id: 'a11ce000-0000-4000-8000-000000000001', displayName: 'Alice', userIdentityType: 'aadUser' } },
    body: { contentType: 'html', content: `<p>Message ${i}: the quarterly numbers are in the shared folder.</p>` },
    attachments: [],
    mentions: [],
    reactions: [],
  };
}

/** Operations counted and the time they took, summed over rounds. */
interface Tally {
  count: number;
  ms: number;
}
const perSecond = (t: Tally) => t.count / (t.ms / 1000);

/** Runs `op` for `budgetMs` (at least `min` times) and adds what it did to `tally`. */
async function measure(op: (i: number) => unknown, budgetMs: number, tally: Tally, min = 20): Promise<void> {
  const started = performance.now();
  let count = 0;
  while (performance.now() - started < budgetMs || count < min) {
    const pending = op(tally.count + count++);
    if (pending instanceof Promise) await pending; // a synchronous operation is timed without an await
  }
  tally.count += count;
  tally.ms += performance.now() - started;
}

/**
 * Rates of several operations measured in turns (warm-up first, then ROUNDS rounds of each in turn, the
 * budget split between them), so that a change of the machine's speed or load during the run (other work,
 * CPU frequency) weighs on each of them alike, and ratios between them hold.
 */
async function compareRates<K extends string>(ops: Record<K, (i: number) => unknown>): Promise<Record<K, number>> {
  const ROUNDS = 5;
  const names = Object.keys(ops) as K[];
  const tallies = Object.fromEntries(names.map((k) => [k, { count: 0, ms: 0 }])) as Record<K, Tally>;
  for (const k of names) await measure(ops[k], Math.min(500, BUDGET_MS / 4), { count: 0, ms: 0 }); // warm-up: JIT, caches
  for (let round = 0; round < ROUNDS; round++) for (const k of names) await measure(ops[k], BUDGET_MS / ROUNDS, tallies[k]);
  return Object.fromEntries(names.map((k) => [k, perSecond(tallies[k])])) as Record<K, number>;
}

async function inProcess(bits: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-bench-'));
  try {
    const created = await createSelfSignedCertificate({ bits });
    const id = `bench-${bits}`;
    const pemPath = join(dir, `${id}.pem`);
    writeFileSync(pemPath, created.pem);
    const cert = parseEncryptionCertificate(created.certificate.raw.toString('base64'), id);
    if (typeof cert === 'string') throw new Error(cert);
    const pool = Array.from({ length: 256 }, (_, i) => encryptResourceData(chatMessage(i), cert));
    const store = new LocalCertificateStore(dir);
    const published: unknown[] = [];
    const seen = new Set<string>();
    const processor = new NotificationProcessor({
      certificates: store,
      routes: new RoutingTable(),
      publisher: {
        publish: async (event, queues) => {
          published.push(event.id);
          return { published: queues, failed: [] };
        },
      },
      routedLog: {
        claim: async ({ eventId, queues }) => ({
          queues: seen.has(eventId) ? [] : queues,
          complete: async () => void seen.add(eventId),
          release: async () => undefined,
        }),
      },
      deadLetters: {
        send: async () => {
          throw new Error('unexpected dead letter');
        },
        name: 'none',
      } as unknown as DeadLetterQueue,
      claimChecks: undefined as never,
    });
    const logger = createRecordingLogger();
    const queued = (i: number): QueuedNotification => {
      const resource = `chats('${CHAT}')/messages('${i}')`;
      return {
        schema: QUEUED_NOTIFICATION_SCHEMA,
        kind: 'change',
        receivedAt: '2026-11-22T10:00:00Z',
        notification: { subscriptionId: 's', changeType: 'created', resource, resourceData: { id: String(i) }, tenantId: 't', encryptedContent: pool[i % pool.length] } as never,
      };
    };
    const key = (await store.decryptionKey(id))!;
    const rates = await compareRates({
      routed: async (i) => {
        seen.clear();
        logger.lines.length = 0;
        await processor.process(queued(i), { sourceQueue: 'q', logger });
      },
      raw: (i) => privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(pool[i % pool.length]!.dataKey, 'base64')),
      sample: (i) => decryptResourceData(pool[i % pool.length]!, { certificateId: id, privateKey: createPrivateKey(readFileSync(pemPath, 'utf8')) }),
    });
    const routed = { perSecond: rates.routed };
    const raw = { perSecond: rates.raw };
    const sample = { perSecond: rates.sample };
    if (bits === 2048) recordFigures({ decryptRouteVsRawRsa: routed.perSecond / raw.perSecond });
    return [
      `RSA-${bits}  decrypt-and-route ${routed.perSecond.toFixed(0).padStart(7)}/s   raw RSA-OAEP decrypt ${raw.perSecond.toFixed(0).padStart(7)}/s   ` +
        `key re-read per notification ${sample.perSecond.toFixed(0).padStart(6)}/s   route/raw ${((routed.perSecond / raw.perSecond) * 100).toFixed(0)}%   route/re-read ${(routed.perSecond / sample.perSecond).toFixed(1)}x`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function endToEnd(total: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-bench-e2e-'));
  const azurite = await startAzurite();
  // Every storage request of the run (the app's and the host's polling) goes through the counter, and so do
  // the raw sends it is compared with.
  const counter = await startStorageOpCounter(azurite);
  const sim = await startGraphSimulator();
  const incoming = `bench-in-${Date.now()}`;
  const host = await startHostProcess({
    AzureWebJobsStorage: counter.connectionString,
    GRAPH_CLIENT_STATE: 'bench-secret',
    ...simulatorAppSettings(sim),
    NOTIFICATIONS_QUEUE: incoming,
    LIFECYCLE_QUEUE: `${incoming}-life`,
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    DEDUP_WINDOW_MINUTES: '60',
  });
  try {
    const sender = createHttpSender(`${host.url}/api/notifications`);
    const current = await new LocalCertificateStore(join(dir, 'certs')).current();
    const cert = parseEncryptionCertificate(current.certificateBase64, current.id);
    if (typeof cert === 'string') throw new Error(cert);
    const token = await sim.signer.validationToken(sim.appId, sim.tenantId, Date.now());
    const batches: string[] = [];
    for (let i = 0; i < total; i += 50) {
      const value = Array.from({ length: Math.min(50, total - i) }, (_, j) => {
        const n = i + j;
        const resource = `chats('${CHAT}')/messages('${1_700_000_000_000 + n}')`;
        return {
          subscriptionId: 's',
          changeType: 'created',
          clientState: 'bench-secret',
          resource,
          resourceData: { id: String(n) },
          tenantId: sim.tenantId,
          encryptedContent: encryptResourceData(chatMessage(n), cert),
        };
      });
      batches.push(JSON.stringify({ value, validationTokens: [token] }));
    }
    const storage = QueueServiceClient.fromConnectionString(counter.connectionString);
    // The bench's own progress checks go straight to Azurite: they are not the app's operations.
    const downstream = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('teams-chat-messages');
    counter.reset();
    let retried = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let b = worker; b < batches.length; b += 8) {
          // A 503 (storage too slow on a loaded machine) is retried as Graph would, sooner, and counted.
          for (;;) {
            const status = await sender.post(batches[b]!);
            if (status === 202) break;
            if (status !== 503) throw new Error(`expected 202, got ${status}`);
            retried++;
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }),
    );
    const accepted = performance.now() - started;
    for (;;) {
      const count = (await downstream.exists()) ? ((await downstream.getProperties()).approximateMessagesCount ?? 0) : 0;
      if (count >= total) break;
      if (performance.now() - started > 120_000) throw new Error(`only ${count} of ${total} events arrived`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    sender.close();
    // The incoming messages (and claim-check blobs) are deleted just after their last event went out:
    // their operations belong to the run, so it is counted once the incoming queue is empty.
    const incomingQueue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(incoming);
    while (((await incomingQueue.getProperties()).approximateMessagesCount ?? 0) > 0 && performance.now() - started < 180_000) await new Promise((r) => setTimeout(r, 100));
    const byKind = counter.counts();
    const appOps = counter.total();
    await host.stop();
    const rawQueue = storage.getQueueClient(`${incoming}-raw`);
    await rawQueue.createIfNotExists();
    const text = batches[0]!.slice(0, 1500);
    const rawStarted = performance.now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (sent < total) {
          sent++;
          await rawQueue.sendMessage(text);
        }
      }),
    );
    const rawPerSecond = total / ((performance.now() - rawStarted) / 1000);
    recordFigures({
      endToEndEventsPerSecond: total / seconds,
      endToEndVsRawSends: total / seconds / rawPerSecond,
      rawSendsPerSecond32: rawPerSecond,
      storageOpsPerEvent: appOps / total,
      storageOpsByKind: byKind,
      endToEndRequestsRetried: retried,
    });
    return (
      `storage operations during the run (${(appOps / total).toFixed(2)} per event): ${JSON.stringify(byKind)}\n` +
      `raw sendMessage through the same counter, 32 callers: ${rawPerSecond.toFixed(0)}/s\n` +
      `end to end, HTTP → incoming queue → decrypt and route → teams-chat-messages (RSA-2048, batches of 50, 8 senders): ${total} notifications in ${seconds.toFixed(1)} s = ${(total / seconds).toFixed(0)}/s (all accepted after ${(accepted / 1000).toFixed(1)} s, ${retried} requests answered 503 and sent again)`
    );
  } finally {
    await host.stop();
    await sim.close();
    await counter.close();
    await azurite.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`\ndecrypt-and-route benchmark — ${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${BUDGET_MS} ms per measurement\n`);
  for (const bits of [2048, 4096]) for (const line of await inProcess(bits)) console.log(line);
  console.log(await endToEnd(Number(process.env.BENCH_E2E_NOTIFICATIONS ?? 2000)));
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
