import { createPrivateKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { thumbprintOf, type ParsedCertificate } from '../../shared/certificates/pem.js';

/**
 * Reads a PKCS#12 (PFX) file, including legacy ones protected with RC2-40 and 3DES (which OpenSSL 3 only
 * reads with -legacy), through node-forge: tests only, for Microsoft's test vector. The app reads PEM.
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
