import { createRemoteJWKSet, errors, jwtVerify } from 'jose';

/** The Entra side of an Application Insights resource: who may publish to it, and whether its key alone still may. */
export interface IngestionEntra {
  /** Where the keys that sign the tokens are published (the managed identity stand-in's JWKS). */
  readonly jwksUrl: string;
  /** The tokens' issuer, when it must be checked (`https://sts.windows.net/<tenant>/`). */
  readonly issuer?: string;
  /** Object (principal) ids holding "Monitoring Metrics Publisher" on the resource. */
  readonly publishers: readonly string[];
  /**
   * `DisableLocalAuth` of the resource: true (the default, as infra/ deploys it) refuses a post carrying only
   * the connection string's instrumentation key with 401; false takes it, and still checks any token presented.
   */
  readonly disableLocalAuth?: boolean;
}

/** What the resource makes of a request's credentials: a publisher's principal id, or a refusal with its status. */
export type IngestionCaller = { readonly principalId?: string } | { readonly status: 401 | 403; readonly message: string };

/** Azure Monitor's resource as a token's audience names it (the scope asked is `https://monitor.azure.com/.default`). */
const MONITOR_AUDIENCES = ['https://monitor.azure.com', 'https://monitor.azure.com/'];

const unauthorized = (why: string) => ({ status: 401 as const, message: `Unauthorized: ${why}` });

/**
 * Checks an ingestion request's `Authorization` as Application Insights does for a resource with Entra
 * authentication: a bearer token RS256-signed by a published key, for Azure Monitor, not expired (5 minutes'
 * leeway), from the issuer when one is set (401 otherwise), whose `oid` holds Monitoring Metrics Publisher on the
 * resource (403 otherwise). No token: 401 when local authentication is disabled, else the key alone is taken.
 * Without `entra` every request is taken, as by a resource that knows nothing of Entra.
 */
export function ingestionAuthorizer(entra: IngestionEntra | undefined): (authorization: string | undefined) => Promise<IngestionCaller> {
  if (!entra) return () => Promise.resolve({});
  const keys = createRemoteJWKSet(new URL(entra.jwksUrl));
  const publishers = new Set(entra.publishers.map((p) => p.toLowerCase()));
  return async (authorization) => {
    if (!authorization) {
      return entra.disableLocalAuth === false ? {} : unauthorized('Authorization required. This resource accepts only Microsoft Entra authenticated telemetry (local authentication is disabled).');
    }
    const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (!token) return unauthorized('the Authorization header must carry a Bearer token.');
    let oid: unknown;
    try {
      ({
        payload: { oid },
      } = await jwtVerify(token, keys, { algorithms: ['RS256'], audience: MONITOR_AUDIENCES, clockTolerance: 300, ...(entra.issuer ? { issuer: entra.issuer } : {}) }));
    } catch (e) {
      if (e instanceof errors.JWTExpired) return unauthorized('the token is expired.');
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'aud') return unauthorized(`the token's audience is not ${MONITOR_AUDIENCES[0]}.`);
      if (e instanceof errors.JWTClaimValidationFailed && e.claim === 'iss') return unauthorized("the token's issuer is not trusted.");
      return unauthorized('the token could not be validated (signature).');
    }
    if (typeof oid !== 'string' || !oid) return unauthorized('the token names no principal (oid).');
    if (!publishers.has(oid.toLowerCase())) {
      return {
        status: 403,
        message: `Forbidden: the identity ${oid} does not have the Monitoring Metrics Publisher role on this Application Insights resource, which publishing telemetry requires.`,
      };
    }
    return { principalId: oid };
  };
}
