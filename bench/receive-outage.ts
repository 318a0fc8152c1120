/**
 * `npm run bench` (and `npm run bench:outage` alone): the receive path's answer times while storage stalls
 * and then stops, under load, against Graph's rule that an answer over 2,900 ms is slow.
 *
 * It starts Azurite (on disk, so that a restart keeps what it acknowledged) and the local Functions host
 * running the real app, then 16 senders POST batches of 5 notifications (every 10th request 300, a
 * claim-check blob) for the whole run, after a warm-up, each retrying a refused batch after 250 ms as Graph retries a 503.
 * Meanwhile Azurite is frozen (SIGSTOP: connections taken, never answered) for 4 s, let go, then stopped
 * (SIGTERM) for 4 s and started again on the same ports and folder. Then it reads every incoming message back
 * and counts the notifications that were answered 202 and are not there: lost (target 0). It prints the
 * answer-time distribution, the answers over 2,900 ms (target 0) and the machine's load.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { decodeJsonMessage } from '../shared/queue/json-message.js';
import { readBlob } from '../shared/queue/read-blob.js';
import { isClaimCheck, type QueueMessageBody, type QueuedBatch } from '../shared/queue/queued-notification.js';
import { GRAPH_SLOW_ANSWER_MS } from '../shared/receive/answer-budget.js';
import { startAzurite, type AzuriteProcess } from '../dev/azurite/azurite-process.js';
import { chatMessageNotification } from './chat-message-notification.js';
import { recordFigures } from './figures.js';
import { startHostProcess } from './host-process.js';
import { createHttpSender } from './http-sender.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const SECRET = 'bench-outage-client-state-0123';
const SENDERS = 16;
const PHASE_MS = Number(process.env.BENCH_OUTAGE_PHASE_MS ?? 4000);

const notificationWithId = (id: string) => chatMessageNotification({ clientState: SECRET, tenantId: TENANT, id });

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ids of every notification on the queue (claim checks read from their blob). */
async function idsOnQueue(connectionString: string, queueName: string): Promise<Set<string>> {
  const queue = QueueServiceClient.fromConnectionString(connectionString).getQueueClient(queueName);
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  const ids = new Set<string>();
  for (;;) {
    const { receivedMessageItems: messages } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    if (messages.length === 0) return ids;
    for (const m of messages) {
      let body = decodeJsonMessage<QueueMessageBody>(m.messageText);
      if (isClaimCheck(body)) {
        const { container, blob } = body.claimCheck;
        body = JSON.parse((await readBlob(blobs.getContainerClient(container).getBlobClient(blob))).toString('utf8')) as QueueMessageBody;
      }
      for (const item of (body as QueuedBatch).items ?? []) ids.add(String(item.id));
    }
  }
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'bench-outage-'));
  let azurite: AzuriteProcess = await startAzurite({ location: folder });
  const queueName = `outage-${Date.now()}`;
  const host = await startHostProcess({
    AzureWebJobsStorage: azurite.connectionString,
    GRAPH_CLIENT_STATE: SECRET,
    GRAPH_APP_ID: '22222222-2222-4222-8222-222222222222',
    GRAPH_TENANT_IDS: TENANT,
    NOTIFICATIONS_QUEUE: queueName,
    LIFECYCLE_QUEUE: `${queueName}-life`,
    // The incoming queue is read back at the end: nothing routes it meanwhile.
    'AzureWebJobs.routeNotifications.Disabled': 'true',
    'AzureWebJobs.handleLifecycle.Disabled': 'true',
  });
  const sender = createHttpSender(`${host.url}/api/notifications`, SENDERS);
  const answers: { ms: number; status: number; phase: string }[] = [];
  const acknowledged = new Set<string>();
  let phase = 'healthy';
  let sending = true;
  let requests = 0;

  // One sender: a batch is retried until it is answered 202, as Graph retries a 503 (sooner, to load the app).
  const send = async () => {
    while (sending) {
      const size = ++requests % 10 === 0 ? 300 : 5;
      const ids = Array.from({ length: size }, () => randomUUID());
      const body = JSON.stringify({ value: ids.map(notificationWithId) });
      for (let done = false; !done;) {
        const at = phase;
        const started = performance.now();
        const status = await sender.post(body).catch(() => 0);
        answers.push({ ms: performance.now() - started, status, phase: at });
        done = status === 202;
        if (done) for (const id of ids) acknowledged.add(id);
        else await sleep(250);
      }
    }
  };
  // Warm-up, not measured: the host's first invocations (modules, the app's composition, the queue's
  // creation) are a cold instance's, which the answer budget leaves out (docs/reliability.md).
  for (let i = 0; i < 2 * SENDERS; i++) await sender.post(JSON.stringify({ value: [notificationWithId(randomUUID())] }));
  const senders = Promise.all(Array.from({ length: SENDERS }, send));
  try {
    await sleep(PHASE_MS);
    phase = 'stalled';
    process.kill(azurite.pid!, 'SIGSTOP');
    await sleep(PHASE_MS);
    process.kill(azurite.pid!, 'SIGCONT');
    phase = 'stopped';
    await azurite.stop();
    await sleep(PHASE_MS);
    azurite = await startAzurite({ location: folder, ports: azurite.ports });
    phase = 'restarted';
    await sleep(PHASE_MS);
  } finally {
    sending = false;
    await senders;
    sender.close();
    await host.stop();
  }
  const stored = await idsOnQueue(azurite.connectionString, queueName);
  await azurite.stop();
  rmSync(folder, { recursive: true, force: true });

  const lost = [...acknowledged].filter((id) => !stored.has(id)).length;
  const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
  const over = answers.filter((a) => a.ms > GRAPH_SLOW_ANSWER_MS);
  const byStatus = Object.fromEntries([...new Set(answers.map((a) => a.status))].map((s) => [s, answers.filter((a) => a.status === s).length]));
  const byPhase = Object.fromEntries(
    [...new Set(answers.map((a) => a.phase))].map((p) => {
      const ms = answers
        .filter((a) => a.phase === p)
        .map((a) => a.ms)
        .sort((a, b) => a - b);
      return [
        p,
        {
          answers: ms.length,
          refused: answers.filter((a) => a.phase === p && a.status !== 202).length,
          p50: Math.round(percentile(ms, 50)),
          p99: Math.round(percentile(ms, 99)),
          max: Math.round(ms.at(-1) ?? NaN),
        },
      ];
    }),
  );
  const figures = {
    outageAnswers: answers.length,
    outageAnswersOver2900Ms: over.length,
    outageLate202: over.filter((a) => a.status === 202).length,
    outageP50Ms: percentile(sorted, 50),
    outageP99Ms: percentile(sorted, 99),
    outageP999Ms: percentile(sorted, 99.9),
    outageMaxMs: sorted.at(-1) ?? NaN,
    outageAcknowledged: acknowledged.size,
    outageLost: lost,
  };
  console.log(JSON.stringify({ ...figures, byStatus, byPhase, loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) }));
  recordFigures(figures);
  if (lost > 0 || over.length > 0) process.exitCode = 1;
}

await main();
