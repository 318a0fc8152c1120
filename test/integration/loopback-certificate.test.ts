import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loopbackCertificate } from '../../dev/tls/loopback-certificate.js';

describe('loopbackCertificate', () => {
  it('is trusted by the test processes (NODE_EXTRA_CA_CERTS), so fetch reaches an HTTPS stand-in unchanged', async () => {
    const tls = await loopbackCertificate();
    expect(process.env.NODE_EXTRA_CA_CERTS).toBe(tls.caFile);
    const server = createServer({ cert: tls.cert, key: tls.key }, (_, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      expect(await (await fetch(`https://127.0.0.1:${port}/`)).text()).toBe('ok');
      expect(await (await fetch(`https://localhost:${port}/`)).text()).toBe('ok');
    } finally {
      server.close();
    }
  });

  it('is not kept in a folder others can open (another user could plant a certificate of theirs there first)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tcr-tls-')), 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    await expect(loopbackCertificate(dir)).rejects.toThrow(/is not a folder of this user's alone/);
  });

  it('is made once when several ask at the same moment, and kept', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tcr-tls-')), 'tls');
    const made = await Promise.all([loopbackCertificate(dir), loopbackCertificate(dir), loopbackCertificate(dir)]);
    expect(new Set(made.map((m) => m.cert)).size).toBe(1);
    expect(readFileSync(made[0].caFile, 'utf8')).toBe(made[0].cert);
    expect((await loopbackCertificate(dir)).cert).toBe(made[0].cert);
  });
});
