import { MAX_STORAGE_TIMEOUT_MS } from '../../shared/receive/answer-budget.js';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { readSettings } from '../../shared/config/settings.js';
import { createRecordingLogger } from '../../shared/log.js';
import { counterKey, type Metrics } from '../../shared/metrics/metrics.js';
import { createNotificationReceiver } from '../../shared/receive/create-notification-receiver.js';
import type { ReceiveResponse } from '../../shared/receive/problem.js';
import type { TenantAllowList } from '../../shared/receive/notification-receiver.js';
import { testEnv } from './notifications.js';
import { uniqueName } from './azurite.js';

export interface TestReceiver {
  post(body: unknown, options?: { contentType?: string | null; validationToken?: string; contentLength?: number; bodyArrivesAfterMs?: number }): Promise<ReceiveResponse>;
  logger: ReturnType<typeof createRecordingLogger>;
  /** What the receiver counted (`answers.notifications.202`, `slow_answers.notifications`) and timed (`answer_ms.notifications`). */
  measures: { counters: Record<string, number>; answerTimes: number[] };
  queues: { change: ReturnType<QueueServiceClient['getQueueClient']>; lifecycle: ReturnType<QueueServiceClient['getQueueClient']> };
  container: ReturnType<BlobServiceClient['getContainerClient']>;
}

/** Bounds of the receive path in tests of its behaviour (not of its timing): long enough for any loaded machine. */
const RELAXED_STORAGE_TIMEOUT_MS = 30_000;
const RELAXED_DEADLINE_MS = 60_000;

/** The receiver's clock, moved by hand: a late body makes it jump instead of making the test wait. */
export interface TestClock {
  readonly now: () => number;
  readonly advance: (ms: number) => void;
}

export function testClock(): TestClock {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

/**
 * The production receiver (createNotificationReceiver from settings) pointed at a test Azurite and JWKS,
 * with queue and container names unique to the test.
 */
export function testReceiver(
  connectionString: string,
  jwksUrl: string,
  env: Record<string, string> = {},
  options: { clock?: TestClock; tenants?: TenantAllowList; productionBudget?: boolean } = {},
): TestReceiver {
  const names = { change: uniqueName('notif'), lifecycle: uniqueName('life'), container: uniqueName('blobs') };
  const read = readSettings(
    testEnv({
      AzureWebJobsStorage: connectionString,
      GRAPH_JWKS_URL: jwksUrl,
      NOTIFICATIONS_QUEUE: names.change,
      LIFECYCLE_QUEUE: names.lifecycle,
      NOTIFICATIONS_CONTAINER: names.container,
      // The longest storage wait the app allows (production's bounds, with `productionBudget`); a test of the
      // timeout itself sets its own.
      RECEIVE_STORAGE_TIMEOUT_MS: String(MAX_STORAGE_TIMEOUT_MS),
      ...env,
    }),
  );
  const measures = { counters: {} as Record<string, number>, answerTimes: [] as number[] };
  const metrics: Metrics = {
    add: (counter, label, by = 1) => void (measures.counters[counterKey(counter, label)] = (measures.counters[counterKey(counter, label)] ?? 0) + by),
    observe: (histogram, _label, ms) => void (histogram === 'answer_ms' && measures.answerTimes.push(ms)),
    routedAt: () => undefined,
  };
  const clock = options.clock;
  // What a test of behaviour needs: an answer that does not turn into a 503 because a loaded machine (CI's two
  // cores, Azurite beside the tests) made one storage call slow. The answer budget's own tests, and those that
  // set RECEIVE_STORAGE_TIMEOUT_MS, get production's bounds.
  const relaxed = !options.productionBudget && env.RECEIVE_STORAGE_TIMEOUT_MS === undefined;
  const settings = relaxed ? { ...read, storageTimeoutMs: RELAXED_STORAGE_TIMEOUT_MS } : read;
  const receiver = createNotificationReceiver(settings, {
    metrics,
    ...(clock ? { now: clock.now } : {}),
    ...(options.tenants ? { tenants: options.tenants } : {}),
    ...(relaxed ? { deadlineMs: RELAXED_DEADLINE_MS } : {}),
  });
  const logger = createRecordingLogger();
  const queueService = QueueServiceClient.fromConnectionString(connectionString);
  return {
    logger,
    measures,
    queues: { change: queueService.getQueueClient(names.change), lifecycle: queueService.getQueueClient(names.lifecycle) },
    container: BlobServiceClient.fromConnectionString(connectionString).getContainerClient(names.container),
    post: (body, options = {}) => {
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      return receiver.receive(
        {
          validationToken: options.validationToken ?? null,
          contentType: options.contentType === undefined ? 'application/json; charset=utf-8' : options.contentType,
          contentLength: options.contentLength ?? bytes.length,
          // bodyArrivesAfterMs: a body that reaches the handler late (a slow sender or a busy host).
          readBody: async () => {
            if (options.bodyArrivesAfterMs && clock) clock.advance(options.bodyArrivesAfterMs);
            else if (options.bodyArrivesAfterMs) await new Promise((r) => setTimeout(r, options.bodyArrivesAfterMs));
            return bytes;
          },
        },
        'notifications',
        logger,
      );
    },
  };
}
