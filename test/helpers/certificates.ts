import type { KeyObject } from 'node:crypto';
import { createSelfSignedCertificate } from '../../shared/certificates/self-signed.js';

export interface TestCertificate {
  /** base64 of the DER certificate: what `encryptionCertificate` carries. */
  readonly base64: string;
  /** Certificate and private key, PEM. */
  readonly pem: string;
  readonly privateKeyPem: string;
  readonly privateKey: KeyObject;
  /** Upper-case hex SHA-1 of the DER. */
  readonly thumbprint: string;
}

/** A self-signed RSA certificate for tests (the app's own generator, as the local store uses it). */
export async function createTestCertificate(bits = 2048, subject = 'CN=teams-change-relay test'): Promise<TestCertificate> {
  const c = await createSelfSignedCertificate({ bits, subject });
  return {
    base64: c.certificate.raw.toString('base64'),
    pem: c.pem,
    privateKeyPem: c.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    privateKey: c.privateKey,
    thumbprint: c.thumbprint,
  };
}
