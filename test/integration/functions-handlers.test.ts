import { TableClient } from '@azure/data-tables';
import { HttpRequest, InvocationContext, type Timer } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_STORAGE_TIMEOUT_MS } from '../../shared/receive/answer-budget.js';
// Imported before the environment names anything: importing a function file builds nothing and reads no
// setting but the partition count (readSettings would throw here, with no clientState, app id or storage set).
import { handleLifecycle } from '../../functions/handle-lifecycle.js';
import { pruneExpiredData } from '../../functions/prune-expired-data.js';
import { receiveLifecycle } from '../../functions/receive-lifecycle.js';
import { receiveNotifications } from '../../functions/receive-notifications.js';
import { routeNotifications } from '../../functions/route-notifications.js';
import { hourBucket } from '../../shared/metrics/table-metrics.js';
import { QUEUED_BATCH_SCHEMA, type QueuedBatch, type QueuedNotification } from '../../shared/queue/queued-notification.js';
import type { DeadLetter } from '../../shared/route/dead-letter.js';
import { tableOnce } from '../../shared/util/table-once.js';
import { drainQueue, testAzurite, tempDir, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { changeNotification, lifecycleNotification, testEnv } from '../helpers/notifications.js';

let azurite: AzuriteProcess;
let certificates: ReturnType<typeof tempDir>;
const names = { change: uniqueName('notif'), lifecycle: uniqueName('life'), deadLetter: uniqueName('dead'), container: uniqueName('blobs'), metrics: uniqueName('metrics').replace(/-/g, '') };
let queues: QueueServiceClient;

beforeAll(async () => {
  azurite = await testAzurite();
  certificates = tempDir();
  queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  // The environment the host would give the app, with this test's Azurite and names: the handlers compose the
  // app from it on their first call.
  Object.assign(
    process.env,
    testEnv({
      AzureWebJobsStorage: azurite.connectionString,
      NOTIFICATIONS_QUEUE: names.change,
      LIFECYCLE_QUEUE: names.lifecycle,
      DEAD_LETTER_QUEUE: names.deadLetter,
      NOTIFICATIONS_CONTAINER: names.container,
      LOCAL_CERTIFICATE_DIR: certificates.path,
      METRICS_TABLE: names.metrics,
      METRICS_RETENTION_DAYS: '30',
      // The longest write the receive path may wait for: the first call composes the app and creates its queues,
      // which a loaded machine (the chaos soak beside it) may take over a second to do.
      RECEIVE_STORAGE_TIMEOUT_MS: String(MAX_STORAGE_TIMEOUT_MS),
    }),
  );
  // Provisioned beforehand, as infra/ does: the answer's budget is the send's, not the queues' creation.
  await Promise.all([names.change, names.lifecycle].map((q) => queues.getQueueClient(q).createIfNotExists()));
});
afterAll(async () => {
  await azurite?.stop();
  certificates?.remove();
});

/** The event name of an invocation log line: a JSON line's `event`, or the line itself. */
function eventOf(line: unknown): string {
  if (typeof line !== 'string') return String(line);
  try {
    const parsed = JSON.parse(line) as { event?: unknown };
    return typeof parsed.event === 'string' ? parsed.event : line;
  } catch {
    return line;
  }
}

/** An invocation context whose log events the test can read. */
function context(functionName: string, triggerMetadata: Record<string, unknown> = {}) {
  const events: string[] = [];
  const ctx = new InvocationContext({
    invocationId: uniqueName('invocation'),
    functionName,
    triggerMetadata,
    logHandler: (_level, ...args) => events.push(eventOf(args[0])),
  });
  return { ctx, events: () => events };
}

const post = (path: string, body: unknown, query: Record<string, string> = {}) =>
  new HttpRequest({
    method: 'POST',
    url: `http://127.0.0.1:7071/api/${path}`,
    query,
    headers: { 'content-type': 'application/json' },
    body: { string: typeof body === 'string' ? body : JSON.stringify(body) },
  });

describe('receiveNotifications (HTTP)', () => {
  it('answers the validation handshake with the token as text/plain', async () => {
    const { ctx } = context('notifications');
    const res = await receiveNotifications(post('notifications', '', { validationToken: 'Validation: reachability <&>' }), ctx);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Validation: reachability <&>');
  });

  it('queues a change notification and answers 202, logging through the invocation context', async () => {
    const notification = changeNotification();
    const { ctx, events } = context('notifications');
    const res = await receiveNotifications(post('notifications', { value: [notification] }), ctx);
    expect(res.status).toBe(202);
    // One message per Graph request: the request's accepted items together.
    const queued = (await drainQueue(queues.getQueueClient(names.change))).map((m) => m.body as QueuedBatch);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ schema: QUEUED_BATCH_SCHEMA, kind: 'change', items: [{ id: notification.id }] });
    expect(events()).toContain('receive.accepted');
  });

  it('refuses a body that is not JSON with 400', async () => {
    const { ctx, events } = context('notifications');
    const res = await receiveNotifications(post('notifications', '{not json'), ctx);
    expect(res.status).toBe(400);
    expect(events()).toContain('receive.bad_request');
  });
});

