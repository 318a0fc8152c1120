import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { globSync } from 'tinyglobby';
import { HostConfigError } from './host-errors.js';

/**
 * Loads a function app as the worker does: package.json `main` (a file or a glob) names the files; each
 * is imported in turn, which runs its `app.http(...)`/`app.storageQueue(...)`/`app.timer(...)` calls.
 */
export async function loadFunctionApp(appDir: string): Promise<string[]> {
  const pkgPath = join(appDir, 'package.json');
  if (!existsSync(pkgPath)) throw new HostConfigError(`No package.json in ${appDir}.`);
  const main = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { main?: string }).main;
  if (!main) throw new HostConfigError(`package.json in ${appDir} has no "main": it must name the function files (a glob is allowed).`);
  const files = globSync(main, { cwd: appDir, absolute: true }).sort();
  if (files.length === 0) {
    throw new HostConfigError(`package.json "main" (${main}) matches no file in ${appDir}: run "npm run build" first.`);
  }
  for (const file of files) await import(pathToFileURL(file).href);
  return files;
}
