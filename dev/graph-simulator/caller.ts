import { GraphError } from './graph-error.js';
import type { Caller } from './subscriptions.js';

/**
 * Who calls Graph, from the request's bearer token: its app, tenant and (for a delegated token) user, and how
 * long the token is still valid. The simulator checks no signature; a token that names no app or tenant is
 * the simulator's own app in its own tenant (`defaults`). No token: 401, as Graph answers.
 */
export function callerOf(defaults: { readonly appId: string; readonly tenantId: string }, authorization: string | undefined): Caller {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  let claims: Record<string, unknown> = {};
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure: the token is not a JWT.');
    }
  }
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const userId = claims.scp ? str(claims.oid) : undefined;
  // The token's remaining life (real time, as Entra issued it) decides how long a subscription stays authorized.
  const tokenLifetimeMs = typeof claims.exp === 'number' ? Math.max(0, claims.exp * 1000 - Date.now()) : undefined;
  return {
    appId: str(claims.appid) ?? str(claims.azp) ?? defaults.appId,
    tenantId: str(claims.tid) ?? defaults.tenantId,
    ...(userId ? { userId } : {}),
    ...(tokenLifetimeMs !== undefined ? { tokenLifetimeMs } : {}),
  };
}
