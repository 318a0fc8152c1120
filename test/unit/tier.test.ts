import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNIT = fileURLToPath(new URL('./', import.meta.url));
const TESTS = fileURLToPath(new URL('../', import.meta.url));
const testFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(`${dir}${name}`).isDirectory() ? testFiles(`${dir}${name}/`) : name.endsWith('.ts') ? [`${dir}${name}`] : []));

/** What belongs to the tiers after the unit one: each starts a service, a process, a server or waits on the clock. */
const NOT_UNIT: readonly [what: string, pattern: RegExp][] = [
  ['Azurite', /helpers\/azurite|dev\/azurite|startTestAzurite/],
  ['a child process', /node:child_process|helpers\/local-host-process|helpers\/chaos-cli/],
  ['a server', /createServer\(|\.listen\(|startGraphSimulator|startKeyVaultStandIn|startManagedIdentityEndpoint|helpers\/(webhook-sink|handshake-server|tcp-proxy|receiver)/],
  ['a real sleep', /setTimeout\(\s*(r|resolve)\s*,|node:timers\/promises|helpers\/eventually/],
  ['a browser', /playwright|chromium/i],
];

describe('the unit tier', () => {
  it('holds no test that needs Azurite, a child process, a server, a browser or a real sleep (those go to test/integration and after)', () => {
    const files = testFiles(UNIT)
      .map((f) => f.slice(UNIT.length))
      .filter((f) => f !== 'tier.test.ts');
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((f) => {
      const text = readFileSync(`${UNIT}${f}`, 'utf8');
      return NOT_UNIT.filter(([, pattern]) => pattern.test(text)).map(([what]) => `${f}: ${what}`);
    });
    expect(found).toEqual([]);
  });

  it('(every tier) checks that a list is not empty before it asserts that every item of it passes: [].every(…) is true', () => {
    const files = testFiles(TESTS).filter((f) => !f.includes('/fixtures/'));
    const bare = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/expect\((?!nonEmpty\()[^;]*?\.every\(/.test(line) && !line.includes('nonEmpty(') ? [`${f.slice(TESTS.length)}:${i + 1}`] : [])),
    );
    expect(bare).toEqual([]);
  });
});
