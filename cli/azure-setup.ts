#!/usr/bin/env node
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureCliCredential, AzureDeveloperCliCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { EXIT, exitWithUsage, printError } from './cli-run.js';
import { compareLogins, type ToolLogin } from './azure-setup/login-check.js';
import { signedInPrincipal, type SignedInPrincipal } from './azure-setup/signed-in-principal.js';
import { ensureClientState, ensureEncryptionCertificate, VaultPreparationError, type ForbiddenRetry, type PreparedItem } from './azure-setup/vault-preparation.js';
import { parseArgs } from 'node:util';
import { isLoopbackUrl } from '../shared/util/loopback-url.js';
import { outputsAsEnvLines } from './azure-setup/deployment-outputs.js';
import { federatedCredentialFor, planFederatedCredential, type FederatedCredential } from './azure-setup/federated-credential.js';

/**
 * `npm run azure-setup -- <command>`: the deployment steps of docs/deploy.md that a tool does better than a
 * hand-typed command. Needs no app settings.
 * - `whoami [--credential az|azd|default] [--field objectId|type]`: who the tool is signed in as (object id and
 *   User/ServicePrincipal, for deployerPrincipalId/deployerPrincipalType), read from its own Azure token; works
 *   for a service principal, where `az ad signed-in-user show` fails.
 * - `check-login`: az and azd act as the same account on the same subscription (azd's AZURE_SUBSCRIPTION_ID),
 *   or exit 1 naming the command that fixes it.
 * - `vault [--vault-name <name> | --vault-url <url>] [--certificate-name <name>] [--credential …]
 *   [--wait-minutes <n>]`: the clientState secret and the encryption certificate, each created only when absent
 *   (never replaced), retrying 403 while role assignments apply. Vault default: $KEY_VAULT_URI, $KEY_VAULT_NAME.
 * - `outputs [--resource-group <rg>] [--deployment relay]`: the deployment's outputs as environment-file lines
 *   (path B of docs/deploy.md keeps them in `.azure/<env>/outputs.env`, as azd keeps them in its own file).
 * - `federated-credential [--app-id <id>] [--principal-id <id>] [--issuer <url>] [--name <name>]`: the app
 *   registration's federated credential trusting the deployment's managed identity (GRAPH_AUTH_MODE=federated),
 *   created with az when absent; one already trusting the identity is kept. Defaults: $GRAPH_APP_ID,
 *   $MANAGED_IDENTITY_PRINCIPAL_ID, $MANAGED_IDENTITY_ISSUER (or azd's environment's), name relay-$AZURE_ENV_NAME.
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 */
const USAGE = `usage: npm run azure-setup -- whoami [--credential az|azd|default] [--field objectId|type]
       npm run azure-setup -- check-login
       npm run azure-setup -- vault [--vault-name <name> | --vault-url <url>] [--certificate-name <name>] [--credential az|azd|default] [--wait-minutes <n>] [--retry-seconds <n>]
       npm run azure-setup -- outputs [--resource-group <rg>] [--deployment <name>]
       npm run azure-setup -- federated-credential [--app-id <id>] [--principal-id <id>] [--issuer <url>] [--name <name>]`;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      credential: { type: 'string', default: 'default' },
      field: { type: 'string' },
      'vault-name': { type: 'string' },
      'vault-url': { type: 'string' },
      'certificate-name': { type: 'string', default: 'graph-notifications' },
      'wait-minutes': { type: 'string', default: '10' },
      'retry-seconds': { type: 'string', default: '20' },
      'resource-group': { type: 'string' },
      deployment: { type: 'string', default: 'relay' },
      'app-id': { type: 'string' },
      'principal-id': { type: 'string' },
      issuer: { type: 'string' },
      name: { type: 'string' },
    },
  });
} catch (e) {
  exitWithUsage(USAGE, (e as Error).message);
}
const { values, positionals } = parsed;
const [command] = positionals;
if (positionals.length !== 1 || !['whoami', 'check-login', 'vault', 'outputs', 'federated-credential'].includes(command ?? '')) exitWithUsage(USAGE);

const ARM_SCOPE = 'https://management.azure.com/.default';
const credentialOf = (name: string): TokenCredential => {
  if (name === 'az') return new AzureCliCredential();
  if (name === 'azd') return new AzureDeveloperCliCredential();
  if (name === 'default') return new DefaultAzureCredential();
  return exitWithUsage(USAGE, `--credential must be az, azd or default, not ${name}`);
};
async function principalOf(credential: TokenCredential): Promise<SignedInPrincipal> {
  const token = await credential.getToken(ARM_SCOPE);
  if (!token) throw new Error('no token was issued');
  return signedInPrincipal(token.token);
}
const minutes = Number(values['wait-minutes']);
const seconds = Number(values['retry-seconds']);
if (!Number.isFinite(minutes) || minutes < 0 || !Number.isFinite(seconds) || seconds <= 0) exitWithUsage(USAGE, '--wait-minutes must be 0 or more minutes, --retry-seconds more than 0 seconds');

