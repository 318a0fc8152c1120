import { GraphError } from './graph-error.js';
import type { Caller } from './subscriptions.js';
import type { TokenVerifier } from './token-verifier.js';

/**
 * Who calls Graph, from the request's bearer token: its app, tenant and (for a delegated token) user, and how
 * long the token is still valid. With a `verifier` (the simulator's `verifyTokens`), the token must be signed
 * for Graph as Entra signs it, and its `roles` are the app's permissions. Without one (`npm start`), no
 * signature is checked and a token that names no app or tenant is the simulator's own app in its own tenant
 * (`defaults`). No token: 401, as Graph answers.
 */
export async function callerOf(defaults: { readonly appId: string; readonly tenantId: string; readonly verifier?: TokenVerifier | undefined }, authorization: string | undefined): Promise<Caller> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  if (defaults.verifier) {
    const verified = await defaults.verifier.verify(token);
    return {
      appId: verified.appId,
      tenantId: verified.tenantId,
      roles: verified.roles,
      ...(verified.userId ? { userId: verified.userId } : {}),
      tokenLifetimeMs: Math.max(0, verified.expiresAtMs - Date.now()),
    };
  }
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
