import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageFile } from './package-contents.js';

/** What the worker reads of package.json: `main` (the function files, a glob) and `type` (ES modules). */
const KEPT = ['name', 'version', 'private', 'description', 'type', 'main', 'engines'] as const;

/**
 * The package.json the package ships: the repository's without dependencies, scripts or devDependencies. The
 * bundle holds every dependency, so nothing is to be installed or built: should a deployment tool run
 * `npm install` or a build in Azure all the same, it finds nothing to do.
 */
export function writeDeployedManifest(root: string, outDir: string): PackageFile {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const deployed = Object.fromEntries(KEPT.filter((key) => pkg[key] !== undefined).map((key) => [key, pkg[key]]));
  mkdirSync(outDir, { recursive: true });
  const source = join(outDir, 'package.json');
  writeFileSync(source, `${JSON.stringify(deployed, null, 2)}\n`);
  return { source, path: 'package.json' };
}
