import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { GraphError } from './graph-error.js';

/** Graph's resource as a token's audience names it: the URI, or Graph's application id (v1 tokens of some clients). */
const GRAPH_AUDIENCES = ['https://graph.microsoft.com', 'https://graph.microsoft.com/', '00000003-0000-0000-c000-000000000000'];

/** What a verified app token says of its caller. */
export interface VerifiedToken {
  readonly appId: string;
  readonly tenantId: string;
  /** The application permissions the token carries (`roles`): what an admin consented to for the app. */
  readonly roles: readonly string[];
  readonly userId?: string;
  readonly expiresAtMs: number;
}

const invalid = (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message);

/**
 * Checks bearer tokens as Graph does when the simulator is given an issuer's keys (`verifyTokens`): an RS256
 * signature by a published key, audience Graph, not expired (5 minutes' leeway), a tenant. Each refusal is
 * Graph's 401 `InvalidAuthenticationToken` with its message. The unsigned tokens of `npm start` are refused.
 */
export class TokenVerifier {
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;
  readonly #issuer: string | undefined;

  readonly #audiences: readonly string[];

  /**
   * `audiences`: identifiers of this Graph beside Microsoft Graph's own, as a national cloud's Graph takes tokens
   * for its own URL (the app asks for `<GRAPH_BASE_URL origin>/.default`; locally that is the simulator's).
   */
  constructor(options: { readonly jwksUrl: string; readonly issuer?: string; readonly audiences?: readonly string[] }) {
    this.#keys = createRemoteJWKSet(new URL(options.jwksUrl));
    this.#issuer = options.issuer;
    this.#audiences = [...GRAPH_AUDIENCES, ...(options.audiences ?? [])];
  }

  async verify(token: string): Promise<VerifiedToken> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.#keys, {
        algorithms: ['RS256'],
        audience: [...this.#audiences],
        clockTolerance: 300,
        ...(this.#issuer ? { issuer: this.#issuer } : {}),
      }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) throw invalid('Lifetime validation failed, the token is expired.');
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') throw invalid('Access token validation failure. Invalid audience.');
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'iss') throw invalid('Access token validation failure. Invalid issuer.');
      if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey) throw invalid('Invalid signature.');
      throw invalid('Access token validation failure.');
    }
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const appId = str(payload.appid) ?? str(payload.azp);
    const tenantId = str(payload.tid);
    if (!appId || !tenantId) throw invalid('Access token validation failure: the token names no app or tenant.');
    // Without a configured issuer, the token's issuer must still be its own tenant's (v1 or v2), as Entra issues them.
    if (!this.#issuer && payload.iss !== `https://sts.windows.net/${tenantId}/` && payload.iss !== `https://login.microsoftonline.com/${tenantId}/v2.0`) {
      throw invalid('Access token validation failure. Invalid issuer.');
    }
    if (payload.roles === undefined && payload.scp === undefined) throw invalid('Either scp or roles claim need to be present in the token.');
    const userId = payload.scp ? str(payload.oid) : undefined;
    return {
      appId,
      tenantId,
      roles: Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [],
      ...(userId ? { userId } : {}),
      expiresAtMs: typeof payload.exp === 'number' ? payload.exp * 1000 : Date.now(),
    };
  }
}
