/**
 * `npm run bench`: the receive path's throughput and latency, measured end to end on this machine.
 *
 * It starts Azurite (in memory) and the local Functions host running the real app, then POSTs batches of
 * 1 and 50 notifications from 1 and 32 concurrent senders over loopback HTTP, and, as the ceiling for this
 * path, sends the same queue messages straight into the same Azurite with @azure/storage-queue at the same
 * concurrency. Each scenario runs for a bounded time and number of requests, then everything is stopped.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite } from '../dev/azurite/azurite-process.js';
import { chatMessageNotification } from './chat-message-notification.js';
import { recordFigures } from './figures.js';
import { startHostProcess } from './host-process.js';
import { createHttpSender } from './http-sender.js';
import { encodeJsonMessage } from '../shared/queue/json-message.js';
import { QUEUED_NOTIFICATION_SCHEMA } from '../shared/queue/queued-notification.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const APP = '22222222-2222-4222-8222-222222222222';
const SECRET = 'bench-client-state-0123456789';
const SCENARIO_MS = Number(process.env.BENCH_SCENARIO_MS ?? 5000);
const MAX_REQUESTS = 20_000;

const notification = () => chatMessageNotification({ clientState: SECRET, tenantId: TENANT });

interface Result {
  readonly label: string;
  readonly concurrency: number;
  readonly requests: number;
  readonly items: number;
  readonly seconds: number;
  readonly latencies: number[];
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs `op` from `concurrency` loops until the time or request budget is spent. */
async function run(label: string, concurrency: number, itemsPerOp: number, op: () => Promise<void>): Promise<Result> {
  for (let i = 0; i < Math.min(20, concurrency * 2); i++) await op(); // warm-up: connections, JIT
  const latencies: number[] = [];
  const started = performance.now();
  let issued = 0;
  const loop = async () => {
    while (performance.now() - started < SCENARIO_MS && issued < MAX_REQUESTS) {
      issued++;
      const t = performance.now();
      await op();
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  return { label, concurrency, requests: latencies.length, items: latencies.length * itemsPerOp, seconds, latencies: latencies.sort((a, b) => a - b) };
}

/** bench/bare-relay.ts in a process of its own, and a sender for it. */
async function startBareRelay(connectionString: string, queue: string): Promise<{ sender: ReturnType<typeof createHttpSender>; stop: () => void }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('./bare-relay.js', import.meta.url)), connectionString, queue], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening (\S+)/.exec(d.toString());
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the bare relay exited with ${code}`)));
  });
  const sender = createHttpSender(url);
  return {
    sender,
    stop: () => {
      sender.close();
      child.kill('SIGTERM');
    },
  };
}

async function main(): Promise<void> {
  const azurite = await startAzurite();
  const queueName = `bench-${Date.now()}`;
  // The route function is off: this measures the receive path alone.
  const host = await startHostProcess(
    {
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_CLIENT_STATE: SECRET,
      GRAPH_APP_ID: APP,
      GRAPH_TENANT_IDS: TENANT,
      NOTIFICATIONS_QUEUE: queueName,
      LIFECYCLE_QUEUE: `${queueName}-life`,
      'AzureWebJobs.routeNotifications.Disabled': 'true',
      'AzureWebJobs.handleLifecycle.Disabled': 'true',
    },
    { echoErrors: Boolean(process.env.BENCH_HOST_LOG) },
  );
  const sender = createHttpSender(`${host.url}/api/notifications`);

  const results: Result[] = [];
  let refused = 0;
  try {
    for (const batch of [1, 50]) {
      const body = JSON.stringify({ value: Array.from({ length: batch }, notification) });
      for (const concurrency of [1, 32]) {
        results.push(
          await run(`receive, batch ${batch}`, concurrency, batch, async () => {
            if ((await sender.post(body)) !== 202) refused++;
          }),
        );
      }
    }
    // The floor of any receive path here: one more process that stores the body and answers (bench/bare-relay.ts).
    const relay = await startBareRelay(azurite.connectionString, `${queueName}-bare`);
    try {
      const body = JSON.stringify({ value: [notification()] });
      results.push(await run('bare relay, batch 1', 1, 1, async () => void (await relay.sender.post(body))));
    } finally {
      relay.stop();
    }
    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(`${queueName}-raw`);
    await queue.createIfNotExists();
    const text = encodeJsonMessage({
      schema: QUEUED_NOTIFICATION_SCHEMA,
      kind: 'change',
      receivedAt: new Date().toISOString(),
      notification: notification() as never,
    });
    for (const concurrency of [1, 32]) {
      results.push(await run('raw sendMessage', concurrency, 1, async () => void (await queue.sendMessage(text))));
    }
  } finally {
    sender.close();
    await host.stop();
    await azurite.stop();
  }

  const rate = (r: Result) => r.items / r.seconds;
  const raw = (c: number) => results.find((r) => r.label === 'raw sendMessage' && r.concurrency === c);
  console.log(`\nreceive path benchmark — ${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${SCENARIO_MS} ms per scenario\n`);
  console.log('scenario                 senders  requests  notifications/s   p50 ms   p99 ms   vs raw sends');
  for (const r of results) {
    const ceiling = raw(r.concurrency);
    const ratio = r.label !== 'raw sendMessage' && ceiling ? `${((rate(r) / rate(ceiling)) * 100).toFixed(0)}%` : '';
    console.log(
      `${r.label.padEnd(24)} ${String(r.concurrency).padStart(7)} ${String(r.requests).padStart(9)} ${rate(r).toFixed(0).padStart(16)} ${percentile(r.latencies, 50).toFixed(2).padStart(8)} ${percentile(r.latencies, 99).toFixed(2).padStart(8)} ${ratio.padStart(14)}`,
    );
  }
  console.log(`\nanswers other than 202 during the run: ${refused}`);
  const receive = (batch: number, c: number) => results.find((r) => r.label === `receive, batch ${batch}` && r.concurrency === c);
  const share = (r: Result | undefined, c: number) => (r && raw(c) ? rate(r) / rate(raw(c)!) : null);
  recordFigures(
    {
      receiveBatch1VsRaw: share(receive(1, 1), 1),
      receiveBatch50VsRaw: share(receive(50, 32), 32),
      receiveBatch1BareRelayVsRaw: share(
        results.find((r) => r.label === 'bare relay, batch 1'),
        1,
      ),
      receiveBatch1P50Ms: percentile(receive(1, 1)?.latencies ?? [], 50),
      rawSendP50Ms: percentile(raw(1)?.latencies ?? [], 50),
      receiveRefused: refused,
    },
    true,
  );
  console.log('\n"vs raw sends": notifications accepted per second through HTTP + the function, as a share of');
  console.log('@azure/storage-queue sendMessage calls per second into the same Azurite at the same concurrency.');
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
