import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AZURITE_KEY } from '../../shared/config/storage-connection.js';
import { readBlob } from '../../shared/queue/read-blob.js';
import { unpackQueued, type QueuedBatch } from '../../shared/queue/queued-notification.js';
import { azuriteSasConnectionString, drainQueue, queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, runHost, startHost, type HostProcess } from '../helpers/local-host-process.js';
import { APP_ID, CLIENT_STATE, TENANT_A, changeNotification, lifecycleNotification } from '../helpers/notifications.js';

const FIXTURE_APP = fileURLToPath(new URL('../fixtures/host-app/', import.meta.url));

let azurite: AzuriteProcess;
beforeAll(async () => {
  azurite = await testAzurite();
});
afterAll(() => azurite?.stop());

describe('the function app under the local host', () => {
  let host: HostProcess;
  const queues = { change: uniqueName('host-notif'), lifecycle: uniqueName('host-life') };

  beforeAll(async () => {
    host = await startHost(REPO_ROOT, {
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_CLIENT_STATE: CLIENT_STATE,
      GRAPH_APP_ID: APP_ID,
      GRAPH_TENANT_IDS: TENANT_A,
      NOTIFICATIONS_QUEUE: queues.change,
      LIFECYCLE_QUEUE: queues.lifecycle,
      // This test reads the queues itself.
      'AzureWebJobs.routeNotifications.Disabled': 'true',
      'AzureWebJobs.handleLifecycle.Disabled': 'true',
    });
  });
  afterAll(() => host?.stop());

  it('announces its endpoints and the queues it writes to, without secrets', () => {
    const configured = host.lines.find((l) => l.event === 'app.configured');
    expect(configured).toMatchObject({ notificationsQueue: queues.change, lifecycleQueue: queues.lifecycle, tenants: 1, clientStateSecrets: 1 });
    expect(JSON.stringify(host.lines)).not.toContain(CLIENT_STATE);
    expect(JSON.stringify(host.lines)).not.toContain('AccountKey');
    const started = host.lines.find((l) => l.event === 'host.started');
    expect(started?.http).toEqual(
      expect.arrayContaining([
        { function: 'notifications', methods: ['POST'], url: `${host.url}/api/notifications` },
        { function: 'lifecycle', methods: ['POST'], url: `${host.url}/api/lifecycle` },
      ]),
    );
  });

  it('answers the validation handshake over HTTP', async () => {
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 9b1a';
    const res = await fetch(`${host.url}/api/notifications?validationToken=${encodeURIComponent(token)}`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(token);
    const lifecycle = await fetch(`${host.url}/api/lifecycle?validationToken=abc`, { method: 'POST', body: '' });
    expect(await lifecycle.text()).toBe('abc');
  });

  it('queues a batch received over HTTP and logs one line per invocation', async () => {
    const items = [changeNotification(), changeNotification(), lifecycleNotification()];
    const res = await fetch(`${host.url}/api/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: items }),
    });
    expect(res.status).toBe(202);
    const client = queueService(azurite);
    // The request's change notifications are one message; the lifecycle item is on its own queue.
    const change = await drainQueue(client.getQueueClient(queues.change));
    expect(change).toHaveLength(1);
    expect(
      change
        .flatMap((m) => unpackQueued(m.body as QueuedBatch))
        .map((q) => q.notification.id)
        .sort(),
    ).toEqual([items[0]?.id, items[1]?.id].sort());
    expect(await drainQueue(client.getQueueClient(queues.lifecycle))).toHaveLength(1);
    const invocation = await host.waitFor((l) => l.event === 'invocation' && l.httpStatus === 202);
    expect(invocation).toMatchObject({ function: 'notifications', trigger: 'http', status: 'succeeded', method: 'POST' });
  });

  it('answers bad input with problem+json, and unknown routes or methods with 404', async () => {
    const bad = await fetch(`${host.url}/api/notifications`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${host.url}/api/notifications`)).status).toBe(404);
    expect((await fetch(`${host.url}/api/nothing`, { method: 'POST' })).status).toBe(404);
  });
});

