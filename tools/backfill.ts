#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { scopesOf } from '../shared/backfill/backfill-piece.js';
import { createBackfill } from '../shared/backfill/create-backfill.js';
import { readSettings } from '../shared/config/settings.js';
import { ConfigError } from '../shared/errors.js';
import { createJsonLogger } from '../shared/log.js';
import { createCertificateStore, createNotificationProcessor } from '../shared/route/create-notification-processor.js';
import { createSubscriptionManager } from '../shared/subscriptions/create-subscription-manager.js';
import { loadAppSettings } from './local-host/app-settings.js';

/**
 * `npm run backfill -- --since <ISO time> [--until <ISO time>] [--name <subscription>] [--dry-run] [--json]`
 * Opens a gap `[since, until]` (until: now) for one desired subscription or all, and queues its backfill;
 * the running app's backfillGaps function reads it back from Graph and routes what it finds. --dry-run
 * prints what would be read. Settings as the app reads them (local.settings.json, then the environment).
 * Exit codes: 0 done, 1 failed, 2 bad usage, 3 invalid configuration.
 */
const USAGE = 'usage: npm run backfill -- --since <ISO time> [--until <ISO time>] [--name <subscription>] [--dry-run] [--json]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      name: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      app: { type: 'string', default: process.cwd() },
    },
  }));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
const since = values.since ? new Date(values.since) : undefined;
const until = values.until ? new Date(values.until) : new Date();
if (!since || Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) {
  process.stderr.write(`--since must be an ISO time before --until (default: now)\n${USAGE}\n`);
  process.exit(2);
}

let settings;
try {
  settings = readSettings(loadAppSettings(values.app, process.env));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(e instanceof ConfigError ? 3 : 1);
}
try {
  const quiet = createJsonLogger(() => undefined);
  const certificates = createCertificateStore(settings);
  const subscriptions = createSubscriptionManager(settings, certificates, quiet);
  const desired = subscriptions.reconciler.desired.filter((d) => values.name === undefined || d.name === values.name);
  if (desired.length === 0) {
    process.stderr.write(values.name ? `no desired subscription is named ${values.name}\n` : 'SUBSCRIPTIONS_FILE lists no subscription\n');
    process.exit(2);
  }
  if (values['dry-run']) {
    const plan = desired.map((d) => ({ name: d.name, resource: d.resource, from: since.toISOString(), to: until.toISOString(), reads: scopesOf(d) }));
    process.stdout.write(
      values.json
        ? `${JSON.stringify(plan, null, 2)}\n`
        : plan.map((p) => `${p.name}: ${'scopes' in p.reads ? p.reads.scopes.map((s) => s.kind).join(', ') : `cannot be read back (${p.reads.unsupported})`}`).join('\n') + '\n',
    );
  } else {
    const backfill = createBackfill(settings, createNotificationProcessor(settings, certificates), subscriptions);
    const gaps = await backfill.detector.open('manual', since, until, values.name, quiet);
    process.stdout.write(values.json ? `${JSON.stringify(gaps, null, 2)}\n` : gaps.map((g) => `${g.name}: gap ${g.from} → ${g.to} ${g.status}${g.note ? ` (${g.note})` : ''}`).join('\n') + '\n');
  }
} catch (e) {
  process.stderr.write(`backfill failed: ${(e as Error).message}\n`);
  process.exit(1);
}
