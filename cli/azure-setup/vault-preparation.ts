import { randomBytes } from 'node:crypto';
import type { CertificateClient, CertificatePolicy } from '@azure/keyvault-certificates';
import type { SecretClient } from '@azure/keyvault-secrets';
import { RelayError } from '../../shared/errors.js';

/** The vault's names the template's settings reference (infra/main.bicep). */
export const CLIENT_STATE_SECRET = 'graph-client-state';

/** What a preparation step found and did: `created` (it was absent) or `kept` (it was there; left as it is). */
export interface PreparedItem {
  readonly name: string;
  readonly outcome: 'created' | 'kept';
  /** A problem with what was kept, and what to do. */
  readonly warning?: string;
}

/**
 * How long to keep trying while the vault answers 403 for want of a role: role assignments take minutes to apply
 * after provisioning. One deadline for every step of a run.
 */
export interface ForbiddenRetry {
  /** When to stop trying (epoch ms). */
  readonly untilMs: number;
  readonly everyMs: number;
  /** Told of each 403 before the wait. */
  readonly onForbidden?: (what: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The vault refused a step for a reason waiting does not cure. */
export class VaultPreparationError extends RelayError {
  constructor(message: string) {
    super('ERR_VAULT_PREPARATION', message);
  }
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;

/** Key Vault's inner error code (`innererror.code`, `ForbiddenByRbac`, `ForbiddenByFirewall`, …), from the answer's body. */
export function innerErrorCode(e: unknown): string | undefined {
  const body = (e as { response?: { bodyAsText?: string | null } }).response?.bodyAsText;
  try {
    const error = (JSON.parse(body ?? '') as { error?: Record<string, unknown> }).error ?? {};
    const inner = (error.innererror ?? error.innerError) as { code?: unknown } | undefined;
    return typeof inner?.code === 'string' ? inner.code : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `step` again while it fails with 403 for a role not yet applied, until the deadline; any other failure, or
 * the last 403, is thrown. A 403 from the vault's firewall is thrown at once: waiting does not open it.
 */
export async function retryWhileForbidden<T>(what: string, retry: ForbiddenRetry, step: () => Promise<T>): Promise<T> {
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (;;) {
    try {
      return await step();
    } catch (e) {
      if (statusOf(e) === 403 && innerErrorCode(e) === 'ForbiddenByFirewall') {
        throw new VaultPreparationError(`${what}: the vault's firewall refuses this address (ForbiddenByFirewall): run this from an address the vault allows.`);
      }
      if (statusOf(e) === 409 && /ObjectIsDeletedButRecoverable/i.test(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`)) {
        throw new VaultPreparationError(
          `${what}: a deleted one of that name is kept by soft delete (ObjectIsDeletedButRecoverable): recover it (az keyvault secret recover / az keyvault certificate recover), then run this again.`,
        );
      }
      if (statusOf(e) !== 403 || Date.now() + retry.everyMs > retry.untilMs) throw e;
      retry.onForbidden?.(what);
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
