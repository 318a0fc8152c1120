import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/azurite/azurite-process.js';
import { startEntraStandIn, type EntraStandIn } from '../../dev/entra/entra-stand-in.js';
import { startGraphSimulator, type GraphSimulator } from '../../dev/graph-simulator/graph-simulator.js';
import { FULL_GRANT } from '../../dev/graph-simulator/app-grants.js';
import { graphClient } from '../helpers/graph-client.js';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../dist/cli/subscriptions.js', import.meta.url));
const TENANT = '11111111-1111-4111-8111-111111111111';
const SECRET = 'relay-secret~value.1';
/** The app's managed identity, granted the simulator's full grant; an app registration granted too little. */
const IDENTITY = { clientId: '22222222-2222-4222-8222-222222222222', principalId: '33333333-3333-4333-8333-333333333333' };
const REGISTRATION = { clientId: '44444444-4444-4444-8444-444444444444', principalId: '55555555-5555-4555-8555-555555555555', secret: SECRET };
/** Lacks ChatMember.Read.All (and every Chat.* permission) and User.Read.All. */
const TOO_LITTLE = ['ChannelMessage.Read.All', 'Team.ReadBasic.All'];

let entra: EntraStandIn;
let sim: GraphSimulator;
let dir: string;
let subscriptionsFile: string;
/** The simulator's origin: the resource the app asks Entra for (its GRAPH_BASE_URL's), Graph's audience there. */
let graph: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'check-permissions-'));
  subscriptionsFile = join(dir, 'subscriptions.json');
  writeFileSync(
    subscriptionsFile,
    JSON.stringify({
      subscriptions: [
        { name: 'all-chat-members', resource: '/chats/getAllMembers', changeTypes: ['created', 'deleted'] },
        { name: 'all-channel-messages', resource: '/teams/getAllMessages', changeTypes: ['created'] },
      ],
    }),
  );
  // The app asks for tokens for its GRAPH_BASE_URL's origin: the simulator's, which Entra grants as Graph and
  // the simulator takes as its audience, checking every token's signature and reading its roles.
  const port = await freePort();
  graph = `http://127.0.0.1:${port}`;
  entra = await startEntraStandIn({
    tenantId: TENANT,
    identities: [{ ...IDENTITY, roles: { [graph]: FULL_GRANT.permissions } }],
    apps: [{ ...REGISTRATION, roles: { [graph]: TOO_LITTLE } }],
  });
  sim = await startGraphSimulator({ tenantId: TENANT, port, verifyTokens: { jwksUrl: entra.jwksUrl, issuer: entra.issuers.v1, audiences: [graph] } });
});
afterAll(async () => {
  await sim?.close();
  await entra?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A Graph token of the app registration, from Entra's token endpoint (client credentials). */
async function registrationToken(): Promise<string> {
  const res = await fetch(entra.tokenUrl, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: REGISTRATION.clientId, client_secret: SECRET, scope: `${graph}/.default` }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

/** `npm run subscriptions -- check-permissions` with these settings; resolves with stdout/stderr and the exit code. */
async function checkPermissions(settings: Record<string, string>, json = false): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, AZURE_FUNCTIONS_ENVIRONMENT: 'Development', GRAPH_BASE_URL: sim.baseUrl, GRAPH_TENANT_IDS: TENANT, SUBSCRIPTIONS_FILE: subscriptionsFile, ...settings };
  try {
    const r = await run(process.execPath, [CLI, 'check-permissions', ...(json ? ['--json'] : [])], { cwd: dir, env });
    return { ...r, code: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('npm run subscriptions -- check-permissions, against the Entra stand-in and the Graph simulator', () => {
  it("passes with the managed identity's full grant: every subscription and backfill read ok", async () => {
    const mi = {
      GRAPH_AUTH_MODE: 'managedidentity',
      GRAPH_APP_ID: IDENTITY.clientId,
      AZURE_CLIENT_ID: IDENTITY.clientId,
      IDENTITY_ENDPOINT: entra.managedIdentity.endpoint,
      IDENTITY_HEADER: entra.managedIdentity.header,
    };
    const r = await checkPermissions(mi);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/subscription all-chat-members: \/chats\/getAllMembers\s+ok\s+ChatMember\.Read\.All/);
    expect(r.stdout).toMatch(/backfill: list users\s+ok\s+User\.Read\.All/);
    expect(r.stdout).toMatch(/backfill: list teams\s+ok\s+Team\.ReadBasic\.All/);
    expect(r.stdout).not.toMatch(/missing/);

    const json = await checkPermissions(mi, true);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { roles: string[]; needs: { for: string; status: string }[]; toGrant: string[] };
    expect(report.roles).toEqual([...FULL_GRANT.permissions]);
    expect(report.toGrant).toEqual([]);
    expect(report.needs.map((n) => n.status)).not.toContain('missing');
  });

  it('fails with a grant lacking ChatMember.Read.All and User.Read.All, naming them, and never prints the token', async () => {
    const r = await checkPermissions({ GRAPH_AUTH_MODE: 'clientsecret', GRAPH_APP_ID: REGISTRATION.clientId, GRAPH_CLIENT_SECRET: SECRET, AZURE_AUTHORITY_HOST: entra.authorityHost });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/subscription all-chat-members: \/chats\/getAllMembers\s+missing\s+grant ChatMember\.Read\.All/);
    expect(r.stdout).toMatch(/backfill: list users\s+missing\s+grant User\.Read\.All/);
    expect(r.stdout).toMatch(/backfill: list teams\s+ok\s+Team\.ReadBasic\.All/);
    expect(r.stdout).toMatch(/subscription all-channel-messages: \/teams\/getAllMessages\s+ok/);
    expect(r.stdout).toContain('Grant (application permissions, admin consent): Chat.Read.All, User.Read.All');
    // Only the roles are read: neither the token (a JWT, "eyJ…") nor the secret is printed.
    expect(r.stdout + r.stderr).not.toMatch(/eyJ[\w-]+\.eyJ/);
    expect(r.stdout + r.stderr).not.toContain(SECRET);

    // What it names missing, the simulator (Graph) refuses to the same app's token: the backfill's listing of users.
    const users = await graphClient(sim.baseUrl, await registrationToken()).get('/v1.0/users?$select=id');
    expect(users.status).toBe(403);
    expect(users.body.error).toMatchObject({ code: 'Authorization_RequestDenied' });
    expect((await graphClient(sim.baseUrl, await registrationToken()).get('/v1.0/teams?$select=id')).status).toBe(200);
  });

  it("refuses the simulator's unsigned token: it holds no consented roles", async () => {
    const r = await checkPermissions({ GRAPH_AUTH_MODE: 'simulator' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/check-permissions failed: GRAPH_AUTH_MODE=simulator: .*no consented roles/);
  });
});
