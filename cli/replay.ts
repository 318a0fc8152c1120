#!/usr/bin/env node
import { createBlobServiceClient, createQueueServiceClient } from '../shared/config/storage-clients.js';
import { replayMessages } from '../shared/route/replay.js';
import { notificationQueueNames } from '../shared/queue/notification-queues.js';
import { exitCodeOf, exitWithUsage, loadCliSettings, parseCliArgs, printError } from './cli-run.js';

/**
 * `npm run replay -- --from deadletter|poison [--limit N] [--dry-run] [--json]`
 * Moves dead-lettered messages back to the queue they came from, or poison messages of the incoming queue
 * back to it, after a fix. Settings as the app reads them (local.settings.json, then the environment; see
 * cli-settings.ts). Exit codes: 0 done, 1 failed, 2 bad usage, 3 invalid configuration.
 */
const usage = 'usage: npm run replay -- --from deadletter|poison [--limit N] [--dry-run] [--json] [--azure]';
const { values } = parseCliArgs(usage, {
  from: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
});
if (values.from !== 'deadletter' && values.from !== 'poison') exitWithUsage(usage, '--from must be deadletter or poison');
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) exitWithUsage(usage, '--limit must be a positive whole number');
const settings = loadCliSettings('replay', values.app);

try {
  const storage = { queues: createQueueServiceClient(settings.storage), blobs: createBlobServiceClient(settings.storage) };
  // Poison messages: from each incoming queue partition's poison queue back to that partition.
  const sources = values.from === 'poison' ? notificationQueueNames(settings).map((queue) => ({ kind: 'poison' as const, queue })) : [{ kind: 'deadletter' as const, queue: settings.deadLetterQueue }];
  const result = { moved: 0, skipped: 0 };
  for (const from of sources) {
    const left = limit === undefined ? undefined : limit - result.moved - result.skipped;
    if (left === 0) break;
    const one = await replayMessages(storage, from, { ...(left ? { limit: left } : {}), dryRun: values['dry-run'] });
    result.moved += one.moved;
    result.skipped += one.skipped;
  }
  if (values.json) process.stdout.write(JSON.stringify({ from: values.from, dryRun: values['dry-run'], ...result }) + '\n');
  else process.stdout.write(`${values['dry-run'] ? 'would move' : 'moved'} ${result.moved} message(s) from ${values.from}${result.skipped ? `; ${result.skipped} unreadable left in place` : ''}\n`);
} catch (e) {
  printError(`replay failed: ${(e as Error).message}`);
  process.exit(exitCodeOf(e));
}
