import type { ManagedIdentityEndpoint } from '../../dev/entra/managed-identity-endpoint.js';

/**
 * Points @azure/identity's ManagedIdentityCredential in this process at the stand-in, as App Service sets
 * IDENTITY_ENDPOINT and IDENTITY_HEADER for a function app's worker. The returned function puts the
 * environment back as it was.
 */
export function pointManagedIdentityAt(mi: Pick<ManagedIdentityEndpoint, 'endpoint' | 'header'>): () => void {
  const saved = { IDENTITY_ENDPOINT: process.env.IDENTITY_ENDPOINT, IDENTITY_HEADER: process.env.IDENTITY_HEADER };
  process.env.IDENTITY_ENDPOINT = mi.endpoint;
  process.env.IDENTITY_HEADER = mi.header;
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}
