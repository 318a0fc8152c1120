#!/usr/bin/env node
import { hostname, userInfo } from 'node:os';
import { createApp, type App } from '../shared/app/create-app.js';
import { GUID } from '../shared/config/settings/validators.js';
import { createJsonLogger } from '../shared/log.js';
import { adminConsentUrl } from '../shared/tenants/admin-consent-url.js';
import { createTenantPurge } from '../shared/tenants/create-tenant-purge.js';
import type { TenantPurgeReport } from '../shared/tenants/tenant-purge.js';
import { problemText, quotaText, tenantOverview } from '../shared/tenants/tenant-overview.js';
import type { TenantRecord } from '../shared/tenants/tenant-registry.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { EXIT, exitCodeOf, exitWithUsage, loadCliSettings, parseCliArgs, printError } from './cli-run.js';
import { textTable } from './text-table.js';

/**
 * `npm run tenants -- add <tenantId> [--name <name>] | list | remove <tenantId> [--purge] | consent-url <tenantId>  [--json]`
 *   add          registers the tenant and settles it at once: its Graph token (the admin's consent), its roles,
 *                its subscriptions; prints its state and, when it is not served in full, why (and, without
 *                consent, the URL its admin opens)
 *   list         every tenant of the registry: state, subscriptions, quota used, last delivery, problem
 *   remove       offboards the tenant: its subscriptions deleted, its backfill stopped, its notifications refused;
 *                `--purge` also deletes its records, gaps, de-duplication rows and payload blobs (docs/tenants.md)
 *   consent-url  the admin consent URL of the tenant (no setting but GRAPH_APP_ID and AZURE_AUTHORITY_HOST is used)
 * Settings as the app reads them (see cli-settings.ts). Every `code=` key it prints is masked.
 * Exit codes: 0 ok (add: the tenant is active or degraded), 1 failed (add: left onboarding, its cause named;
 * remove: its subscriptions could not be deleted, or an unknown tenant), 2 bad usage (a tenant id not a GUID),
 * 3 invalid configuration.
 */
const USAGE = 'usage: npm run tenants -- add <tenantId> [--name <name>] | list | remove <tenantId> [--purge] | consent-url <tenantId>  [--json] [--azure]';
const COMMANDS = ['add', 'list', 'remove', 'consent-url'];
const print = (text: string) => process.stdout.write(maskSecrets(text));
const parsed = parseCliArgs(USAGE, { json: { type: 'boolean', default: false }, name: { type: 'string' }, purge: { type: 'boolean', default: false } }, true);
const [command, tenantArg, ...extra] = parsed.positionals;
const { json, name, purge } = parsed.values;
if (!command || !COMMANDS.includes(command) || extra.length > 0) exitWithUsage(USAGE);
if (command !== 'list' && !tenantArg) exitWithUsage(USAGE, `${command} needs a tenant id.`);
if (command === 'list' && tenantArg) exitWithUsage(USAGE);
if (tenantArg && !GUID.test(tenantArg)) exitWithUsage(USAGE, `"${tenantArg}" is not a tenant id (a GUID: the directory id of the customer's tenant).`);
if (name !== undefined && command !== 'add') exitWithUsage(USAGE, '--name goes with add.');
if (purge && command !== 'remove') exitWithUsage(USAGE, '--purge goes with remove.');
const tenantId = tenantArg?.toLowerCase() ?? '';
const quiet = createJsonLogger(() => undefined);

/** Who acts, as the registry records it: the operator's account on this machine. */
function actor(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return 'cli'; // no user name for this uid (a container's)
  }
}

