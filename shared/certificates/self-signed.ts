import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { thumbprintOf, type ParsedCertificate } from './pem.js';

/** Node's WebCrypto, given to each call instead of set as @peculiar/x509's global provider. */
export const nodeWebCrypto = webcrypto;

export interface SelfSignedCertificate extends ParsedCertificate {
  /** Certificate then private key, PEM. */
  readonly pem: string;
}

const pemBlock = (label: string, der: Buffer) =>
  `-----BEGIN ${label}-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)
    ?.join('\n')}\n-----END ${label}-----\n`;

/**
 * Creates a self-signed RSA certificate (for Graph's encryptionCertificate) with @peculiar/x509, loaded here
 * only: the local certificate store alone makes certificates (in Azure they come from Key Vault), so an
 * instance's start does not pay for the library.
 */
export async function createSelfSignedCertificate(options: { subject?: string; bits?: number; validDays?: number } = {}): Promise<SelfSignedCertificate> {
  const x509 = await import('@peculiar/x509');
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: options.bits ?? 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const generated = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: now.toString(16),
      name: options.subject ?? 'CN=teams-change-relay',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.validDays ?? 365) * 86_400_000),
      keys,
      signingAlgorithm: alg,
    },
    nodeWebCrypto,
  );
  const der = Buffer.from(generated.rawData);
  const keyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const certificate = new X509Certificate(der);
  const pem = pemBlock('CERTIFICATE', der) + pemBlock('PRIVATE KEY', keyDer);
  return { certificate, privateKey: createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' }), thumbprint: thumbprintOf(certificate), pem };
}
