import { app } from '@azure/functions';
import { appSettings, runtime } from './adapters/runtime.js';

/** Keeps Graph's subscriptions as the desired-subscriptions file says: on schedule, and once at start. */
export async function reconcileSubscriptions(): Promise<void> {
  const { subscriptions } = runtime();
  if (subscriptions.reconciler.desired.length === 0) return;
  await subscriptions.reconciler.reconcile();
}

app.timer('reconcileSubscriptions', {
  schedule: appSettings().reconcileSchedule,
  runOnStartup: true,
  handler: reconcileSubscriptions,
});
