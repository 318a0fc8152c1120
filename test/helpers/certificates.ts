import { createHash, createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export interface TestCertificate {
  /** base64 of the DER certificate: what `encryptionCertificate` carries. */
  readonly base64: string;
  readonly pem: string;
  readonly privateKeyPem: string;
  readonly privateKey: KeyObject;
  /** Upper-case hex SHA-1 of the DER. */
  readonly thumbprint: string;
}

/** A self-signed RSA certificate made with @peculiar/x509 over WebCrypto, for tests. */
export async function createTestCertificate(bits = 2048, name = 'CN=teams-change-relay test'): Promise<TestCertificate> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Date.now().toString(16),
    name,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    keys,
    signingAlgorithm: alg,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKeyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`.replace(/\n\n/g, '\n');
  const der = Buffer.from(cert.rawData);
  return {
    base64: der.toString('base64'),
    pem: cert.toString('pem'),
    privateKeyPem,
    privateKey: createPrivateKey(privateKeyPem),
    thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
  };
}