describe('receiveLifecycle (HTTP)', () => {
  it('queues a lifecycle notification on the lifecycle queue and answers 202', async () => {
    const notification = lifecycleNotification({ lifecycleEvent: 'missed' });
    const { ctx } = context('lifecycle');
    const res = await receiveLifecycle(post('lifecycle', { value: [notification] }), ctx);
    expect(res.status).toBe(202);
    const queued = (await drainQueue(queues.getQueueClient(names.lifecycle))).map((m) => m.body as QueuedNotification);
    expect(queued).toEqual([expect.objectContaining({ kind: 'lifecycle', notification: expect.objectContaining({ subscriptionId: notification.subscriptionId, lifecycleEvent: 'missed' }) })]);
  });
});

describe('queue handlers', () => {
  const deadLetters = async () => (await drainQueue(queues.getQueueClient(names.deadLetter))).map((m) => m.body as unknown as DeadLetter);

  it('routeNotifications dead-letters a message that is not a queued notification, naming its queue', async () => {
    const { ctx, events } = context('routeNotifications', { id: uniqueName('message'), dequeueCount: 1 });
    await routeNotifications(0)({ hello: 'world' }, ctx);
    expect(await deadLetters()).toEqual([expect.objectContaining({ reason: 'malformed_message', sourceQueue: names.change })]);
    expect(events().some((e) => e.includes('dead_letter'))).toBe(true);
  });

  it('handleLifecycle dead-letters a message that is not a lifecycle notification', async () => {
    const { ctx, events } = context('handleLifecycle');
    await handleLifecycle({ schema: 'something-else' }, ctx);
    expect(await deadLetters()).toEqual([expect.objectContaining({ reason: 'malformed_message', sourceQueue: names.lifecycle })]);
    expect(events()).toContain('lifecycle.dead_lettered');
  });
});

describe('timer handlers', () => {
  it('pruneExpiredData also deletes the counters past METRICS_RETENTION_DAYS, and logs each clean-up (claim-check blobs included)', async () => {
    const table = TableClient.fromConnectionString(azurite.connectionString, names.metrics, { allowInsecureConnection: true });
    await tableOnce(table)();
    const day = 24 * 60 * 60 * 1000;
    const row = (at: number, rowKey: string) => ({ partitionKey: hourBucket(new Date(at)), rowKey, counters: '{"accepted":1}', lastRouted: '{}' });
    await table.createEntity(row(Date.now() - 31 * day, 'gone'));
    await table.createEntity(row(Date.now() - 2 * day, 'kept'));
    const { ctx, events } = context('pruneExpiredData');
    const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
    await pruneExpiredData(timer, ctx);
    expect(events()).toEqual(expect.arrayContaining(['dedup.pruned', 'payloads.pruned', 'claim_checks.pruned', 'metrics.pruned', 'backfill.pieces_pruned', 'backfill.gaps_pruned']));
    const left: string[] = [];
    for await (const e of table.listEntities<{ rowKey: string }>()) left.push(e.rowKey);
    expect(left).toContain('kept');
    expect(left).not.toContain('gone');
  });
});
