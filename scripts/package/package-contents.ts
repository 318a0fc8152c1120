import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { RelayError } from '../../shared/errors.js';

/** The app cannot be packaged as it is (not built, node_modules not as the lock file says, a file missing). */
export class PackageError extends RelayError {
  constructor(message: string) {
    super('ERR_PACKAGE', message);
  }
}

/** One file of the deployment package: where it is now, and its path inside the package. */
export interface PackageFile {
  readonly source: string;
  readonly path: string;
}

export interface PackageContentsOptions {
  /** The repository (built: dist/ and node_modules/ present). */
  readonly root: string;
  /** The desired-subscriptions file to ship as subscriptions.json; null: none. */
  readonly subscriptionsFile: string | null;
  /** A routing file to ship as routes.json; null: none. */
  readonly routesFile: string | null;
}

/** The built folders the app runs from: package.json `main` is dist/functions/*.js, which imports dist/shared. */
const BUILT_FOLDERS = ['dist/functions', 'dist/shared'];
const ROOT_FILES = ['host.json', 'package.json', 'package-lock.json'];

/** Never run: source maps, TypeScript sources and declarations (dependencies ship them for editors and debuggers). */
const NOT_RUN = /\.(map|ts|mts|cts)$/;

const toPosix = (path: string) => path.split(sep).join(posix.sep);

/** Every file under `dir`, skipping nested node_modules (each dependency is listed on its own) and `skip`. */
function filesUnder(dir: string, skip: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...filesUnder(full, skip));
    } else if (entry.isFile() && !skip(entry.name)) out.push(full);
  }
  return out;
}

/**
 * The production dependencies as npm installs them with `--omit=dev`: every package-lock.json entry under
 * node_modules/ not marked dev (same paths, so the same hoisting), found in the installed node_modules.
 * Optional packages for another platform are absent and skipped, as npm skips them.
 */
export function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages?: Record<string, { dev?: boolean; optional?: boolean }> };
  const packages = Object.entries(lock.packages ?? {}).filter(([path, meta]) => path.startsWith('node_modules/') && !meta.dev);
  const missing = packages.filter(([path, meta]) => !meta.optional && !existsSync(join(root, path))).map(([path]) => path);
  if (missing.length > 0) throw new PackageError(`node_modules does not match package-lock.json (run npm ci): missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`);
  return packages.map(([path]) => path).filter((path) => existsSync(join(root, path)));
}

/**
 * Exactly what runs in Azure: host.json, package.json (+ lock), dist/functions and dist/shared without maps, the
 * production node_modules without maps and TypeScript files, and the app's subscriptions and routing files.
 */
export function packageContents(options: PackageContentsOptions): PackageFile[] {
  const { root } = options;
  const files: PackageFile[] = [];
  const add = (source: string, path = toPosix(relative(root, source))) => files.push({ source, path });
  for (const name of ROOT_FILES) add(join(root, name));
  for (const folder of BUILT_FOLDERS) {
    const dir = join(root, folder);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new PackageError(`${folder} is missing: run npm run build first`);
    for (const file of filesUnder(dir, (name) => !name.endsWith('.js'))) add(file);
  }
  for (const pkg of productionPackages(root)) for (const file of filesUnder(join(root, pkg), (name) => NOT_RUN.test(name))) add(file);
  if (options.subscriptionsFile) add(options.subscriptionsFile, 'subscriptions.json');
  if (options.routesFile) add(options.routesFile, 'routes.json');
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
