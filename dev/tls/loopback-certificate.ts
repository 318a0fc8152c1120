import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { nodeWebCrypto } from '../../shared/certificates/self-signed.js';

/** A TLS certificate for 127.0.0.1 and localhost with its key, PEM, and the file a client trusts it by. */
export interface LoopbackCertificate {
  readonly cert: string;
  readonly key: string;
  /** The certificate alone: what NODE_EXTRA_CA_CERTS names for a process that must trust the stand-ins. */
  readonly caFile: string;
}

/**
 * Where the certificate is kept: one per user of the machine, shared by every local stack and test, in the
 * user's own cache folder (a shared temporary folder would let another user plant a certificate first).
 */
export function loopbackCertificateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TCR_LOOPBACK_TLS_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'teams-change-relay', 'tls');
}

/** The folder must be this user's alone: not a link, owned by this user, closed to others. */
function checkPrivate(dir: string): void {
  const stat = lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const foreign = stat.isSymbolicLink() || !stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (process.platform !== 'win32' && (stat.mode & 0o077) !== 0);
  if (foreign) throw new Error(`${dir} is not a folder of this user's alone (owner, no access for others): the loopback certificate is not kept there.`);
}

const RENEW_WITHIN_MS = 7 * 86_400_000;

async function generate(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8).toString('hex'),
      name: 'CN=teams-change-relay loopback',
      notBefore: new Date(now - 86_400_000),
      notAfter: new Date(now + 365 * 86_400_000),
      keys,
      signingAlgorithm: alg,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
        new x509.BasicConstraintsExtension(true),
      ],
    },
    nodeWebCrypto,
  );
  const key = createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' });
  const pem = (text: string) => text.trimEnd() + '\n';
  return { cert: pem(cert.toString('pem')), key: pem(key.export({ format: 'pem', type: 'pkcs8' }).toString()) };
}

function read(dir: string): LoopbackCertificate | undefined {
  try {
    const bundle = readFileSync(join(dir, 'loopback.pem'), 'utf8');
    const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(bundle)?.[0];
    const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/.exec(bundle)?.[0];
    if (!cert || !key) return undefined;
    if (Date.parse(new X509Certificate(cert).validTo) - Date.now() < RENEW_WITHIN_MS) return undefined;
    const caFile = join(dir, 'loopback-ca.pem');
    // Written only when it differs, and whole (a process starting now may be reading it).
    if (!existsSync(caFile) || readFileSync(caFile, 'utf8') !== cert) {
      const pending = `${caFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(pending, cert, { mode: 0o644 });
      renameSync(pending, caFile);
    }
    return { cert, key, caFile };
  } catch {
    return undefined;
  }
}

/**
 * The one loopback TLS certificate of this machine's user, made on first use and kept (a year): every HTTPS
 * stand-in of the Azure-shaped stack (Key Vault, Entra's token endpoint, storage, Application Insights'
 * ingestion) serves it, and each process that calls them trusts it by NODE_EXTRA_CA_CERTS, which Node reads
 * only when it starts, so it must exist before the process does. Made once even when several processes ask
 * at the same moment (the first file to be linked in place wins; the others read it).
 */
export async function loopbackCertificate(dir: string = loopbackCertificateDir()): Promise<LoopbackCertificate> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivate(dir);
  const existing = read(dir);
  if (existing) return existing;
  const made = await generate();
  const pending = join(dir, `loopback.${process.pid}.${randomBytes(4).toString('hex')}.pem`);
  writeFileSync(pending, made.cert + made.key, { mode: 0o600 });
  const final = join(dir, 'loopback.pem');
  try {
    // An expiring one is replaced; a valid one another process linked first is kept.
    if (read(dir) === undefined) rmSync(final, { force: true });
    linkSync(pending, final);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(pending, { force: true });
  }
  const kept = read(dir);
  if (!kept) throw new Error(`Could not keep a loopback TLS certificate in ${dir}.`);
  return kept;
}
