import { app, type InvocationContext, type Timer } from '@azure/functions';
import { runtime, withInvocationLog } from './adapters/runtime.js';
import { RECONCILE_SCHEDULE } from './adapters/trigger-bindings.js';

/**
 * Keeps Graph's subscriptions as the desired-subscriptions file says, in every tenant served: on schedule, and
 * once at start. The reconciler logs through the scoped logger: inside this call, that is the invocation's log.
 */
export function reconcileSubscriptions(_timer: Timer, context: InvocationContext): Promise<void> {
  return withInvocationLog(context, async () => {
    const { subscriptions, tenants } = runtime();
    if (subscriptions.desired.entries.length === 0) return;
    await subscriptions.reconciler.reconcile();
    // A removal the operator's shell could not finish (no credential of the app there) is finished here.
    await tenants.onboarding.finishOffboarding();
  });
}

app.timer('reconcileSubscriptions', {
  schedule: RECONCILE_SCHEDULE,
  runOnStartup: true,
  handler: reconcileSubscriptions,
});
