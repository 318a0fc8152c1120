import type { CertificateStore } from '../certificates/certificate-store.js';
import { decryptResourceData, DecryptionError, type EncryptedResourceData } from '../certificates/decrypt-resource-data.js';
import { PermanentFailure } from './dead-letter-reason.js';

/**
 * The resource a notification's `encryptedContent` holds, decrypted with the key of the certificate it names.
 * Permanent (dead-lettered): no such certificate in the store (PermanentFailure `unknown_certificate`),
 * content that does not decrypt or is no JSON object (DecryptionError). A store that cannot answer for now
 * throws as it is (transient).
 */
export async function decryptNotification(
  content: EncryptedResourceData & { readonly encryptionCertificateId: string },
  certificates: Pick<CertificateStore, 'decryptionKey'>,
): Promise<Record<string, unknown>> {
  const key = await certificates.decryptionKey(content.encryptionCertificateId);
  if (!key) throw new PermanentFailure('unknown_certificate', `No certificate '${content.encryptionCertificateId}' in the store.`);
  const resource = decryptResourceData(content, key);
  if (!resource || typeof resource !== 'object' || Array.isArray(resource)) throw new DecryptionError('content_undecryptable', 'The decrypted content is not a JSON object.');
  return resource as Record<string, unknown>;
}
