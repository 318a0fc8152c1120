import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const CLI = (name: string) => fileURLToPath(new URL(`../../dist/cli/${name}.js`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tcr-operator-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The operator's shell: PATH and HOME only, then the settings given (no local.settings.json in `dir`). */
const run = (name: string, args: string[], settings: Record<string, string>) =>
  spawnSync(process.execPath, [CLI(name), ...args], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...settings }, encoding: 'utf8', timeout: 60_000 });

describe('operator CLIs pointed at Azure with a setting missing', () => {
  it.each([
    ['status', []],
    ['subscriptions', ['list']],
    ['replay', ['--from', 'deadletter', '--dry-run']],
    ['backfill', ['--since', '2026-12-01T00:00:00Z', '--dry-run']],
  ])('%s exits 3 naming the missing settings, and never reaches local defaults', (name, args) => {
    const result = run(name, args, { AzureWebJobsStorage__accountName: 'relaystore', GRAPH_AUTH_MODE: 'managedidentity' });
    expect(result.status, result.stderr).toBe(3);
    expect(result.stderr).toContain('GRAPH_APP_ID is missing');
    expect(result.stderr).toContain('Production, as AzureWebJobsStorage__accountName, GRAPH_AUTH_MODE point at Azure');
    expect(result.stdout).toBe('');
  });

  it('--azure with no Azure-shaped stack started from the app folder exits 3 saying so, and reads no local default', () => {
    const result = run('status', ['--json', '--azure', '--app', dir], { AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(result.status).toBe(3);
    expect(result.stderr).toBe(`No Azure-shaped stack was started from ${dir}: start one with npm start -- --azure.\n`);
    expect(result.stdout).toBe('');
  });

  it('bad usage exits 2 with the usage line, before any setting is read', () => {
    const result = run('replay', ['--from', 'nowhere'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('--from must be deadletter or poison\nusage: npm run replay -- --from deadletter|poison [--limit N] [--dry-run] [--json] [--azure]\n');
  });
});
