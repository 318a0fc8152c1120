import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Decrypts Graph-style encrypted content with the openssl CLI only: an independent check of the
 * simulator's encryption (and, through the Microsoft vector, of our understanding of the protocol).
 */
export function opensslDecrypt(content: { data: string; dataKey: string; dataSignature: string }, privateKeyPem: string): { json: string; signatureMatches: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'tcr-openssl-'));
  try {
    const file = (name: string, data: string | Buffer) => {
      const path = join(dir, name);
      writeFileSync(path, data);
      return path;
    };
    const key = file('key.pem', privateKeyPem);
    const wrapped = file('datakey.bin', Buffer.from(content.dataKey, 'base64'));
    const symmetric = execFileSync('openssl', [
      'pkeyutl',
      '-decrypt',
      '-inkey',
      key,
      '-in',
      wrapped,
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha1',
      '-pkeyopt',
      'rsa_mgf1_md:sha1',
    ]);
    const hex = symmetric.toString('hex');
    const data = file('data.bin', Buffer.from(content.data, 'base64'));
    const mac = execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hex}`, '-binary', data]);
    const json = execFileSync('openssl', ['enc', '-d', '-aes-256-cbc', '-K', hex, '-iv', hex.slice(0, 32), '-in', data]).toString('utf8');
    return { json, signatureMatches: mac.toString('base64') === content.dataSignature };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
