import type { TokenCredential } from '@azure/identity';
import type { GraphSettings } from '../../config/settings.js';
import { graphTokenRoles } from '../../graph/token-roles.js';
import type { DesiredSubscription } from '../../subscriptions/desired-subscriptions.js';
import { checkPermissions, requiredPermissions } from '../../subscriptions/required-permissions.js';
import { fail, ok, skipped, warn, type SelfCheck } from '../self-check.js';

export interface GraphPermissionsSources {
  readonly auth: GraphSettings['graphAuth'];
  readonly desired: readonly DesiredSubscription[];
  readonly credential: TokenCredential;
  readonly graphBaseUrl: URL;
}

/**
 * The application permissions (roles) in the app's own Graph token against what the desired subscriptions
 * and their backfill need (the same reading as `npm run subscriptions -- check-permissions`). A permission
 * missing fails; one only resource-specific consent could give (invisible in a token) warns.
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
      const unverified = check.needs.filter((n) => n.status === 'unverified');
      if (unverified.length > 0)
        return warn(
          `only resource-specific consent (not in a token) could allow ${unverified.map((n) => n.for).join('; ')}`,
          'Run `npm run subscriptions -- check-permissions` for the permission to grant.',
        );
      return ok(`the token carries every permission the ${s.desired.length} desired subscriptions and their backfill need`);
    },
  };
}
