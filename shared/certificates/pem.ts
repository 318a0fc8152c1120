import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import forge from 'node-forge';

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
  if (!certificate) throw new Error('The PEM holds no certificate.');
  if (!privateKey) throw new Error('The PEM holds no private key.');
  return { certificate, privateKey, thumbprint: thumbprintOf(certificate) };
}

/**
 * Reads a PKCS#12 (PFX) file, including legacy ones protected with RC2-40 and 3DES (which OpenSSL 3 only
 * reads with -legacy), through node-forge.
 */
export function parsePkcs12(der: Buffer, password = ''): ParsedCertificate {
  const p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))), false, password);
  const bag = (oid: string | undefined) => (oid ? p12.getBags({ bagType: oid })[oid]?.[0] : undefined);
  const keyBag = bag(forge.pki.oids.pkcs8ShroudedKeyBag) ?? bag(forge.pki.oids.keyBag);
  const certBag = bag(forge.pki.oids.certBag);
  if (!keyBag?.key) throw new Error('The PKCS#12 file holds no private key.');
  if (!certBag?.cert) throw new Error('The PKCS#12 file holds no certificate.');
  const certificate = new X509Certificate(forge.pki.certificateToPem(certBag.cert));
  const privateKey = createPrivateKey(forge.pki.privateKeyToPem(keyBag.key));
  return { certificate, privateKey, thumbprint: thumbprintOf(certificate) };
}
