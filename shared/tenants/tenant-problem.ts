import { isGraphRequestError } from '../graph/graph-client.js';
import { isQuotaRefusal } from '../subscriptions/graph-refusal.js';
import { maskSecrets } from '../util/mask-secrets.js';
import type { TenantProblem } from './tenant-registry.js';

/** Entra's answers when the app has no service principal (no admin consent) in the tenant, or may not be used there. */
const NO_CONSENT = /AADSTS7000229|AADSTS650052|AADSTS700016|AADSTS500011|AADSTS90002/;

/** What went wrong in a tenant, named for `tenants list`, status and the registry. */
export interface TenantFailure {
  readonly code: TenantProblem;
  readonly message: string;
  /** The app's access to the tenant is gone (no consent): nothing will work there until an admin consents. */
  readonly consentMissing: boolean;
}

/**
 * Names the cause of a tenant-wide failure: Entra refusing the tenant's token (no consent, or consent
 * revoked), Graph refusing a token without roles (401), a quota, protected-API access, a missing permission (403 naming
 * it), or anything else.
 */
export function tenantFailureOf(e: unknown, stage: 'token' | 'subscriptions'): TenantFailure {
  const text = maskSecrets(e instanceof Error ? e.message : String(e));
  if (NO_CONSENT.test(text))
    return { code: 'no_consent', consentMissing: true, message: `the app has no consent in the tenant (no service principal): an admin must grant it (tenants consent-url). ${firstLine(text)}` };
  // Graph's answer to a token without application roles: what Entra issues an app whose service principal holds
  // none (consent missing or revoked). Any other 401 (a token expired, a clock skew) says nothing of consent.
  if (isGraphRequestError(e, 401) && /scp or roles claim/i.test(text))
    return { code: 'no_consent', consentMissing: true, message: `Graph refuses the app's token for the tenant: it carries no application role (consent missing or revoked): ${firstLine(text)}` };
  if (isGraphRequestError(e, 403) && isQuotaRefusal(e)) return { code: 'quota', consentMissing: false, message: `the tenant's Teams subscription quota is used up: ${firstLine(text)}` };
  if (isGraphRequestError(e, 403) && /protected api/i.test(text))
    return { code: 'protected_api', consentMissing: false, message: `protected-API access for Teams messages is not granted (https://aka.ms/teamsgraph/requestaccess): ${firstLine(text)}` };
  if (isGraphRequestError(e, 403)) return { code: 'missing_permission', consentMissing: false, message: firstLine(text) };
  return { code: stage === 'token' ? 'token_failed' : 'subscriptions_failed', consentMissing: false, message: firstLine(text) };
}

const firstLine = (text: string) => (text.split('\n', 1)[0] ?? '').slice(0, 500);
