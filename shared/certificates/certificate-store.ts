import type { DecryptionKey } from './decrypt-resource-data.js';

/** The certificate that subscriptions are created with. */
export interface EncryptionCertificate {
  /** The `encryptionCertificateId` given to Graph; names the certificate and its version. */
  readonly id: string;
  /** base64 of the DER certificate: Graph's `encryptionCertificate`. */
  readonly certificateBase64: string;
  readonly thumbprint: string;
  readonly notAfter: Date;
}

/**
 * Where the encryption certificates live (Key Vault in Azure, a local folder under `npm start`).
 * Private keys are parsed once per certificate id and kept as KeyObjects.
 */
export interface CertificateStore {
  /** The certificate new subscriptions (and rotations) should use. */
  current(): Promise<EncryptionCertificate>;
  /**
   * The key for a notification's `encryptionCertificateId`, loaded from the store on first use and cached.
   * Resolves undefined when the store has no such certificate (permanent); rejects when the store cannot
   * be reached (transient).
   */
  decryptionKey(certificateId: string): Promise<DecryptionKey | undefined>;
}
