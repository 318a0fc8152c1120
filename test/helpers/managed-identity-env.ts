import type { ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';
import { setProcessEnv } from './process-env.js';

/**
 * Points @azure/identity's ManagedIdentityCredential in this process at the stand-in, as App Service sets
 * IDENTITY_ENDPOINT and IDENTITY_HEADER for a function app's worker. The returned function puts the
 * environment back as it was.
 */
export function pointManagedIdentityAt(mi: Pick<ManagedIdentityEndpoint, 'endpoint' | 'header'>): () => void {
  return setProcessEnv({ IDENTITY_ENDPOINT: mi.endpoint, IDENTITY_HEADER: mi.header });
}
