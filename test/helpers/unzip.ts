import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unzipSync } from 'fflate';

/** Extracts a zip into `dir` (as a user's unzip would) and returns the entry names, sorted. */
export function unzipInto(zipPath: string, dir: string): string[] {
  const entries = unzipSync(readFileSync(zipPath));
  const names = Object.keys(entries).sort();
  for (const name of names) {
    if (name.endsWith('/')) continue;
    const target = join(dir, name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entries[name] as Uint8Array);
  }
  return names;
}
