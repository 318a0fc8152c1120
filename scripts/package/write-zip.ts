import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { zipSync, type Zippable } from 'fflate';
import type { PackageFile } from './package-contents.js';

/** A fixed timestamp for every entry, so the same files always give the same zip. */
const ENTRY_TIME = new Date('2000-01-01T00:00:00Z');
const UNIX = 3;

/** Writes the files into one zip (deflate), keeping their Unix permissions. */
export function writeZip(files: readonly PackageFile[], zipPath: string): void {
  const entries: Zippable = {};
  for (const file of files) {
    const mode = statSync(file.source).mode & 0o777;
    entries[file.path] = [readFileSync(file.source), { level: 6, mtime: ENTRY_TIME, os: UNIX, attrs: ((0o100000 | mode) << 16) >>> 0 }];
  }
  writeFileSync(zipPath, zipSync(entries));
}
