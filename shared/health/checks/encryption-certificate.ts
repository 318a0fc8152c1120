import type { CertificateStore } from '../../certificates/certificate-store.js';
import { expiryResult, type SelfCheck } from '../self-check.js';

const FIX =
  "Create a new version of the encryption certificate (Key Vault: `az keyvault certificate create` with the same name and policy, or let the policy's auto-renewal act; locally: delete LOCAL_CERTIFICATE_DIR's files and restart). The reconciler moves every subscription to the new version on its next run, and notifications encrypted with the old one still decrypt while it is kept.";

/** The certificate new subscriptions are encrypted to: Graph refuses to create or renew with an expired one. */
export function encryptionCertificateCheck(certificates: Pick<CertificateStore, 'current'>): SelfCheck {
  return {
    name: 'encryption_certificate',
    run: async (now) => {
      const c = await certificates.current();
      return expiryResult(`the encryption certificate ${c.id}`, 'encryption_certificate', c.notAfter, now, FIX);
    },
  };
}