describe('the local host', () => {
  it('stops at start-up naming each invalid setting', async () => {
    const { exit, output } = runHost(REPO_ROOT, {
      AzureWebJobsStorage: azurite.connectionString,
      GRAPH_APP_ID: 'not-a-guid',
      NOTIFICATIONS_QUEUE: 'Not_A_Queue',
    });
    expect(await exit).toBe(1);
    expect(output().stderr).toContain('GRAPH_APP_ID');
    expect(output().stderr).toContain('NOTIFICATIONS_QUEUE');
  });

  it('stops at start-up on an invalid routing or subscriptions file, naming the mistakes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcr-bad-files-'));
    writeFileSync(join(dir, 'routes.json'), JSON.stringify({ routes: [{ match: { kind: 'meeting' }, queues: ['x1y'] }] }));
    writeFileSync(join(dir, 'subs.json'), JSON.stringify({ subscriptions: [{ name: 'a', resource: '/chats', changeTypes: ['deleted'] }] }));
    for (const [setting, expected] of [
      ['ROUTES_FILE', /ROUTES_FILE .* is invalid: routes\[0\]\.match\.kind/],
      ['SUBSCRIPTIONS_FILE', /subscriptions\[0\] \(a\): changeType deleted is not supported/],
    ] as const) {
      const { exit, output } = runHost(REPO_ROOT, { AzureWebJobsStorage: azurite.connectionString, [setting]: join(dir, setting === 'ROUTES_FILE' ? 'routes.json' : 'subs.json') });
      expect(await exit).toBe(1);
      expect(output().stderr).toMatch(expected);
    }
  });

  describe('with a fixture app of queue, timer and HTTP functions', () => {
    let host: HostProcess;
    const flaky = uniqueName('flaky');
    const doomed = uniqueName('doomed');

    beforeAll(async () => {
      host = await startHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, FLAKY_QUEUE: flaky, DOOMED_QUEUE: doomed });
    });
    afterAll(() => host?.stop());

    it('runs a function that fails twice then succeeds: three invocations, message deleted, nothing poisoned', async () => {
      const client = queueService(azurite);
      const queue = client.getQueueClient(flaky);
      await queue.createIfNotExists();
      await queue.sendMessage(Buffer.from(JSON.stringify({ order: 42 })).toString('base64'));

      await host.waitFor((l) => l.event === 'invocation' && l.function === 'flaky' && l.status === 'succeeded');
      const attempts = host.lines.filter((l) => l.event === 'flaky.attempt');
      expect(attempts.map((a) => a.dequeueCount)).toEqual([1, 2, 3]);
      expect(attempts[0]).toMatchObject({ message: { order: 42 }, dequeueCountType: 'number', insertionTime: expect.stringMatching(/\+00:00$/) });
      const invocations = host.lines.filter((l) => l.event === 'invocation' && l.function === 'flaky');
      expect(invocations.map((i) => i.status)).toEqual(['failed', 'failed', 'succeeded']);
      expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
      expect(await client.getQueueClient(`${flaky}-poison`).exists()).toBe(false);
    });

    it('moves a message that always fails to <queue>-poison after maxDequeueCount attempts', async () => {
      const client = queueService(azurite);
      const queue = client.getQueueClient(doomed);
      await queue.createIfNotExists();
      const text = Buffer.from('"plain text body"').toString('base64');
      await queue.sendMessage(text);

      await host.waitFor((l) => l.event === 'queue.message_poisoned' && l.queue === doomed);
      expect(host.lines.filter((l) => l.event === 'doomed.attempt').map((a) => a.dequeueCount)).toEqual([1, 2, 3]);
      const poison = await client.getQueueClient(`${doomed}-poison`).receiveMessages();
      expect(poison.receivedMessageItems.map((m) => m.messageText)).toEqual([text]);
      expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
    });

    it('leaves a failed message on a queue with no poison queue of its own (a -poison queue) invisible until its lease ends, instead of releasing it', async () => {
      const lastResort = `${uniqueName('resort')}-poison`;
      // The always-failing function on a -poison queue, with a short lease so that the message comes back in the test.
      const resortHost = await startHost(FIXTURE_APP, {
        AzureWebJobsStorage: azurite.connectionString,
        FLAKY_QUEUE: uniqueName('unused'),
        DOOMED_QUEUE: lastResort,
        LOCAL_HOST_QUEUE_LEASE_SECONDS: '4',
        'AzureWebJobs.yearly.Disabled': 'true',
      });
      try {
        const client = queueService(azurite);
        const queue = client.getQueueClient(lastResort);
        await queue.createIfNotExists();
        await queue.sendMessage(Buffer.from('"last resort"').toString('base64'));
        const left = await resortHost.waitFor((l) => l.event === 'queue.message_left_invisible' && l.queue === lastResort);
        // visibilityTimeout is 0 in this app's host.json: a released message would be visible at once.
        expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
        const second = await resortHost.waitFor((l) => l.event === 'doomed.attempt' && l.dequeueCount === 2);
        // It came back only when the 4-second lease ended (a loaded machine only makes that later).
        expect(Date.parse(String(second.time)) - Date.parse(String(left.time))).toBeGreaterThanOrEqual(3000);
        expect(await client.getQueueClient(`${lastResort}-poison`).exists()).toBe(false);
      } finally {
        await resortHost.stop();
      }
    });

    it('poisons a message that is not base64 without invoking the function', async () => {
      const client = queueService(azurite);
      const queue = client.getQueueClient(doomed);
      const before = host.lines.filter((l) => l.event === 'doomed.attempt').length;
      await queue.sendMessage('not base64!');
      await host.waitFor((l) => l.event === 'queue.message_poisoned' && l.reason === 'message is not valid base64');
      expect(host.lines.filter((l) => l.event === 'doomed.attempt').length).toBe(before);
      const poison = await client.getQueueClient(`${doomed}-poison`).receiveMessages({ numberOfMessages: 32 });
      expect(poison.receivedMessageItems.map((m) => m.messageText)).toContain('not base64!');
    });

    it('runs a timer with runOnStartup once at start', async () => {
      const ran = await host.waitFor((l) => l.event === 'yearly.ran');
      expect(ran).toMatchObject({ isPastDue: false, hasSchedule: true });
      expect(host.lines.find((l) => l.event === 'invocation' && l.function === 'yearly')).toMatchObject({ trigger: 'timer', status: 'succeeded', reason: 'RunOnStartup' });
      const started = host.lines.find((l) => l.event === 'host.started');
      expect(started?.queues).toEqual([
        { function: 'flaky', queue: flaky },
        { function: 'doomed', queue: doomed },
      ]);
      expect(started?.timers).toEqual([
        { function: 'yearly', next: expect.stringMatching(/-01-01T00:00:00\.000Z$/), scheduleMonitor: true },
        { function: 'hourly', next: expect.stringMatching(/:00:00\.000Z$/), scheduleMonitor: true },
        { function: 'unmonitored', next: expect.stringMatching(/-01-01T00:00:00\.000Z$/), scheduleMonitor: false },
      ]);
    });

    it('routes HTTP under the host.json route prefix with route parameters, query, headers and body', async () => {
      const res = await fetch(`${host.url}/fx/echo/7/more?x=1`, { method: 'POST', headers: { 'x-test': 'hdr' }, body: 'payload' });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-echo')).toBe('yes');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ method: 'POST', params: { id: '7', rest: 'more' }, query: { x: '1' }, header: 'hdr', body: 'payload' });
      const get = await fetch(`${host.url}/fx/echo/8`);
      expect(await get.json()).toMatchObject({ method: 'GET', params: { id: '8' }, body: null });
      expect((await fetch(`${host.url}/fx/echo/7`, { method: 'DELETE' })).status).toBe(404);
    });

    it('gives the function an empty body for a request without Content-Length (chunked), as the real host gives the worker', async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('chunked payload'));
          controller.close();
        },
      });
      const res = await fetch(`${host.url}/fx/echo/9`, { method: 'POST', body: stream, duplex: 'half' });
      expect(res.status).toBe(201);
      expect(await res.json()).toMatchObject({ method: 'POST', body: '' });
      expect(host.lines.find((l) => l.event === 'http.chunked_body_dropped')).toMatchObject({ method: 'POST', path: '/fx/echo/9', bytes: 15 });
    });
  });

  it('finishes in-flight requests on SIGTERM, then exits 0', async () => {
    const host = await startHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, FLAKY_QUEUE: uniqueName('f'), DOOMED_QUEUE: uniqueName('d') });
    const pending = fetch(`${host.url}/fx/slow?ms=1500`);
    await host.waitFor((l) => l.event === 'slow.started');
    const exitCode = host.stop('SIGTERM');
    const res = await pending;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('finished');
    expect(await exitCode).toBe(0);
    expect(host.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['host.stopping', 'host.stopped']));
    await expect(fetch(`${host.url}/fx/slow?ms=1`)).rejects.toThrow();
  });

  it('gives appTerminate hooks 5 seconds, as the worker does, then stops without them', async () => {
    const host = await startHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, FLAKY_QUEUE: uniqueName('f'), DOOMED_QUEUE: uniqueName('d'), TERMINATE_HOOK_MS: '60000' });
    expect(await host.stop('SIGTERM')).toBe(0);
    const events = host.lines.map((l) => l.event);
    expect(events).toEqual(expect.arrayContaining(['terminate.started', 'host.app_terminate_timeout', 'host.stopped']));
    expect(events).not.toContain('terminate.finished');
    expect(host.lines.find((l) => l.event === 'host.app_terminate_timeout')).toMatchObject({ afterMs: 5000 });
  });
});

