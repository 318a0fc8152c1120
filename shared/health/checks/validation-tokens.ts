import type { MetricTotals } from '../../metrics/metrics.js';
import { fail, ok, type SelfCheck } from '../self-check.js';

/** The app id of Microsoft Graph's Change Tracking service principal, which signs validation tokens. */
const CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
const LOOKBACK_MS = 2 * 3_600_000;

const FIX = `Graph sends no validationTokens for a tenant whose enterprise application (this app's service principal) has "Assignment required?" set to Yes (appRoleAssignmentRequired) and no role assigned to the Microsoft Graph Change Tracking principal (app id ${CHANGE_TRACKING_APP_ID}). In that tenant's Entra admin center → Enterprise applications → this app → Properties, set "Assignment required?" to No, or assign the Change Tracking principal an app role of this app. The notifications refused meanwhile are read back by the backfill.`;

/**
 * Notifications with resource data that arrived with no validationTokens in the last two hours (counted by
 * the receive path as `rejected.validation_token_missing`): they are refused, so the subscription looks
 * active while nothing arrives downstream.
 */
export function validationTokensCheck(metrics: { read(since: Date): Promise<MetricTotals> }): SelfCheck {
  return {
    name: 'validation_tokens',
    run: async (now) => {
      const { counters } = await metrics.read(new Date(now.getTime() - LOOKBACK_MS));
      const missing = counters['rejected.validation_token_missing'] ?? 0;
      if (missing === 0) return ok('every notification with resource data came with its validation token (last 2 h)');
      return fail(`${missing} notification${missing === 1 ? '' : 's'} with resource data arrived without validationTokens in the last 2 hours and were refused`, FIX);
    },
  };
}
