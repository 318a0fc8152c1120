import { constants, createDecipheriv, createHmac, privateDecrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { RelayError } from '../errors.js';

/** A private key that decrypts resource data for one `encryptionCertificateId`. */
export interface DecryptionKey {
  readonly certificateId: string;
  readonly privateKey: KeyObject;
  /** Upper-case hex SHA-1 of the certificate, when known. */
  readonly thumbprint?: string;
}

/** The `encryptedContent` of a notification, as far as decryption needs it. */
export interface EncryptedResourceData {
  readonly data: string;
  readonly dataKey: string;
  readonly dataSignature: string;
  readonly encryptionCertificateThumbprint?: string | undefined;
}

export type DecryptionFailure = 'thumbprint_mismatch' | 'key_unwrap_failed' | 'signature_mismatch' | 'content_undecryptable';

/** Resource data that cannot be decrypted: permanent, never worth a retry. */
export class DecryptionError extends RelayError {
  readonly reason: DecryptionFailure;
  constructor(reason: DecryptionFailure, message: string) {
    super(`ERR_DECRYPT_${reason.toUpperCase()}`, message, { permanentReason: reason });
    this.reason = reason;
  }
}

const AES_KEY_BYTES = 32;

/**
 * Decrypts `encryptedContent` as Graph specifies: unwrap the symmetric key with RSA-OAEP (SHA-1), check the
 * HMAC-SHA256 of the ciphertext in constant time *before* decrypting, then AES-256-CBC (PKCS7, IV = the
 * key's first 16 bytes) to UTF-8 JSON. Certificate validity dates play no part.
 */
export function decryptResourceData(content: EncryptedResourceData, key: DecryptionKey): unknown {
  const thumbprint = content.encryptionCertificateThumbprint;
  if (thumbprint && key.thumbprint && thumbprint.replace(/[^0-9a-f]/gi, '').toUpperCase() !== key.thumbprint) {
    throw new DecryptionError('thumbprint_mismatch', `The notification names thumbprint ${thumbprint}, not that of certificate ${key.certificateId}.`);
  }
  let symmetricKey: Buffer;
  try {
    symmetricKey = privateDecrypt({ key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, Buffer.from(content.dataKey, 'base64'));
  } catch {
    throw new DecryptionError('key_unwrap_failed', `dataKey does not decrypt with certificate ${key.certificateId}.`);
  }
  if (symmetricKey.length !== AES_KEY_BYTES) {
    throw new DecryptionError('key_unwrap_failed', `dataKey holds ${symmetricKey.length} bytes, not ${AES_KEY_BYTES}.`);
  }
  const data = Buffer.from(content.data, 'base64');
  const expected = createHmac('sha256', symmetricKey).update(data).digest();
  const given = Buffer.from(content.dataSignature, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new DecryptionError('signature_mismatch', 'dataSignature does not match the data: the content was altered or forged.');
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', symmetricKey, symmetricKey.subarray(0, 16));
    const plain = Buffer.concat([decipher.update(data), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as unknown;
  } catch {
    throw new DecryptionError('content_undecryptable', 'The data does not decrypt to JSON.');
  }
}
