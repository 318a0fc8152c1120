import { decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { GRAPH_CHANGE_TRACKING_APP_ID } from '../protocol/notification.js';
import { KeySetUnreachableError } from './remote-key-set.js';

/**
 * Why a validation token was refused. Stable strings: they appear in security logs and tests.
 */
export type TokenRejection =
  | 'token_malformed'
  | 'token_bad_algorithm'
  | 'token_unknown_key'
  | 'token_bad_signature'
  | 'token_expired'
  | 'token_expired_too_long'
  | 'token_not_yet_valid'
  | 'token_wrong_audience'
  | 'token_wrong_app'
  | 'token_wrong_issuer'
  | 'token_tenant_not_allowed'
  | 'token_keys_unavailable';

/**
 * A token that is Graph's in every respect (signature, audience, issuer, tenant, caller) but expired, lately
 * enough for a Graph retry to carry it: what it says of when it was valid. Its items are refused all the same;
 * the receiver opens a gap over their window.
 */
export interface ExpiredToken {
  readonly tenantId: string;
  /** The earliest of its `iat` and `nbf`, but never before its `exp` less MAX_TOKEN_LIFETIME_MS. */
  readonly validFromMs: number;
  readonly expiresAtMs: number;
}

export type TokenVerdict =
  | { readonly ok: true; readonly tenantId: string; readonly expiresAtMs: number }
  | { readonly ok: false; readonly reason: TokenRejection; readonly retryable: boolean; readonly expired?: ExpiredToken };

/** The longest lifetime Entra gives an access token (a token lifetime policy allows 10 minutes to 1 day). */
export const MAX_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

/**
 * How long Graph retries a notification its endpoint did not accept: "with exponential backoff for up to 4
 * hours" (Microsoft Graph docs, concepts/change-notifications-delivery-webhooks.md). Graph attaches a token
 * only while it is valid, so a genuine resend carries a token that expired at most this long before.
 */
export const GRAPH_RETRY_PERIOD_MS = 4 * 60 * 60 * 1000;

/** Room for Graph's clock and ours to disagree when judging a resend by GRAPH_RETRY_PERIOD_MS. */
export const RESEND_CLOCK_SKEW_MS = 15 * 60 * 1000;

/**
 * How long before it is received a genuine resend's token may have expired. A token expired longer ago is no
 * Graph retry but a replayed request (or a clock far off): it is refused as `token_expired_too_long` and
 * opens no gap, so an old request body cannot make the app read weeks back.
 */
export const RESENT_TOKEN_MAX_EXPIRED_MS = GRAPH_RETRY_PERIOD_MS + RESEND_CLOCK_SKEW_MS;

export interface ValidationTokenVerifierOptions {
  /** Our application (client) id: the token's `aud`. */
  readonly appId: string;
  /** Tenants we accept; lower-case GUIDs. */
  readonly tenantIds: { has(tenantId: string): boolean };
  /** Resolves the signing key: a remote JWKS in production, a local one in tests. */
  readonly getKey: JWTVerifyGetKey;
  /** Clock skew tolerated on exp/nbf, in seconds. */
  readonly clockToleranceSeconds?: number;
  readonly now?: () => number;
  /** How many verified tokens to remember. */
  readonly cacheSize?: number;
}

const V1_ISSUER = /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/$/i;
const V2_ISSUER = /^https:\/\/login\.microsoftonline\.com\/([0-9a-f-]{36})\/v2\.0$/i;

/** The token's tenant and version, from its issuer: `sts.windows.net` issues v1 tokens, `login.microsoftonline.com/…/v2.0` v2. */
function issuerOf(iss: unknown): { tenantId: string; version: 'v1' | 'v2' } | undefined {
  if (typeof iss !== 'string') return undefined;
  const v1 = V1_ISSUER.exec(iss)?.[1];
  if (v1) return { tenantId: v1.toLowerCase(), version: 'v1' };
  const v2 = V2_ISSUER.exec(iss)?.[1];
  return v2 ? { tenantId: v2.toLowerCase(), version: 'v2' } : undefined;
}

/**
 * When a verified token became valid: the earliest of its `iat` and `nbf`, else its `exp` less the longest
 * lifetime. Never earlier than that either: Entra issues no token that lives longer, so an older stamp would
 * only widen the gap past anything a Graph retry could need.
 */
function validFromOf(payload: JWTPayload, expiresAtMs: number): number {
  const stamps = [payload.iat, payload.nbf].filter((t): t is number => typeof t === 'number').map((t) => t * 1000);
  const longest = expiresAtMs - MAX_TOKEN_LIFETIME_MS;
  return stamps.length > 0 ? Math.max(longest, Math.min(expiresAtMs, ...stamps)) : longest;
}

/** The calling app's claim in each token version: v1 tokens carry `appid` (no `azp`), v2 tokens `azp` (no `appid`). */
const CALLER_CLAIM = { v1: 'appid', v2: 'azp' } as const;

type Rejection = { readonly reason: TokenRejection; readonly retryable: boolean };
const refused = (reason: TokenRejection): Rejection => ({ reason, retryable: false });
const retryLater = (reason: TokenRejection): Rejection => ({ reason, retryable: true });

/**
 * What each of jose's error codes means for a validation token. Codes not listed here (JWE's, for one) cannot
 * come from verifying a JWS and are unexpected.
 */
const JOSE_REJECTIONS: Readonly<Record<string, Rejection>> = {
  ERR_JWT_EXPIRED: refused('token_expired'),
  ERR_JOSE_ALG_NOT_ALLOWED: refused('token_bad_algorithm'),
  ERR_JOSE_NOT_SUPPORTED: refused('token_bad_algorithm'),
  // Not in the key set even after the refresh the getKey allows (jose's createRemoteJWKSet refetches on an
  // unknown kid at most once per cooldown): perhaps a key published since. Retryable: a 503 makes Graph
  // try again, when the set may be refreshed; a forger's random kid earns a 503, never a fetch per request.
  ERR_JWKS_NO_MATCHING_KEY: retryLater('token_unknown_key'),
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: refused('token_bad_signature'), // no kid, and none of the candidate keys verified it
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: refused('token_bad_signature'),
  ERR_JWS_INVALID: refused('token_malformed'),
  ERR_JWT_INVALID: refused('token_malformed'),
  ERR_JWK_INVALID: refused('token_malformed'),
  // The keys could not be fetched: a timeout, an answer other than 200 or not JSON (jose's generic error,
  // thrown only by the remote key set), a document that is no key set. Not the sender's fault.
  ERR_JWKS_TIMEOUT: retryLater('token_keys_unavailable'),
  ERR_JOSE_GENERIC: retryLater('token_keys_unavailable'),
  ERR_JWKS_INVALID: retryLater('token_keys_unavailable'),
};

/**
 * The rejection for a failure of jwtVerify; any other error (a bug, a getKey that fails in a way not listed)
 * is rethrown, never taken for unavailable keys.
 */
export function tokenRejectionFor(e: unknown): Rejection {
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'nbf' || e.claim === 'iat') return refused('token_not_yet_valid');
    if (e.claim === 'aud') return refused('token_wrong_audience');
    return refused('token_malformed');
  }
  const known = e instanceof errors.JOSEError ? JOSE_REJECTIONS[e.code] : undefined;
  if (known) return known;
  // The key set's endpoint gave no answer (see remoteKeySet).
  if (e instanceof KeySetUnreachableError) return retryLater('token_keys_unavailable');
  throw e;
}

