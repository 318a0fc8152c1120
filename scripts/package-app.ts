#!/usr/bin/env node
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDesiredSubscriptions } from '../shared/subscriptions/desired-subscriptions.js';
import { loadRoutingTable } from '../shared/route/routing-table.js';
import { bundleApp } from './package/bundle-app.js';
import { writeDeployedManifest } from './package/deployed-manifest.js';
import { PackageError, packageContents } from './package/package-contents.js';
import { writePackageFuncignore } from './package/package-funcignore.js';
import { writeZip } from './package/write-zip.js';
import { archiveRelease } from './package/release-archive.js';

/**
 * `npm run package [-- --subscriptions <file>|none] [--routes <file>] [--out <dir>]`: after the build, the deployment
 * package: `<out>/app/` (the folder azd deploys and `func azure functionapp publish` runs in) and the same files in
 * `<out>/teams-change-relay-<version>.zip` (for `az functionapp deployment source config-zip`), whose path is the
 * last line printed. The app is bundled (scripts/package/bundle-app.ts; in `<out>/bundle/`, removed when done):
 * the package holds no node_modules, and its package.json no dependency. The subscriptions file (default
 * subscriptions.json) ships as subscriptions.json, a routing file (default routes.json when present) as
 * routes.json; both are validated first. A copy of each zip is kept in `<out>/releases/` (the last ten, named by
 * version, time and commit) for a rollback. Default out: .local/package.
 * Exit codes: 0 written, 1 failed, 2 bad usage.
 */
const USAGE = 'usage: npm run package -- [--subscriptions <file>|none] [--routes <file>|none] [--out <dir>]';
const root = process.cwd();
let values;
try {
  ({ values } = parseArgs({ options: { subscriptions: { type: 'string', default: 'subscriptions.json' }, routes: { type: 'string' }, out: { type: 'string', default: join('.local', 'package') } } }));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

try {
  const subscriptionsFile = values.subscriptions === 'none' ? null : resolve(values.subscriptions);
  if (subscriptionsFile && !existsSync(subscriptionsFile)) {
    throw new PackageError(
      `${values.subscriptions} not found: copy subscriptions.example.json to subscriptions.json and edit it (or --subscriptions none to ship none; then deploy with subscriptionsFile='')`,
    );
  }
  if (subscriptionsFile) loadDesiredSubscriptions(subscriptionsFile);
  const routesFile = values.routes === 'none' ? null : values.routes ? resolve(values.routes) : existsSync('routes.json') ? resolve('routes.json') : null;
  if (routesFile) loadRoutingTable(routesFile);

  const out = resolve(values.out);
  const bundled = join(out, 'bundle');
  const built = await bundleApp({ root, outDir: bundled });
  const files = packageContents({ root, built: [...built, writeDeployedManifest(root, bundled), writePackageFuncignore(bundled)], subscriptionsFile, routesFile });
  const staged = join(out, 'app');
  rmSync(staged, { recursive: true, force: true });
  for (const file of files) {
    const target = join(staged, file.path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file.source, target);
  }
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const zipPath = join(out, `teams-change-relay-${version}.zip`);
  writeZip(
    files.map((f) => ({ source: join(staged, f.path), path: f.path })),
    zipPath,
  );
  rmSync(bundled, { recursive: true, force: true });
  const kept = archiveRelease(zipPath, { out, version, root });
  process.stdout.write(`${files.length} files in ${staged}\nkept for a rollback: ${kept}\n${zipPath}\n`);
} catch (e) {
  process.stderr.write(`package failed: ${(e as Error).message}\n`);
  process.exit(1);
}
