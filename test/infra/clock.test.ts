import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * `npm test` must pass on any day with the same commit. libfaketime (Debian's faketime package, which .ci/run
 * installs) runs the Bicep check with the clock two years ahead, Bicep CLI included (it inherits LD_PRELOAD).
 */
const INFRA_CHECK = fileURLToPath(new URL('../../dist/scripts/infra-check.js', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TWO_YEARS_AHEAD = '+730d';

/** Under faketime, at the lowest priority and on one core, so the Bicep CLI (.NET) leaves the other tests room. */
function underFaketime(args: string[]) {
  const r = spawnSync('faketime', ['-f', TWO_YEARS_AHEAD, 'nice', '-n', '19', ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, DOTNET_PROCESSOR_COUNT: '1', DOTNET_gcServer: '0' } });
  if (r.error) throw new Error(`faketime is needed for this test (Debian/Ubuntu: apt-get install faketime): ${r.error.message}`);
  return r;
}

describe('the Bicep check with the clock two years ahead', () => {
  const out = mkdtempSync(join(tmpdir(), 'tcr-clock-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('the faked clock reaches the child processes', () => {
    const r = underFaketime([process.execPath, '-e', 'process.stdout.write(String(new Date().getUTCFullYear()))']);
    expect(Number(r.stdout)).toBeGreaterThanOrEqual(new Date().getUTCFullYear() + 1);
  });

  it('still builds and lints clean (npm run infra:check)', () => {
    const r = underFaketime([process.execPath, INFRA_CHECK, '--out', out]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('bicep lint: clean');
  });

  it('while the separate API-version report, with the date-dependent rule, does see the older versions', () => {
    const r = underFaketime([process.execPath, INFRA_CHECK, '--api-versions']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^API versions to update /);
    expect(r.stdout).toMatch(/use-recent-api-versions: Use more recent API version for 'Microsoft\.KeyVault\/vaults'/);
  });
});
