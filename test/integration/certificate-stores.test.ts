import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decryptResourceData } from '../../shared/certificates/decrypt-resource-data.js';
import { CertificateFormatError } from '../../shared/errors.js';
import { KeyVaultCertificateStore } from '../../shared/certificates/key-vault-certificate-store.js';
import { permanentReason } from '../../shared/route/notification-processor.js';
import { LocalCertificateStore } from '../../shared/certificates/local-certificate-store.js';
import { encryptResourceData, parseEncryptionCertificate } from '../../dev/graph-simulator/encrypt-resource-data.js';
import { createTestCertificate, type TestCertificate } from '../helpers/certificates.js';
import { startKeyVaultStandIn, type KeyVaultStandIn } from '../../dev/key-vault/key-vault-stand-in.js';

/** Encrypts like Graph does, to the given certificate (the simulator's code, independent of ours). */
function encryptTo(certificateBase64: string, id: string, payload: unknown) {
  const cert = parseEncryptionCertificate(certificateBase64, id);
  if (typeof cert === 'string') throw new Error(cert);
  return encryptResourceData(payload, cert);
}

describe('LocalCertificateStore', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tcr-certs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a self-signed RSA-2048 certificate on first use, as <id>.pem holding certificate and key', async () => {
    const store = new LocalCertificateStore(join(dir, 'certs'));
    const current = await store.current();
    expect(readdirSync(join(dir, 'certs'))).toEqual([`${current.id}.pem`]);
    const pem = readFileSync(join(dir, 'certs', `${current.id}.pem`), 'utf8');
    expect(pem).toContain('BEGIN CERTIFICATE');
    expect(pem).toContain('BEGIN PRIVATE KEY');
    const parsed = parseEncryptionCertificate(current.certificateBase64, current.id);
    expect(typeof parsed === 'string' ? parsed : parsed.bits).toBe(2048);
    expect(await store.current()).toEqual(current);
  });

  it('decrypts for every certificate it holds, the newest being current after a rotation', async () => {
    const store = new LocalCertificateStore(join(dir, 'rotating'));
    const first = await store.current();
    const before = encryptTo(first.certificateBase64, first.id, { n: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const second = await store.rotate();
    expect((await store.current()).id).toBe(second.id);
    const after = encryptTo(second.certificateBase64, second.id, { n: 2 });
    const fresh = new LocalCertificateStore(join(dir, 'rotating'));
    expect((await fresh.current()).id).toBe(second.id);
    const k1 = await fresh.decryptionKey(first.id);
    const k2 = await fresh.decryptionKey(second.id);
    expect(decryptResourceData(before, k1!)).toEqual({ n: 1 });
    expect(decryptResourceData(after, k2!)).toEqual({ n: 2 });
    expect(await fresh.decryptionKey(first.id)).toBe(k1);
    expect(await fresh.decryptionKey('unknown-id')).toBeUndefined();
    expect(await fresh.decryptionKey('../escape')).toBeUndefined();
  });

  it('recovers once an unreadable folder is readable again: a failed read is not remembered', async () => {
    const folder = join(dir, 'flaky');
    const current = await new LocalCertificateStore(folder).current();
    const encrypted = encryptTo(current.certificateBase64, current.id, { n: 3 });
    const store = new LocalCertificateStore(folder);
    renameSync(folder, `${folder}.away`);
    writeFileSync(folder, 'not a folder');
    await expect(store.decryptionKey(current.id)).rejects.toMatchObject({ code: 'ENOTDIR' });
    rmSync(folder);
    renameSync(`${folder}.away`, folder);
    const key = await store.decryptionKey(current.id);
    expect(decryptResourceData(encrypted, key!)).toEqual({ n: 3 });
  });

  it('reads a certificate again that was half written when first read: a failed parse is not remembered', async () => {
    const source = join(dir, 'whole');
    const current = await new LocalCertificateStore(source).current();
    const pem = readFileSync(join(source, `${current.id}.pem`), 'utf8');
    const folder = join(dir, 'half-written');
    const reader = new LocalCertificateStore(folder);
    await reader.current().catch(() => undefined); // the folder is empty: it creates one of its own
    writeFileSync(join(folder, `${current.id}.pem`), pem.slice(0, pem.length / 2)); // another process, mid-write
    await expect(reader.decryptionKey(current.id)).rejects.toThrow();
    writeFileSync(join(folder, `${current.id}.pem`), pem);
    const key = await reader.decryptionKey(current.id);
    expect(decryptResourceData(encryptTo(current.certificateBase64, current.id, { n: 4 }), key!)).toEqual({ n: 4 });
  });

  it('puts a new certificate in place whole: readers polling the folder while it rotates never meet half a file', async () => {
    const folder = join(dir, 'rotating');
    const store = new LocalCertificateStore(folder);
    await store.current();
    let rotating = true;
    const seen: string[] = [];
    const poll = (async () => {
      while (rotating) {
        for (const name of readdirSync(folder).filter((f) => f.endsWith('.pem'))) {
          const text = readFileSync(join(folder, name), 'utf8');
          if (!/-----END CERTIFICATE-----/.test(text) || !/-----END PRIVATE KEY-----/.test(text)) seen.push(name);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 8; i++) await store.rotate();
    rotating = false;
    await poll;
    expect(seen).toEqual([]);
    expect(readdirSync(folder).filter((f) => !f.endsWith('.pem'))).toEqual([]); // no temporary file left
    expect(readdirSync(folder).filter((f) => f.endsWith('.pem')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('KeyVaultCertificateStore against a Key Vault that speaks its REST protocol', () => {
  let vault: KeyVaultStandIn;
  let v1: TestCertificate;
  let v2: TestCertificate;
  let v1Version: string;
  let store: KeyVaultCertificateStore;
  const storeFor = (v: KeyVaultStandIn, certificateName = 'graph-notifications') =>
    new KeyVaultCertificateStore({
      vaultUrl: v.url,
      certificateName,
      credential: v.credential,
      clientOptions: { tlsOptions: { ca: v.tlsCa }, disableChallengeResourceVerification: true, retryOptions: { maxRetries: 1, retryDelayInMs: 10 } },
    });

  beforeAll(async () => {
    vault = await startKeyVaultStandIn();
    v1 = await createTestCertificate();
    v2 = await createTestCertificate();
    v1Version = vault.addVersion('graph-notifications', { der: Buffer.from(v1.base64, 'base64'), secret: v1.pem, contentType: 'application/x-pem-file' });
    store = storeFor(vault);
  });
  afterAll(() => vault.close());

  it('answers the 401 challenge and gives the current version as <name>/<version>', async () => {
    const current = await store.current();
    expect(current).toMatchObject({ id: `graph-notifications/${v1Version}`, certificateBase64: v1.base64, thumbprint: v1.thumbprint });
    expect(vault.requests[0]).toMatchObject({ authorized: false });
    expect(vault.requests.at(-1)).toMatchObject({ method: 'GET', authorized: true });
  });

  it('decrypts notifications for every version, before and after a rotation, parsing each key once', async () => {
    const before = encryptTo(v1.base64, `graph-notifications/${v1Version}`, { before: true });
    const v2Version = vault.addVersion('graph-notifications', { der: Buffer.from(v2.base64, 'base64'), secret: v2.pem, contentType: 'application/x-pem-file' });
    const rotated = storeFor(vault);
    expect((await rotated.current()).id).toBe(`graph-notifications/${v2Version}`);
    const after = encryptTo(v2.base64, `graph-notifications/${v2Version}`, { after: true });

    const k1 = await rotated.decryptionKey(before.encryptionCertificateId);
    const k2 = await rotated.decryptionKey(after.encryptionCertificateId);
    expect(decryptResourceData(before, k1!)).toEqual({ before: true });
    expect(decryptResourceData(after, k2!)).toEqual({ after: true });
    const secretReads = vault.requests.filter((r) => r.path.startsWith('/secrets/')).length;
    for (let i = 0; i < 5; i++) expect(await rotated.decryptionKey(after.encryptionCertificateId)).toBe(k2);
    expect(vault.requests.filter((r) => r.path.startsWith('/secrets/')).length).toBe(secretReads);
  });

  it("refuses a PKCS#12 version (Key Vault's default content type) with ERR_CERTIFICATE_FORMAT, naming the fix", async () => {
    const other = await createTestCertificate();
    const pkcs12Version = vault.addVersion('pkcs12-certificate', { der: Buffer.from(other.base64, 'base64'), secret: 'TUlJ', contentType: 'application/x-pkcs12' });
    const pkcs12Store = storeFor(vault, 'pkcs12-certificate');
    const current = await pkcs12Store.current().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(current).toBeInstanceOf(CertificateFormatError);
    expect(current).toMatchObject({ code: 'ERR_CERTIFICATE_FORMAT', message: expect.stringContaining('application/x-pem-file') });
    const key = await pkcs12Store.decryptionKey(`pkcs12-certificate/${pkcs12Version}`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(key).toMatchObject({ code: 'ERR_CERTIFICATE_FORMAT', message: expect.stringContaining(`pkcs12-certificate/${pkcs12Version}`) });
    expect(permanentReason(key)).toBe('certificate_format');
  });

  it('resolves an unknown version or certificate to undefined (permanent)', async () => {
    expect(await store.decryptionKey(`graph-notifications/${'0'.repeat(32)}`)).toBeUndefined();
    expect(await store.decryptionKey(`other-certificate/${v1Version}`)).toBeUndefined();
    expect(await store.decryptionKey('not-even-an-id')).toBeUndefined();
  });

  it('rejects while the vault is down (transient), and succeeds once it is back', async () => {
    const fresh = storeFor(vault);
    vault.down = true;
    await expect(fresh.decryptionKey(`graph-notifications/${v1Version}`)).rejects.toMatchObject({ statusCode: 503 });
    vault.down = false;
    expect(await fresh.decryptionKey(`graph-notifications/${v1Version}`)).toMatchObject({ thumbprint: v1.thumbprint });
  });
});
