import type { TokenCredential } from '@azure/identity';
import { createTenantCredentials, type TenantCredentialSettings } from './tenant-credentials.js';

export { simulatorCredential } from './simulator-credential.js';

/** The credential for Graph in the app's own tenant (the first of GRAPH_TENANT_IDS), per GRAPH_AUTH_MODE. */
export function createGraphCredential(settings: TenantCredentialSettings): TokenCredential {
  const credentials = createTenantCredentials(settings);
  return credentials.forTenant(credentials.homeTenantId);
}
