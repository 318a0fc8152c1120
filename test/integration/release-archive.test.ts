import { spawnSync } from 'node:child_process';
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

  it('keeps one copy per commit (packaging it again replaces it), and every build with uncommitted changes', () => {
    const repo = mkdtempSync(join(tmpdir(), 'tcr-releases-git-'));
    dirs.push(repo);
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' });
    writeFileSync(join(repo, 'a.txt'), 'one');
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'one');
    const zip = join(repo, 'app.zip');
    writeFileSync(zip, 'zip bytes');
    const out = join(repo, 'out');
    const at = (minute: number) => new Date(Date.UTC(2026, 11, 7, 10, minute, 0));
    archiveRelease(zip, { out, version: '0.1.0', root: repo, now: at(0) });
    const again = archiveRelease(zip, { out, version: '0.1.0', root: repo, now: at(1) });
    expect(readdirSync(join(out, 'releases'))).toEqual([basename(again)]);
    writeFileSync(join(repo, 'a.txt'), 'two'); // uncommitted: -dirty, kept each time
    archiveRelease(zip, { out, version: '0.1.0', root: repo, now: at(2) });
    archiveRelease(zip, { out, version: '0.1.0', root: repo, now: at(3) });
    expect(readdirSync(join(out, 'releases')).filter((f) => f.endsWith('-dirty.zip'))).toHaveLength(2);
    expect(readdirSync(join(out, 'releases'))).toHaveLength(3);
  });
});
