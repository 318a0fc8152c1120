import { createLocalJWKSet, decodeJwt, errors, jwtVerify, type JWK } from 'jose';
import { EntraError } from './entra-error.js';

/** The audience of a managed identity's token that Entra exchanges for an app's token (public cloud). */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

/**
 * A federated identity credential of an app registration (`az ad app federated-credential create`): the app
 * trusts tokens of `issuer` about `subject` for one of `audiences` as its client assertion. For a managed identity:
 * the issuer `https://login.microsoftonline.com/<tenant>/v2.0`, the subject its principal (object) id, the audience
 * `api://AzureADTokenExchange`.
 */
export interface FederatedIdentityCredential {
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

/** Entra allows for clocks apart by 5 minutes. */
const CLOCK_SKEW_SECONDS = 300;
const DOCS = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

const noMatch = (code: number, claim: string, value: string) =>
  new EntraError(
    401,
    'invalid_client',
    code,
    `No matching federated identity record found for presented assertion ${claim} '${value}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${DOCS}`,
  );

/**
 * Checks a federated client assertion as Entra does: an issuer one of the app's federated credentials names
 * (AADSTS700211), signed by that issuer's keys (the stand-in's own: it checks the tokens its managed identity
 * endpoint issued) and within its lifetime (AADSTS700024), for an audience (AADSTS700212) and about a subject
 * (AADSTS700213) of a credential with that issuer. Throws the EntraError Entra would answer with.
 */
export async function verifyFederatedAssertion(
  assertion: string,
  expected: { readonly federatedCredentials: readonly FederatedIdentityCredential[]; readonly trustedIssuers: readonly string[]; readonly jwks: { readonly keys: readonly JWK[] } },
): Promise<void> {
  let issuer: string;
  try {
    issuer = decodeJwt(assertion).iss ?? '';
  } catch {
    throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or is malformed.');
  }
  const byIssuer = expected.federatedCredentials.filter((c) => c.issuer === issuer);
  if (byIssuer.length === 0) throw noMatch(700211, 'issuer', issuer);
  if (!expected.trustedIssuers.includes(issuer)) throw new Error(`The Entra stand-in holds no keys of the issuer '${issuer}': it checks assertions its own endpoints issued.`);
  let payload: { aud?: string | string[]; sub?: string };
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [...expected.jwks.keys] }), { issuer, requiredClaims: ['exp', 'aud', 'sub'], clockTolerance: CLOCK_SKEW_SECONDS }));
  } catch (e) {
    if (e instanceof errors.JWTExpired || (e instanceof errors.JWTClaimValidationFailed && e.claim === 'nbf')) {
      throw new EntraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or is malformed.');
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ''];
  const byAudience = byIssuer.filter((c) => c.audiences.some((a) => audiences.includes(a)));
  if (byAudience.length === 0) throw noMatch(700212, 'audience', audiences.join(','));
  const subject = payload.sub ?? '';
  // Entra matches the subject exactly (case-sensitive, since 2025).
  if (!byAudience.some((c) => c.subject === subject)) throw noMatch(700213, 'subject', subject);
}
