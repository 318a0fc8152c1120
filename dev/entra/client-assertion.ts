import { createHash, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { EntraError } from './entra-error.js';

/** `client_assertion_type` of a certificate credential (RFC 7523). */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra allows for clocks apart by 5 minutes (MSAL rounds `nbf` to the nearest second: it can be ahead of ours). */
const CLOCK_SKEW_SECONDS = 300;

const invalidSignature = (reason: string, clientId: string) =>
  new EntraError(
    401,
    'invalid_client',
    700027,
    `Client assertion failed signature validation. [Reason - ${reason}, Please visit the Azure Portal to see the keys configured for app Id '${clientId}'.]`,
  );

/**
 * Checks a certificate credential's client assertion as Entra does: the header names the registered certificate
 * by thumbprint (`x5t`: SHA-1, or `x5t#S256`: SHA-256, base64url), its key signed it (RS256 or PS256), it is
 * for this token endpoint (`aud`), issued by and about the client (`iss` = `sub` = client id) and not expired.
 * Throws the EntraError Entra would answer with.
 */
export async function verifyClientAssertion(assertion: string, expected: { readonly clientId: string; readonly certificatePem: string | undefined; readonly tokenEndpoint: string }): Promise<void> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(assertion);
  } catch {
    throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or is malformed.');
  }
  const registered = expected.certificatePem ? new X509Certificate(expected.certificatePem) : undefined;
  const sha1 = registered && createHash('sha1').update(registered.raw).digest('base64url');
  const sha256 = registered && createHash('sha256').update(registered.raw).digest('base64url');
  const presented = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : header.x5t;
  if (!registered || (presented !== sha1 && presented !== sha256)) {
    throw invalidSignature(`The key was not found., Thumbprint of key used by client: '${presented ?? ''}'`, expected.clientId);
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, registered.publicKey, { algorithms: ['RS256', 'PS256'], requiredClaims: ['exp', 'aud', 'iss', 'sub'], clockTolerance: CLOCK_SKEW_SECONDS }));
  } catch (e) {
    if (e instanceof errors.JWTExpired || (e instanceof errors.JWTClaimValidationFailed && e.claim === 'nbf')) {
      throw new EntraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
    }
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JOSEAlgNotAllowed)
      throw invalidSignature('The provided signature value did not match the expected signature value.', expected.clientId);
    throw new EntraError(400, 'invalid_request', 50027, 'JWT token is invalid or is malformed.');
  }
  if (payload.aud !== expected.tokenEndpoint && !(Array.isArray(payload.aud) && payload.aud.includes(expected.tokenEndpoint))) {
    throw new EntraError(
      401,
      'invalid_client',
      700023,
      `Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials.`,
    );
  }
  if (payload.iss !== expected.clientId || payload.sub !== expected.clientId) {
    throw new EntraError(401, 'invalid_client', 700021, "Client assertion application identifier doesn't match 'client_id' parameter.");
  }
}
