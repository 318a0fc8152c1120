import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { thrown } from '../helpers/thrown.js';
import { decryptResourceData, DecryptionError, type DecryptionKey } from '../../shared/certificates/decrypt-resource-data.js';
import { parsePkcs12 } from '../helpers/pkcs12.js';
import { encryptResourceData, parseEncryptionCertificate } from '../../dev/graph-simulator/encrypt-resource-data.js';
import { createTestCertificate } from '../helpers/certificates.js';

const vector = JSON.parse(readFileSync(new URL('../fixtures/graph-encrypted-chatmessage.json', import.meta.url), 'utf8')) as {
  certificate: { pkcs12Base64: string; password: string };
  encryptedContent: { data: string; dataKey: string; dataSignature: string; encryptionCertificateId: string; encryptionCertificateThumbprint: string };
  expected: { id: string; etag: string; replyToId: string; body: { contentType: string; content: string } };
};

const failure = (fn: () => unknown) => thrown(DecryptionError, fn);

describe('decryptResourceData', () => {
  const parsed = parsePkcs12(Buffer.from(vector.certificate.pkcs12Base64, 'base64'), vector.certificate.password);
  const key: DecryptionKey = { certificateId: 'custom-id-for-testing', privateKey: parsed.privateKey, thumbprint: parsed.thumbprint };

  it("decrypts Microsoft Graph's own encrypted chat message (expired, legacy PKCS#12 certificate)", () => {
    expect(new Date(parsed.certificate.validTo).getTime()).toBeLessThan(Date.now());
    expect(parsed.thumbprint).toBe(vector.encryptedContent.encryptionCertificateThumbprint);
    const message = decryptResourceData(vector.encryptedContent, key) as Record<string, unknown>;
    expect(message).toMatchObject(vector.expected);
  });

  it('refuses altered data, key or signature as permanent failures', () => {
    const tamper = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      return bytes.toString('base64');
    };
    expect(failure(() => decryptResourceData({ ...vector.encryptedContent, data: tamper(vector.encryptedContent.data) }, key)).reason).toBe('signature_mismatch');
    expect(failure(() => decryptResourceData({ ...vector.encryptedContent, dataSignature: tamper(vector.encryptedContent.dataSignature) }, key)).reason).toBe('signature_mismatch');
    expect(failure(() => decryptResourceData({ ...vector.encryptedContent, dataKey: tamper(vector.encryptedContent.dataKey) }, key)).reason).toBe('key_unwrap_failed');
    expect(failure(() => decryptResourceData({ ...vector.encryptedContent, dataSignature: 'AAAA' }, key)).code).toBe('ERR_DECRYPT_SIGNATURE_MISMATCH');
  });

  it("refuses a notification whose thumbprint is not the key's", () => {
    expect(failure(() => decryptResourceData({ ...vector.encryptedContent, encryptionCertificateThumbprint: 'AB'.repeat(20) }, key)).reason).toBe('thumbprint_mismatch');
  });

  it('refuses content encrypted to another certificate', async () => {
    const other = await createTestCertificate();
    const cert = parseEncryptionCertificate(other.base64, 'other');
    if (typeof cert === 'string') throw new Error(cert);
    const content = encryptResourceData({ id: '1' }, cert);
    expect(failure(() => decryptResourceData(content, { ...key, thumbprint: undefined })).reason).toBe('key_unwrap_failed');
    expect(decryptResourceData(content, { certificateId: 'other', privateKey: other.privateKey, thumbprint: other.thumbprint })).toEqual({ id: '1' });
  });
});
