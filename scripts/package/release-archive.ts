import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** How many packages `npm run package` keeps in its releases folder, newest first. */
export const KEPT_RELEASES = 10;

/** The commit the package was built from (short id, `-dirty` with uncommitted changes), or `nogit`. */
export function sourceRevision(root: string): string {
  const head = spawnSync('git', ['rev-parse', '--short=8', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.status !== 0 || !head.stdout.trim()) return 'nogit';
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' });
  return `${head.stdout.trim()}${status.stdout.trim() ? '-dirty' : ''}`;
}

/**
 * Keeps a copy of the zip in `<out>/releases/` named by version, build time (UTC) and commit, so that the
 * package deployed before can be deployed again (Flex Consumption has no deployment slots to swap back):
 * `azd deploy --from-package <zip>` or `az functionapp deployment source config-zip --src <zip>`
 * (docs/deploy.md, rolling back). One copy per commit: packaging a commit again (azd's prepackage hook does)
 * replaces its copy, so the one before is the previous commit's; a build with uncommitted changes (`-dirty`) or
 * outside git is kept each time. The oldest beyond KEPT_RELEASES are deleted. Answers the copy's path.
 */
export function archiveRelease(zipPath: string, options: { out: string; version: string; root: string; now?: Date }): string {
  const dir = join(options.out, 'releases');
  mkdirSync(dir, { recursive: true });
  const stamp = (options.now ?? new Date())
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const revision = sourceRevision(options.root);
  if (revision !== 'nogit' && !revision.endsWith('-dirty')) {
    for (const same of readdirSync(dir).filter((f) => f.endsWith(`-${revision}.zip`))) rmSync(join(dir, same));
  }
  const target = join(dir, `teams-change-relay-${options.version}-${stamp}-${revision}.zip`);
  copyFileSync(zipPath, target);
  // The names sort by build time within a version; across versions, by the stamp that follows the version.
  const byAge = readdirSync(dir)
    .filter((f) => /^teams-change-relay-.+-\d{8}T\d{6}Z-.+\.zip$/.test(f))
    .sort((a, b) => (stampOf(a) < stampOf(b) ? 1 : stampOf(a) > stampOf(b) ? -1 : 0));
  for (const old of byAge.slice(KEPT_RELEASES)) rmSync(join(dir, old));
  return target;
}

const stampOf = (name: string) => /-(\d{8}T\d{6}Z)-/.exec(name)?.[1] ?? '';
