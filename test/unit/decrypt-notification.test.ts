import { describe, expect, it } from 'vitest';
import type { DecryptionKey } from '../../shared/certificates/decrypt-resource-data.js';
import { PermanentFailure } from '../../shared/route/dead-letter-reason.js';
import { decryptNotification } from '../../shared/route/decrypt-notification.js';
import { permanentReason } from '../../shared/route/notification-processor.js';
import { encryptResourceData, parseEncryptionCertificate } from '../../dev/graph-simulator/encrypt-resource-data.js';
import { createTestCertificate } from '../helpers/certificates.js';

async function certificate() {
  const created = await createTestCertificate();
  const cert = parseEncryptionCertificate(created.base64, 'c1');
  if (typeof cert === 'string') throw new Error(cert);
  const key: DecryptionKey = { certificateId: 'c1', privateKey: created.privateKey, thumbprint: created.thumbprint };
  const store = { decryptionKey: async (id: string) => (id === 'c1' ? key : undefined) };
  return { cert, store };
}

const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => permanentReason(e),
  );

describe('decryptNotification', () => {
  it('decrypts with the key of the certificate the content names', async () => {
    const { cert, store } = await certificate();
    await expect(decryptNotification(encryptResourceData({ id: '1', body: { content: 'hi' } }, cert), store)).resolves.toEqual({ id: '1', body: { content: 'hi' } });
  });

  it('dead-letters content of a certificate the store does not hold as unknown_certificate', async () => {
    const { cert, store } = await certificate();
    const content = { ...encryptResourceData({ id: '1' }, cert), encryptionCertificateId: 'c2' };
    await expect(decryptNotification(content, store)).rejects.toBeInstanceOf(PermanentFailure);
    expect(await reasonOf(decryptNotification(content, store))).toBe('unknown_certificate');
  });

  it('dead-letters content that is no JSON object, or forged, with the decryption failure as the reason', async () => {
    const { cert, store } = await certificate();
    for (const resource of [['a'], 'text', null]) expect(await reasonOf(decryptNotification(encryptResourceData(resource, cert), store))).toBe('content_undecryptable');
    const forged = { ...encryptResourceData({ id: '1' }, cert), dataSignature: Buffer.alloc(32).toString('base64') };
    expect(await reasonOf(decryptNotification(forged, store))).toBe('signature_mismatch');
  });

  it('lets a store that cannot answer for now throw as it is (transient)', async () => {
    const { cert } = await certificate();
    const unreachable = new Error('Key Vault unreachable');
    const store = { decryptionKey: () => Promise.reject(unreachable) };
    await expect(decryptNotification(encryptResourceData({ id: '1' }, cert), store)).rejects.toBe(unreachable);
    expect(permanentReason(unreachable)).toBeUndefined();
  });
});
