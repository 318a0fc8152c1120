import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { DRIVER_PREFIX } from '../../dev/graph-simulator/server.js';
import { queueService, testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { REPO_ROOT, runHost, type HostLine } from '../helpers/local-host-process.js';
import { ALICE, BOB } from '../helpers/users.js';
import { simulatorAppSettings } from '../../dev/graph-simulator/app-settings.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));
const OLD = 'rotation-e2e-old-secret-00000000';
const NEW = 'rotation-e2e-new-secret-11111111';

let azurite: AzuriteProcess;
let sim: GraphSimulator;
let dir: string;
let env: Record<string, string>;

/**
 * The local host (npm start's entry point) restarted with other settings: one Graph simulator and one Azurite
 * outlive the three hosts, and every host listens on the same port, as a deployed app keeps its URL.
 */
async function startHostWith(clientStates: string) {
  const host = runHost(REPO_ROOT, { ...env, GRAPH_CLIENT_STATE: clientStates }, Number(new URL(env.GRAPH_NOTIFICATION_URL!).port));
  const lines = (): HostLine[] =>
    host
      .output()
      .stdout.split('\n')
      .flatMap((text) => {
        try {
          return [JSON.parse(text) as HostLine];
        } catch {
          return [];
        }
      });
  let exited = false;
  void host.exit.then(() => (exited = true));
  const waitFor = async (predicate: (line: HostLine) => boolean): Promise<HostLine> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const found = lines().find(predicate);
      if (found) return found;
      if (exited || Date.now() > deadline) throw new Error(`no such line; output:\n${host.output().stdout}\n${host.output().stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const reconciled = await waitFor((l) => l.event === 'subscriptions.reconciled');
  return {
    reconciled,
    lines,
    stop: async () => {
      host.child.kill('SIGTERM');
      await host.exit;
    },
  };
}

const ours = () => sim.subscriptions.active().filter((s) => s.notificationUrl === env.GRAPH_NOTIFICATION_URL);

beforeAll(async () => {
  azurite = await testAzurite();
  sim = await startGraphSimulator({ delivery: { timeScale: 0.01 } });
  dir = mkdtempSync(join(tmpdir(), 'tcr-rotation-'));
  const desired = join(dir, 'subscriptions.json');
  writeFileSync(
    desired,
    JSON.stringify({
      subscriptions: [
        { name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'] },
        { name: 'chat-messages', resource: '/chats/getAllMessages?model=A', changeTypes: ['created', 'updated', 'deleted'], includeResourceData: true },
      ],
    }),
  );
  const port = await freePort();
  env = {
    AzureWebJobsStorage: azurite.connectionString,
    SUBSCRIPTIONS_FILE: desired,
    SUBSCRIPTIONS_TABLE: 'rotationsubscriptions',
    LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
    ...simulatorAppSettings(sim, `http://127.0.0.1:${port}`),
    'AzureWebJobs.reconcileSubscriptions.Disabled': 'false',
  };
});
afterAll(async () => {
  await sim?.close();
  await azurite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventsOn(queue: string, atLeast: number): Promise<TeamsCloudEvent[]> {
  const q = queueService(azurite).getQueueClient(queue);
  const deadline = Date.now() + 90_000;
  for (;;) {
    const items = (await q.exists()) ? (await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems : [];
    if (items.length >= atLeast || Date.now() > deadline) return items.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText));
    await new Promise((r) => setTimeout(r, 100));
  }
}

const drive = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sim.baseUrl}${DRIVER_PREFIX}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as Record<string, any>;
};

const status = (clientStates: string) => run(process.execPath, [CLI, 'status', '--json'], { cwd: dir, env: { ...process.env, ...env, GRAPH_CLIENT_STATE: clientStates } });

describe('clientState rotation across restarts of the host: old → new,old → new', () => {
  it('every subscription carries the new secret after the second start, and notifications flow after the third, none rejected', async () => {
    const first = await startHostWith(OLD);
    expect(first.reconciled).toMatchObject({ created: 2, failed: 0 });
    await first.stop();
    expect(ours().map((s) => s.clientState)).toEqual([OLD, OLD]);

    const second = await startHostWith(`${NEW},${OLD}`);
    expect(second.reconciled).toMatchObject({ recreated: 2, failed: 0 });
    await second.stop();
    expect(ours()).toHaveLength(2);
    expect(ours().map((s) => s.clientState)).toEqual([NEW, NEW]);
    const positions = JSON.parse((await status(`${NEW},${OLD}`)).stdout) as { name: string; clientState: string }[];
    expect(positions.map((r) => r.clientState)).toEqual(['1 (current)', '1 (current)']);

    const third = await startHostWith(NEW);
    try {
      expect(third.reconciled).toMatchObject({ unchanged: 2, failed: 0 });
      for (const [id, displayName] of [
        [ALICE, 'Alice'],
        [BOB, 'Bob'],
      ])
        await drive('POST', '/users', { id, displayName });
      const chat = await drive('POST', '/chats', { members: [ALICE, BOB], topic: 'After the rotation', chatType: 'group' });
      const message = await drive('POST', `/chats/${chat.id}/messages`, { from: ALICE, content: 'Still here?' });

      const chats = await eventsOn('teams-chats', 1);
      const messages = await eventsOn('teams-chat-messages', 1);
      expect(chats.find((e) => e.type.endsWith('chat.created'))?.data).toMatchObject({ id: chat.id });
      expect(messages.find((e) => e.changetype === 'created')?.data).toMatchObject({ id: message.id, body: { content: 'Still here?' } });
      expect(third.lines().filter((l) => l.event === 'security.notification_rejected')).toEqual([]);
    } finally {
      await third.stop();
    }

    const ok = JSON.parse((await status(NEW)).stdout) as { clientState: string }[];
    expect(ok.map((r) => r.clientState)).toEqual(['1 (current)', '1 (current)']);
    // Had the secret in use been removed from the settings, status says so and fails.
    const wrong = await status('some-unrelated-secret-222222222').catch((e: { code: number; stdout: string }) => e);
    expect(wrong).toMatchObject({ code: 1 });
    expect((JSON.parse(wrong.stdout) as { clientState: string }[]).map((r) => r.clientState)).toEqual(['none of the configured', 'none of the configured']);
    expect(wrong.stdout).not.toContain(NEW);
  });
});
