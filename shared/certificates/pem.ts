import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { CertificateUnavailableError } from '../errors.js';

/** A certificate and its private key, parsed once. */
export interface ParsedCertificate {
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  readonly thumbprint: string;
}

const BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

export function thumbprintOf(certificate: X509Certificate): string {
  return createHash('sha1').update(certificate.raw).digest('hex').toUpperCase();
}

/** Reads a PEM bundle holding a certificate and its private key (in any order). */
export function parsePemBundle(pem: string): ParsedCertificate {
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  for (const match of pem.matchAll(BLOCK)) {
    const [block, label] = match;
    if (label === 'CERTIFICATE' && !certificate) certificate = new X509Certificate(block);
    else if (label?.endsWith('PRIVATE KEY') && !privateKey) privateKey = createPrivateKey(block);
  }
  if (!certificate) throw new CertificateUnavailableError('The PEM holds no certificate.');
  if (!privateKey) throw new CertificateUnavailableError('The PEM holds no private key.');
  return { certificate, privateKey, thumbprint: thumbprintOf(certificate) };
}
