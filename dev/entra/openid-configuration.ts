import { EntraError } from './entra-error.js';
import type { EntraTokenSigner, TokenVersion } from './token-signer.js';

/**
 * A tenant's OpenID Connect discovery document (the signer's tenant unless `tenantId` names another), shaped as Entra's: endpoints on the stand-in's host, the
 * issuer as Entra names it (`https://login.microsoftonline.com/<tenant>/v2.0` for v2, which MSAL accepts as a
 * Microsoft host; `https://sts.windows.net/<tenant>/` for v1) and the keys (`jwks_uri`).
 */
export function openIdConfiguration(authorityHost: string, signer: EntraTokenSigner, version: TokenVersion, tenantId = signer.tenantId): object {
  const tenant = `${authorityHost}/${tenantId}`;
  const oauth = version === 'v2' ? `${tenant}/oauth2/v2.0` : `${tenant}/oauth2`;
  return {
    token_endpoint: `${oauth}/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: version === 'v2' ? `${tenant}/discovery/v2.0/keys` : `${tenant}/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: signer.issuersOf(tenantId)[version],
    request_uri_parameter_supported: false,
    authorization_endpoint: `${oauth}/authorize`,
    device_authorization_endpoint: `${oauth}/devicecode`,
    end_session_endpoint: `${oauth}/logout`,
    tenant_region_scope: null,
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
  };
}

/**
 * Instance discovery (`/common/discovery/instance?api-version=1.1&authorization_endpoint=…`) for an authority on
 * the stand-in's host: its tenant discovery endpoint and the host as its own network and cache alias. Another
 * host is `invalid_instance`, as Entra answers for an authority it does not know. (MSAL for Node asks
 * login.microsoftonline.com for this, whatever the authority; other clients ask the authority's host.)
 */
export function instanceDiscovery(authorityHost: string, tenantId: string, authorizationEndpoint: string | null): { status: number; body: object } {
  const host = new URL(authorityHost).host;
  let asked: URL | undefined;
  try {
    asked = authorizationEndpoint ? new URL(authorizationEndpoint) : undefined;
  } catch {
    asked = undefined;
  }
  if (!asked || asked.host !== host) throw new EntraError(400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
  const tenant = asked.pathname.split('/')[1] || tenantId;
  return {
    status: 200,
    body: {
      tenant_discovery_endpoint: `${authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    },
  };
}
