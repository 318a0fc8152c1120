#!/usr/bin/env node
import { scopesOf } from '../shared/backfill/backfill-piece.js';
import { createApp } from '../shared/app/create-app.js';
import { createJsonLogger } from '../shared/log.js';
import { exitCodeOf, exitWithUsage, loadCliSettings, parseCliArgs, printError } from './cli-run.js';

/**
 * `npm run backfill -- --since <ISO time> [--until <ISO time>] [--name <subscription>] [--dry-run] [--json]`
 * Opens a gap `[since, until]` (until: now) for one desired subscription or all, and queues its backfill;
 * the running app's backfillGaps function reads it back from Graph and routes what it finds. --dry-run
 * prints what would be read. Settings as the app reads them (local.settings.json, then the environment; see
 * cli-settings.ts).
 * Exit codes: 0 done, 1 failed, 2 bad usage, 3 invalid configuration.
 */
const USAGE = 'usage: npm run backfill -- --since <ISO time> [--until <ISO time>] [--name <subscription>] [--dry-run] [--json] [--azure]';
const { values } = parseCliArgs(USAGE, {
  since: { type: 'string' },
  until: { type: 'string' },
  name: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});
const since = values.since ? new Date(values.since) : undefined;
const until = values.until ? new Date(values.until) : new Date();
if (!since || Number.isNaN(since.getTime()) || Number.isNaN(until.getTime()) || since >= until) exitWithUsage(USAGE, '--since must be an ISO time before --until (default: now)');

const settings = loadCliSettings('backfill', values.app);
try {
  const quiet = createJsonLogger(() => undefined);
  const { subscriptions, backfill } = createApp(settings, { logger: quiet });
  const desired = subscriptions.reconciler.desired.filter((d) => values.name === undefined || d.name === values.name);
  if (desired.length === 0) {
    exitWithUsage(USAGE, values.name ? `no desired subscription is named ${values.name}` : 'SUBSCRIPTIONS_FILE lists no subscription');
  }
  if (values['dry-run']) {
    const plan = desired.map((d) => ({ name: d.name, resource: d.resource, from: since.toISOString(), to: until.toISOString(), reads: scopesOf(d) }));
    process.stdout.write(
      values.json
        ? `${JSON.stringify(plan, null, 2)}\n`
        : plan.map((p) => `${p.name}: ${'scopes' in p.reads ? p.reads.scopes.map((s) => s.kind).join(', ') : `cannot be read back (${p.reads.unsupported})`}`).join('\n') + '\n',
    );
  } else {
    const gaps = await backfill.detector.open('manual', since, until, values.name, quiet);
    process.stdout.write(values.json ? `${JSON.stringify(gaps, null, 2)}\n` : gaps.map((g) => `${g.name}: gap ${g.from} → ${g.to} ${g.status}${g.note ? ` (${g.note})` : ''}`).join('\n') + '\n');
  }
} catch (e) {
  printError(`backfill failed: ${(e as Error).message}`);
  process.exit(exitCodeOf(e));
}
