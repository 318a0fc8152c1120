#!/usr/bin/env node
import { createApp } from '../shared/app/create-app.js';
import type { Settings } from '../shared/config/settings.js';
import { createJsonLogger } from '../shared/log.js';
import { createGraphCredential } from '../shared/graph/graph-credential.js';
import { graphTokenRoles, TokenRolesUnreadableError } from '../shared/graph/token-roles.js';
import { describeClientStateUse } from '../shared/subscriptions/client-state-fingerprint.js';
import { readDesiredSubscriptions } from '../shared/subscriptions/create-subscription-manager.js';
import { checkEndpoints } from '../shared/subscriptions/endpoint-check.js';
import { checkPermissions, isResourceSpecific, requiredPermissions } from '../shared/subscriptions/required-permissions.js';
import { ConfigError } from '../shared/errors.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { exitCodeOf, exitWithUsage, loadCliSettings, parseCliArgs, printError } from './cli-run.js';
import { readEndpointUrls } from './cli-settings.js';
import { textTable, type TextRow } from './text-table.js';

/**
 * `npm run subscriptions -- list | sync | status | delete <id> | check-endpoints | check-permissions  [--json] [--force]`
 *   list     our subscriptions in Graph (those with our notification URL)
 *   sync     reconcile now (--force retries entries held back after a 403)
 *   status   each desired entry with its subscription, expiry, clientState, last renewal, last delivery,
 *            gaps (those not closed, and those closed in the last 30 days) and backfill progress, last action
 *            and error
 *   delete   delete one subscription in Graph
 *   check-endpoints  Graph's validation handshake against GRAPH_NOTIFICATION_URL and GRAPH_LIFECYCLE_URL
 *   check-permissions  the application permissions (roles) in the app's own Graph token against what the desired
 *            subscriptions and their backfill need; names each missing one and the permission to grant
 * Settings as the app reads them (local.settings.json, then the environment; see cli-settings.ts). Every `code=` key it prints is masked.
 * Exit codes: 0 ok, 1 an entry, endpoint or permission failed or Graph refused, 2 bad usage, 3 invalid configuration.
 */
const USAGE = 'usage: npm run subscriptions -- list | sync | status | delete <id> | check-endpoints | check-permissions  [--json] [--force] [--azure]';
const COMMANDS = ['list', 'sync', 'status', 'delete', 'check-endpoints', 'check-permissions'];
const print = (stream: NodeJS.WriteStream, text: string) => stream.write(maskSecrets(text));
const parsed = parseCliArgs(USAGE, { json: { type: 'boolean', default: false }, force: { type: 'boolean', default: false } }, true);
const [command, arg] = parsed.positionals;
const json = parsed.values.json;
const force = parsed.values.force;
if (!COMMANDS.includes(command ?? '') || (command === 'delete' && !arg)) exitWithUsage(USAGE);

const out = <C extends string>(data: unknown, rows: readonly TextRow<NoInfer<C>>[], columns: readonly C[]) =>
  print(process.stdout, json ? JSON.stringify(data, null, 2) + '\n' : textTable(rows, columns));

try {
  if (command === 'check-endpoints') {
    const results = await checkEndpoints(readEndpointUrls(parsed.values.app, process.env));
    out(
      results,
      results.map((r) => ({ setting: r.name, url: r.url, result: r.ok ? 'ok' : r.failure, detail: r.detail })),
      ['setting', 'url', 'result', 'detail'],
    );
    if (results.some((r) => !r.ok)) process.exitCode = 1;
  } else if (command === 'check-permissions') await checkTokenPermissions(loadCliSettings('subscriptions', parsed.values.app));
  else await manage(command ?? '', loadCliSettings('subscriptions', parsed.values.app));
} catch (e) {
  printError(`${command} failed: ${(e as Error).message}`);
  process.exit(exitCodeOf(e));
}

/**
 * The roles of the token the app's own credential gets for Graph (GRAPH_AUTH_MODE), against what the desired
 * subscriptions and the backfill (always on: every gap of a subscription is read back) need. The token is
 * decoded, never printed.
 */
