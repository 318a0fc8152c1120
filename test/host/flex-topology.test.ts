import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';
import { drainQueue, queueService, testAzurite, uniqueName, type AzuriteProcess } from '../helpers/azurite.js';
import { subscribeToChatMessages } from '../helpers/graph-client.js';
import { REPO_ROOT, startHost, type HostLine, type HostProcess } from '../helpers/local-host-process.js';
import { ALICE, chatOfAliceAndBob } from '../helpers/users.js';
import { nonEmpty } from '../helpers/non-empty.js';

const SECRET = 'flex-topology-client-state';
const IDLE_SECONDS = 6;

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let dir: string;
beforeAll(async () => {
  azurite = await testAzurite();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.0002, batchWindowMs: 5 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-flex-'));
});
afterAll(async () => {
  await sim?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const groupOfInstance = (line: HostLine) => String(line.instance).split('#')[0];
const isRouteInstance = (instance: unknown) => /^function:routeNotifications#\d+$/.test(String(instance));

describe('the app on Flex topology (npm start -- --flex): each function group in its own processes, scaled on its work', () => {
  let host: HostProcess;
  const incoming = uniqueName('flex-in');
  const delivered = uniqueName('flex-out');

  beforeAll(async () => {
    const routes = join(dir, 'routes.json');
    writeFileSync(routes, JSON.stringify({ routes: [{ match: { kind: 'chatMessage' }, queues: [delivered] }] }));
    host = await startHost(
      REPO_ROOT,
      {
        AzureWebJobsStorage: azurite.connectionString,
        GRAPH_CLIENT_STATE: SECRET,
        ...simulatorAppSettings(sim),
        NOTIFICATIONS_QUEUE: incoming,
        LIFECYCLE_QUEUE: `${incoming}-life`,
        DEAD_LETTER_QUEUE: `${incoming}-dead`,
        LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
        ROUTES_FILE: routes,
        // The backfill's timers would read Graph for gaps; not what this test is about.
        'AzureWebJobs.detectGaps.Disabled': 'true',
        'AzureWebJobs.backfillSafetyNet.Disabled': 'true',
      },
      undefined,
      ['--flex', '--idle-seconds', String(IDLE_SECONDS)],
    );
  });
  afterAll(() => host?.stop());

  it('indexes the groups as Flex does: the HTTP functions share one, every other function is its own (function:<name>)', () => {
    const started = host.lines.find((l) => l.event === 'flex.started') as { groups: { group: string; functions: string[]; instancesWhenBusy: number }[] };
    const groups = new Map(started.groups.map((g) => [g.group, g]));
    expect(groups.get('http')?.functions.sort()).toEqual(['lifecycle', 'notifications', 'status']);
    expect(groups.get('function:routeNotifications')).toMatchObject({ functions: ['routeNotifications'], instancesWhenBusy: 2 });
    expect(groups.get('function:handleLifecycle')?.functions).toEqual(['handleLifecycle']);
    // Disabled functions are not indexed, as in Azure.
    expect(groups.has('function:detectGaps')).toBe(false);
  });

  it('answers a validation handshake sent while no HTTP instance runs, once an instance has started for it', async () => {
    expect(host.lines.some((l) => l.event === 'flex.instance_starting' && l.group === 'http')).toBe(false);
    const token = 'Validation: Testing client application reachability for subscription Request-Id: flex-1';
    const res = await fetch(`${host.url}/api/notifications?validationToken=${encodeURIComponent(token)}`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(token);
    const waited = await host.waitFor((l) => l.event === 'flex.request_waited_for_instance');
    expect(waited).toMatchObject({ group: 'http', instance: 'http#1' });
    expect(typeof waited.waitedMs).toBe('number');
    const http = await host.waitFor((l) => l.event === 'flex.instance_started' && l.group === 'http');
    expect(typeof http.startMs).toBe('number');
  });

  it('shares one queue between two route instances: every message routed once, none lost', async () => {
    const cert = await new LocalCertificateStore(join(dir, 'certs')).current();
    const chat = chatOfAliceAndBob(sim.teams);
    const created = await subscribeToChatMessages(sim.baseUrl, { chatId: chat.id, hostUrl: host.url, clientState: SECRET, certificate: cert });
    expect(created.status).toBe(201);

    // Messages until both route instances have routed some (each delivery is one message on the queue, taken by
    // whichever instance polls first); bounded, so a topology that never shares fails rather than hangs.
    const posted: string[] = [];
    const routedBy = () =>
      new Set(host.lines.filter((l) => l.event === 'invocation' && l.function === 'routeNotifications' && l.status === 'succeeded' && isRouteInstance(l.instance)).map((l) => l.instance));
    while (routedBy().size < 2 && posted.length < 400) {
      posted.push(sim.teams.postChatMessage(chat.id, { from: ALICE, content: `<p>message ${posted.length}</p>` }).id);
      await sim.deliveries.idle();
      await new Promise((r) => setTimeout(r, 25));
    }
    // At least two route instances took messages from the one queue (an idle one may have been replaced meanwhile).
    expect(routedBy().size).toBeGreaterThanOrEqual(2);

    const ids: string[] = [];
    const queue = queueService(azurite).getQueueClient(delivered);
    const deadline = Date.now() + 60_000;
    const drain = async () => ids.push(...(await drainQueue(queue).catch(() => [])).map((m) => decodeJsonMessage<TeamsCloudEvent>(m.text).messageid as string));
    while (new Set(ids).size < posted.length && Date.now() < deadline) {
      await drain();
      await new Promise((r) => setTimeout(r, 200));
    }
    // Once more after the route queue is empty, so that a duplicate routed late would be counted too.
    await host.waitFor((l) => l.event === 'flex.instance_idle' && isRouteInstance(l.instance), (IDLE_SECONDS + 30) * 1000);
    await drain();
    expect([...nonEmpty(ids)].sort()).toEqual([...posted].sort());
  });

  it('runs each group in processes of its own: no function ever runs in another group’s instance', () => {
    const started = host.lines.filter((l) => l.event === 'flex.instance_started');
    const pids = started.map((l) => l.pid);
    expect(new Set(pids).size).toBe(pids.length);
    expect(started.map((l) => l.group)).toEqual(expect.arrayContaining(['http', 'function:routeNotifications', 'function:pruneExpiredData']));
    const invocations = host.lines.filter((l) => l.event === 'invocation');
    expect([...new Set(nonEmpty(invocations).map((l) => l.function))]).toEqual(expect.arrayContaining(['notifications', 'routeNotifications']));
    for (const line of invocations) {
      const group = ['notifications', 'lifecycle', 'status'].includes(String(line.function)) ? 'http' : `function:${String(line.function)}`;
      expect(groupOfInstance(line)).toBe(group);
    }
    // Each instance indexed the whole app and left the other groups without a listener.
    const routeInstance = host.lines.filter((l) => l.event === 'host.function_not_in_target_group' && l.instance === 'function:routeNotifications#1').map((l) => l.function);
    expect(routeInstance).toEqual(expect.arrayContaining(['notifications', 'handleLifecycle', 'pruneExpiredData']));
    expect(routeInstance).not.toContain('routeNotifications');
  });

  it('stops an instance left idle and starts one again when work comes (scale to zero and back)', async () => {
    const stopped = await host.waitFor((l) => l.event === 'flex.instance_stopped' && l.group === 'http', (IDLE_SECONDS + 30) * 1000);
    expect(stopped.code).toBe(0);
    const res = await fetch(`${host.url}/api/status`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    const again = await host.waitFor((l) => l.event === 'flex.request_waited_for_instance' && l.instance !== 'http#1');
    expect(again.instance).toBe('http#2');
  });
});
