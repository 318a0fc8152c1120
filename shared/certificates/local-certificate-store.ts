import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateUnavailableError } from '../errors.js';
import type { CertificateStore, EncryptionCertificate } from './certificate-store.js';
import type { DecryptionKey } from './decrypt-resource-data.js';
import { parsePemBundle, type ParsedCertificate } from './pem.js';
import { createSelfSignedCertificate } from './self-signed.js';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * Certificates in a local folder, one `<certificate id>.pem` each (certificate and private key). The
 * newest (latest notBefore) is the current one; a self-signed RSA-2048 certificate is created when the
 * folder has none. Each file is parsed once it was read; a failed read or parse is tried again next time.
 * Several processes share the folder (the local host, the chaos run's hosts, the bench): a certificate is
 * written to a temporary name and renamed into place, so no reader ever sees half a `.pem`.
 */
export class LocalCertificateStore implements CertificateStore {
  readonly #folder: string;
  readonly #parsed = new Map<string, Promise<ParsedCertificate | undefined>>();
  readonly #keys = new Map<string, DecryptionKey>();
  #creating: Promise<EncryptionCertificate> | undefined;

  constructor(folder: string) {
    this.#folder = folder;
  }

  async current(): Promise<EncryptionCertificate> {
    const ids = await this.#ids();
    if (ids.length === 0) return (this.#creating ??= this.rotate());
    const all = await Promise.all(ids.map(async (id) => ({ id, parsed: await this.#load(id) })));
    const newest = all
      .filter((c): c is { id: string; parsed: ParsedCertificate } => c.parsed !== undefined)
      .sort((a, b) => Date.parse(b.parsed.certificate.validFrom) - Date.parse(a.parsed.certificate.validFrom) || b.id.localeCompare(a.id))[0];
    if (!newest) throw new CertificateUnavailableError(`No usable certificate in ${this.#folder}.`);
    return describe(newest.id, newest.parsed);
  }

  async decryptionKey(certificateId: string): Promise<DecryptionKey | undefined> {
    if (!SAFE_ID.test(certificateId)) return undefined;
    const cached = this.#keys.get(certificateId);
    if (cached) return cached;
    const parsed = await this.#load(certificateId);
    if (!parsed) return undefined;
    const key = { certificateId, privateKey: parsed.privateKey, thumbprint: parsed.thumbprint };
    this.#keys.set(certificateId, key);
    return key;
  }

  /** Creates a new self-signed certificate, which becomes the current one. */
  async rotate(): Promise<EncryptionCertificate> {
    await mkdir(this.#folder, { recursive: true });
    const created = await createSelfSignedCertificate({ subject: 'CN=teams-change-relay local' });
    const id = `relay-${new Date().toISOString().replace(/[-:.]/g, '').replace('T', '-').slice(0, 20)}-${created.thumbprint.slice(0, 6).toLowerCase()}`;
    const temporary = join(this.#folder, `.${id}.${randomUUID()}.tmp`);
    try {
      await writeFile(temporary, created.pem, { mode: 0o600 });
      await rename(temporary, join(this.#folder, `${id}.pem`));
    } catch (e) {
      await rm(temporary, { force: true });
      throw e;
    }
    this.#parsed.set(id, Promise.resolve(created));
    return describe(id, created);
  }

  async #ids(): Promise<string[]> {
    try {
      return (await readdir(this.#folder)).filter((f) => f.endsWith('.pem')).map((f) => f.slice(0, -4));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  #load(id: string): Promise<ParsedCertificate | undefined> {
    let entry = this.#parsed.get(id);
    if (!entry) {
      entry = readFile(join(this.#folder, `${id}.pem`), 'utf8')
        .then((pem) => parsePemBundle(pem))
        .catch((e: NodeJS.ErrnoException) => {
          // Nothing failed is remembered: a missing file may be written later, an unreadable folder (a
          // transient failure the caller retries) may be readable again at the next attempt, and a file
          // that does not parse may be one that another tool is still writing.
          this.#parsed.delete(id);
          if (e.code === 'ENOENT') return undefined;
          throw e;
        });
      this.#parsed.set(id, entry);
    }
    return entry;
  }
}

function describe(id: string, parsed: ParsedCertificate): EncryptionCertificate {
  return { id, certificateBase64: parsed.certificate.raw.toString('base64'), thumbprint: parsed.thumbprint, notAfter: new Date(parsed.certificate.validTo) };
}