async function checkTokenPermissions(settings: Settings): Promise<void> {
  if (settings.graphAuth.mode === 'simulator') {
    throw new TokenRolesUnreadableError(
      "GRAPH_AUTH_MODE=simulator: the simulator's unsigned token holds no consented roles; check-permissions reads a token from Entra ID (clientsecret, certificate, managedidentity or default)",
    );
  }
  // Without the desired subscriptions there is nothing to check against: "all there" would be a false pass.
  if (!settings.subscriptionsFile) throw new ConfigError(['SUBSCRIPTIONS_FILE is not set: check-permissions checks the token against what its entries need (subscriptions.json).']);
  const needs = requiredPermissions(readDesiredSubscriptions(settings), { backfill: true });
  const roles = await graphTokenRoles(createGraphCredential(settings), settings.graphBaseUrl);
  const check = checkPermissions(needs, roles);
  const rows = check.needs.map((n) => ({
    for: n.for,
    result: n.status,
    permission: n.status === 'ok' ? n.grantedBy : n.status === 'missing' ? `grant ${n.grant}` : `grant ${n.grant}, or resource-specific consent ${n.anyOf.filter(isResourceSpecific).join(' or ')}`,
    also: n.also,
  }));
  if (json) print(process.stdout, JSON.stringify({ roles, needs: check.needs, toGrant: check.toGrant }, null, 2) + '\n');
  else {
    print(process.stdout, textTable(rows, ['for', 'result', 'permission', 'also']));
    print(process.stdout, check.toGrant.length ? `Grant (application permissions, admin consent): ${check.toGrant.join(', ')}\n` : 'Every permission the token can show is there.\n');
  }
  if (check.needs.some((n) => n.status === 'missing')) process.exitCode = 1;
}

async function manage(command: string, settings: Settings): Promise<void> {
  const quiet = createJsonLogger(() => undefined);
  const app = createApp(settings, { logger: quiet });
  const manager = app.subscriptions;
  if (command === 'list') {
    const versions = new Set(['v1.0' as const, ...manager.reconciler.desired.map((d) => d.version)]);
    const all = (await Promise.all([...versions].map((v) => manager.graph.listSubscriptions(v)))).flat();
    const ours = [...new Map(all.filter((s) => s.notificationUrl === settings.notificationUrl).map((s) => [s.id, s])).values()];
    out(
      ours,
      ours.map((s) => ({ id: s.id, resource: s.resource, changeType: s.changeType, expires: s.expirationDateTime, resourceData: s.includeResourceData ? 'yes' : 'no' })),
      ['id', 'resource', 'changeType', 'expires', 'resourceData'],
    );
  } else if (command === 'sync') {
    const report = await manager.reconciler.reconcile({ force });
    out(
      report,
      report.entries.map((e) => ({ name: e.name, action: e.action, subscription: e.subscriptionId, expires: e.expiresAt, error: e.error })),
      ['name', 'action', 'subscription', 'expires', 'error'],
    );
    if (report.entries.some((e) => e.action === 'failed' || e.action === 'skipped')) process.exitCode = 1;
  } else if (command === 'status') {
    const records = new Map((await manager.records.list()).map((r) => [r.name, r]));
    const [gaps, deliveries] = await Promise.all([app.gaps.list(), app.deliveries.lastDeliveries()]);
    const rows = manager.reconciler.desired.map((d) => {
      const r = records.get(d.name);
      const secret = manager.reconciler.clientStateOf(r);
      const own = gaps.filter((g) => g.name === d.name);
      const open = own.filter((g) => g.status === 'open' || g.status === 'filling');
      return {
        name: d.name,
        resource: d.resource,
        subscription: r?.subscriptionId,
        expires: r?.expiresAt,
        clientState: secret && describeClientStateUse(secret),
        lastRenewed: r?.lastRenewedAt,
        lastDelivery: r?.subscriptionId ? deliveries.get(r.subscriptionId) : undefined,
        gaps: own.length === 0 ? 'none' : `${open.length} open, ${own.filter((g) => g.status === 'filled').length} filled, ${own.filter((g) => g.status === 'partial').length} partial`,
        backfill: open.length ? open.map((g) => `${g.from}→${g.to} ${g.status}, ${g.changesFound ?? 0} found, ${g.piecesPending ?? '?'} pieces left`).join('; ') : undefined,
        lastAction: r?.lastAction,
        lastError: r?.lastAction === 'failed' ? r.lastError : undefined,
        gapList: own,
      };
    });
    out(rows, rows, ['name', 'resource', 'subscription', 'expires', 'clientState', 'lastRenewed', 'lastDelivery', 'gaps', 'backfill', 'lastAction', 'lastError']);
    if (rows.some((r) => r.lastError || !r.subscription || r.clientState === describeClientStateUse('none'))) process.exitCode = 1;
  } else if (command === 'delete' && arg) {
    await manager.graph.deleteSubscription(arg);
    out({ deleted: arg }, [{ deleted: arg }], ['deleted']);
  }
}
