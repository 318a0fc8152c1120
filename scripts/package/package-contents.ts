import { join } from 'node:path';
import { RelayError } from '../../shared/errors.js';

/** The app cannot be packaged as it is (not built, the bundle failed, a file missing). */
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
  /** The repository (its host.json ships as it is). */
  readonly root: string;
  /** The bundled app (dist/functions, dist/chunks) and the package.json it ships with. */
  readonly built: readonly PackageFile[];
  /** The desired-subscriptions file to ship as subscriptions.json; null: none. */
  readonly subscriptionsFile: string | null;
  /** A routing file to ship as routes.json; null: none. */
  readonly routesFile: string | null;
}

/**
 * Exactly what runs in Azure: host.json, the bundled app with its package.json (no node_modules: the bundle
 * holds every dependency), and the app's subscriptions and routing files. Sorted by path.
 */
export function packageContents(options: PackageContentsOptions): PackageFile[] {
  const files: PackageFile[] = [{ source: join(options.root, 'host.json'), path: 'host.json' }, ...options.built];
  if (options.subscriptionsFile) files.push({ source: options.subscriptionsFile, path: 'subscriptions.json' });
  if (options.routesFile) files.push({ source: options.routesFile, path: 'routes.json' });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
