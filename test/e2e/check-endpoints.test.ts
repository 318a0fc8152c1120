import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { testAzurite, type AzuriteProcess } from '../helpers/azurite.js';
import { startHandshakeServer, type HandshakeServer } from '../helpers/handshake-server.js';
import { REPO_ROOT, startHost, type HostProcess } from '../helpers/local-host-process.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));
const KEY = 'f3a9c0de5ecre7key0000000000000001';

let azurite: AzuriteProcess;
let host: HostProcess;
let keyEnforcing: HandshakeServer;
beforeAll(async () => {
  azurite = await testAzurite();
  host = await startHost(REPO_ROOT, { AzureWebJobsStorage: azurite.connectionString });
  keyEnforcing = await startHandshakeServer();
});
afterAll(async () => {
  await host?.stop();
  await keyEnforcing?.close();
  await azurite?.stop();
});

/** `npm run subscriptions -- check-endpoints` with these URLs; resolves with stdout/stderr and the exit code. */
async function checkEndpoints(notification: string, lifecycle: string, json = false, extra: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, AzureWebJobsStorage: azurite.connectionString, SUBSCRIPTIONS_FILE: '', GRAPH_NOTIFICATION_URL: notification, GRAPH_LIFECYCLE_URL: lifecycle, ...extra };
  try {
    const r = await run(process.execPath, [CLI, 'check-endpoints', ...(json ? ['--json'] : [])], { cwd: REPO_ROOT, env });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('npm run subscriptions -- check-endpoints', () => {
  it("passes against the running app's notification and lifecycle URLs, printing them with the key masked", async () => {
    const r = await checkEndpoints(`${host.url}/api/notifications?code=${KEY}`, `${host.url}/api/lifecycle?code=${KEY}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/GRAPH_NOTIFICATION_URL\s+\S+\/api\/notifications\?code=\*\*\*\s+ok/);
    expect(r.stdout).toMatch(/GRAPH_LIFECYCLE_URL\s+\S+\/api\/lifecycle\?code=\*\*\*\s+ok/);
    expect(r.stdout + r.stderr).not.toContain(KEY);
    const json = await checkEndpoints(`${host.url}/api/notifications?code=${KEY}`, `${host.url}/api/lifecycle?code=${KEY}`, true);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: 'GRAPH_NOTIFICATION_URL', ok: true, status: 200, url: `${host.url}/api/notifications?code=***` }),
      expect.objectContaining({ name: 'GRAPH_LIFECYCLE_URL', ok: true, status: 200, url: `${host.url}/api/lifecycle?code=***` }),
    ]);
    expect(json.stdout).not.toContain(KEY);
  });

  it("needs the two URLs only: an operator's shell exporting the deployment's Azure settings (no storage, no secret) still checks them", async () => {
    // docs/deploy.md path B exports its environment file: GRAPH_AUTH_MODE=clientsecret alone makes the app's other
    // settings Production's, which check-endpoints must not demand.
    const azureShell = { AzureWebJobsStorage: '', GRAPH_AUTH_MODE: 'clientsecret', GRAPH_APP_ID: '11111111-2222-3333-4444-555555555555', AZURE_ENV_NAME: 'relay-prod' };
    const r = await checkEndpoints(`${host.url}/api/notifications?code=${KEY}`, `${host.url}/api/lifecycle?code=${KEY}`, false, azureShell);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/GRAPH_NOTIFICATION_URL\s+\S+\/api\/notifications\?code=\*\*\*\s+ok/);
    const missing = await checkEndpoints('', 'not a url', false, azureShell);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('GRAPH_NOTIFICATION_URL is not set');
    expect(missing.stderr).toContain('GRAPH_LIFECYCLE_URL is not an http(s) URL.');
  });

  it('fails on a dead port, naming the URL and "connection refused"', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/api/notifications?code=${KEY}`;
    const r = await checkEndpoints(dead, `${host.url}/api/lifecycle`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/GRAPH_NOTIFICATION_URL\s+http:\/\/127\.0\.0\.1:\d+\/api\/notifications\?code=\*\*\*\s+connection-refused\s+connection refused/);
    expect(r.stdout).toMatch(/GRAPH_LIFECYCLE_URL .* ok/);
    expect(r.stdout).not.toContain(KEY);
  });

  it('fails on a wrong path (404) and on a wrong key (401), naming each', async () => {
    const r = await checkEndpoints(`${host.url}/api/notification?code=${KEY}`, `${keyEnforcing.url}/unauthorized?code=${KEY}`);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/GRAPH_NOTIFICATION_URL .*\/api\/notification\?code=\*\*\*\s+not-found\s+HTTP 404/);
    expect(r.stdout).toMatch(/GRAPH_LIFECYCLE_URL .*\/unauthorized\?code=\*\*\*\s+unauthorized\s+HTTP 401: the function key \(code=\) is wrong or missing/);
    expect(r.stdout).not.toContain(KEY);
  });

  it('fails on a wrong body, showing what came back', async () => {
    const r = await checkEndpoints(`${keyEnforcing.url}/wrong-body`, `${host.url}/api/lifecycle`, true);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ name: 'GRAPH_NOTIFICATION_URL', ok: false, failure: 'wrong-body', detail: 'the body is not the validation token: "OK"' });
  });
});

describe('every URL the subscriptions CLI prints has its code= key masked', () => {
  let keyed: HostProcess;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tcr-mask-'));
    const desired = join(dir, 'subscriptions.json');
    writeFileSync(desired, JSON.stringify({ subscriptions: [{ name: 'chats', resource: '/chats', changeTypes: ['created', 'updated'], includeResourceData: true }] }));
    const port = await freePort();
    env = {
      AzureWebJobsStorage: azurite.connectionString,
      SUBSCRIPTIONS_FILE: desired,
      SUBSCRIPTIONS_TABLE: 'masksubscriptions',
      LOCAL_CERTIFICATE_DIR: join(dir, 'certs'),
      GRAPH_NOTIFICATION_URL: `http://127.0.0.1:${port}/api/notifications?code=${KEY}`,
      GRAPH_LIFECYCLE_URL: `http://127.0.0.1:${port}/api/lifecycle?code=${KEY}`,
    };
    keyed = await startHost(REPO_ROOT, { ...env, LOCAL_GRAPH_SIMULATOR: 'true', 'AzureWebJobs.reconcileSubscriptions.Disabled': 'false' }, port);
    env.GRAPH_BASE_URL = String(keyed.lines.find((l) => l.event === 'simulator.started')?.url);
    await keyed.waitFor((l) => l.event === 'subscriptions.reconciled');
  });
  afterAll(async () => {
    await keyed?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('list --json, list, sync --json and status', async () => {
    const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { cwd: dir, env: { ...process.env, ...env } });
    const listed = await cli('list', '--json');
    const subscriptions = JSON.parse(listed.stdout) as { notificationUrl: string; lifecycleNotificationUrl: string }[];
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]?.notificationUrl).toBe(`${env.GRAPH_NOTIFICATION_URL?.split('?')[0]}?code=***`);
    expect(subscriptions[0]?.lifecycleNotificationUrl).toBe(`${env.GRAPH_LIFECYCLE_URL?.split('?')[0]}?code=***`);
    for (const out of [listed, await cli('list'), await cli('sync', '--json'), await cli('status', '--json'), await cli('status')]) expect(out.stdout + out.stderr).not.toContain(KEY);
  });
});