describe('host.json and app settings the host honours', () => {
  it('loads only the host.json functions list, disables by AzureWebJobs_<name>_Disabled and any-case dotted names, filters by logging.logLevel, and fails invocations over functionTimeout', async () => {
    const flaky = uniqueName('timeout');
    const host = await startHost(FIXTURE_APP, {
      AzureWebJobsStorage: azurite.connectionString,
      FLAKY_QUEUE: flaky,
      // As app settings give a list to the host: one setting per item.
      AzureFunctionsJobHost__functions__0: 'echo',
      AzureFunctionsJobHost__functions__1: 'SLOW',
      AzureFunctionsJobHost__functions__2: 'yearly',
      AzureFunctionsJobHost__functions__3: 'unmonitored',
      AzureFunctionsJobHost__functions__4: 'flaky',
      AzureWebJobs_yearly_Disabled: 'true',
      'azurewebjobs.UNMONITORED.disabled': 'TRUE',
      AzureFunctionsJobHost__functionTimeout: '00:00:01',
      'AzureFunctionsJobHost__logging__logLevel__Function.echo': 'None',
    });
    try {
      const started = host.lines.find((l) => l.event === 'host.started');
      expect((started?.http as { function: string }[]).map((h) => h.function).sort()).toEqual(['echo', 'slow']);
      expect(started?.queues).toEqual([{ function: 'flaky', queue: flaky }]);
      expect(started?.timers).toEqual([]);
      expect(
        host.lines
          .filter((l) => l.event === 'host.function_not_in_functions_list')
          .map((l) => l.function)
          .sort(),
      ).toEqual(['doomed', 'hourly']);
      expect(
        host.lines
          .filter((l) => l.event === 'host.function_disabled')
          .map((l) => l.function)
          .sort(),
      ).toEqual(['unmonitored', 'yearly']);

      // logging.logLevel Function.echo = None: echo's invocation line is not written.
      expect((await fetch(`${host.url}/fx/echo/1`)).status).toBe(201);
      // functionTimeout: an HTTP invocation over it answers 500 and fails as in the host.
      const slow = await fetch(`${host.url}/fx/slow?ms=4000`);
      expect(slow.status).toBe(500);
      const failed = await host.waitFor((l) => l.event === 'invocation' && l.function === 'slow');
      expect(failed).toMatchObject({ status: 'failed', httpStatus: 500, error: 'Timeout value of 00:00:01 was exceeded by function: Functions.slow' });
      expect(host.lines.find((l) => l.event === 'function.timeout' && l.function === 'slow')).toMatchObject({
        level: 'error',
        message: expect.stringMatching(/^Timeout value of 00:00:01 exceeded by function 'slow' \(Id: '.+'\)\. Initiating cancellation\.$/),
      });
      expect(host.lines.filter((l) => l.event === 'invocation' && l.function === 'echo')).toEqual([]);

      // A queue invocation over it fails and its message is released for another attempt.
      const queue = queueService(azurite).getQueueClient(flaky);
      await queue.createIfNotExists();
      await queue.sendMessage(Buffer.from(JSON.stringify({ order: 7, sleepMs: 4000 })).toString('base64'));
      await host.waitFor((l) => l.event === 'invocation' && l.function === 'flaky' && l.status === 'succeeded', 60_000);
      const invocations = host.lines.filter((l) => l.event === 'invocation' && l.function === 'flaky');
      expect(invocations[0]).toMatchObject({ status: 'failed', dequeueCount: 1, error: 'Timeout value of 00:00:01 was exceeded by function: Functions.flaky' });
      expect(invocations.map((i) => i.dequeueCount)).toEqual([1, 2, 3]);
      expect((await queue.peekMessages()).peekedMessageItems).toHaveLength(0);
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });

  it('fails every other invocation in flight when one exceeds functionTimeout, as the restart of the worker does in Azure', async () => {
    const host = await startHost(FIXTURE_APP, {
      AzureWebJobsStorage: azurite.connectionString,
      AzureFunctionsJobHost__functions__0: 'slow',
      AzureFunctionsJobHost__functionTimeout: '00:00:03',
    });
    try {
      const first = fetch(`${host.url}/fx/slow?ms=60000`);
      await host.waitFor((l) => l.event === 'slow.started');
      // In flight when the first one times out (it started later, so it would time out later).
      const second = fetch(`${host.url}/fx/slow?ms=60000`);
      await host.waitFor(() => host.lines.filter((l) => l.event === 'slow.started').length === 2);
      expect((await first).status).toBe(500);
      expect((await second).status).toBe(500);
      const restart = await host.waitFor((l) => l.event === 'worker.restarted');
      const invocations = host.lines.filter((l) => l.event === 'invocation' && l.function === 'slow');
      expect(invocations.map((i) => i.error).sort()).toEqual([
        expect.stringMatching(/^The Node\.js worker process was restarted: invocation .+ of Functions\.slow exceeded functionTimeout\.$/),
        'Timeout value of 00:00:03 was exceeded by function: Functions.slow',
      ]);
      expect(restart.failedInvocations).toEqual([invocations.find((i) => String(i.error).startsWith('The Node.js worker'))?.invocationId]);
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });

  it('announces the host.json settings that apply only in Azure, such as Application Insights sampling', async () => {
    const host = await startHost(FIXTURE_APP, {
      AzureWebJobsStorage: azurite.connectionString,
      FLAKY_QUEUE: uniqueName('f'),
      DOOMED_QUEUE: uniqueName('d'),
      AzureFunctionsJobHost__logging__applicationInsights__samplingSettings__isEnabled: 'true',
    });
    try {
      const note = host.lines.find((l) => l.event === 'host.json_not_applied' && String(l.setting).startsWith('logging.applicationInsights'));
      expect(note).toMatchObject({ level: 'info', setting: 'logging.applicationInsights', why: expect.stringMatching(/sampling.*none sampled/) });
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });

  it('refuses to start on a host.json setting the Azure host honours and the local host does not, naming it', async () => {
    for (const [setting, value, expected] of [
      ['AzureFunctionsJobHost__retry__strategy', 'fixedDelay', /host\.json sets retry, which the Azure host honours and the local host does not/],
      ['AzureFunctionsJobHost__extensions__http__customHeaders__X-Frame-Options', 'DENY', /extensions\.http\.customHeaders/],
      ['AzureFunctionsJobHost__functionTimout', '00:10:00', /functionTimout.*a typo/],
      ['AzureFunctionsJobHost__functionTimeout', '00:00:00.500', /functionTimeout must be at least 00:00:01/],
      ['WEBSITE_TIME_ZONE', 'W. Europe Standard Time', /WEBSITE_TIME_ZONE.*UTC/],
    ] as const) {
      const { exit, output } = runHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, FLAKY_QUEUE: 'f', DOOMED_QUEUE: 'd', [setting]: value });
      expect(await exit).toBe(1);
      expect(output().stderr).toMatch(expected);
    }
  });
});

describe('timers as the timer extension runs them', () => {
  const HOUR = 3_600_000;
  /** How the host writes a date in a status blob. */
  const hostDate = (ms: number) => new Date(ms).toISOString().replace('.000Z', '+00:00');
  const statusBlob = (hostIdValue: string, fn: string) =>
    BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('azure-webjobs-hosts').getBlockBlobClient(`timers/${hostIdValue}/Host.Functions.${fn}/status`);
  const readStatus = async (hostIdValue: string, fn: string) => JSON.parse((await readBlob(statusBlob(hostIdValue, fn))).toString('utf8')) as Record<string, string>;

  it('runs a timer that missed an occurrence while the app was down at once, isPastDue, and records Last/Next in azure-webjobs-hosts', async () => {
    const hid = uniqueName('hid').slice(0, 32);
    const thisHour = Math.floor(Date.now() / HOUR) * HOUR;
    // The hourly timer last ran three hours ago; its next run, two hours ago, never happened.
    const seeded = { Last: hostDate(thisHour - 3 * HOUR), Next: hostDate(thisHour - 2 * HOUR), LastUpdated: hostDate(thisHour - 3 * HOUR) };
    await BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('azure-webjobs-hosts').createIfNotExists();
    const body = JSON.stringify(seeded);
    await statusBlob(hid, 'hourly').upload(body, body.length);

    const before = Date.now();
    const host = await startHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, AzureFunctionsWebHost__hostid: hid, FLAKY_QUEUE: uniqueName('f'), DOOMED_QUEUE: uniqueName('d') });
    try {
      const hourly = await host.waitFor((l) => l.event === 'hourly.ran');
      expect(hourly).toMatchObject({ isPastDue: true, scheduleStatus: { last: seeded.Last, next: seeded.Next, lastUpdated: seeded.LastUpdated } });
      expect(host.lines.find((l) => l.event === 'timer.past_due')).toMatchObject({ function: 'hourly', originalSchedule: new Date(thisHour - 2 * HOUR).toISOString() });
      const invocation = await host.waitFor((l) => l.event === 'invocation' && l.function === 'hourly');
      expect(invocation).toMatchObject({ status: 'succeeded', reason: 'IsPastDue' });

      // After the run: Last is when it ran, Next the following hour, written where the host keeps it.
      let status = await readStatus(hid, 'hourly');
      for (let i = 0; i < 200 && status.Last === seeded.Last; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await readStatus(hid, 'hourly');
      }
      const last = Date.parse(status.Last as string);
      expect(last).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(status.Next as string)).toBe(Math.floor(last / HOUR) * HOUR + HOUR);
      expect(status.LastUpdated).toBe(status.Last);
      expect(status.Next).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\+00:00$/);

      // A first start with no status: runOnStartup runs with Last and LastUpdated "never", Next the next occurrence.
      const yearly = await host.waitFor((l) => l.event === 'yearly.ran');
      const nextNewYear = `${new Date().getUTCFullYear() + 1}-01-01T00:00:00+00:00`;
      expect(yearly).toMatchObject({ isPastDue: false, scheduleStatus: { last: '0001-01-01T00:00:00+00:00', next: nextNewYear, lastUpdated: '0001-01-01T00:00:00+00:00' } });
      // Without the monitor: scheduleStatus null, and no status blob.
      expect(await host.waitFor((l) => l.event === 'unmonitored.ran')).toMatchObject({ isPastDue: false, scheduleStatus: null });
      expect(await statusBlob(hid, 'unmonitored').exists()).toBe(false);
      let yearlyStatus = await readStatus(hid, 'yearly');
      for (let i = 0; i < 200 && yearlyStatus.Last?.startsWith('0001'); i++) {
        await new Promise((r) => setTimeout(r, 50));
        yearlyStatus = await readStatus(hid, 'yearly');
      }
      expect(yearlyStatus).toMatchObject({ Next: nextNewYear });
      expect(Date.parse(yearlyStatus.Last as string)).toBeGreaterThanOrEqual(before - 1000);
    } finally {
      expect(await host.stop()).toBe(0);
    }

    // Started again at once, nothing is past due: the hourly timer does not run at start.
    const recordedNext = Date.parse((await readStatus(hid, 'hourly')).Next as string);
    const again = await startHost(FIXTURE_APP, { AzureWebJobsStorage: azurite.connectionString, AzureFunctionsWebHost__hostid: hid, FLAKY_QUEUE: uniqueName('f'), DOOMED_QUEUE: uniqueName('d') });
    try {
      await again.waitFor((l) => l.event === 'yearly.ran');
      await again.waitFor((l) => l.event === 'unmonitored.ran');
      // (Unless the hour turned meanwhile, when the run at its start is rightly past due.)
      if (Date.now() < recordedNext) expect(again.lines.filter((l) => l.event === 'hourly.ran' || l.event === 'timer.past_due')).toEqual([]);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });
});

