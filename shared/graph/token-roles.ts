import type { TokenCredential } from '@azure/identity';
import { decodeJwt, type JWTPayload } from 'jose';
import { RelayError } from '../errors.js';

/** The app's own Graph token could not be read for its roles: none was given, or it is not a JWT. */
export class TokenRolesUnreadableError extends RelayError {
  constructor(message: string) {
    super('ERR_TOKEN_ROLES_UNREADABLE', message);
  }
}

/**
 * The application permissions (`roles`) of a Graph access token the app just received from its own
 * credential: its JWT payload decoded, not verified (Graph verifies it; this only reads what Entra ID put in
 * it). No `roles` claim: no application permission was consented. The token itself is never in an error.
 */
export function rolesOfToken(token: string): string[] {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new TokenRolesUnreadableError('the Graph access token is not a JWT: its roles cannot be read');
  }
  // A person's (delegated) token carries scopes and no application permission: the app never runs with one.
  if (typeof claims.scp === 'string' && claims.idtyp !== 'app') {
    throw new TokenRolesUnreadableError(
      "the credential gave a person's token (delegated scopes, no application roles), not the app's: run check-permissions with the app's own credential (GRAPH_AUTH_MODE=clientsecret or certificate; a managed identity's only in Azure)",
    );
  }
  const roles = claims.roles;
  return Array.isArray(roles) ? roles.filter((r): r is string => typeof r === 'string') : [];
}

/** The roles of the token `credential` gives for `graphBaseUrl` (the same scope as the app's Graph calls: `<origin>/.default`). */
export async function graphTokenRoles(credential: TokenCredential, graphBaseUrl: URL): Promise<string[]> {
  const token = await credential.getToken(`${graphBaseUrl.origin}/.default`);
  if (!token) throw new TokenRolesUnreadableError('the Graph credential gave no token');
  return rolesOfToken(token.token);
}