async function whoami(): Promise<number> {
  const me = await principalOf(credentialOf(values.credential));
  if (values.field === 'objectId' || values.field === 'type') process.stdout.write(`${me[values.field]}\n`);
  else if (values.field !== undefined) exitWithUsage(USAGE, '--field must be objectId or type');
  else process.stdout.write(`${me.objectId} ${me.type}${me.name ? ` ${me.name}` : ''}${me.tenantId ? ` tenant ${me.tenantId}` : ''}\n`);
  return EXIT.ok;
}

function azdEnvValue(name: string): string | undefined {
  try {
    return execFileSync('azd', ['env', 'get-value', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An az command's JSON answer; a clear failure when az is missing or the command fails (`hint`: what to do). */
function azJson(args: string[], hint: string): unknown {
  try {
    return JSON.parse(execFileSync('az', [...args, '--output', 'json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: process.platform === 'win32' })) as unknown;
  } catch (e) {
    const error = e as NodeJS.ErrnoException & { stderr?: string };
    if (error.code === 'ENOENT') throw new Error('az (the Azure CLI) is not on PATH: docs/deploy.md uses it beside azd; install it and az login.', { cause: e });
    throw new Error(`az ${args.slice(0, 3).join(' ')} failed (${error.stderr?.trim() || error.message}): ${hint}`, { cause: e });
  }
}

async function checkLogin(): Promise<number> {
  const account = azJson(['account', 'show'], 'az login first.') as { id?: string };
  const az: ToolLogin = { tool: 'az', principal: await principalOf(new AzureCliCredential()), subscriptionId: account.id };
  // azd's hooks have the environment's values in theirs; run by hand, ask azd for its environment's subscription.
  const azdSubscription = process.env.AZURE_SUBSCRIPTION_ID?.trim() || azdEnvValue('AZURE_SUBSCRIPTION_ID');
  const azd: ToolLogin = { tool: 'azd', principal: await principalOf(new AzureDeveloperCliCredential()), subscriptionId: azdSubscription };
  const result = compareLogins(az, azd);
  if (!result.same) {
    printError(`az and azd do not act as one:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`);
    return EXIT.failed;
  }
  process.stdout.write(`az and azd: the same account (${az.principal.name ?? az.principal.objectId}) on subscription ${azd.subscriptionId}\n`);
  return EXIT.ok;
}

/** The outputs path B's later steps read, which the guide's commands use by these names. */
const EXPECTED_OUTPUTS = ['FUNCTION_APP_NAME', 'KEY_VAULT_NAME', 'KEY_VAULT_URI', 'NOTIFICATION_URL', 'LIFECYCLE_URL', 'MANAGED_IDENTITY_PRINCIPAL_ID', 'STORAGE_ACCOUNT_NAME'];

async function outputs(): Promise<number> {
  const group = values['resource-group'] ?? process.env.AZURE_RESOURCE_GROUP?.trim();
  if (!group) return exitWithUsage(USAGE, 'name the resource group: --resource-group or AZURE_RESOURCE_GROUP');
  const shown = azJson(['deployment', 'group', 'show', '-g', group, '-n', values.deployment, '--query', 'properties.outputs'], 'is the deployment there (az deployment group list)?');
  process.stdout.write(`${outputsAsEnvLines(shown, EXPECTED_OUTPUTS).join('\n')}\n`);
  return EXIT.ok;
}

/** A value of the deployment's: this shell's (azd's hooks, path B's exported files), else azd's environment's. */
const deploymentValue = (name: string): string | undefined => process.env[name]?.trim() || azdEnvValue(name);

async function federatedCredential(): Promise<number> {
  const appId = values['app-id'] ?? deploymentValue('GRAPH_APP_ID');
  const principalId = values['principal-id'] ?? deploymentValue('MANAGED_IDENTITY_PRINCIPAL_ID');
  const issuer = values.issuer ?? deploymentValue('MANAGED_IDENTITY_ISSUER');
  if (!appId) return exitWithUsage(USAGE, 'name the app registration: --app-id or GRAPH_APP_ID (its client id; docs/deploy.md step 2)');
  if (!principalId || !issuer)
    return exitWithUsage(USAGE, "name the identity: --principal-id and --issuer, or the deployment's outputs MANAGED_IDENTITY_PRINCIPAL_ID and MANAGED_IDENTITY_ISSUER in the environment");
  if (appId.toLowerCase() === deploymentValue('MANAGED_IDENTITY_CLIENT_ID')?.toLowerCase()) {
    return exitWithUsage(USAGE, "GRAPH_APP_ID is the managed identity's own client id (managedidentity mode): name the multi-tenant app registration's");
  }
  const envName = deploymentValue('AZURE_ENV_NAME');
  const wanted = federatedCredentialFor(values.name ?? (envName ? `relay-${envName}` : 'relay'), issuer, principalId);
  const existing = azJson(['ad', 'app', 'federated-credential', 'list', '--id', appId], "is GRAPH_APP_ID the app registration's client id, and may this account read it?");
  const plan = planFederatedCredential(appId, existing, wanted);
  const said = (c: FederatedCredential) => `subject ${c.subject}, issuer ${c.issuer}, audiences ${(c.audiences ?? []).join(' ')}`;
  if (plan.action === 'keep') {
    process.stdout.write(`federated credential ${plan.existing.name} of app ${appId}: already there, kept (${said(plan.existing)})\n`);
    return EXIT.ok;
  }
  // A file, not the JSON on the command line: Windows' shell would eat its quotes.
  const dir = mkdtempSync(join(tmpdir(), 'tcr-fic-'));
  try {
    const file = join(dir, 'federated-credential.json');
    writeFileSync(file, JSON.stringify(plan.credential));
    azJson(['ad', 'app', 'federated-credential', 'create', '--id', appId, '--parameters', `@${file}`], 'does this account own the app registration (or hold Application Administrator)?');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`federated credential ${plan.credential.name} of app ${appId}: created (${said(plan.credential)})\n`);
  return EXIT.ok;
}

async function vault(): Promise<number> {
  // The template's KEY_VAULT_URI output (in azd's hooks' environment) holds the cloud's own vault domain.
  const name = values['vault-name'];
  const fromEnv = process.env.KEY_VAULT_URI?.trim() || (process.env.KEY_VAULT_NAME?.trim() ? `https://${process.env.KEY_VAULT_NAME.trim()}.vault.azure.net` : undefined);
  const url = values['vault-url'] ?? (name ? `https://${name}.vault.azure.net` : fromEnv);
  if (!url) return exitWithUsage(USAGE, 'name the vault: --vault-name, --vault-url, or KEY_VAULT_URI / KEY_VAULT_NAME in the environment');
  const credential = credentialOf(values.credential);
  const started = Date.now();
  const retry: ForbiddenRetry = {
    untilMs: started + minutes * 60_000,
    everyMs: seconds * 1000,
    onForbidden: (what) =>
      printError(
        `${what}: 403 from the vault after ${Math.round((Date.now() - started) / 1000)} s; role assignments take minutes to apply after provisioning: trying again in ${seconds} s (up to ${minutes} min in all)`,
      ),
  };
  // A vault on loopback (a local stand-in) answers with Key Vault's challenge, whose resource is not its address.
  const options = { disableChallengeResourceVerification: isLoopbackUrl(url) };
  // Each result is said as it comes, so that a failure of the second never hides what the first did.
  const report = (item: PreparedItem) => {
    process.stdout.write(`${item.name}: ${item.outcome === 'created' ? 'created' : 'already there, kept'}${item.warning ? ` (warning: ${item.warning})` : ''}\n`);
    return item;
  };
  const items: PreparedItem[] = [];
  items.push(report(await ensureClientState(new SecretClient(url, credential, options), retry)));
  items.push(report(await ensureEncryptionCertificate(new CertificateClient(url, credential, options), values['certificate-name'], retry)));
  return items.some((i) => i.warning) ? EXIT.failed : EXIT.ok;
}

try {
  const commands: Record<string, () => Promise<number>> = { whoami, 'check-login': checkLogin, outputs, 'federated-credential': federatedCredential, vault };
  process.exitCode = await (commands[command ?? ''] ?? vault)();
} catch (e) {
  const waitedForRoles = (e as { statusCode?: number }).statusCode === 403 && !(e instanceof VaultPreparationError);
  printError(
    `azure-setup ${command ?? ''} failed: ${waitedForRoles ? '403 Forbidden, still after the wait: does this account hold Key Vault Secrets Officer and Certificates Officer on the vault (deployerPrincipalId)? ' : ''}${(e as Error).message}`,
  );
  process.exitCode = EXIT.failed;
}
