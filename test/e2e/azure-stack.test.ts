import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ManagedIdentityCredential } from '@azure/identity';
import { QueueClient } from '@azure/storage-queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAzureStackState, type AzureStackState } from '../../cli/azure-stack-state.js';
import { decodeJsonMessage } from '../../shared/queue/json-message.js';
import type { TeamsCloudEvent } from '../../shared/route/teams-event.js';
import { REPO_ROOT } from '../helpers/local-host-process.js';
import { pointManagedIdentityAt } from '../helpers/managed-identity-env.js';
import { ALICE, BOB } from '../helpers/users.js';

const run = promisify(execFile);
const START_LOCAL = fileURLToPath(new URL('../../dist/dev/start-local.js', import.meta.url));
const CLI = (name: string) => fileURLToPath(new URL(`../../dist/cli/${name}.js`, import.meta.url));
/** What `npm run infra:check` (run by npm test first) compiled from infra/main.bicep with the real Bicep CLI. */
const TEMPLATE = fileURLToPath(new URL('../../.local/infra/main.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tcr-azure-stack-'));

type Line = Record<string, unknown> & { event?: string };

/** `npm start -- --azure` as a child process; resolves when the stack is up or the process has exited. */
function startStack(template = TEMPLATE, extra: readonly string[] = []) {
  const child: ChildProcess = spawn(process.execPath, [START_LOCAL, '--azure', '--app', REPO_ROOT, '--port', '0', '--simulator-port', '0', '--template', template, ...extra], {
    cwd: tmpdir(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  let stderr = '';
  let buffered = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const text = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        lines.push(JSON.parse(text) as Line);
      } catch {
        // not a log line
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (predicate: (l: Line) => boolean, timeoutMs = 120_000): Promise<Line | undefined> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.find(predicate);
      if (found) return found;
      if (child.exitCode !== null || Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    lines,
    exited,
    stderr: () => stderr,
    waitFor,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
type Stack = ReturnType<typeof startStack>;

/** A copy of the compiled template changed as `edit` says, to see what a mistake in the Bicep does. */
function templateWith(name: string, edit: (text: string) => string): string {
  const original = readFileSync(TEMPLATE, 'utf8');
  const changed = edit(original);
  expect(changed, 'the edit changed the template').not.toBe(original);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, changed);
  return file;
}

describe('the Azure-shaped stack (npm start -- --azure): the compiled template in Production, every Azure service a stand-in', () => {
  let stack: Stack;
  let state: AzureStackState;
  let driver: string;
  let restoreEnv = () => undefined as void;
  beforeAll(async () => {
    stack = startStack();
    const started = await stack.waitFor((l) => l.event === 'azure_stack.started');
    expect(started, stack.stderr()).toBeDefined();
    driver = String(started?.driver);
    state = readAzureStackState(REPO_ROOT)!;
    restoreEnv = pointManagedIdentityAt({ endpoint: String(state.platformEnv.IDENTITY_ENDPOINT), header: String(state.platformEnv.IDENTITY_HEADER) });
  });
  afterAll(async () => {
    restoreEnv();
    await stack?.stop();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${driver}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return (await res.json()) as Record<string, any>;
  };

  it("runs the app with the template's settings only: identity-based storage, Key Vault references resolved, no account key", async () => {
    const settings = state.siteSettings;
    // The site runs on Flex's topology: each function group in processes of its own.
    expect(stack.lines.find((l) => l.event === 'flex.started')?.groups).toEqual(expect.arrayContaining([expect.objectContaining({ group: 'http', kind: 'http' })]));
    // Logged by each instance as its app starts (on Flex's topology, after the stack is up).
    expect(await stack.waitFor((l) => l.event === 'app.configured')).toMatchObject({ environment: 'Production', graphAuth: 'managedidentity' });
    expect(settings.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(settings.AzureWebJobsStorage).toBeUndefined();
    expect(JSON.stringify(settings)).not.toMatch(/AccountKey=|UseDevelopmentStorage|@Microsoft\.KeyVault/);
    expect(settings.GRAPH_NOTIFICATION_URL).toMatch(/\/api\/notifications\?code=/);
    expect(stack.lines.find((l) => l.event === 'host.key_vault_references_resolved')).toMatchObject({ settings: ['GRAPH_CLIENT_STATE', 'GRAPH_LIFECYCLE_URL', 'GRAPH_NOTIFICATION_URL'] });
  });

  it("creates the 13 desired subscriptions with the Entra stand-in's tokens, routes a chat message decrypted with the Key Vault certificate, and status --json reads it", async () => {
    const reconciled = await stack.waitFor((l) => l.event === 'subscriptions.reconciled');
    expect(reconciled, stack.stderr()).toMatchObject({ created: 13, failed: 0 });

    for (const [id, displayName] of [
      [ALICE, 'Alice'],
      [BOB, 'Bob'],
    ])
      await call('POST', '/users', { id, displayName });
    const chat = await call('POST', '/chats', { members: [ALICE, BOB], topic: 'Azure-shaped', chatType: 'group' });
    const message = await call('POST', `/chats/${chat.id}/messages`, { from: ALICE, content: 'Decrypted with the vault’s key' });

    // Read as a downstream consumer in Azure would: by identity, through storage's role checks.
    const queue = new QueueClient(
      `${state.siteSettings.AzureWebJobsStorage__queueServiceUri!.replace(/\/$/, '')}/teams-chat-messages`,
      new ManagedIdentityCredential({ clientId: state.siteSettings.AZURE_CLIENT_ID! }),
    );
    let event: TeamsCloudEvent | undefined;
    for (const deadline = Date.now() + 90_000; !event && Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      const peeked = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
      event = peeked.map((m) => decodeJsonMessage<TeamsCloudEvent>(m.messageText)).find((e) => e.messageid === message.id);
    }
    expect(event?.data).toMatchObject({ id: message.id, body: { content: 'Decrypted with the vault’s key' } });

    const { stdout, stderr } = await run(process.execPath, [CLI('status'), '--json', '--azure', '--app', REPO_ROOT], { cwd: tmpdir() });
    // As the operator of docs/deploy.md step 9: Production, storage by DefaultAzureCredential with their own identity.
    expect(stderr).toMatch(/^status: Production \(AZURE_FUNCTIONS_ENVIRONMENT\) · storage https:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/? \(DefaultAzureCredential\)/);
    const status = JSON.parse(stdout) as { subscriptions: { subscriptionId: string | null }[]; queues: { name: string; approximateMessageCount: number | null }[] };
    expect(status.subscriptions.filter((s) => s.subscriptionId !== null)).toHaveLength(13);
    expect(status.queues.find((q) => q.name === 'teams-chat-messages')?.approximateMessageCount).toBeGreaterThanOrEqual(1);
  });

  it("runs the CLIs as the operator, not as the site: Graph refuses the operator's own token (no permission consented to it)", async () => {
    const listed = await run(process.execPath, [CLI('subscriptions'), 'list', '--json', '--azure', '--app', REPO_ROOT], { cwd: tmpdir() }).catch((e: { code: number; stderr: string }) => e);
    expect('code' in listed ? listed.code : 0).toBe(1);
    expect('stderr' in listed ? listed.stderr : '').toMatch(/401 InvalidAuthenticationToken: Either scp or roles claim need to be present in the token\./);
  });

  it('refuses a notification request without the function key (401), and takes it with the key', async () => {
    const body = JSON.stringify({ value: [] });
    const without = await fetch(`${state.hostUrl}/api/notifications`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(without.status).toBe(401);
    const keyed = await fetch(`${state.hostUrl}/api/notifications?validationToken=ping`, { method: 'POST', headers: { 'x-functions-key': state.functionKey } });
    expect(keyed.status).toBe(200);
  });

  it('check-endpoints reaches the keyed URLs from Key Vault through the CLI', async () => {
    const { stdout } = await run(process.execPath, [CLI('subscriptions'), 'check-endpoints', '--json', '--azure', '--app', REPO_ROOT], { cwd: tmpdir() });
    const report = JSON.parse(stdout) as { name: string; url: string; ok: boolean }[];
    expect(report.map((c) => [c.name, c.ok])).toEqual([
      ['GRAPH_NOTIFICATION_URL', true],
      ['GRAPH_LIFECYCLE_URL', true],
    ]);
    // The key read from the vault is used, never printed.
    expect(report[0]?.url).toMatch(/\/api\/notifications\?code=\*\*\*$/);
    expect(stdout).not.toContain(state.functionKey);
  });
});

describe('the Azure-shaped stack fails as Azure would, naming the cause', () => {
  const failedStart = async (stack: Stack) => {
    const up = await stack.waitFor((l) => l.event === 'azure_stack.started', 120_000);
    await stack.stop();
    return { up, output: stack.stderr() + JSON.stringify(stack.lines) };
  };

  it('an app setting the Bicep does not set: the app refuses to start, naming it', async () => {
    const template = templateWith('no-tenant', (t) => t.replace("'GRAPH_TENANT_IDS', if(empty(parameters('graphTenantIds')), tenant().tenantId, parameters('graphTenantIds')), ", ''));
    const { up, output } = await failedStart(startStack(template));
    expect(up).toBeUndefined();
    expect(output).toMatch(/GRAPH_TENANT_IDS is missing: list the tenant ids whose notifications are accepted\./);
  });

  it('a Key Vault reference to a secret the vault does not hold reaches the app as text, and it refuses to start naming the setting', async () => {
    const template = templateWith('missing-secret', (t) => t.replace('"clientStateSecretName": "graph-client-state"', '"clientStateSecretName": "graph-client-stat"'));
    const { up, output } = await failedStart(startStack(template));
    expect(up).toBeUndefined();
    expect(output).toMatch(/host\.key_vault_reference_unresolved[^\n]*GRAPH_CLIENT_STATE[^\n]*404/);
    expect(output).toMatch(/GRAPH_CLIENT_STATE[^\n]*Key Vault reference/i);
  });

  it('a site that names no keyVaultReferenceIdentity reads references with its system-assigned identity, which it has not: none is resolved', async () => {
    const template = templateWith('no-reference-identity', (t) => t.replace(/"keyVaultReferenceIdentity": "\[parameters\('identityId'\)\]",\s*/, ''));
    const { up, output } = await failedStart(startStack(template));
    expect(up).toBeUndefined();
    expect(output).toContain('"event":"host.key_vault_reference_unresolved","setting":"GRAPH_CLIENT_STATE","reason":"the vault could not be read (CredentialUnavailableError)"');
  });

  it('roles the Bicep forgets: with no Key Vault role (Certificate User reads secrets too) the vault answers 403 and the references stay unresolved', async () => {
    const template = templateWith('no-vault-roles', (t) => t.replace(/,\s*\{\s*"scope": "vault",\s*"roleDefinitionId": "\[variables\('roles'\)\.keyVault(?:Secrets|Certificate)User\]"\s*\}/g, ''));
    const { up, output } = await failedStart(startStack(template));
    expect(up).toBeUndefined();
    expect(output).toMatch(/"event":"host\.key_vault_reference_unresolved","setting":"GRAPH_CLIENT_STATE","reason":"the vault answered 403 Forbidden"/);
  });

  it('a role the Bicep forgets: without Storage Queue Data Contributor storage answers 403 to the host', async () => {
    const template = templateWith('no-queue-role', (t) => t.replace(/\{\s*"scope": "storage",\s*"roleDefinitionId": "\[variables\('roles'\)\.storageQueueDataContributor\]"\s*\},?/, ''));
    // On Flex's topology the instance of a queue group faults when it starts (the stack stays up, as a site does).
    const stack = startStack(template);
    const fault = await stack.waitFor((l) => l.event === 'host.unhandled_exception');
    await stack.stop();
    expect(fault, stack.stderr()).toMatchObject({ status: 403, storageErrorCode: 'AuthorizationPermissionMismatch' });
    expect(String(fault?.instance)).toMatch(/#\d+$/);
  });

  it('a Graph permission not consented: subscriptions needing it fail 403 naming the permission', async () => {
    const stack = startStack(TEMPLATE, ['--graph-roles', 'ChatMember.Read.All']);
    const reconciled = await stack.waitFor((l) => l.event === 'subscriptions.reconciled');
    await stack.stop();
    // The two membership subscriptions ChatMember.Read.All covers are made; the 11 others fail, each naming what is missing.
    expect(reconciled, stack.stderr()).toMatchObject({ created: 2, failed: 11 });
    const allChats = stack.lines.find((l) => l.event === 'subscriptions.entry_failed' && l.name === 'all-chats');
    expect(allChats?.error).toMatch(/^missing application permission Chat\.ReadBasic\.All or Chat\.Read\.All or Chat\.ReadWrite\.All \(Graph answered 403/);
  });
});
