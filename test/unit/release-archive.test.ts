import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveRelease, KEPT_RELEASES } from '../../scripts/package/release-archive.js';

describe('archiveRelease: the packages kept for a rollback', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it(`keeps the newest ${KEPT_RELEASES}, whatever their version, and deletes the older ones`, () => {
    const out = mkdtempSync(join(tmpdir(), 'tcr-releases-'));
    dirs.push(out);
    const zip = join(out, 'app.zip');
    writeFileSync(zip, 'zip bytes');
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 10, minute, 0));
    const kept = Array.from({ length: KEPT_RELEASES + 2 }, (_, i) => archiveRelease(zip, { out, version: i % 2 ? '0.2.0' : '0.10.0', root: out, now: at(i) }));
    const left = readdirSync(join(out, 'releases')).sort();
    expect(left).toHaveLength(KEPT_RELEASES);
    // The two oldest builds (minutes 0 and 1) are gone; the newest is there. `root` is no repository: nogit.
    expect(left.some((f) => f.includes('T100000Z') || f.includes('T100100Z'))).toBe(false);
    expect(left).toContain(basename(kept.at(-1) ?? ''));
    expect(kept.at(-1)).toMatch(/teams-change-relay-0\.2\.0-20261207T101100Z-nogit\.zip$/);
  });
});
