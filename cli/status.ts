#!/usr/bin/env node
import { createStatusReader } from '../shared/status/create-status.js';
import type { StatusSnapshot } from '../shared/status/status-snapshot.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { EXIT, loadCliSettings, parseCliArgs, printError } from './cli-run.js';
import { textTable } from './text-table.js';

/**
 * `npm run status [-- --json] [--app <folder>]`: the relay's health at a glance, read from its storage:
 * every desired subscription, every queue the app owns with its approximate message count, the dead letters
 * waiting by reason, the last routed event per kind and the counters of the last 24 hours. The same content
 * as `/api/status`. `--json` prints one object. Settings as the app reads them (local.settings.json, then
 * the environment; see cli-settings.ts). Exit codes: 0 ok, 1 storage unreachable, 2 bad usage, 3 invalid configuration.
 */
const USAGE = 'usage: npm run status [-- --json] [--app <folder>] [--azure]';
const parsed = parseCliArgs(USAGE, { json: { type: 'boolean', default: false } });
const settings = loadCliSettings('status', parsed.values.app);

let snapshot: StatusSnapshot;
try {
  snapshot = await createStatusReader(settings)();
} catch (e) {
  printError(`status failed: ${(e as Error).message}`);
  process.exit(EXIT.failed);
}
process.stdout.write(maskSecrets(parsed.values.json ? JSON.stringify(snapshot, null, 2) + '\n' : describe(snapshot)));

function describe(s: StatusSnapshot): string {
  const pairs = (o: Readonly<Record<string, string | number>>, key: string, value: string) => Object.entries(o).map(([k, v]) => ({ [key]: k, [value]: v }));
  const table: typeof textTable = (rows, columns) => (rows.length ? textTable(rows, columns) : '(none)\n');
  return [
    `Status at ${s.generatedAt}\n`,
    `\nSubscriptions (${s.subscriptions.length})\n`,
    table(s.subscriptions, ['name', 'resource', 'subscriptionId', 'expiresAt', 'lastRenewedAt', 'lastDeliveryAt', 'clientState', 'certificateId', 'lastAction', 'lastError']),
    `\nQueues\n`,
    table(
      s.queues.map((q) => ({ ...q, approximateMessageCount: q.approximateMessageCount ?? 'not created' })),
      ['name', 'role', 'approximateMessageCount'],
    ),
    `\nDead letters waiting in ${s.deadLetters.queue}: ${s.deadLetters.waiting ?? 0} (reasons of the first ${s.deadLetters.sampled})\n`,
    table(pairs(s.deadLetters.byReason, 'reason', 'count'), ['reason', 'count']),
    `\nLast routed event per kind\n`,
    table(pairs(s.lastRouted, 'kind', 'at'), ['kind', 'at']),
    `\nCounters since ${s.metrics.since}\n`,
    table(pairs(s.metrics.counters, 'counter', 'count'), ['counter', 'count']),
  ].join('');
}
