#!/usr/bin/env node
import { createStatusReader } from '../shared/status/create-status.js';
import type { StatusSnapshot } from '../shared/status/status-snapshot.js';
import { maskSecrets } from '../shared/util/mask-secrets.js';
import { EXIT, loadCliSettings, parseCliArgs, printError } from './cli-run.js';
import { describeStatus } from './status-text.js';

/**
 * `npm run status [-- --json] [--app <folder>]`: the relay's health at a glance, read from its storage: the
 * verdict (healthy, degraded, failing) and its reasons first, the tenants, the delay per kind, the answers to Graph, the
 * self-checks, then every desired subscription of every tenant, every queue the app owns with its approximate message count
 * and its oldest message's age, the dead letters waiting by reason, the last routed event per kind and the
 * counters of the last 24 hours. The same content as `/api/status`. `--json` prints one object. Settings as the app reads them (local.settings.json, then
 * the environment; see cli-settings.ts). Storage that does not answer makes the verdict degraded, not the command
 * fail. Exit codes: 0 ok (whatever the verdict), 1 the status could not be gathered, 2 bad usage, 3 invalid configuration.
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
process.stdout.write(maskSecrets(parsed.values.json ? JSON.stringify(snapshot, null, 2) + '\n' : describeStatus(snapshot)));
