import type { MetricTotals } from '../../metrics/metrics.js';
import { fail, ok, type SelfCheck } from '../self-check.js';

/** The app id of Microsoft Graph's Change Tracking service principal, which signs validation tokens. */
const CHANGE_TRACKING_APP_ID = '0bf30f3b-4a52-48df-9a82-234910c4a086';
const LOOKBACK_MS = 2 * 3_600_000;
const MISSING = 'rejected.validation_token_missing';
const TENANT_COUNTER = 'tokens_missing';

/** What to do: the tenant setting that causes it, and reading back what was refused. */
function fixFor(tenants: readonly string[], since: string): string {
  const where = tenants.length === 1 ? `tenant ${tenants[0]}` : tenants.length > 1 ? `each of tenants ${tenants.join(', ')}` : 'the tenant named in the security.notification_rejected log lines';
  return `Graph sends no validationTokens for a tenant whose enterprise application (this app's service principal) has "Assignment required?" set to Yes (appRoleAssignmentRequired) and no role assigned to the Microsoft Graph Change Tracking principal (app id ${CHANGE_TRACKING_APP_ID}). In ${where}'s Entra admin center → Enterprise applications → this app → Properties, set "Assignment required?" to No, or assign the Change Tracking principal an app role of this app. The notifications refused were answered 202, so Graph will not send them again: once fixed, read the window back with \`npm run backfill -- --since ${since}\`.`;
}

/**
 * Notifications with resource data that arrived with no validationTokens lately (counted by the receive path
 * as `rejected.validation_token_missing`, in the hours that the last two overlap: two to three hours): they
 * are refused, so the subscription looks active while nothing arrives downstream.
 */
export function validationTokensCheck(metrics: { read(since: Date): Promise<MetricTotals> }, tenantIds: readonly string[] = []): SelfCheck {
  return {
    name: 'validation_tokens',
    run: async (now) => {
      const totals = await metrics.read(new Date(now.getTime() - LOOKBACK_MS));
      const missing = totals.counters[MISSING] ?? 0;
      if (missing === 0) return ok('every notification with resource data came with its validation token (last 2 h)');
      const since = totals.hours.find((h) => (h.counters[MISSING] ?? 0) > 0)?.hour ?? new Date(now.getTime() - LOOKBACK_MS).toISOString();
      // The tenants they came from (counted as `tokens_missing.<tenant>`), else the only one configured.
      const tenants = Object.keys(totals.counters)
        .filter((k) => k.startsWith(`${TENANT_COUNTER}.`) && (totals.counters[k] ?? 0) > 0)
        .map((k) => k.slice(TENANT_COUNTER.length + 1))
        .sort();
      const from = tenants.length > 0 ? ` (from ${tenants.slice(0, 5).join(', ')}${tenants.length > 5 ? ` and ${tenants.length - 5} more` : ''})` : '';
      return fail(
        `${missing} notification${missing === 1 ? '' : 's'} with resource data arrived without validationTokens since ${since}${from} and were refused`,
        fixFor(tenants.length > 0 ? tenants.slice(0, 5) : tenantIds, since),
      );
    },
  };
}
