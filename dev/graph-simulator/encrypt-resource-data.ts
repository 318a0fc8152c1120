import { constants, createCipheriv, createHash, createHmac, publicEncrypt, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * Graph's encryption of resource data, written independently of the app's decryption: a fresh 32-byte
 * key per notification, AES-256-CBC with PKCS7 padding and IV = the key's first 16 bytes, HMAC-SHA256 of
 * the ciphertext with the same key, the key wrapped with RSA-OAEP (SHA-1, MGF1-SHA-1) to the subscription's
 * certificate.
 */
export interface EncryptedContent {
  data: string;
  dataKey: string;
  dataSignature: string;
  encryptionCertificateId: string;
  encryptionCertificateThumbprint: string;
}

export interface SubscriptionCertificate {
  readonly id: string;
  readonly publicKey: KeyObject;
  /** Upper-case hex SHA-1 of the DER certificate. */
  readonly thumbprint: string;
  readonly bits: number;
}

/** Parses `encryptionCertificate` (base64 DER, or PEM) or returns why it cannot be used. */
export function parseEncryptionCertificate(value: string, id: string): SubscriptionCertificate | string {
  let cert: X509Certificate;
  try {
    const text = value.trim();
    cert = new X509Certificate(text.startsWith('-----BEGIN') ? text : Buffer.from(text, 'base64'));
  } catch {
    return 'The encryptionCertificate is not a valid base64-encoded X.509 certificate.';
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'rsa') return 'The encryptionCertificate must hold an RSA public key.';
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048 || bits > 4096) return `The encryptionCertificate key is ${bits} bits; it must be 2048 to 4096 bits.`;
  const thumbprint = createHash('sha1').update(cert.raw).digest('hex').toUpperCase();
  return { id, publicKey: key, thumbprint, bits };
}

export function encryptResourceData(payload: unknown, certificate: SubscriptionCertificate): EncryptedContent {
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  const data = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final()]);
  const dataKey = publicEncrypt({ key: certificate.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  return {
    data: data.toString('base64'),
    dataKey: dataKey.toString('base64'),
    dataSignature: createHmac('sha256', key).update(data).digest('base64'),
    encryptionCertificateId: certificate.id,
    encryptionCertificateThumbprint: certificate.thumbprint,
  };
}
