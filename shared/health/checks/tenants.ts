import { TEAMS_QUOTA_FAIL_AT, TEAMS_SUBSCRIPTIONS_PER_TENANT } from '../../tenants/teams-subscription-quota.js';
import type { TenantRecord } from '../../tenants/tenant-registry.js';
import { maskSecrets } from '../../util/mask-secrets.js';
import { fail, ok, warn, type SelfCheck } from '../self-check.js';

export interface TenantsCheckSources {
  /** The tenants served and the registry's records (a TenantDirectory; `refresh({ force: true })` reads the registry, throwing when it does not answer). */
  readonly tenants: { refresh(options?: { force?: boolean }): Promise<void>; readonly served: readonly string[]; readonly records: readonly TenantRecord[] };
}

/** An onboarding tenant still failing after this long is reported: its admin has had time to consent. */
const ONBOARDING_GRACE_MS = 3_600_000;
/** At most this many tenants are named in a message (a result is stored in one table property). */
const LISTED = 5;
const listed = (items: readonly string[]) => `${items.slice(0, LISTED).join('; ')}${items.length > LISTED ? ` and ${items.length - LISTED} more` : ''}`;

const consentUrl = (tenantId: string) => `\`npm run tenants -- consent-url ${tenantId}\``;

/** What fixes a tenant's problem, by its cause. */
function fixOf(r: TenantRecord): string {
  const id = r.tenantId;
  switch (r.lastErrorCode) {
    case 'no_consent':
    case 'consent_revoked':
      return `${id}: the tenant's admin has not consented (or revoked it): send them the consent URL, ${consentUrl(id)}.`;
    case 'missing_permission':
      return `${id}: grant the app registration ${r.missingPermissions ? r.missingPermissions.split(',').join(', ') : 'the permissions the message names'} (application permissions), then the tenant's admin consents again with ${consentUrl(id)}.`;
    case 'protected_api':
      return `${id}: request protected-API access for Teams messages for the app (https://aka.ms/teamsgraph/requestaccess); nothing is needed from the tenant.`;
    case 'quota':
      return `${id}: the tenant's Teams subscriptions (${TEAMS_SUBSCRIPTIONS_PER_TENANT.toLocaleString('en-US')}, every app's together) are used up: limit the entries applied to it (\`tenants\` in the subscriptions file) or have the tenant remove other apps' subscriptions.`;
    case 'token_failed':
      return `${id}: Entra refused the app a token for the tenant: check the app's credential (GRAPH_AUTH_MODE) and its consent there (\`npm run tenants -- list\`).`;
    default:
      return `${id}: \`npm run subscriptions -- status\` names each subscription's error; fix it, then \`npm run subscriptions -- sync\`.`;
  }
}

const causeOf = (r: TenantRecord) => `${r.tenantId}${r.displayName ? ` (${r.displayName})` : ''}: ${r.lastErrorCode ?? 'degraded'}${r.lastError ? `, ${maskSecrets(r.lastError)}` : ''}`;

/**
 * The customer tenants as the registry holds them. Fails: a served tenant's own subscriptions near Teams'
 * quota (9,500 of 10,000 per tenant: the next creations there will be refused). Warns: a tenant degraded
 * (a permission missing, protected-API access, its quota, subscriptions failing), or onboarding for over an
 * hour with an error (most often its admin has not consented yet), naming each cause and its fix.
 */
export function tenantsCheck(s: TenantsCheckSources): SelfCheck {
  return {
    name: 'tenants',
    run: async (now) => {
      // Forced: a registry that does not answer is storage failing, which the verdict names.
      await s.tenants.refresh({ force: true });
      const served = new Set(s.tenants.served);
      const records = s.tenants.records;
      const full = records.filter((r) => served.has(r.tenantId) && (r.quotaUsed ?? 0) >= TEAMS_QUOTA_FAIL_AT);
      const degraded = records.filter((r) => r.state === 'degraded');
      const stuck = records.filter((r) => r.state === 'onboarding' && (r.lastErrorCode || r.lastError) && now.getTime() - Date.parse(r.addedAt) > ONBOARDING_GRACE_MS);
      const fixes = (rs: readonly TenantRecord[]) => [...new Set(rs.slice(0, LISTED).map(fixOf))].join(' ');
      if (full.length) {
        return fail(
          `near Teams' ${TEAMS_SUBSCRIPTIONS_PER_TENANT.toLocaleString('en-US')} subscriptions per tenant: ${listed(full.map((r) => `${r.tenantId} holds ${(r.quotaUsed ?? 0).toLocaleString('en-US')}`))}`,
          `Limit the entries applied to the tenant (\`tenants\` in the subscriptions file, each entry is one subscription there), or have the tenant remove other apps' subscriptions; past ${TEAMS_SUBSCRIPTIONS_PER_TENANT.toLocaleString('en-US')} Graph refuses every new one.`,
        );
      }
      if (degraded.length || stuck.length) {
        const parts = [degraded.length ? `degraded: ${listed(degraded.map(causeOf))}` : '', stuck.length ? `onboarding for over an hour with an error: ${listed(stuck.map(causeOf))}` : ''].filter(
          Boolean,
        );
        return warn(parts.join('. '), [fixes(degraded), fixes(stuck)].filter(Boolean).join(' '));
      }
      return ok(`${served.size} tenant${served.size === 1 ? '' : 's'} served`);
    },
  };
}
