import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { GraphSettings } from '../../config/settings.js';
import { isGraphRequestError } from '../../graph/graph-client.js';
import { expiryResult, fail, skipped, warn, type SelfCheck, type SelfCheckResult } from '../self-check.js';

/** A password or key credential of an application, as Graph lists it (never the secret itself). */
interface AppCredential {
  readonly displayName?: string | null;
  readonly hint?: string | null;
  readonly customKeyIdentifier?: string | null;
  readonly endDateTime?: string | null;
}

interface Application {
  readonly passwordCredentials?: readonly AppCredential[];
  readonly keyCredentials?: readonly AppCredential[];
}

export interface GraphCredentialSources {
  readonly auth: GraphSettings['graphAuth'];
  readonly appId: string;
  /** GETs a Graph path (the app's own Graph client). */
  get<T>(path: string): Promise<T>;
}

const SECRET_FIX =
  'Add a new client secret to the app registration (Entra admin center → App registrations → Certificates & secrets), store it in the vault as the graph-client-secret secret (docs/deploy.md, "Rotating the Graph client secret"), restart the app, then delete the old secret.';
const CERTIFICATE_FIX =
  'Upload a new certificate to the app registration, point GRAPH_CLIENT_CERTIFICATE_PATH at it (with its private key) and restart; then remove the old one from the registration.';
const READ_FIX =
  "Grant the app Application.Read.All (admin consent) so the relay can read its own registration's credential expiry, or watch the secret's end date in the Entra admin center yourself.";

/** Entra's own answers when a secret or certificate credential has expired (AADSTS7000222, AADSTS700027). */
const EXPIRED_CREDENTIAL = /AADSTS7000222|AADSTS700027|client secret keys .* are expired/i;

/**
 * When the Graph credential stops working: a client secret's end date (read from the app's own registration,
 * `GET /applications(appId='…')`, matched by the secret's hint, its first three characters), a certificate's
 * notAfter (read from its file). A managed identity, or a federated credential trusting one, has no secret to expire. A refused token whose error is
 * Entra's "expired" fails at once.
 */
export function graphCredentialCheck(s: GraphCredentialSources): SelfCheck {
  return {
    name: 'graph_credential',
    run: async (now) => {
      const auth = s.auth;
      if (auth.mode === 'managedidentity' || auth.mode === 'default') return skipped(`GRAPH_AUTH_MODE=${auth.mode}: a managed identity's token, no secret to expire`);
      if (auth.mode === 'federated') return skipped("GRAPH_AUTH_MODE=federated: the app's federated credential trusts the managed identity, no secret to expire");
      if (auth.mode === 'certificate') {
        const certificate = new X509Certificate(readFileSync(auth.certificatePath));
        return expiryResult('the Graph client certificate', 'graph_client_certificate', new Date(certificate.validTo), now, CERTIFICATE_FIX);
      }
      let app: Application;
      try {
        app = await s.get<Application>(`/v1.0/applications(appId='${encodeURIComponent(s.appId)}')?$select=passwordCredentials,keyCredentials`);
      } catch (e) {
        const message = (e as Error).message;
        if (EXPIRED_CREDENTIAL.test(message)) return fail('Entra ID refuses the Graph client secret: it has expired', SECRET_FIX);
        if (isGraphRequestError(e) && e.status === 403) return skipped(`the app may not read its own registration (403), so the secret's end date is unknown. ${READ_FIX}`);
        throw e;
      }
      return secretExpiry(app.passwordCredentials ?? [], auth.mode === 'clientsecret' ? auth.secret : undefined, now);
    },
  };
}

/** The secret in use (by its hint), else, when it cannot be told apart, the one that ends first. */
function secretExpiry(credentials: readonly AppCredential[], secret: string | undefined, now: Date): SelfCheckResult {
  const dated = credentials.filter((c) => c.endDateTime && Number.isFinite(Date.parse(c.endDateTime)));
  if (dated.length === 0) return warn('the app registration lists no client secret with an end date', SECRET_FIX);
  const hint = secret?.slice(0, 3);
  const mine = hint ? dated.filter((c) => c.hint === hint) : [];
  const candidates = mine.length > 0 ? mine : dated;
  const first = candidates.reduce((a, b) => (Date.parse(b.endDateTime ?? '') < Date.parse(a.endDateTime ?? '') ? b : a));
  const which = mine.length > 0 ? 'the Graph client secret' : `the app's first-ending client secret${first.displayName ? ` (${first.displayName})` : ''}`;
  return expiryResult(which, 'graph_client_secret', new Date(first.endDateTime ?? ''), now, SECRET_FIX);
}