try {
  const settings = loadCliSettings('tenants', parsed.values.app);
  const consentUrl = (id: string) => adminConsentUrl(id, settings.appId, settings.authorityHost);
  if (command === 'consent-url') print(json ? JSON.stringify({ tenantId, consentUrl: consentUrl(tenantId) }, null, 2) + '\n' : `${consentUrl(tenantId)}\n`);
  else {
    const app = createApp(settings, { logger: quiet });
    if (command === 'list') await list(app);
    else if (command === 'add') await add(app, consentUrl);
    else await remove(app);
  }
} catch (e) {
  printError(`${command} failed: ${(e as Error).message}`);
  process.exit(exitCodeOf(e));
}

/** `tenant <id> (<name>): <state>`, then why it is not served in full. */
function describe(record: TenantRecord, consentUrl?: (id: string) => string): string {
  const lines = [`tenant ${record.tenantId}${record.displayName ? ` (${record.displayName})` : ''}: ${record.state}`];
  const problem = problemText(record);
  if (problem) lines.push(`  ${problem}`);
  if (consentUrl && record.lastErrorCode === 'no_consent') lines.push(`  admin consent: ${consentUrl(record.tenantId)}`);
  return lines.join('\n') + '\n';
}

async function add(app: App, consentUrl: (id: string) => string): Promise<void> {
  const record = await app.tenants.onboarding.add(tenantId, { ...(name ? { displayName: name } : {}), by: actor() });
  const served = record.state === 'active' || record.state === 'degraded';
  print(json ? JSON.stringify({ ...record, ...(record.lastErrorCode === 'no_consent' ? { consentUrl: consentUrl(tenantId) } : {}) }, null, 2) + '\n' : describe(record, consentUrl));
  // Left onboarding: it stays registered, and each reconcile run tries it again.
  if (!served) process.exitCode = EXIT.failed;
}

async function list(app: App): Promise<void> {
  const [records, subscriptionRecords, deliveries] = await Promise.all([app.tenants.registry.list(), app.subscriptions.records.list(), app.deliveries.lastDeliveries()]);
  const byName = new Map(subscriptionRecords.map((r) => [r.name, r]));
  const rows = records.map((r) =>
    tenantOverview(
      r,
      app.subscriptions.desired.forTenant(r.tenantId).map((d) => d.name),
      byName,
      deliveries,
    ),
  );
  if (json) return void print(JSON.stringify(rows, null, 2) + '\n');
  print(
    textTable(
      rows.map((r) => ({ tenant: r.tenantId, name: r.displayName, state: r.state, subscriptions: r.subscriptions, quota: quotaText(r), 'last delivery': r.lastDelivery, problem: problemText(r) })),
      ['tenant', 'name', 'state', 'subscriptions', 'quota', 'last delivery', 'problem'],
    ),
  );
}

async function remove(app: App): Promise<void> {
  // A mistyped id would leave a registry row of a tenant never served: refuse what neither the registry nor GRAPH_TENANT_IDS knows.
  if (!(await app.tenants.registry.get(tenantId)) && !app.tenants.directory.has(tenantId)) {
    printError(`tenant ${tenantId} is neither in the registry nor in GRAPH_TENANT_IDS: nothing to remove (tenants list shows the registry).`);
    process.exitCode = EXIT.failed;
    return;
  }
  const purger = purge ? createTenantPurge(app, quiet) : undefined;
  const done: { purged?: TenantPurgeReport } = {};
  const record = await app.tenants.onboarding.remove(tenantId, {
    by: actor(),
    ...(purger ? { purge: async (id: string, names: readonly string[]) => void (done.purged = await purger.purge(id, names)) } : {}),
  });
  const p = done.purged;
  if (json) return void print(JSON.stringify({ ...record, ...(p ? { purged: p } : {}) }, null, 2) + '\n');
  print(describe(record));
  if (p) {
    print(
      `  purged: ${p.subscriptionRecords} subscription records, ${p.gaps} backfill gaps (with their pieces), ${p.deliveries} delivery rows, ${p.memberships} membership rows, ${p.dedupRows} de-duplication rows, ${p.payloadBlobs} payload blobs; the registry row stays for audit\n`,
    );
  }
}
