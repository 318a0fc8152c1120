import { randomBytes } from 'node:crypto';
import type { CertificateClient, CertificatePolicy } from '@azure/keyvault-certificates';
import type { SecretClient } from '@azure/keyvault-secrets';

/** The vault's names the template's settings reference (infra/main.bicep). */
export const CLIENT_STATE_SECRET = 'graph-client-state';

/** What a preparation step found and did: `created` (it was absent) or `kept` (it was there; left as it is). */
export interface PreparedItem {
  readonly name: string;
  readonly outcome: 'created' | 'kept';
  /** A problem with what was kept, and what to do. */
  readonly warning?: string;
}

/** How long to keep trying while the vault answers 403: role assignments take minutes to apply after provisioning. */
export interface ForbiddenRetry {
  readonly forMs: number;
  readonly everyMs: number;
  /** Told of each 403 before the wait. */
  readonly onForbidden?: (what: string, waitedMs: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** Runs `step` again while it fails with 403 and the time allows; any other failure, or the last 403, is thrown. */
export async function retryWhileForbidden<T>(what: string, retry: ForbiddenRetry, step: () => Promise<T>): Promise<T> {
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const started = Date.now();
  for (;;) {
    try {
      return await step();
    } catch (e) {
      const waited = Date.now() - started;
      if (statusOf(e) !== 403 || waited + retry.everyMs > retry.forMs) throw e;
      retry.onForbidden?.(what, waited);
      await sleep(retry.everyMs);
    }
  }
}

/**
 * The clientState secret, created only when the vault has none: the vault is where it lives once created, so a
 * second operator's environment, or a new deployment, never replaces it (which would make Graph's notifications
 * for every existing subscription fail their clientState check). Rotation is deliberate (docs/subscriptions.md).
 */
export async function ensureClientState(secrets: SecretClient, retry: ForbiddenRetry): Promise<PreparedItem> {
  return retryWhileForbidden(`secret ${CLIENT_STATE_SECRET}`, retry, async () => {
    try {
      await secrets.getSecret(CLIENT_STATE_SECRET);
      return { name: CLIENT_STATE_SECRET, outcome: 'kept' };
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    await secrets.setSecret(CLIENT_STATE_SECRET, randomBytes(32).toString('hex'), { contentType: 'text/plain' });
    return { name: CLIENT_STATE_SECRET, outcome: 'created' };
  });
}

/** The encryption certificate's policy (docs/deploy.md): RSA 2048, self-signed, PEM (the app reads no PKCS#12), renewed 30 days ahead. */
export const ENCRYPTION_CERTIFICATE_POLICY: CertificatePolicy = {
  issuerName: 'Self',
  subject: 'CN=teams-change-relay',
  keyType: 'RSA',
  keySize: 2048,
  exportable: true,
  reuseKey: false,
  contentType: 'application/x-pem-file',
  validityInMonths: 12,
  lifetimeActions: [{ daysBeforeExpiry: 30, action: 'AutoRenew' }],
};

/** The encryption certificate, created with that policy only when the vault has none by this name. */
export async function ensureEncryptionCertificate(certificates: CertificateClient, name: string, retry: ForbiddenRetry): Promise<PreparedItem> {
  return retryWhileForbidden(`certificate ${name}`, retry, async () => {
    try {
      const existing = await certificates.getCertificate(name);
      const contentType = existing.policy?.contentType;
      return contentType && contentType !== 'application/x-pem-file'
        ? { name, outcome: 'kept', warning: `its content type is ${contentType}: the app reads PEM only (ERR_CERTIFICATE_FORMAT); create a new version with a PEM policy (docs/deploy.md step 5)` }
        : { name, outcome: 'kept' };
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    const poller = await certificates.beginCreateCertificate(name, ENCRYPTION_CERTIFICATE_POLICY, { intervalInMs: 2000 });
    await poller.pollUntilDone();
    return { name, outcome: 'created' };
  });
}