describe('storage permission errors on queue polling', () => {
  const wrongKey = () => azurite.connectionString.replace(AZURITE_KEY, Buffer.from('not the account key, but base64 of the right shape!!').toString('base64'));
  /** An account SAS that may add messages but not process them: receiving answers 403. */
  const addOnlySas = () => azuriteSasConnectionString(azurite, 'a', 'q');

  for (const [label, connection, expectedCode] of [
    ['a wrong account key', wrongKey, /^Authori[sz]ation|^Authentication/],
    ['a SAS without the process permission', addOnlySas, /^Authori[sz]ation/],
  ] as const) {
    it(`fault the listener and shut the host down (exit 1, host.unhandled_exception) with ${label}, instead of polling forever`, async () => {
      const flaky = uniqueName('denied');
      await queueService(azurite).getQueueClient(flaky).createIfNotExists();
      const { exit, output } = runHost(FIXTURE_APP, {
        AzureWebJobsStorage: connection(),
        FLAKY_QUEUE: flaky,
        DOOMED_QUEUE: uniqueName('denied'),
        // Only the queue listeners: the timers' schedule status would meet the same 403 at start-up.
        AzureWebJobs_yearly_Disabled: 'true',
        AzureWebJobs_hourly_Disabled: 'true',
        AzureWebJobs_unmonitored_Disabled: 'true',
      });
      expect(await exit).toBe(1);
      const lines = output()
        .stdout.split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const fault = lines.find((l) => l.event === 'host.unhandled_exception');
      expect(fault).toMatchObject({ level: 'error', message: 'An unhandled exception has occurred. Host is shutting down.', code: 'ERR_LISTENER_FAULTED', status: 403, operation: 'receive messages' });
      expect(String(fault?.storageErrorCode)).toMatch(expectedCode);
      expect(String(fault?.error)).toMatch(/Check the storage credentials/);
      expect(lines.map((l) => l.event)).toEqual(expect.arrayContaining(['host.started', 'host.stopping', 'host.stopped']));
      expect(lines.filter((l) => l.event === 'queue.poll_failed')).toEqual([]);
      expect(output().stderr).toMatch(/The host is shutting down: The queue listener of function "(flaky|doomed)"/);
      // Neither the key nor the SAS signature is written anywhere.
      expect(output().stdout + output().stderr).not.toMatch(/sig=|AccountKey=/);
    });
  }
});

