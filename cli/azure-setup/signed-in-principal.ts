import { decodeJwt, type JWTPayload } from 'jose';
import { RelayError } from '../../shared/errors.js';

/** Who a token of the signed-in tool names: what the template's deployerPrincipalId and deployerPrincipalType want. */
export interface SignedInPrincipal {
  /** The principal's object id in its tenant (the token's `oid`). */
  readonly objectId: string;
  /** A person (a delegated token, with `scp`) or a service principal (an app-only token: a pipeline, a managed identity). */
  readonly type: 'User' | 'ServicePrincipal';
  readonly tenantId: string | undefined;
  /** The account name a person signed in with, when the token carries one. */
  readonly name: string | undefined;
}

/** A token that does not say who holds it. */
export class UnknownPrincipalError extends RelayError {
  constructor(message: string) {
    super('ERR_UNKNOWN_PRINCIPAL', message);
  }
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Reads who holds an access token the caller just received for itself. Nothing is verified: this names the
 * caller's own identity (as `az ad signed-in-user show` would for a person, and also for a service principal,
 * which that command refuses); it authorizes nothing.
 */
export function signedInPrincipal(accessToken: string): SignedInPrincipal {
  let claims: JWTPayload;
  try {
    claims = decodeJwt(accessToken);
  } catch (e) {
    throw new UnknownPrincipalError(`The access token could not be read (${(e as Error).message}).`);
  }
  const objectId = text(claims.oid);
  if (!objectId) throw new UnknownPrincipalError('The access token names no object id (oid).');
  // Delegated tokens carry scopes; an application's (a service principal's, a managed identity's) carry none.
  const type = text(claims.scp) && text(claims.idtyp) !== 'app' ? 'User' : 'ServicePrincipal';
  return { objectId, type, tenantId: text(claims.tid), name: text(claims.upn) ?? text(claims.unique_name) ?? text(claims.preferred_username) };
}
