import { app } from '@azure/functions';
import { settings, subscriptions } from './adapters/runtime.js';

/** Keeps Graph's subscriptions as the desired-subscriptions file says: on schedule, and once at start. */
app.timer('reconcileSubscriptions', {
  schedule: settings.reconcileSchedule,
  runOnStartup: true,
  handler: async () => {
    if (subscriptions.reconciler.desired.length === 0) return;
    await subscriptions.reconciler.reconcile();
  },
});
