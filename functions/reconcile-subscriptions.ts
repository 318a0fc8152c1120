import { app } from '@azure/functions';
import { settings, subscriptions, withInvocationLog } from './adapters/runtime.js';

/** Keeps Graph's subscriptions as the desired-subscriptions file says: on schedule, and once at start. */
app.timer('reconcileSubscriptions', {
  schedule: settings.reconcileSchedule,
  runOnStartup: true,
  // The reconciler logs through the scoped logger: inside this call, that is the invocation's log.
  handler: (_timer, context) =>
    withInvocationLog(context, async () => {
      if (subscriptions.reconciler.desired.length === 0) return;
      await subscriptions.reconciler.reconcile();
    }),
});