describe('storage permission errors on timer statuses', () => {
  it('stop the host at start when a timer cannot read its schedule status, naming the cause', async () => {
    const { exit, output } = runHost(FIXTURE_APP, {
      AzureWebJobsStorage: azurite.connectionString.replace(AZURITE_KEY, Buffer.from('not the account key, but base64 of the right shape!!').toString('base64')),
      AzureFunctionsJobHost__functions__0: 'yearly',
    });
    expect(await exit).toBe(1);
    expect(output().stderr).toMatch(/A timer could not read its schedule status from host storage: storage answered 403/);
    expect(output().stdout).not.toMatch(/yearly\.ran/);
  });
});

describe('npm start: simulator, host and app together', () => {
  it('starts the Graph simulator, points the app at it, and a simulated chat message reaches the incoming queue', async () => {
    const queue = uniqueName('start-notif');
    const host = await startHost(REPO_ROOT, {
      LOCAL_GRAPH_SIMULATOR: 'true',
      AzureWebJobsStorage: azurite.connectionString,
      NOTIFICATIONS_QUEUE: queue,
      LIFECYCLE_QUEUE: `${queue}-life`,
      'AzureWebJobs.routeNotifications.Disabled': 'true',
    });
    try {
      const simulator = host.lines.find((l) => l.event === 'simulator.started') as { url: string; jwksUrl: string; driver: string };
      expect(simulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(host.lines.find((l) => l.event === 'app.configured')).toMatchObject({ jwksUrl: simulator.jwksUrl });

      const json = async (method: string, url: string, body?: unknown) => {
        const res = await fetch(url, { method, headers: { authorization: 'Bearer local', 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };
      await json('POST', `${simulator.driver}/users`, { id: 'a11ce000-0000-4000-8000-000000000001', displayName: 'Alice' });
      await json('POST', `${simulator.driver}/users`, { id: 'b0b00000-0000-4000-8000-000000000002', displayName: 'Bob' });
      const chat = await json('POST', `${simulator.driver}/chats`, { members: ['a11ce000-0000-4000-8000-000000000001', 'b0b00000-0000-4000-8000-000000000002'] });
      const created = await json('POST', `${simulator.url}/v1.0/subscriptions`, {
        resource: `/chats/${chat.body.id}/messages`,
        changeType: 'created',
        notificationUrl: `${host.url}/api/notifications`,
        expirationDateTime: new Date(Date.now() + 50 * 60_000).toISOString(),
        clientState: 'local-dev-client-state-change-me',
      });
      expect(created.status).toBe(201);
      const posted = await json('POST', `${simulator.driver}/chats/${chat.body.id}/messages`, { from: 'a11ce000-0000-4000-8000-000000000001', content: 'hello from the simulator' });
      expect(posted.status).toBe(201);

      const client = queueService(azurite).getQueueClient(queue);
      let messages: Awaited<ReturnType<typeof drainQueue>> = [];
      for (let i = 0; i < 100 && messages.length === 0; i++) {
        messages = await drainQueue(client);
        if (messages.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      // npm start's simulator delivers a share of batches twice (LOCAL_SIMULATOR_OPTIONS): the route function
      // de-duplicates, so the incoming queue may hold the notification twice, and nothing else.
      const queued = messages.flatMap((m) => unpackQueued(m.body as QueuedBatch)).map((q) => q.notification.resource);
      expect(queued.length).toBeGreaterThan(0);
      expect(new Set(queued)).toEqual(new Set([`chats('${chat.body.id}')/messages('${posted.body.id}')`]));
    } finally {
      expect(await host.stop()).toBe(0);
    }
  });
});
