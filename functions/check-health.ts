import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runtime, withInvocationLog } from './adapters/runtime.js';

/**
 * Every 5 minutes, and at start: the self-checks (certificates and secrets expiring, subscriptions, validation
 * tokens, permissions, silent subscriptions, backfill gaps) and the work queues' ages, saved for status and
 * reported as gauges that the alert rules in infra/ watch (docs/operations.md).
 */
export function checkHealth(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async (logger) => {
    await runtime().healthChecker.run(logger);
  });
}

app.timer('checkHealth', {
  schedule: '0 */5 * * * *',
  runOnStartup: true,
  handler: checkHealth,
});
