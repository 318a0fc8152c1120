import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../dist/dev/graph-simulator/main.js', import.meta.url));

describe('npm run simulator', () => {
  it('prints its Graph base URL, then its JWKS URL, serves both, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise<number | null>((r) => child.once('exit', r));
    const lines = await new Promise<string[]>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const l = out.split('\n');
        if (l.length >= 3) resolve(l.slice(0, 2));
      });
      child.once('exit', () => reject(new Error(`exited early: ${out}`)));
    });
    const [base, jwks] = lines;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(jwks).toBe(`${base}/common/discovery/v2.0/keys`);
    const keys = (await (await fetch(jwks ?? '')).json()) as { keys: { kty: string; kid: string }[] };
    expect(keys.keys[0]).toMatchObject({ kty: 'RSA', kid: expect.any(String) });
    expect((await fetch(`${base}/v1.0/subscriptions`, { headers: { authorization: 'Bearer x' } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
