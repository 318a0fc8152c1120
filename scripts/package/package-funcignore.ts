import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageFile } from './package-contents.js';

/**
 * The package's own `.funcignore`: it ignores nothing, since every file of the package runs in Azure. It is there
 * for the tools that read one: azd before 1.23.12 leaves `node_modules` out of a folder that has none, and
 * `func azure functionapp publish`, run in the staged folder, applies its defaults without one.
 */
export const PACKAGE_FUNCIGNORE = [
  '# teams-change-relay deployment package (npm run package): every file here runs in Azure; nothing is ignored.',
  '# This file exists so that azd and Core Tools apply no default ignore list to the folder.',
  '',
].join('\n');

export function writePackageFuncignore(outDir: string): PackageFile {
  mkdirSync(outDir, { recursive: true });
  const source = join(outDir, '.funcignore');
  writeFileSync(source, PACKAGE_FUNCIGNORE);
  return { source, path: '.funcignore' };
}
