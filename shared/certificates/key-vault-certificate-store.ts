import type { TokenCredential } from '@azure/identity';
import { CertificateClient, type CertificateClientOptions } from '@azure/keyvault-certificates';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { X509Certificate } from 'node:crypto';
import type { CertificateStore, EncryptionCertificate } from './certificate-store.js';
import type { DecryptionKey } from './decrypt-resource-data.js';
import { CertificateFormatError, CertificateUnavailableError, restStatus } from '../errors.js';
import { parsePemBundle, thumbprintOf } from './pem.js';

export interface KeyVaultCertificateStoreOptions {
  readonly vaultUrl: string;
  /** The Key Vault certificate that encrypts notifications (all its versions). */
  readonly certificateName: string;
  readonly credential: TokenCredential;
  /** Passed to both SDK clients (retry, TLS, challenge options). */
  readonly clientOptions?: CertificateClientOptions & SecretClientOptions;
  /** How long the current version is remembered before Key Vault is asked again. */
  readonly currentTtlMs?: number;
  readonly now?: () => number;
}

const isNotFound = (e: unknown) => restStatus(e) === 404;
const PEM = 'application/x-pem-file';

/** Key Vault's default content type is PKCS#12; the app reads PEM only (no PKCS#12 parser in production). */
function refuseUnlessPem(contentType: string | undefined, what: string): void {
  if ((contentType ?? PEM).toLowerCase() === PEM) return;
  throw new CertificateFormatError(
    `${what} has content type ${contentType}; the app reads ${PEM} only. Create the certificate with ` + `secretProperties.contentType ${PEM} (docs/deploy.md) and let the subscriptions move to it.`,
  );
}

/**
 * Certificates in Azure Key Vault. The `encryptionCertificateId` given to Graph is `<name>/<version>`, so a
 * notification names the exact version that encrypted it: any version still in the vault decrypts, before
 * and after a rotation. The public part comes from the certificate, the private key from the secret of the
 * same name and version (PEM; a PKCS#12 version is refused with CertificateFormatError), parsed once per
 * version.
 */
export class KeyVaultCertificateStore implements CertificateStore {
  readonly #options: KeyVaultCertificateStoreOptions;
  readonly #certificates: CertificateClient;
  readonly #secrets: SecretClient;
  readonly #keys = new Map<string, Promise<DecryptionKey | undefined>>();
  #current: { value: EncryptionCertificate; at: number } | undefined;

  constructor(options: KeyVaultCertificateStoreOptions) {
    this.#options = options;
    this.#certificates = new CertificateClient(options.vaultUrl, options.credential, options.clientOptions);
    this.#secrets = new SecretClient(options.vaultUrl, options.credential, options.clientOptions);
  }

  async current(): Promise<EncryptionCertificate> {
    const now = (this.#options.now ?? Date.now)();
    if (this.#current && now - this.#current.at < (this.#options.currentTtlMs ?? 5 * 60_000)) return this.#current.value;
    const certificate = await this.#certificates.getCertificate(this.#options.certificateName);
    const version = certificate.properties.version;
    refuseUnlessPem(certificate.policy?.contentType, `Key Vault certificate ${this.#options.certificateName}`);
    if (!certificate.cer || !version) throw new CertificateUnavailableError(`Key Vault certificate ${this.#options.certificateName} has no enabled version with a certificate.`);
    const der = Buffer.from(certificate.cer);
    const parsed = new X509Certificate(der);
    const value: EncryptionCertificate = {
      id: `${this.#options.certificateName}/${version}`,
      certificateBase64: der.toString('base64'),
      thumbprint: thumbprintOf(parsed),
      notAfter: new Date(parsed.validTo),
    };
    this.#current = { value, at: now };
    return value;
  }

  decryptionKey(certificateId: string): Promise<DecryptionKey | undefined> {
    let entry = this.#keys.get(certificateId);
    if (!entry) {
      entry = this.#load(certificateId);
      this.#keys.set(certificateId, entry);
      // A failure to reach the vault is not remembered: the next notification asks again.
      entry.catch(() => this.#keys.delete(certificateId));
    }
    return entry;
  }

  async #load(certificateId: string): Promise<DecryptionKey | undefined> {
    const [name, version, ...rest] = certificateId.split('/');
    if (name !== this.#options.certificateName || !version || rest.length > 0 || !/^[0-9a-zA-Z]{1,64}$/.test(version)) return undefined;
    let secret;
    try {
      secret = await this.#secrets.getSecret(name, { version });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    refuseUnlessPem(secret.properties.contentType, `Key Vault secret ${name}/${version}`);
    const parsed = parsePemBundle(secret.value ?? '');
    return { certificateId, privateKey: parsed.privateKey, thumbprint: parsed.thumbprint };
  }
}