/**
 * Verifies the `validationTokens` Graph sends with resource data: RS256 signature by a published key,
 * lifetime, `aud` = our app, the caller = Microsoft Graph Change Tracking in the claim of the token's version
 * (v1 `appid`, v2 `azp`; the other claim is never looked at), a v1 or v2 issuer of the
 * token's tenant, and that tenant in the allow-list. Each distinct token is verified once; successes are
 * remembered until the token expires. A token expired but right in every other respect is refused as
 * `token_expired` with what it says of its validity (`expired`), or as `token_expired_too_long` without it when
 * it expired longer ago than a Graph retry allows; one wrong in any other way never has either.
 */
export class ValidationTokenVerifier {
  readonly #options: Required<Omit<ValidationTokenVerifierOptions, 'now'>> & { now: () => number };
  readonly #verified = new Map<string, { tenantId: string; expiresAtMs: number }>();

  constructor(options: ValidationTokenVerifierOptions) {
    this.#options = {
      clockToleranceSeconds: 60,
      cacheSize: 1000,
      now: Date.now,
      ...options,
      appId: options.appId.toLowerCase(),
    };
  }

  /** Verifies every distinct token of a batch once, concurrently. */
  async verifyAll(tokens: readonly string[]): Promise<Map<string, TokenVerdict>> {
    const distinct = [...new Set(tokens)];
    const verdicts = await Promise.all(distinct.map((t) => this.verify(t)));
    return new Map(distinct.map((t, i) => [t, verdicts[i] as TokenVerdict]));
  }

  async verify(token: string): Promise<TokenVerdict> {
    const now = this.#options.now();
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAtMs + this.#options.clockToleranceSeconds * 1000 > now) {
        return { ok: true, ...cached };
      }
      this.#verified.delete(token);
    }

    let payload: JWTPayload;
    try {
      // Everything but the expiry is verified as at a moment the token was still valid (now, or the last
      // millisecond before its exp), so that an expired token is told apart from a forged one; its expiry is
      // checked below, once it is known to be Graph's.
      const exp = decodeJwt(token).exp;
      const at = typeof exp === 'number' ? Math.min(now, exp * 1000 - 1) : now;
      ({ payload } = await jwtVerify(token, this.#options.getKey, {
        algorithms: ['RS256'],
        audience: this.#options.appId,
        clockTolerance: this.#options.clockToleranceSeconds,
        currentDate: new Date(at),
        requiredClaims: ['exp', 'iss'],
      }));
    } catch (e) {
      return { ok: false, ...tokenRejectionFor(e) };
    }

    const issuer = issuerOf(payload.iss);
    const tid = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : undefined;
    if (!issuer || (tid !== undefined && tid !== issuer.tenantId)) {
      return { ok: false, reason: 'token_wrong_issuer', retryable: false };
    }
    const caller = payload[CALLER_CLAIM[issuer.version]];
    if (typeof caller !== 'string' || caller.toLowerCase() !== GRAPH_CHANGE_TRACKING_APP_ID) return { ok: false, reason: 'token_wrong_app', retryable: false };
    const { tenantId } = issuer;
    if (!this.#options.tenantIds.has(tenantId)) return { ok: false, reason: 'token_tenant_not_allowed', retryable: false };

    const expiresAtMs = (payload.exp as number) * 1000;
    if (expiresAtMs + this.#options.clockToleranceSeconds * 1000 <= now) {
      if (expiresAtMs + RESENT_TOKEN_MAX_EXPIRED_MS <= now) return { ok: false, reason: 'token_expired_too_long', retryable: false };
      return { ok: false, reason: 'token_expired', retryable: false, expired: { tenantId, validFromMs: validFromOf(payload, expiresAtMs), expiresAtMs } };
    }
    this.#remember(token, { tenantId, expiresAtMs });
    return { ok: true, tenantId, expiresAtMs };
  }

  #remember(token: string, entry: { tenantId: string; expiresAtMs: number }): void {
    if (this.#verified.size >= this.#options.cacheSize) {
      const oldest = this.#verified.keys().next();
      if (!oldest.done) this.#verified.delete(oldest.value);
    }
    this.#verified.set(token, entry);
  }
}
