import type { TokenCredential } from '@azure/identity';
import type { GraphSettings } from '../../config/settings.js';
import { graphTokenRoles } from '../../graph/token-roles.js';
import type { DesiredSubscription } from '../../subscriptions/desired-subscriptions.js';
import { checkPermissions, requiredPermissions } from '../../subscriptions/required-permissions.js';
import { fail, ok, skipped, type SelfCheck } from '../self-check.js';

export interface GraphPermissionsSources {
  readonly auth: GraphSettings['graphAuth'];
  readonly desired: readonly DesiredSubscription[];
  readonly credential: TokenCredential;
  readonly graphBaseUrl: URL;
}

/**
 * The application permissions (roles) in the app's own Graph token against what the desired subscriptions
 * and their backfill need (the same reading as `npm run subscriptions -- check-permissions`). A permission
 * missing fails.
 */
export function graphPermissionsCheck(s: GraphPermissionsSources): SelfCheck {
  return {
    name: 'graph_permissions',
    run: async () => {
      if (s.auth.mode === 'simulator') return skipped("GRAPH_AUTH_MODE=simulator: the simulator's unsigned token holds no consented roles");
      if (s.desired.length === 0) return ok('no desired subscription: nothing to check the token against');
      const check = checkPermissions(requiredPermissions(s.desired, { backfill: true }), await graphTokenRoles(s.credential, s.graphBaseUrl));
      const missing = check.needs.filter((n) => n.status === 'missing');
      if (missing.length > 0) {
        return fail(
          `the app's Graph token lacks a permission for ${missing.map((n) => n.for).join('; ')}`,
          `Grant ${check.toGrant.join(', ')} (application permissions, admin consent) to the app registration, then run \`npm run subscriptions -- check-permissions\`.`,
        );
      }
      // Resource-specific consent never shows in a token: a subscription it does not allow fails to be created,
      // which the subscriptions check reports.
      const unverified = check.needs.filter((n) => n.status === 'unverified').length;
      const rsc = unverified ? ` (${unverified} rel${unverified === 1 ? 'ies' : 'y'} on resource-specific consent, which no token shows)` : '';
      return ok(`the token carries every application permission the ${s.desired.length} desired subscriptions and their backfill need${rsc}`);
    },
  };
}
